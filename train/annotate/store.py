"""The stand-off annotation store: one JSON file per document, never the corpus text.

A stored record names where its text lives (``source``) and pins it with a SHA-256 hash and a
length; loading joins the text back from the corpus through a :data:`TextResolver` and checks
every offset against it.  Offsets are Python ``str`` indices (code points), half-open, as in
the output schema.  The format is documented in ``annotations/FORMAT.md``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from hasila.infer.labels import LABELS
from hasila.infer.tokenize import split_words
from hasila.infer.types import (
    Count,
    DateRef,
    Entity,
    HasilaError,
    Incident,
    Quantity,
    Span,
)
from hasila.train.settings import annotations_dir, data_dir

#: Turns a record's ``source`` dict into the document's text (exactly as the corpus has it).
TextResolver = Callable[[Mapping[str, Any]], str]

STATUSES: tuple[str, ...] = ("gold", "silver")
KINDS: tuple[str, ...] = ("incident", "hard_negative")
# Figure roles (GUIDELINES.md, "Figure roles"): what a KILLED/WOUNDED span is to the article's
# incidents. Only `incident` figures are an incident's killed/wounded value.
FIGURE_ROLES: tuple[str, ...] = (
    "incident", "repeat", "part", "total", "superseded", "cumulative", "background", "not_violence",
)
FIGURE_LABELS: tuple[str, ...] = ("KILLED", "WOUNDED")
# Corpora whose gold must give every figure a role (annotated after roles existed).
ROLE_REQUIRED_CORPORA: frozenset[str] = frozenset({"webnews"})
PRECISIONS: tuple[str, ...] = ("day", "week", "month", "year")
#: Incident parts that are plain spans (counts and the date carry more).
PLAIN_ROLES: tuple[str, ...] = ("perpetrator", "victim", "location", "source")
#: Incident count roles and the span label their span must also carry in ``spans``.
COUNT_ROLES: dict[str, str] = {"killed": "KILLED", "wounded": "WOUNDED"}
INCIDENT_KEYS: frozenset[str] = frozenset(
    {"killed", "wounded", "perpetrator", "victim", "location", "date", "source", "evidence", "notes", "confidence"}
)
RECORD_KEYS: frozenset[str] = frozenset(
    {"doc_id", "source", "text_sha256", "text_length", "status", "kind", "annotator", "meta", "spans", "incidents"}
)
# Doc ids become file names: keep them to a safe alphabet.
_DOC_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SNN_ID_RE = re.compile(r"^snn-(\d{4}-\d{2}-\d{2})-(\d{4})$")


class StoreError(HasilaError):
    """A stored or incoming annotation is inconsistent; the message names document and span."""


@dataclass
class GoldDocument:
    """One annotated document with its text joined back in."""

    doc_id: str
    text: str
    source: dict[str, Any]
    status: str
    kind: str
    annotator: str
    spans: list[Entity]
    incidents: list[Incident]
    meta: dict[str, Any] = field(default_factory=dict)
    # (start, end) of a KILLED/WOUNDED span -> its figure role (FIGURE_ROLES)
    roles: dict[tuple[int, int], str] = field(default_factory=dict)

    def role_of(self, e: Entity) -> str | None:
        return self.roles.get((e.start, e.end)) if e.label in FIGURE_LABELS else None

    @property
    def corpus(self) -> str:
        return str(self.source.get("corpus", ""))

    @property
    def text_sha256(self) -> str:
        return text_sha256(self.text)

    def to_record(self) -> dict[str, Any]:
        """The stand-off record as stored (offsets only, no text)."""
        return {
            "doc_id": self.doc_id,
            "source": dict(self.source),
            "text_sha256": self.text_sha256,
            "text_length": len(self.text),
            "status": self.status,
            "kind": self.kind,
            "annotator": self.annotator,
            "meta": dict(self.meta),
            "spans": [_span_record(e, self.role_of(e)) for e in sorted_entities(self.spans)],
            "incidents": [_incident_record(i) for i in self.incidents],
        }

    def to_json(self) -> dict[str, Any]:
        """The document in the output schema's shape (what the model should have produced)."""
        return {
            "doc_id": self.doc_id,
            "status": "ok",
            "error": None,
            "entities": [e.to_json() for e in sorted_entities(self.spans)],
            "incidents": [i.to_json() for i in self.incidents],
        }


