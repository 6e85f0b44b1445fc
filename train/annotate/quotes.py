"""Annotations written as quotes instead of offsets, and back.

Annotators (people or helper agents) write what they see: ``["KILLED", "43", 1]`` means the
label KILLED on the 1st occurrence of the exact substring «43» in the article.  Occurrences
are counted over every start position (overlapping matches count), 1-based.  The occurrence
may be left out when the quote occurs exactly once.  Quote files quote the corpus, so they
are kept OUTSIDE the repository; only the resolved stand-off record is stored.
See ``annotations/FORMAT.md`` for the full format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hasila.infer.labels import LABELS
from hasila.infer.tokenize import split_words
from hasila.infer.types import Count, DateRef, Entity, Incident, Quantity, Span
from hasila.train.annotate.store import (
    PLAIN_ROLES,
    GoldDocument,
    FIGURE_LABELS,
    FIGURE_ROLES,
    StoreError,
    read_json_file,
    sorted_entities,
    validate_document,
)

QUOTE_DOC_KEYS = frozenset({"doc_id", "kind", "annotator", "status", "spans", "incidents", "meta", "source", "notes"})
QUOTE_INCIDENT_KEYS = frozenset(
    {"killed", "wounded", "perpetrator", "victim", "location", "date", "source", "evidence", "notes", "confidence"}
)
SENTENCE_ENDS = frozenset(".!?؟\n")
EVIDENCE_EDGE_WORDS = 3  # words quoted at each end of the evidence by export_quotes


def occurrences(text: str, quote: str) -> list[int]:
    """Start of every occurrence of ``quote`` (overlapping ones included)."""
    out, i = [], text.find(quote)
    while i != -1:
        out.append(i)
        i = text.find(quote, i + 1)
    return out


def occurrence_number(text: str, start: int, end: int) -> int:
    """n such that the n-th occurrence of ``text[start:end]`` starts at ``start`` (1-based)."""
    return occurrences(text, text[start:end]).index(start) + 1


def _parse_quote(raw: Any, what: str) -> tuple[str, int | None]:
    """``"text"`` / ``["text"]`` / ``["text", n]`` → (text, n or None)."""
    if isinstance(raw, str):
        quote, n = raw, None
    elif isinstance(raw, list) and len(raw) in (1, 2) and isinstance(raw[0], str):
        quote, n = raw[0], raw[1] if len(raw) == 2 else None
    else:
        raise StoreError(f"{what}: a quote is [text, occurrence] (or a text occurring once), got {raw!r}")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise StoreError(f"{what}: {quote!r}: occurrence must be an integer >= 1, got {n!r}")
    if not quote:
        raise StoreError(f"{what}: empty quote")
    if quote != quote.strip():
        raise StoreError(f"{what}: {quote!r}: whitespace at the quote's edge")
    return quote, n


def locate(text: str, raw: Any, what: str) -> Span:
    """The span a quote stands for; errors name the quote and how often it occurs."""
    quote, n = _parse_quote(raw, what)
    found = occurrences(text, quote)
    if not found:
        raise StoreError(f"{what}: «{quote}» is not in the text")
    if n is None:
        if len(found) > 1:
            raise StoreError(f"{what}: «{quote}» occurs {len(found)} times: give [text, occurrence]")
        n = 1
    if n > len(found):
        raise StoreError(f"{what}: «{quote}» occurrence {n}: only {len(found)} in the text")
    start = found[n - 1]
    return Span(start, start + len(quote), quote)


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Sentences split after . ! ? ؟ and at newlines, but not at a '.' between digits («2.5»).

    Each sentence keeps its closing punctuation and is trimmed of surrounding whitespace.
    """
    out: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for i, ch in enumerate(text):
        if ch not in SENTENCE_ENDS:
            continue
        if ch == "." and 0 < i < n - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            continue
        end = i if ch == "\n" else i + 1
        out.append((start, end))
        start = i + 1
    out.append((start, n))
    trimmed = []
    for s, e in out:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            trimmed.append((s, e))
    return trimmed