def _span_record(e: Entity, role: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"label": e.label, "start": e.start, "end": e.end}
    if role is not None:
        out["role"] = role
    return out


# --------------------------------------------------------------------------------------------
# Texts and corpora


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def store_dir() -> Path:
    """The default store root: ``<annotations>/store`` (``$HASILA_ANNOTATIONS`` moves it)."""
    return annotations_dir() / "store"


def document_path(root: Path, corpus: str, doc_id: str) -> Path:
    return Path(root) / corpus / f"{doc_id}.json"


def parse_saudinewsnet_id(doc_id: str) -> tuple[str, int]:
    """``"snn-2015-07-21-0123"`` → ``("2015-07-21.zip", 123)``."""
    m = _SNN_ID_RE.match(doc_id)
    if not m:
        raise StoreError(f"{doc_id!r} is not a SaudiNewsNet doc id (expected snn-YYYY-MM-DD-NNNN)")
    return f"{m.group(1)}.zip", int(m.group(2))


@lru_cache(maxsize=4)
def _saudinewsnet_articles(zip_path: str) -> tuple[dict[str, Any], ...]:
    # One zip holds one JSON array; caching a few keeps batch loads from re-parsing them.
    # The corpus loader's reader; a document needs only the field it names, so no per-article checks.
    from hasila.train.corpora.saudinewsnet import read_articles

    path = Path(zip_path)
    if not path.is_file():
        raise StoreError(f"SaudiNewsNet zip not found: {path} (set HASILA_DATA to the corpora folder)")
    return tuple(read_articles(path))


def saudinewsnet_article(zip_name: str, index: int, data: Path | None = None) -> dict[str, Any]:
    articles = _saudinewsnet_articles(str((data or data_dir()) / "saudinewsnet" / zip_name))
    if not 0 <= index < len(articles):
        raise StoreError(f"saudinewsnet {zip_name}: no article {index} (the zip has {len(articles)})")
    return articles[index]


def saudinewsnet_text(doc_id: str, data: Path | None = None) -> str:
    """The ``content`` of a SaudiNewsNet article, exactly as the corpus has it."""
    zip_name, index = parse_saudinewsnet_id(doc_id)
    return _article_field(saudinewsnet_article(zip_name, index, data), "content", doc_id)


def _article_field(article: Mapping[str, Any], name: str, where: str) -> str:
    value = article.get(name)
    if not isinstance(value, str):
        raise StoreError(f"{where}: the article has no text field {name!r}")
    return value


_WN_ID_RE = re.compile(r"^wn-\d+-\d{4}$")


@lru_cache(maxsize=2)
def _webnews_articles(path: str) -> dict[str, dict[str, Any]]:
    p = Path(path)
    if not p.is_file():
        raise StoreError(f"webnews corpus not found: {p} (set HASILA_DATA to the corpora folder)")
    out: dict[str, dict[str, Any]] = {}
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise StoreError(f"{p}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(row.get("text"), str):
                raise StoreError(f"{p}:{n}: a webnews line needs 'id' and 'text' strings")
            out[row["id"]] = row
    return out


def webnews_article(doc_id: str, data: Path | None = None) -> dict[str, Any]:
    """One excerpt of ``webnews/webnews.jsonl`` (fields id, url, outlet, country, text)."""
    articles = _webnews_articles(str((data or data_dir()) / "webnews" / "webnews.jsonl"))
    if doc_id not in articles:
        raise StoreError(f"webnews: no excerpt {doc_id!r} in webnews/webnews.jsonl")
    return articles[doc_id]


def webnews_ids(data: Path | None = None) -> list[str]:
    return list(_webnews_articles(str((data or data_dir()) / "webnews" / "webnews.jsonl")))


def source_for_doc_id(doc_id: str, data: Path | None = None) -> dict[str, Any]:
    """The ``source`` dict a doc id stands for (SaudiNewsNet ``snn-…`` and webnews ``wn-…`` ids)."""
    if _WN_ID_RE.match(doc_id):
        # The url pins the excerpt beside its hash; it is read from the corpus where available.
        try:
            url = webnews_article(doc_id, data).get("url")
        except StoreError:
            url = None
        return {"corpus": "webnews", "id": doc_id, **({"url": url} if isinstance(url, str) else {})}
    zip_name, index = parse_saudinewsnet_id(doc_id)
    return {"corpus": "saudinewsnet", "zip": zip_name, "index": index, "field": "content"}


def meta_for_doc_id(doc_id: str, data: Path | None = None) -> dict[str, Any]:
    """Outlet and date of a SaudiNewsNet article (``date`` = the day of ``date_extracted``)."""
    zip_name, index = parse_saudinewsnet_id(doc_id)
    article = saudinewsnet_article(zip_name, index, data)
    meta: dict[str, Any] = {}
    if isinstance(article.get("source"), str):
        meta["outlet"] = article["source"]
    if isinstance(article.get("date_extracted"), str):
        meta["date"] = article["date_extracted"][:10]
    return meta


def corpus_meta(data: Path | None = None) -> Callable[[str], dict[str, Any]]:
    """doc id -> the meta its corpus gives (``{}`` for ids no corpus reader knows)."""

    def meta(doc_id: str) -> dict[str, Any]:
        if _WN_ID_RE.match(doc_id):
            row = webnews_article(doc_id, data)
            return {k: row[k] for k in ("outlet", "country") if isinstance(row.get(k), str)}
        return meta_for_doc_id(doc_id, data) if _SNN_ID_RE.match(doc_id) else {}

    return meta


def corpus_resolver(data: Path | None = None) -> TextResolver:
    """The default :data:`TextResolver`: reads the corpora under ``data`` (default: data_dir())."""

    def resolve(source: Mapping[str, Any]) -> str:
        corpus = source.get("corpus")
        if corpus == "saudinewsnet":
            zip_name, index, name = source.get("zip"), source.get("index"), source.get("field", "content")
            if not isinstance(zip_name, str) or not isinstance(index, int) or isinstance(index, bool):
                raise StoreError(f"saudinewsnet source needs 'zip' (str) and 'index' (int), got {dict(source)}")
            return _article_field(saudinewsnet_article(zip_name, index, data), name, f"saudinewsnet {zip_name}#{index}")
        if corpus == "webnews":
            doc_id = source.get("id")
            if not isinstance(doc_id, str):
                raise StoreError(f"webnews source needs 'id' (str), got {dict(source)}")
            return _article_field(webnews_article(doc_id, data), "text", f"webnews {doc_id}")
        raise StoreError(f"no text resolver for corpus {corpus!r} (source {dict(source)})")

    return resolve


# --------------------------------------------------------------------------------------------
# Validation


def _fmt(text: str, start: int, end: int, label: str | None = None) -> str:
    inner = text[start:end] if 0 <= start <= end <= len(text) else "?"
    head = f"{label} " if label else ""
    return f"{head}[{start}, {end}) «{inner}»"


def _is_edge_junk(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc")


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise StoreError(f"{what}: expected an integer, got {value!r}")
    return value


def _span_at(text: str, start: Any, end: Any, what: str) -> Span:
    start, end = _int(start, f"{what} start"), _int(end, f"{what} end")
    if not 0 <= start < end <= len(text):
        raise StoreError(f"{what} [{start}, {end}): outside the text (length {len(text)}) or empty")
    return Span(start, end, text[start:end])


def check_span(text: str, span: Span, what: str) -> None:
    """In range, non-empty, text matching, no whitespace (or invisible format char) at the edges."""
    if not 0 <= span.start < span.end <= len(text):
        raise StoreError(f"{what} [{span.start}, {span.end}): outside the text (length {len(text)}) or empty")
    if text[span.start : span.end] != span.text:
        raise StoreError(f"{what} [{span.start}, {span.end}): text {span.text!r} is not the document's {text[span.start:span.end]!r}")
    if _is_edge_junk(span.text[0]) or _is_edge_junk(span.text[-1]):
        raise StoreError(f"{what} {_fmt(text, span.start, span.end)}: whitespace at the span's edge")


def check_quantity(q: Quantity, what: str) -> None:
    """value / low / high / qualifier must agree (see FORMAT.md for the rules)."""
    for name in ("value", "low", "high"):
        v = getattr(q, name)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise StoreError(f"{what}: {name} must be a non-negative integer or null, got {v!r}")
    v, lo, hi, qual = q.value, q.low, q.high, q.qualifier
    if lo is not None and hi is not None and lo > hi:
        raise StoreError(f"{what}: low {lo} > high {hi}")
    if v is not None and ((lo is not None and v < lo) or (hi is not None and v > hi)):
        raise StoreError(f"{what}: value {v} outside [low {lo}, high {hi}]")
    if qual in ("exact", "at_least", "approx") and v is None:
        raise StoreError(f"{what}: qualifier {qual!r} needs a value")
    if qual == "at_most" and hi is None:
        # «أقل من 35»: the bound is the high; the parser gives no value (any figure would be invented)
        raise StoreError(f"{what}: 'at_most' needs a high")
    if qual == "exact" and not (lo in (None, v) and hi in (None, v)):
        raise StoreError(f"{what}: 'exact' {v} with low {lo} / high {hi} (they must equal the value or be null)")
    if qual == "at_least" and lo not in (None, v):
        raise StoreError(f"{what}: 'at_least' {v} with low {lo} (low must equal the value or be null)")
    if qual == "at_most" and v not in (None, hi):
        raise StoreError(f"{what}: 'at_most' value {v} with high {hi} (the value must equal the high or be null)")
    if qual == "range" and (lo is None or hi is None):
        raise StoreError(f"{what}: 'range' needs both low and high")


def check_date(d: DateRef, what: str) -> None:
    if d.precision is not None and d.precision not in PRECISIONS:
        raise StoreError(f"{what}: precision {d.precision!r} not one of {', '.join(PRECISIONS)} or null")
    if d.resolved is not None:
        if not isinstance(d.resolved, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", d.resolved):
            raise StoreError(f"{what}: resolved {d.resolved!r} is not an ISO date YYYY-MM-DD")
        try:
            _dt.date.fromisoformat(d.resolved)
        except ValueError as exc:
            raise StoreError(f"{what}: resolved {d.resolved!r}: {exc}") from None


def sorted_entities(spans: Iterable[Entity]) -> list[Entity]:
    return sorted(spans, key=lambda e: (e.start, e.end, LABELS.index(e.label) if e.label in LABELS else 99, e.label))


def validate_document(doc: GoldDocument) -> None:
    """Every check the store makes; raises :class:`StoreError` naming the document and span."""
    d = doc.doc_id
    if not isinstance(d, str) or not _DOC_ID_RE.match(d):
        raise StoreError(f"doc id {d!r}: use letters, digits, '.', '_' and '-' only (it becomes a file name)")
    text = doc.text
    if not isinstance(text, str) or not text.strip():
        raise StoreError(f"{d}: the document text is empty")
    if not isinstance(doc.source, dict) or not isinstance(doc.source.get("corpus"), str) or not _DOC_ID_RE.match(doc.source["corpus"]):
        raise StoreError(f"{d}: source must be an object with a 'corpus' name, got {doc.source!r}")
    if doc.status not in STATUSES:
        raise StoreError(f"{d}: status {doc.status!r} not one of {', '.join(STATUSES)}")
    if doc.kind not in KINDS:
        raise StoreError(f"{d}: kind {doc.kind!r} not one of {', '.join(KINDS)}")
    if not isinstance(doc.annotator, str) or not doc.annotator.strip():
        raise StoreError(f"{d}: annotator must be a non-empty string")
    if not isinstance(doc.meta, dict):
        raise StoreError(f"{d}: meta must be an object")

    for i, e in enumerate(doc.spans):
        what = f"{d}: span #{i} {e.label}"
        if e.label not in LABELS:
            raise StoreError(f"{what} {_fmt(text, e.start, e.end)}: unknown label {e.label!r}; known: {', '.join(LABELS)}")
        check_span(text, e.span, what)
    _check_no_overlap(d, text, doc.spans)
    _check_roles(doc)

    if doc.kind == "incident" and not doc.incidents:
        raise StoreError(f"{d}: kind 'incident' but no incidents (use kind 'hard_negative' for documents without one)")
    if doc.kind == "hard_negative" and doc.incidents:
        raise StoreError(f"{d}: kind 'hard_negative' but {len(doc.incidents)} incident(s)")
    span_set = {(e.label, e.start, e.end) for e in doc.spans}
    for n, inc in enumerate(doc.incidents):
        _check_incident(d, text, n, inc, span_set)


def _check_roles(doc: GoldDocument) -> None:
    """Roles sit on KILLED/WOUNDED spans only, come from FIGURE_ROLES, agree with the incidents
    (an incident's killed/wounded figure is role `incident`, and an `incident` figure belongs to
    an incident), and are given for every figure where the corpus requires them."""
    d, text = doc.doc_id, doc.text
    if not isinstance(doc.roles, dict):
        raise StoreError(f"{d}: roles must be a mapping of (start, end) to a role")
    figures = {(e.start, e.end): e for e in doc.spans if e.label in FIGURE_LABELS}
    for (start, end), role in doc.roles.items():
        if (start, end) not in figures:
            raise StoreError(f"{d}: role {role!r} on {_fmt(text, start, end)}, which is no KILLED/WOUNDED span")
        if role not in FIGURE_ROLES:
            raise StoreError(f"{d}: figure {_fmt(text, start, end)}: role {role!r} not one of {', '.join(FIGURE_ROLES)}")
    used = set()
    for inc in doc.incidents:
        for c in (inc.killed, inc.wounded):
            if c is not None:
                used.add((c.span.start, c.span.end))
    for key in used:
        role = doc.roles.get(key)
        if role is not None and role != "incident":
            raise StoreError(f"{d}: figure {_fmt(text, *key)} is an incident's figure but has role {role!r} (use 'incident')")
    for key, role in doc.roles.items():
        if role == "incident" and key not in used:
            raise StoreError(f"{d}: figure {_fmt(text, *key)} has role 'incident' but no incident uses it")
    if doc.corpus in ROLE_REQUIRED_CORPORA and doc.status == "gold":
        missing = [k for k in figures if k not in doc.roles]
        if missing:
            raise StoreError(
                f"{d}: {len(missing)} figure(s) without a role, first {_fmt(text, *missing[0])}; "
                f"every KILLED/WOUNDED span of a {doc.corpus} gold document needs one of {', '.join(FIGURE_ROLES)}"
            )


def _check_no_overlap(d: str, text: str, spans: list[Entity]) -> None:
    """No two spans overlap: same label (the brief's rule) nor different labels (GUIDELINES.md:
    spans never nest, the outer one is kept) — BIO over words could not hold either."""
    widest: Entity | None = None  # the span reaching furthest right so far
    for cur in sorted(spans, key=lambda e: (e.start, e.end)):
        if widest is not None and cur.start < widest.end:
            a, b = widest, cur
            if a.label == b.label:
                raise StoreError(f"{d}: two {a.label} spans overlap: {_fmt(text, a.start, a.end)} and {_fmt(text, b.start, b.end)}")
            raise StoreError(
                f"{d}: spans overlap: {_fmt(text, a.start, a.end, a.label)} and {_fmt(text, b.start, b.end, b.label)}"
                " (spans never nest: keep the outer one)"
            )
        if widest is None or cur.end > widest.end:
            widest = cur


def _check_incident(d: str, text: str, n: int, inc: Incident, span_set: set[tuple[str, int, int]]) -> None:
    where = f"{d}: incidents[{n}]"
    check_span(text, inc.evidence, f"{where}.evidence")
    if not 0.0 <= float(inc.confidence) <= 1.0:
        raise StoreError(f"{where}: confidence {inc.confidence} outside [0, 1]")
    for role in PLAIN_ROLES:
        part = getattr(inc, role)
        if part is not None:
            check_span(text, part, f"{where}.{role}")
    if inc.date is not None:
        check_span(text, inc.date.span, f"{where}.date")
        check_date(inc.date, f"{where}.date")
    for role, label in COUNT_ROLES.items():
        count: Count | None = getattr(inc, role)
        if count is None:
            continue
        what = f"{where}.{role} {_fmt(text, count.span.start, count.span.end)}"
        check_span(text, count.span, f"{where}.{role}")
        check_quantity(count.quantity, what)
        if (label, count.span.start, count.span.end) not in span_set:
            raise StoreError(f"{what}: no {label} span with these offsets in 'spans' (add it there too)")
        if not (inc.evidence.start <= count.span.start and count.span.end <= inc.evidence.end):
            raise StoreError(
                f"{what}: not inside the evidence {_fmt(text, inc.evidence.start, inc.evidence.end)}"
            )
    notes = inc.extra.get("notes")
    if notes is not None and not isinstance(notes, str):
        raise StoreError(f"{where}.notes: expected a string")


# --------------------------------------------------------------------------------------------
# Records <-> documents


def _incident_record(inc: Incident) -> dict[str, Any]:
    def plain(s: Span | None) -> dict[str, int] | None:
        return None if s is None else {"start": s.start, "end": s.end}

    def count(c: Count | None) -> dict[str, Any] | None:
        if c is None:
            return None
        q = c.quantity
        return {"start": c.span.start, "end": c.span.end, "value": q.value, "low": q.low, "high": q.high, "qualifier": q.qualifier}

    out: dict[str, Any] = {
        "killed": count(inc.killed),
        "wounded": count(inc.wounded),
        "perpetrator": plain(inc.perpetrator),
        "victim": plain(inc.victim),
        "location": plain(inc.location),
        "date": None
        if inc.date is None
        else {"start": inc.date.span.start, "end": inc.date.span.end, "resolved": inc.date.resolved, "precision": inc.date.precision},
        "source": plain(inc.source),
        "evidence": plain(inc.evidence),
    }
    if inc.confidence != 1.0:
        out["confidence"] = inc.confidence
    if inc.extra.get("notes"):
        out["notes"] = inc.extra["notes"]
    return out


def _expect_dict(value: Any, what: str, keys: Iterable[str], required: Iterable[str] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StoreError(f"{what}: expected an object, got {type(value).__name__}")
    unknown = set(value) - set(keys)
    if unknown:
        raise StoreError(f"{what}: unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(keys))}")
    missing = [k for k in required if k not in value]
    if missing:
        raise StoreError(f"{what}: missing field(s) {', '.join(missing)}")
    return value


def _plain_part(text: str, raw: Any, what: str) -> Span | None:
    if raw is None:
        return None
    raw = _expect_dict(raw, what, ("start", "end"), ("start", "end"))
    return _span_at(text, raw["start"], raw["end"], what)


def _quantity(raw: Mapping[str, Any], what: str) -> Quantity:
    try:
        return Quantity(raw.get("value"), raw.get("low"), raw.get("high"), raw.get("qualifier"))
    except (ValueError, TypeError) as exc:
        raise StoreError(f"{what}: {exc}") from None


def incident_from_record(text: str, raw: Any, what: str) -> Incident:
    raw = _expect_dict(raw, what, INCIDENT_KEYS, ("evidence",))
    counts: dict[str, Count | None] = {}
    for role in COUNT_ROLES:
        c = raw.get(role)
        if c is None:
            counts[role] = None
            continue
        c = _expect_dict(c, f"{what}.{role}", ("start", "end", "value", "low", "high", "qualifier"), ("start", "end", "value", "qualifier"))
        counts[role] = Count(_span_at(text, c["start"], c["end"], f"{what}.{role}"), _quantity(c, f"{what}.{role}"))
    date = None
    if raw.get("date") is not None:
        r = _expect_dict(raw["date"], f"{what}.date", ("start", "end", "resolved", "precision"), ("start", "end"))
        date = DateRef(_span_at(text, r["start"], r["end"], f"{what}.date"), r.get("resolved"), r.get("precision"))
    confidence = raw.get("confidence", 1.0)
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool):
        raise StoreError(f"{what}.confidence: expected a number, got {confidence!r}")
    extra = {"notes": raw["notes"]} if raw.get("notes") else {}
    return Incident(
        evidence=_plain_part(text, raw["evidence"], f"{what}.evidence"),
        killed=counts["killed"],
        wounded=counts["wounded"],
        perpetrator=_plain_part(text, raw.get("perpetrator"), f"{what}.perpetrator"),
        victim=_plain_part(text, raw.get("victim"), f"{what}.victim"),
        location=_plain_part(text, raw.get("location"), f"{what}.location"),
        date=date,
        source=_plain_part(text, raw.get("source"), f"{what}.source"),
        confidence=float(confidence),
        extra=extra,
    )


def document_from_record(record: Any, text: str, where: str = "") -> GoldDocument:
    """Join a stored record with its text; check hash, length and every span."""
    prefix = f"{where}: " if where else ""
    if not isinstance(record, dict):
        raise StoreError(f"{prefix}expected a JSON object, got {type(record).__name__}")
    d = record.get("doc_id", "?")
    try:
        record = _expect_dict(record, str(d), RECORD_KEYS, RECORD_KEYS - {"meta"})
        if not text:
            raise StoreError(f"{d}: the corpus text is empty")
        if record["text_sha256"] != text_sha256(text) or record["text_length"] != len(text):
            raise StoreError(
                f"{d}: the corpus text is not the annotated one: the store has sha256 {record['text_sha256']} "
                f"(length {record['text_length']}), the corpus gives sha256 {text_sha256(text)} (length {len(text)})"
            )
        if not isinstance(record["spans"], list) or not isinstance(record["incidents"], list):
            raise StoreError(f"{d}: 'spans' and 'incidents' must be lists")
        spans = []
        roles: dict[tuple[int, int], str] = {}
        for i, raw in enumerate(record["spans"]):
            raw = _expect_dict(raw, f"{d}: span #{i}", ("label", "start", "end", "role"), ("label", "start", "end"))
            if "role" in raw:
                if not isinstance(raw["role"], str):
                    raise StoreError(f"{d}: span #{i}: role must be a string, got {raw['role']!r}")
                roles[(raw["start"], raw["end"])] = raw["role"]
            label = raw["label"]
            if label not in LABELS:
                raise StoreError(
                    f"{d}: span #{i} {_fmt(text, raw['start'], raw['end']) if isinstance(raw['start'], int) and isinstance(raw['end'], int) else ''}: "
                    f"unknown label {label!r}; known: {', '.join(LABELS)}"
                )
            spans.append(Entity(label, _span_at(text, raw["start"], raw["end"], f"{d}: span #{i} {label}")))
        incidents = [incident_from_record(text, raw, f"{d}: incidents[{n}]") for n, raw in enumerate(record["incidents"])]
        doc = GoldDocument(
            doc_id=d,
            text=text,
            source=record["source"],
            status=record["status"],
            kind=record["kind"],
            annotator=record["annotator"],
            spans=sorted_entities(spans),
            incidents=incidents,
            meta=record.get("meta") or {},
            roles=roles,
        )
        validate_document(doc)
    except StoreError as exc:
        raise StoreError(f"{prefix}{exc}") from None
    return doc


# --------------------------------------------------------------------------------------------
# Files


def read_json_file(path: Path) -> Any:
    """Strict UTF-8 JSON; errors name the file and the position."""
    path = Path(path)
    data = path.read_bytes()
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoreError(f"{path}: not UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 4]!r})") from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def load_document(path: Path | str, resolver: TextResolver) -> GoldDocument:
    path = Path(path)
    record = read_json_file(path)
    if not isinstance(record, dict) or not isinstance(record.get("doc_id"), str):
        raise StoreError(f"{path}: expected a JSON object with a 'doc_id'")
    if record["doc_id"] != path.stem:
        raise StoreError(f"{path}: doc_id {record['doc_id']!r} does not match the file name")
    source = record.get("source")
    if not isinstance(source, dict):
        raise StoreError(f"{path}: {record['doc_id']}: 'source' must be an object")
    try:
        text = resolver(source)
    except StoreError as exc:
        raise StoreError(f"{path}: {record['doc_id']}: {exc}") from None
    return document_from_record(record, text, where=str(path))


def load_store(root: Path | str, resolver: TextResolver) -> list[GoldDocument]:
    """Every ``<root>/<corpus>/<doc_id>.json``, sorted by corpus and doc id."""
    root = Path(root)
    docs = []
    for path in sorted(root.glob("*/*.json")):
        doc = load_document(path, resolver)
        if doc.corpus != path.parent.name:
            raise StoreError(f"{path}: corpus {doc.corpus!r} but the file is under {path.parent.name}/")
        docs.append(doc)
    return docs


def _atomic_write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record_json(doc: GoldDocument) -> str:
    return json.dumps(doc.to_record(), sort_keys=True, ensure_ascii=False, indent=1) + "\n"


def write_document(doc: GoldDocument, root: Path | str) -> Path:
    """Validate, then write atomically (temp file + os.replace)."""
    validate_document(doc)
    path = document_path(Path(root), doc.corpus, doc.doc_id)
    _atomic_write(path, record_json(doc))
    return path


def write_documents(docs: Iterable[GoldDocument], root: Path | str) -> list[Path]:
    """All-or-nothing: every document is validated before the first one is written."""
    docs = list(docs)
    for doc in docs:
        validate_document(doc)
    seen: set[tuple[str, str]] = set()
    for doc in docs:
        key = (doc.corpus, doc.doc_id)
        if key in seen:
            raise StoreError(f"{doc.doc_id}: given twice in one write")
        seen.add(key)
    return [write_document(doc, root) for doc in docs]


# --------------------------------------------------------------------------------------------
# BIO


@dataclass
class BioStats:
    """How faithfully the character spans became word tags."""

    spans: int = 0
    snapped: int = 0  # spans whose edge cut a word: the whole word was tagged
    dropped: int = 0  # spans whose word another (earlier) span already has

    def add(self, other: "BioStats") -> None:
        self.spans += other.spans
        self.snapped += other.snapped
        self.dropped += other.dropped


def bio_with_stats(doc: GoldDocument) -> tuple[tuple[list[str], list[str], list[int], list[int]], BioStats]:
    """BIO over the runtime's words (:func:`split_words` of the normalized text; starts and ends
    are original offsets): a word belongs to a span if it overlaps it.

    Stored spans never overlap, but two can share a word (a missing space: «حمصوحماة» with two
    LOC spans); the word goes to the first span and the other is dropped (counted).
    """
    # The words the runtime gives the model: those of the normalized text (infer/normalize.py),
    # with their ranges in the original text (where the spans are) through the offset map.
    from hasila.infer.normalize import normalize

    norm = normalize(doc.text)
    norm_bounds = split_words(norm.text)
    words = [norm.text[s:e] for s, e in norm_bounds]
    bounds = [norm.to_original(s, e) for s, e in norm_bounds]
    starts = [s for s, _ in bounds]
    ends = [e for _, e in bounds]
    tags = ["O"] * len(bounds)
    stats = BioStats()
    for ent in sorted(doc.spans, key=lambda e: (e.start, -(e.end - e.start), LABELS.index(e.label))):
        stats.spans += 1
        idx = [i for i, (s, e) in enumerate(bounds) if s < ent.end and e > ent.start]
        if not idx or any(tags[i] != "O" for i in idx):
            stats.dropped += 1
            continue
        if bounds[idx[0]][0] != ent.start or bounds[idx[-1]][1] != ent.end:
            stats.snapped += 1
        tags[idx[0]] = f"B-{ent.label}"
        for i in idx[1:]:
            tags[i] = f"I-{ent.label}"
    return (words, tags, starts, ends), stats


def to_bio(doc: GoldDocument) -> tuple[list[str], list[str], list[int], list[int]]:
    """``(words, tags, word_starts, word_ends)``; see :func:`bio_with_stats` for the snapping counts."""
    return bio_with_stats(doc)[0]