def sentence_around(text: str, start: int, end: int) -> Span:
    """The sentence(s) covering ``[start, end)``."""
    sents = [(s, e) for s, e in sentence_bounds(text) if s < end and e > start]
    if not sents:
        raise StoreError(f"no sentence covers [{start}, {end})")
    return Span.of(text, sents[0][0], sents[-1][1])


def _evidence(text: str, raw: Any, anchor: Span | None, what: str) -> Span:
    """Evidence from [first words, last words], or the anchor count's sentence when omitted."""
    if raw is None:
        if anchor is None:
            raise StoreError(f"{what}: give the evidence (there is no killed/wounded count to take its sentence)")
        return sentence_around(text, anchor.start, anchor.end)
    if not isinstance(raw, list) or len(raw) != 2:
        raise StoreError(f"{what}: evidence is [first words, last words], got {raw!r}")
    first, n_first = _parse_quote(raw[0], f"{what}[0]")
    last, n_last = _parse_quote(raw[1], f"{what}[1]")
    # Without occurrence numbers, take the passage around the count: the nearest start at or
    # before it, then the first end at or after both the start and the count.
    if n_first is not None or anchor is None:
        start = locate(text, raw[0], f"{what}[0]").start
    else:
        before = [i for i in occurrences(text, first) if i <= anchor.start]
        if not before:
            raise StoreError(f"{what}[0]: «{first}» does not occur at or before the count «{anchor.text}»")
        start = before[-1]
    if n_last is not None:
        end_span = locate(text, raw[1], f"{what}[1]")
        if end_span.start < start:
            raise StoreError(f"{what}: «{last}» occurrence {n_last} comes before the evidence start")
        end = end_span.end
    else:
        floor = anchor.end if anchor is not None else start
        after = [i for i in occurrences(text, last) if i >= start and i + len(last) >= floor]
        if not after:
            raise StoreError(f"{what}[1]: «{last}» does not occur after «{first}»" + (f" and the count «{anchor.text}»" if anchor else ""))
        end = after[0] + len(last)
    return Span.of(text, start, end)


def _count(text: str, raw: Any, what: str) -> Count | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or "quote" not in raw:
        raise StoreError(f"{what}: expected {{'quote': [text, n], 'value', 'low', 'high', 'qualifier'}}, got {raw!r}")
    unknown = set(raw) - {"quote", "value", "low", "high", "qualifier"}
    if unknown:
        raise StoreError(f"{what}: unknown field(s) {', '.join(sorted(unknown))}")
    for key in ("value", "qualifier"):
        if key not in raw:
            raise StoreError(f"{what}: missing {key!r}")
    span = locate(text, raw["quote"], what)
    try:
        q = Quantity(raw["value"], raw.get("low"), raw.get("high"), raw["qualifier"])
    except (ValueError, TypeError) as exc:
        raise StoreError(f"{what}: {exc}") from None
    return Count(span, q)


def _date(text: str, raw: Any, what: str) -> DateRef | None:
    if raw is None:
        return None
    if isinstance(raw, dict):
        unknown = set(raw) - {"quote", "resolved", "precision"}
        if unknown or "quote" not in raw:
            raise StoreError(f"{what}: expected {{'quote', 'resolved', 'precision'}}, got {raw!r}")
        return DateRef(locate(text, raw["quote"], what), raw.get("resolved"), raw.get("precision"))
    return DateRef(locate(text, raw, what))


def incident_from_quotes(text: str, raw: Any, what: str) -> Incident:
    if not isinstance(raw, dict):
        raise StoreError(f"{what}: expected an object, got {raw!r}")
    unknown = set(raw) - QUOTE_INCIDENT_KEYS
    if unknown:
        raise StoreError(f"{what}: unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(QUOTE_INCIDENT_KEYS))}")
    killed = _count(text, raw.get("killed"), f"{what}.killed")
    wounded = _count(text, raw.get("wounded"), f"{what}.wounded")
    anchor = (killed or wounded).span if (killed or wounded) else None
    plain = {
        role: None if raw.get(role) is None else locate(text, raw[role], f"{what}.{role}") for role in PLAIN_ROLES
    }
    notes = raw.get("notes") or ""
    if not isinstance(notes, str):
        raise StoreError(f"{what}.notes: expected a string")
    confidence = raw.get("confidence", 1.0)
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool):
        raise StoreError(f"{what}.confidence: expected a number")
    return Incident(
        evidence=_evidence(text, raw.get("evidence"), anchor, f"{what}.evidence"),
        killed=killed,
        wounded=wounded,
        date=_date(text, raw.get("date"), f"{what}.date"),
        confidence=float(confidence),
        extra={"notes": notes} if notes else {},
        **plain,
    )


def spans_from_quotes(text: str, raw: Any, what: str) -> list[Entity]:
    return spans_and_roles_from_quotes(text, raw, what)[0]


def spans_and_roles_from_quotes(text: str, raw: Any, what: str) -> tuple[list[Entity], dict[tuple[int, int], str]]:
    """``[LABEL, text, occurrence]`` items; a KILLED/WOUNDED item may end with its figure role:
    ``["KILLED", "43", 1, "incident"]`` (or ``["KILLED", "43", "incident"]`` for a unique quote)."""
    if not isinstance(raw, list):
        raise StoreError(f"{what}: expected a list of [LABEL, text, occurrence]")
    out = []
    roles: dict[tuple[int, int], str] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, list) or len(item) not in (2, 3, 4) or not isinstance(item[0], str):
            raise StoreError(f"{what}[{i}]: expected [LABEL, text, occurrence(, role)], got {item!r}")
        label = item[0]
        if label not in LABELS:
            raise StoreError(f"{what}[{i}] {item!r}: unknown label {label!r}; known: {', '.join(LABELS)}")
        rest = list(item[1:])
        role = None
        if len(rest) >= 2 and isinstance(rest[-1], str) and rest[-1] in FIGURE_ROLES:
            role = rest.pop()
        elif len(rest) == 3:
            raise StoreError(f"{what}[{i}] {item!r}: the 4th item must be a figure role ({', '.join(FIGURE_ROLES)})")
        if role is not None and label not in FIGURE_LABELS:
            raise StoreError(f"{what}[{i}] {item!r}: only KILLED/WOUNDED spans take a figure role")
        span = locate(text, rest, f"{what}[{i}] {label}")
        out.append(Entity(label, span))
        if role is not None:
            roles[(span.start, span.end)] = role
    return out, roles


def document_from_quotes(
    payload: Any, text: str, source: Mapping[str, Any], meta: Mapping[str, Any] | None = None
) -> GoldDocument:
    """Resolve a quote-form document against its text and validate it like the store does."""
    if not isinstance(payload, dict):
        raise StoreError(f"expected a JSON object per document, got {type(payload).__name__}")
    d = payload.get("doc_id")
    if not isinstance(d, str):
        raise StoreError(f"a quote document needs a 'doc_id' string, got {d!r}")
    unknown = set(payload) - QUOTE_DOC_KEYS
    if unknown:
        raise StoreError(f"{d}: unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(QUOTE_DOC_KEYS))}")
    for key in ("kind", "annotator"):
        if key not in payload:
            raise StoreError(f"{d}: missing {key!r}")
    if not text:
        raise StoreError(f"{d}: the document text is empty")
    incidents_raw = payload.get("incidents", [])
    if not isinstance(incidents_raw, list):
        raise StoreError(f"{d}: 'incidents' must be a list")
    spans, roles = spans_and_roles_from_quotes(text, payload.get("spans", []), f"{d}: spans")
    doc = GoldDocument(
        doc_id=d,
        text=text,
        source=dict(payload.get("source") or source),
        status=payload.get("status", "gold"),
        kind=payload["kind"],
        annotator=payload["annotator"],
        spans=sorted_entities(spans),
        incidents=[incident_from_quotes(text, raw, f"{d}: incidents[{n}]") for n, raw in enumerate(incidents_raw)],
        # A document-level "notes" string is kept in meta (the store's place for free text).
        meta={**(meta or {}), **(payload.get("meta") or {}), **({"notes": payload["notes"]} if payload.get("notes") else {})},
        roles=roles,
    )
    validate_document(doc)
    return doc


def read_quote_file(path: Path | str) -> list[dict[str, Any]]:
    """A quote file holds one document object or a list of them (strict UTF-8 JSON)."""
    data = read_json_file(Path(path))
    docs = data if isinstance(data, list) else [data]
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise StoreError(f"{path}: item {i}: expected a document object, got {type(doc).__name__}")
    return docs


# --------------------------------------------------------------------------------------------
# Back to quotes (for review, and for the Label Studio incidents box)


def quote_of(text: str, span: Span) -> list[Any]:
    return [span.text, occurrence_number(text, span.start, span.end)]


def evidence_quotes(text: str, span: Span) -> list[list[Any]]:
    """[first words, last words] that re-import to exactly ``span``."""
    words = [(span.start + s, span.start + e) for s, e in split_words(span.text)]
    k = min(EVIDENCE_EDGE_WORDS, len(words))
    first = Span.of(text, span.start, words[k - 1][1])
    last = Span.of(text, words[-k][0], span.end)
    return [quote_of(text, first), quote_of(text, last)]


def incident_quotes(text: str, inc: Incident) -> dict[str, Any]:
    def count(c: Count | None) -> dict[str, Any] | None:
        if c is None:
            return None
        q = c.quantity
        return {"quote": quote_of(text, c.span), "value": q.value, "low": q.low, "high": q.high, "qualifier": q.qualifier}

    out: dict[str, Any] = {"killed": count(inc.killed), "wounded": count(inc.wounded)}
    for role in PLAIN_ROLES:
        part = getattr(inc, role)
        out[role] = None if part is None else quote_of(text, part)
    out["date"] = (
        None
        if inc.date is None
        else {"quote": quote_of(text, inc.date.span), "resolved": inc.date.resolved, "precision": inc.date.precision}
    )
    out["evidence"] = evidence_quotes(text, inc.evidence)
    if inc.confidence != 1.0:
        out["confidence"] = inc.confidence
    if inc.extra.get("notes"):
        out["notes"] = inc.extra["notes"]
    return out


def quotes_from_document(doc: GoldDocument) -> dict[str, Any]:
    """The quote form of a document; :func:`document_from_quotes` turns it back exactly."""
    return {
        "doc_id": doc.doc_id,
        "kind": doc.kind,
        "annotator": doc.annotator,
        "status": doc.status,
        "source": dict(doc.source),
        "meta": dict(doc.meta),
        "spans": [
            [e.label, *quote_of(doc.text, e.span), *([doc.role_of(e)] if doc.role_of(e) else [])]
            for e in sorted_entities(doc.spans)
        ],
        "incidents": [incident_quotes(doc.text, inc) for inc in doc.incidents],
    }


def _one_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def dumps_quotes(payload: Any) -> str:
    """Quote form for people: one span or incident per line."""
    if isinstance(payload, list):
        return "[\n" + ",\n".join(" " + _one_line(x) for x in payload) + "\n]" if payload else "[]"
    lines = []
    for key, value in payload.items():
        if key in ("spans", "incidents") and isinstance(value, list) and value:
            value_text = "[\n" + ",\n".join("  " + _one_line(x) for x in value) + "\n ]"
        else:
            value_text = _one_line(value)
        lines.append(f" {_one_line(key)}: {value_text}")
    return "{\n" + ",\n".join(lines) + "\n}"
