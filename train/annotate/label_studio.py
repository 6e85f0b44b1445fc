"""Label Studio round trip: push documents as tasks, pull finished annotations into the store.

Tasks carry ``{"text", "doc_id", "text_sha256"}``.  The labelling interface is
``annotations/label_config.xml``: spans are ``labels`` regions over the ``text`` object; a
KILLED/WOUNDED region carries its figure role and (for an incident's figure) its count as
per-region controls; an incident is an INCIDENT region over its evidence, linked by named
relations to its parts, with its date reading, notes and confidence as per-region controls; the
document kind is a ``choices`` result.  :func:`document_results` and :func:`document_from_annotation`
convert a store document to these results and back, losslessly (FORMAT.md, "Label Studio").

Offsets.  Label Studio's Text tag stores region offsets in Unicode code points, i.e. Python
``str`` indices (its editor walks the text with ``[...text]``; checked in a real browser with
Label Studio 1.23.2, see FORMAT.md).  Older releases and other tools wrote JavaScript UTF-16
offsets, and an off-by-one at the end of RTL text was reported (HumanSignal/label-studio#2007).
So :func:`region_offsets` never trusts offsets blindly: the region's own ``text`` must equal the
text at the offsets; if it does not, UTF-16 offsets and one-character shifts are tried, a fix
that makes them equal is applied and logged, and anything else is an error naming task and region.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hasila.infer.labels import LABELS
from hasila.infer.types import QUALIFIERS, Count, DateRef, Entity, HasilaError, Incident, Quantity, Span
from hasila.train.annotate.store import (
    COUNT_ROLES,
    FIGURE_LABELS,
    FIGURE_ROLES,
    PLAIN_ROLES,
    GoldDocument,
    StoreError,
    TextResolver,
    corpus_meta,
    load_document,
    sorted_entities,
    source_for_doc_id,
    text_sha256,
    validate_document,
    write_documents,
)
from hasila.train.settings import REPO_ROOT

log = logging.getLogger(__name__)

LABEL_CONFIG_PATH = REPO_ROOT / "annotations" / "label_config.xml"
# Names of the tags in label_config.xml.
TEXT_TAG = "text"
LABELS_TAG = "label"
KIND_TAG = "kind"
INCIDENT_TAG = "incident"  # Labels: INCIDENT (an incident, over its evidence) and ARG (a part that is no span)
INCIDENT_LABEL = "INCIDENT"
ARG_LABEL = "ARG"
ROLE_TAG = "role"
QUALIFIER_TAG = "qualifier"
DATE_RESOLVED_TAG = "date_resolved"
DATE_PRECISION_TAG = "date_precision"
NOTES_TAG = "notes"
CONFIDENCE_TAG = "confidence"
#: per-region controls and their result types
PER_REGION_TAGS: dict[str, str] = {
    ROLE_TAG: "choices", QUALIFIER_TAG: "choices", "value": "number", "low": "number", "high": "number",
    DATE_RESOLVED_TAG: "datetime", DATE_PRECISION_TAG: "choices", NOTES_TAG: "textarea", CONFIDENCE_TAG: "number",
}
COUNT_ATTRS = frozenset({QUALIFIER_TAG, "value", "low", "high"})
FIGURE_ATTRS = COUNT_ATTRS | {ROLE_TAG}
INCIDENT_ATTRS = frozenset({DATE_RESOLVED_TAG, DATE_PRECISION_TAG, NOTES_TAG, CONFIDENCE_TAG})
#: relation labels: the parts of an incident, in the order results are written
INCIDENT_PARTS: tuple[str, ...] = ("killed", "wounded", "perpetrator", "victim", "location", "date", "source")



@dataclass
class Prediction:
    """What a model pre-annotates in one text: spans, figure roles (with their probability), incidents."""

    entities: list[Entity]
    roles: dict[tuple[int, int], str] = field(default_factory=dict)
    role_scores: dict[tuple[int, int], float] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)


#: A model for pre-annotation: document text -> entities, or a :class:`Prediction` (offsets into that text).
Predictor = Callable[[str], "Sequence[Entity] | Prediction"]


class LabelStudioError(HasilaError):
    """A task or region that cannot be turned into a store document; names task and region."""


def label_config() -> str:
    return LABEL_CONFIG_PATH.read_text(encoding="utf-8")


def connect(url: str | None = None, api_key: str | None = None) -> Any:
    """A ``label_studio_sdk.LabelStudio`` client (``$LABEL_STUDIO_URL`` / ``$LABEL_STUDIO_API_KEY``)."""
    try:
        from label_studio_sdk import LabelStudio
    except ImportError as exc:  # the SDK is the optional 'annotate' extra
        raise LabelStudioError("label-studio-sdk is not installed: pip install 'hasila[annotate]'") from exc
    url = url or os.environ.get("LABEL_STUDIO_URL")
    api_key = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if not url or not api_key:
        raise LabelStudioError("give the Label Studio URL and API key (or set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY)")
    return LabelStudio(base_url=url.rstrip("/"), api_key=api_key)


def create_project(client: Any, title: str, config: str | None = None) -> int:
    project = client.projects.create(title=title, label_config=config or label_config())
    return int(project.id)


# --------------------------------------------------------------------------------------------
# Offsets


def utf16_prefix(text: str) -> list[int]:
    """``u[i]`` = UTF-16 code units before code point ``i`` (``len(u) == len(text) + 1``)."""
    out = [0]
    for ch in text:
        out.append(out[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return out


def cp_to_utf16(text: str, index: int) -> int:
    return utf16_prefix(text)[index]


def utf16_to_cp(text: str, unit: int) -> int | None:
    """Code point index at UTF-16 offset ``unit``; None when it falls inside a surrogate pair or outside."""
    prefix = utf16_prefix(text)
    i = bisect.bisect_left(prefix, unit)
    return i if i < len(prefix) and prefix[i] == unit else None


def _ls_display(text: str) -> str:
    # Label Studio's region text writes each \r or \n as the two characters backslash + n.
    return re.sub(r"[\r\n]", r"\\n", text)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\\n", ""))


def same_region_text(expected: str, got: str) -> bool:
    """Does Label Studio's region text ``got`` show ``expected`` (modulo its newline/space rendering)?"""
    return expected == got or _ls_display(expected) == got or (bool(_squash(got)) and _squash(expected) == _squash(got))


_SHIFTS = ((-1, -1), (0, -1), (1, 1), (-1, 0), (0, 1), (1, 0))


def region_offsets(text: str, value: Mapping[str, Any], where: str) -> tuple[int, int, str | None]:
    """Python offsets of a Label Studio text region, and a note when they had to be repaired."""
    start, end, got = value.get("start"), value.get("end"), value.get("text")
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
        raise LabelStudioError(f"{where}: region offsets must be integers, got start={start!r} end={end!r}")

    def fits(s: int | None, e: int | None) -> bool:
        return s is not None and e is not None and 0 <= s < e <= len(text) and (got is None or same_region_text(text[s:e], got))

    if fits(start, end):
        return start, end, None
    if got is None:
        raise LabelStudioError(f"{where}: offsets [{start}, {end}) outside the text (length {len(text)})")
    candidates: list[tuple[str, int | None, int | None]] = []
    u_start, u_end = utf16_to_cp(text, start), utf16_to_cp(text, end)
    candidates.append(("read as UTF-16 offsets", u_start, u_end))
    for base, s0, e0 in (("", start, end), ("UTF-16 ", u_start, u_end)):
        if s0 is None or e0 is None:
            continue
        for ds, de in _SHIFTS:
            candidates.append((f"{base}start {ds:+d}, end {de:+d}", s0 + ds, e0 + de))
    for how, s, e in candidates:
        if fits(s, e):
            note = f"{where}: offsets [{start}, {end}) give «{text[max(0, start):max(0, end)]}» but the region text is «{got}»; {how} → [{s}, {e})"
            return s, e, note  # type: ignore[return-value]
    raise LabelStudioError(
        f"{where}: offsets [{start}, {end}) give «{text[max(0, start):max(0, end)]}» but the region text is «{got}»; "
        "neither UTF-16 offsets nor a one-character shift match"
    )


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and (text[s].isspace() or text[s] in "\u200e\u200f\u200b\ufeff"):
        s += 1
    while e > s and (text[e - 1].isspace() or text[e - 1] in "\u200e\u200f\u200b\ufeff"):
        e -= 1
    return s, e


# --------------------------------------------------------------------------------------------
# Store document -> Label Studio results (push)
#
# Regions (all over the ``text`` object):
#   "s<i>"  a span: ``labels`` result of LABELS_TAG; a KILLED/WOUNDED span may carry per-region
#           results ROLE_TAG (choices) and, when an incident uses it, QUALIFIER_TAG (choices) and
#           value/low/high (numbers);
#   "i<n>"  incident n: an INCIDENT ``labels`` result of INCIDENT_TAG over its evidence, with
#           per-region date_resolved (datetime), date_precision (choices), notes (textarea) and
#           confidence (number, only when not 1.0);
#   "a<j>"  an incident part that is no span of the document: an ARG ``labels`` result;
#   relations from "i<n>" to the part regions, labelled killed/wounded/perpetrator/victim/
#   location/date/source.
# The order of the incidents is kept through their region ids ("i<n>"); new incidents (other ids)
# follow in text order.


def _region_value(text: str, start: int, end: int) -> dict[str, Any]:
    return {"start": start, "end": end, "text": text[start:end]}


def _per_region(rid: str, name: str, typ: str, base: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": rid, "from_name": name, "to_name": TEXT_TAG, "type": typ, "value": {**base, **payload}}


def entity_results(
    entities: Iterable[Entity],
    id_prefix: str,
    roles: Mapping[tuple[int, int], str] | None = None,
    role_scores: Mapping[tuple[int, int], float] | None = None,
) -> list[dict[str, Any]]:
    """Label Studio ``labels`` results (code-point offsets, see module doc), each figure with its role."""
    out = []
    for i, ent in enumerate(sorted_entities(entities)):
        rid = f"{id_prefix}{i}"
        base = {"start": ent.start, "end": ent.end, "text": ent.text}
        item: dict[str, Any] = {
            "id": rid, "from_name": LABELS_TAG, "to_name": TEXT_TAG, "type": "labels", "value": {**base, "labels": [ent.label]},
        }
        if ent.span.score is not None:
            item["score"] = float(ent.span.score)
        out.append(item)
        role = (roles or {}).get((ent.start, ent.end)) if ent.label in FIGURE_LABELS else None
        if role is not None:
            r = _per_region(rid, ROLE_TAG, "choices", base, {"choices": [role]})
            score = (role_scores or {}).get((ent.start, ent.end))
            if score is not None:
                r["score"] = float(score)
            out.append(r)
    return out


def _incident_results(doc: GoldDocument, span_ids: Mapping[tuple[int, int], list[str]]) -> list[dict[str, Any]]:
    """INCIDENT and ARG regions, per-incident attributes, count attributes on the figures, relations."""
    text = doc.text
    out: list[dict[str, Any]] = []
    args: dict[tuple[int, int], str] = {}
    counts: dict[str, tuple[Count, str]] = {}  # figure region id -> (count, where)

    def target(span: Span) -> str:
        key = (span.start, span.end)
        if key in span_ids:
            return span_ids[key][0].split("#")[0]
        if key not in args:
            args[key] = f"a{len(args)}"
            out.append({"id": args[key], "from_name": INCIDENT_TAG, "to_name": TEXT_TAG, "type": "labels",
                        "value": {**_region_value(text, *key), "labels": [ARG_LABEL]}})
        return args[key]

    for n, inc in enumerate(doc.incidents):
        rid = f"i{n}"
        where = f"{doc.doc_id}: incidents[{n}]"
        base = _region_value(text, inc.evidence.start, inc.evidence.end)
        out.append({"id": rid, "from_name": INCIDENT_TAG, "to_name": TEXT_TAG, "type": "labels",
                    "value": {**base, "labels": [INCIDENT_LABEL]}})
        if inc.date is not None and inc.date.resolved is not None:
            out.append(_per_region(rid, DATE_RESOLVED_TAG, "datetime", base, {"datetime": inc.date.resolved}))
        if inc.date is not None and inc.date.precision is not None:
            out.append(_per_region(rid, DATE_PRECISION_TAG, "choices", base, {"choices": [inc.date.precision]}))
        if inc.extra.get("notes"):
            out.append(_per_region(rid, NOTES_TAG, "textarea", {"start": base["start"], "end": base["end"]},
                                   {"text": [inc.extra["notes"]]}))
        if inc.confidence != 1.0:
            out.append(_per_region(rid, CONFIDENCE_TAG, "number", base, {"number": inc.confidence}))
        for part in INCIDENT_PARTS:
            value = getattr(inc, part)
            if value is None:
                continue
            span = value.span if isinstance(value, (Count, DateRef)) else value
            if isinstance(value, Count):
                label = COUNT_ROLES[part]
                key = (value.span.start, value.span.end)
                fid = next((i for i in span_ids.get(key, []) if i.endswith(f"#{label}")), None)
                if fid is None:
                    raise LabelStudioError(f"{where}.{part}: no {label} span at [{key[0]}, {key[1]})")
                fid = fid.split("#")[0]
                if fid in counts and counts[fid][0].quantity != value.quantity:
                    raise LabelStudioError(
                        f"{where}.{part}: the figure {_fmt_span(value.span)} is also {counts[fid][1]} with another "
                        "value; one figure region carries one count"
                    )
                counts.setdefault(fid, (value, f"{where}.{part}"))
                to_id = fid
            else:
                to_id = target(span)
            out.append({"type": "relation", "from_id": rid, "to_id": to_id, "direction": "right", "labels": [part]})
    for fid, (count, _) in counts.items():
        base = _region_value(text, count.span.start, count.span.end)
        q = count.quantity
        out.append(_per_region(fid, QUALIFIER_TAG, "choices", base, {"choices": [q.qualifier]}))
        for name, v in (("value", q.value), ("low", q.low), ("high", q.high)):
            if v is not None:
                out.append(_per_region(fid, name, "number", base, {"number": v}))
    return out


def _fmt_span(span: Span) -> str:
    return f"[{span.start}, {span.end}) «{span.text}»"


def document_results(
    doc: GoldDocument, *, id_prefix: str = "s", role_scores: Mapping[tuple[int, int], float] | None = None
) -> list[dict[str, Any]]:
    """A store document as one Label Studio annotation: spans with figure roles, kind, incidents."""
    results = entity_results(doc.spans, id_prefix, doc.roles, role_scores)
    # (start, end) -> region ids "<id>#<label>" of the spans there (spans never share offsets in a
    # valid document, but a silver document from a model is not checked for that)
    span_ids: dict[tuple[int, int], list[str]] = {}
    for r in results:
        if r["type"] == "labels":
            span_ids.setdefault((r["value"]["start"], r["value"]["end"]), []).append(f"{r['id']}#{r['value']['labels'][0]}")
    results.append({"id": "kind", "from_name": KIND_TAG, "to_name": TEXT_TAG, "type": "choices", "value": {"choices": [doc.kind]}})
    results.extend(_incident_results(doc, span_ids))
    return results


def _checked_predictions(doc_id: str, text: str, entities: Sequence[Entity]) -> list[Entity]:
    for ent in entities:
        if ent.label not in LABELS:
            raise LabelStudioError(f"{doc_id}: the model gave unknown label {ent.label!r}")
        if not (0 <= ent.start < ent.end <= len(text)) or text[ent.start : ent.end] != ent.text:
            raise LabelStudioError(f"{doc_id}: the model's {ent.label} [{ent.start}, {ent.end}) «{ent.text}» does not match the text")
    return list(entities)


def prediction_results(doc_id: str, text: str, pred: "Sequence[Entity] | Prediction") -> list[dict[str, Any]]:
    """A model's pre-annotation as Label Studio results (the same regions an annotation has)."""
    if not isinstance(pred, Prediction):  # spans alone: no document kind, no incidents
        return entity_results(_checked_predictions(doc_id, text, list(pred)), "p")
    ents = _checked_predictions(doc_id, text, pred.entities)
    figures = {(e.start, e.end) for e in ents if e.label in FIGURE_LABELS}
    for key, role in pred.roles.items():
        if key not in figures or role not in FIGURE_ROLES:
            raise LabelStudioError(f"{doc_id}: the model's figure role {role!r} at [{key[0]}, {key[1]}) is not on one of its KILLED/WOUNDED spans")
    have = {(e.label, e.start, e.end) for e in ents}
    incidents = []
    for n, inc in enumerate(pred.incidents):
        # a figure the assembly read beside the tagger's spans cannot be linked: that incident is left out
        missing = [f"{label} «{c.span.text}» [{c.span.start}, {c.span.end})" for part, label in COUNT_ROLES.items()
                   if (c := getattr(inc, part)) is not None and (label, c.span.start, c.span.end) not in have]
        if missing:
            log.warning("%s: the model's incident %d is left out of the pre-annotation: its %s is none of its spans", doc_id, n, missing[0])
        else:
            incidents.append(inc)
    doc = GoldDocument(
        doc_id=doc_id, text=text, source={}, status="silver", kind="incident" if incidents else "hard_negative",
        annotator="model", spans=ents, incidents=incidents, roles=dict(pred.roles),
    )
    try:
        return document_results(doc, id_prefix="p", role_scores=pred.role_scores)
    except LabelStudioError as exc:  # e.g. one figure with two different counts: spans and roles only
        log.warning("%s: the model's incidents are left out of the pre-annotation: %s", doc_id, exc)
        doc.incidents, doc.kind = [], "hard_negative"
        return document_results(doc, id_prefix="p", role_scores=pred.role_scores)


def model_predictor(model: str | Path, *, device: str | None = "cpu") -> Predictor:
    """A :data:`Predictor` running Hasila's pipeline (``hasila.infer.pipeline.Extractor``) with the model
    folder ``model``: spans, incidents, and figure roles when the folder has structure heads."""
    from hasila.infer.inputs import InputDoc
    from hasila.infer.pipeline import Extractor
    from hasila.train.evaluate import incident_from_json

    path = Path(model)
    if not path.is_dir():
        raise LabelStudioError(f"--model {model}: no such model folder")
    extractor = Extractor(str(path), device=device)

    def predict(text: str) -> Prediction:
        record = next(iter(extractor.extract([InputDoc("ls-push", text=text)])))
        if record.get("status") != "ok":
            err = record.get("error") or {}
            raise LabelStudioError(f"the model gave no record: {err.get('type', '?')}: {err.get('message', err)}")
        ents = [Entity(e["label"], Span.of(text, e["start"], e["end"], e.get("score"))) for e in record.get("entities") or []]
        roles: dict[tuple[int, int], str] = {}
        scores: dict[tuple[int, int], float] = {}
        for r in record.get("figure_roles") or []:
            roles[(r["start"], r["end"])] = r["role"]
            if r.get("probability") is not None:
                scores[(r["start"], r["end"])] = float(r["probability"])
        incidents = []
        for i, raw in enumerate(record.get("incidents") or []):
            try:
                inc = incident_from_json(raw, f"incidents[{i}]")
            except ValueError as exc:
                log.warning("the model's incident left out: %s", exc)
                continue
            incidents.append(dataclasses.replace(inc, confidence=min(1.0, max(0.0, inc.confidence))))
        return Prediction(ents, roles, scores, incidents)

    predict.model_version = f"hasila:{path.name}:{(extractor.model_info.get('sha256') or 'unknown')[:12]}"  # type: ignore[attr-defined]
    return predict


def _prediction_score(result: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The prediction's score (LS sorts and filters tasks by it): the mean span score, when the spans have one."""
    scores = [r["score"] for r in result if r.get("type") == "labels" and isinstance(r.get("score"), (int, float))]
    return {"score": round(sum(scores) / len(scores), 4)} if scores else {}


def existing_tasks(client: Any, project_id: int) -> dict[str, int]:
    """doc_id -> task id of the project's tasks."""
    out: dict[str, int] = {}
    for task in client.tasks.list(project=project_id, fields="all"):
        doc_id = (task.data or {}).get("doc_id")
        if isinstance(doc_id, str):
            out[doc_id] = int(task.id)
    return out


def push(
    client: Any,
    project_id: int,
    items: Iterable[GoldDocument | str],
    *,
    resolver: TextResolver | None = None,
    predict: Predictor | None = None,
    model_version: str = "hasila",
    source_of: Callable[[str], Mapping[str, Any]] = source_for_doc_id,
    errors: list[str] | None = None,
) -> dict[str, int]:
    """Create one task per document (skipping doc ids the project already has).

    ``items`` are store documents (gold ones become annotations, silver ones predictions) or
    bare doc ids (text from ``resolver(source_of(doc_id))``).  With ``predict``, the model's
    pre-annotation (spans, figure roles, incidents: :func:`prediction_results`) is attached as a
    prediction; a document the model fails on raises, or, with an ``errors`` list, goes in without
    one and the reason is appended there.  Returns doc_id -> task id.
    """
    have = existing_tasks(client, project_id)
    tasks: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, GoldDocument):
            doc_id, text = item.doc_id, item.text
        else:
            if resolver is None:
                raise LabelStudioError(f"{item}: pushing a bare doc id needs a text resolver")
            doc_id, text = item, resolver(source_of(item))
        if doc_id in have or any(t["data"]["doc_id"] == doc_id for t in tasks):
            log.info("%s: already a task in project %s, not pushed again", doc_id, project_id)
            continue
        if not text.strip():
            raise LabelStudioError(f"{doc_id}: empty text")
        task: dict[str, Any] = {"data": {"text": text, "doc_id": doc_id, "text_sha256": text_sha256(text)}}
        predictions = []
        if isinstance(item, GoldDocument):
            validate_document(item)
            if item.status == "gold":
                task["annotations"] = [{"result": document_results(item)}]
            else:
                predictions.append({"model_version": f"silver:{item.annotator}", "result": document_results(item)})
        if predict is not None:
            try:
                result = prediction_results(doc_id, text, predict(text))
            except HasilaError as exc:
                if errors is None:
                    raise
                # the task goes in without a pre-annotation; the caller reports it
                errors.append(f"{doc_id}: no pre-annotation: {exc}")
            else:
                predictions.append({"model_version": model_version, "result": result, **_prediction_score(result)})
        if predictions:
            task["predictions"] = predictions
        tasks.append(task)
    if tasks:
        client.projects.import_tasks(project_id, request=tasks)
    have = existing_tasks(client, project_id)
    return {t["data"]["doc_id"]: have[t["data"]["doc_id"]] for t in tasks}


# --------------------------------------------------------------------------------------------
# Pull


@dataclass
class PullReport:
    documents: list[GoldDocument] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # tasks without a submitted annotation
    fixes: list[str] = field(default_factory=list)  # repaired offsets, trimmed edges, ...


def _annotator_name(client: Any, user_id: Any, cache: dict[Any, str]) -> str:
    """The store's annotator id for a Label Studio user: its username, else its e-mail's local part."""
    if isinstance(user_id, dict):
        user_id = user_id.get("id")
    if user_id not in cache:
        user = client.users.get(id=user_id)
        name = (getattr(user, "username", "") or "").strip() or (getattr(user, "email", "") or "").split("@")[0]
        cache[user_id] = name or f"ls-user-{user_id}"
    return cache[user_id]


def _latest_annotation(task: Any) -> dict[str, Any] | None:
    anns = [a if isinstance(a, dict) else a.dict() for a in (task.annotations or [])]
    anns = [a for a in anns if not a.get("was_cancelled")]
    if not anns:
        return None
    return max(anns, key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), a.get("id") or 0))


class _Region:
    """One Label Studio region: its labels result and the per-region results sharing its id."""

    def __init__(self, rid: str, where: str):
        self.rid, self.where = rid, where
        self.control: str | None = None  # LABELS_TAG or INCIDENT_TAG
        self.labels: list[str] = []
        self.start = self.end = -1
        self.attrs: dict[str, Mapping[str, Any]] = {}  # per-region control name -> value
        self.raw_offsets: tuple[int, int] | None = None

    def key(self) -> tuple[int, int]:
        return (self.start, self.end)


def _one(value: Mapping[str, Any], field_name: str, region: str, control: str) -> Any:
    items = value.get(field_name)
    if isinstance(items, list):
        items = [x for x in items if x not in (None, "")]
        if len(items) > 1:
            raise LabelStudioError(f"{region}: {control}: one choice expected, got {items!r}")
        return items[0] if items else None
    return items


def _number(value: Mapping[str, Any], region: str, control: str, *, integer: bool) -> int | float | None:
    v = value.get("number")
    if v is None or v == "":
        return None
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            raise LabelStudioError(f"{region}: {control} {v!r} is not a number") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise LabelStudioError(f"{region}: {control} {v!r} is not a number")
    if integer:
        if float(v) != int(v) or v < 0:
            raise LabelStudioError(f"{region}: {control} {v!r} must be a whole number >= 0")
        return int(v)
    return float(v)


def _read_regions(
    text: str, result: Sequence[Mapping[str, Any]], where: str, fixes: list[str]
) -> tuple[dict[str, _Region], list[Mapping[str, Any]], str | None]:
    """Group the results by region id; returns regions, relations and the document kind."""
    regions: dict[str, _Region] = {}
    relations: list[Mapping[str, Any]] = []
    kind: str | None = None
    per_region: list[tuple[str, str, str, Mapping[str, Any]]] = []
    for n, item in enumerate(result):
        name, typ, value = item.get("from_name"), item.get("type"), item.get("value") or {}
        rid = item.get("id")
        region = f"{where} region {rid!r}"
        if typ == "relation":
            relations.append(item)
        elif typ == "labels" and name in (LABELS_TAG, INCIDENT_TAG):
            if not isinstance(rid, str) or not rid:
                raise LabelStudioError(f"{where}: result #{n} ({name}) has no region id")
            if rid in regions and regions[rid].control is not None:
                raise LabelStudioError(f"{region}: two label results for one region")
            reg = regions.setdefault(rid, _Region(rid, region))
            s, e, note = region_offsets(text, value, region)
            if note:
                fixes.append(note)
                log.warning(note)
            ts, te = _trim(text, s, e)
            if ts == te:
                raise LabelStudioError(f"{region}: the region [{s}, {e}) holds only whitespace")
            if (ts, te) != (s, e):
                fixes.append(f"{region}: trimmed whitespace at the edges of «{text[s:e]}» → [{ts}, {te})")
            reg.control, reg.start, reg.end = name, ts, te
            reg.labels = [x for x in value.get("labels") or [] if isinstance(x, str)]
            known = LABELS if name == LABELS_TAG else (INCIDENT_LABEL, ARG_LABEL)
            for label in value.get("labels") or []:
                if label not in known:
                    raise LabelStudioError(f"{region}: unknown label {label!r}; known: {', '.join(known)}")
            if name == INCIDENT_TAG and len(reg.labels) != 1:
                raise LabelStudioError(f"{region}: an {INCIDENT_TAG} region is either {INCIDENT_LABEL} or {ARG_LABEL}, got {reg.labels!r}")
        elif typ == "choices" and name == KIND_TAG:
            choices = value.get("choices") or []
            kind = choices[0] if choices else None
        elif name in PER_REGION_TAGS and typ == PER_REGION_TAGS[name]:
            if not isinstance(rid, str) or not rid:
                raise LabelStudioError(f"{where}: result #{n} ({name}) has no region id")
            per_region.append((rid, name, region, value))
        else:
            raise LabelStudioError(f"{region}: unexpected result {name!r} of type {typ!r} (is the project using annotations/label_config.xml?)")
    for rid, name, region, value in per_region:
        reg = regions.get(rid)
        if reg is None or reg.control is None:
            raise LabelStudioError(f"{region}: a {name} result for a region without a label")
        if name in reg.attrs:
            raise LabelStudioError(f"{region}: two {name} results for one region")
        reg.attrs[name] = value
    return regions, relations, kind


def _figure_count(text: str, reg: _Region, label: str, fixes: list[str]) -> Count:
    """The count a figure region carries (qualifier, value, low, high), parsed from the text when none was given."""
    span = Span.of(text, reg.start, reg.end)
    qualifier = _one(reg.attrs.get(QUALIFIER_TAG, {}), "choices", reg.where, QUALIFIER_TAG)
    nums = {k: _number(reg.attrs.get(k, {}), reg.where, k, integer=True) for k in ("value", "low", "high")}
    if qualifier is None and all(v is None for v in nums.values()):
        from hasila.infer.quantity import parse_quantity

        q = parse_quantity(span.text, text[max(0, reg.start - 40) : reg.start], text[reg.end : reg.end + 40])
        fixes.append(
            f"{reg.where}: {label} «{span.text}» has no count attributes; parsed: value {q.value}, low {q.low}, "
            f"high {q.high}, qualifier {q.qualifier}"
        )
        return Count(span, q)
    if qualifier is None:
        raise LabelStudioError(f"{reg.where}: {label} «{span.text}» has a value but no qualifier ({', '.join(QUALIFIERS)})")
    try:
        return Count(span, Quantity(nums["value"], nums["low"], nums["high"], qualifier))
    except (ValueError, TypeError) as exc:
        raise LabelStudioError(f"{reg.where}: {label} «{span.text}»: {exc}") from None


def _incident_order(rid: str, reg: _Region) -> tuple[int, int, int, int, str]:
    m = re.fullmatch(r"i(\d+)", rid)
    return (0, int(m.group(1)), 0, 0, rid) if m else (1, 0, reg.start, reg.end, rid)


def document_from_annotation(
    *,
    task_id: int,
    data: Mapping[str, Any],
    result: Sequence[Mapping[str, Any]],
    text: str,
    source: Mapping[str, Any],
    meta: Mapping[str, Any],
    annotator: str,
    fixes: list[str],
    status: str = "gold",
) -> GoldDocument:
    """One Label Studio annotation → a store document (validated; gold unless ``status`` says)."""
    doc_id = data.get("doc_id")
    where = f"task {task_id} ({doc_id})"
    if data.get("text") != text or data.get("text_sha256") != text_sha256(text):
        raise LabelStudioError(
            f"{where}: the task text is not the corpus text (task sha256 {data.get('text_sha256')}, corpus {text_sha256(text)})"
        )
    regions, relations, kind = _read_regions(text, result, where, fixes)
    spans: dict[tuple[str, int, int], Entity] = {}
    roles: dict[tuple[int, int], str] = {}
    for reg in regions.values():
        if reg.control != LABELS_TAG:
            if set(reg.attrs) & FIGURE_ATTRS:
                raise LabelStudioError(f"{reg.where}: figure attributes ({', '.join(sorted(set(reg.attrs) & FIGURE_ATTRS))}) on an {reg.labels[0]} region")
            if reg.labels == [ARG_LABEL] and reg.attrs:
                raise LabelStudioError(f"{reg.where}: incident attributes ({', '.join(sorted(reg.attrs))}) on an ARG region; put them on the INCIDENT")
            continue
        if set(reg.attrs) & INCIDENT_ATTRS:
            raise LabelStudioError(f"{reg.where}: incident attributes ({', '.join(sorted(set(reg.attrs) & INCIDENT_ATTRS))}) on a span; put them on the INCIDENT")
        for label in reg.labels:
            key = (label, reg.start, reg.end)
            if key in spans:
                fixes.append(f"{reg.where}: duplicate {label} [{reg.start}, {reg.end}) dropped")
            spans[key] = Entity(label, Span.of(text, reg.start, reg.end))
        role = _one(reg.attrs.get(ROLE_TAG, {}), "choices", reg.where, ROLE_TAG)
        if role is not None:
            if not set(reg.labels) & set(FIGURE_LABELS):
                raise LabelStudioError(f"{reg.where}: figure role {role!r} on a {'/'.join(reg.labels)} span (only KILLED/WOUNDED take one)")
            if role not in FIGURE_ROLES:
                raise LabelStudioError(f"{reg.where}: figure role {role!r} not one of {', '.join(FIGURE_ROLES)}")
            roles[reg.key()] = role

    # Incidents: each INCIDENT region (its evidence) and the relations from it.
    parts: dict[str, dict[str, _Region]] = {rid: {} for rid, reg in regions.items() if reg.labels == [INCIDENT_LABEL]}
    for n, rel in enumerate(relations):
        a, b = rel.get("from_id"), rel.get("to_id")
        labels = [x for x in rel.get("labels") or [] if x]
        what = f"{where} relation {n + 1} ({a!r} → {b!r})"
        if a not in regions or b not in regions:
            raise LabelStudioError(f"{what}: links a region that is not in the annotation")
        ends = [x for x in (a, b) if x in parts]
        if len(ends) != 1:
            raise LabelStudioError(f"{what}: a relation links one INCIDENT region to one of its parts (this one links {len(ends)} INCIDENT regions)")
        inc_id = ends[0]
        part_reg = regions[b if inc_id == a else a]
        if len(labels) > 1:
            raise LabelStudioError(f"{what}: one relation label expected, got {labels!r}")
        if labels:
            part = labels[0]
            if part not in INCIDENT_PARTS:
                raise LabelStudioError(f"{what}: unknown relation label {part!r}; known: {', '.join(INCIDENT_PARTS)}")
        else:  # an unnamed link to a figure or a date is unambiguous
            guess = [p for p, lab in (("killed", "KILLED"), ("wounded", "WOUNDED"), ("date", "DATE")) if part_reg.labels == [lab]]
            if not guess:
                raise LabelStudioError(f"{what}: name the relation ({', '.join(INCIDENT_PARTS)})")
            part = guess[0]
            fixes.append(f"{what}: unnamed relation to «{text[part_reg.start:part_reg.end]}» read as {part}")
        if part in parts[inc_id]:
            raise LabelStudioError(f"{what}: the incident already has a {part} (relation to «{text[parts[inc_id][part].start:parts[inc_id][part].end]}»)")
        if part in COUNT_ROLES and COUNT_ROLES[part] not in part_reg.labels:
            raise LabelStudioError(f"{what}: {part} must link a {COUNT_ROLES[part]} span, not «{text[part_reg.start:part_reg.end]}» ({'/'.join(part_reg.labels)})")
        parts[inc_id][part] = part_reg
    counts: dict[str, Count] = {}
    used_figures: set[str] = set()
    incidents = []
    for rid in sorted(parts, key=lambda r: _incident_order(r, regions[r])):
        reg, got = regions[rid], parts[rid]
        count = {}
        for part, label in COUNT_ROLES.items():
            if part in got:
                fig = got[part]
                used_figures.add(fig.rid)
                if fig.rid not in counts:
                    counts[fig.rid] = _figure_count(text, fig, label, fixes)
                count[part] = counts[fig.rid]
        date = None
        resolved = _one(reg.attrs.get(DATE_RESOLVED_TAG, {}), "datetime", reg.where, DATE_RESOLVED_TAG)
        precision = _one(reg.attrs.get(DATE_PRECISION_TAG, {}), "choices", reg.where, DATE_PRECISION_TAG)
        if isinstance(resolved, str):
            resolved = resolved.strip()[:10] or None
        if "date" in got:
            d = got["date"]
            date = DateRef(Span.of(text, d.start, d.end), resolved, precision)
        elif resolved is not None or precision is not None:
            raise LabelStudioError(f"{reg.where}: the incident has a date_resolved/date_precision but no date relation")
        notes = "\n".join(t for t in (reg.attrs.get(NOTES_TAG, {}).get("text") or []) if isinstance(t, str)).strip()
        confidence = _number(reg.attrs.get(CONFIDENCE_TAG, {}), reg.where, CONFIDENCE_TAG, integer=False)
        plain = {p: (None if p not in got else Span.of(text, got[p].start, got[p].end)) for p in PLAIN_ROLES}
        incidents.append(Incident(
            evidence=Span.of(text, reg.start, reg.end),
            killed=count.get("killed"),
            wounded=count.get("wounded"),
            date=date,
            confidence=1.0 if confidence is None else confidence,
            extra={"notes": notes} if notes else {},
            **plain,
        ))
    for reg in regions.values():
        if reg.control == LABELS_TAG and reg.rid not in used_figures and set(reg.attrs) & COUNT_ATTRS:
            fixes.append(f"{reg.where}: count attributes on «{text[reg.start:reg.end]}», which no incident links: ignored")
    try:
        doc = GoldDocument(
            doc_id=str(doc_id),
            text=text,
            source=dict(source),
            status=status,
            kind=kind or ("incident" if incidents else "hard_negative"),
            annotator=annotator,
            spans=sorted_entities(spans.values()),
            incidents=incidents,
            meta=dict(meta),
            roles=roles,
        )
        validate_document(doc)
    except StoreError as exc:
        raise LabelStudioError(f"{where}: {exc}") from None
    return doc


def _stored(store_root: Path | None, doc_id: str, resolver: TextResolver) -> GoldDocument | None:
    if store_root is None:
        return None
    for path in Path(store_root).glob(f"*/{doc_id}.json"):
        return load_document(path, resolver)
    return None


def pull(
    client: Any,
    project_id: int,
    *,
    resolver: TextResolver,
    store_root: Path | str | None,
    source_of: Callable[[str], Mapping[str, Any]] = source_for_doc_id,
    meta_of: Callable[[str], Mapping[str, Any]] | None = None,
    write: bool = True,
    out_root: Path | str | None = None,
) -> PullReport:
    """Read each task's latest submitted annotation back as a gold document.

    Source and meta come from the stored document when there is one, else from ``source_of`` /
    ``meta_of`` (default: what the corpus under data_dir() gives).  All tasks are converted and validated before anything is written; any error
    raises :class:`LabelStudioError` listing every failing task, and nothing is written.
    A document whose annotation equals the stored one is left untouched (keeps its annotator).
    With ``out_root``, every pulled document is written there instead (same layout,
    ``<corpus>/<doc_id>.json``) and the store is only read.
    """
    root = Path(store_root) if store_root is not None else None
    meta_of = meta_of or corpus_meta()
    report = PullReport()
    errors: list[str] = []
    users: dict[Any, str] = {}
    to_write: list[GoldDocument] = []
    for task in client.tasks.list(project=project_id, fields="all"):
        data = task.data or {}
        doc_id = data.get("doc_id")
        ann = _latest_annotation(task)
        if ann is None:
            report.skipped.append(f"task {task.id} ({doc_id})")
            continue
        try:
            if not isinstance(doc_id, str):
                raise LabelStudioError(f"task {task.id}: no doc_id in the task data")
            stored = _stored(root, doc_id, resolver)
            source = stored.source if stored else dict(source_of(doc_id))
            meta = stored.meta if stored else dict(meta_of(doc_id))
            text = stored.text if stored else resolver(source)
            doc = document_from_annotation(
                task_id=int(task.id),
                data=data,
                result=ann.get("result") or [],
                text=text,
                source=source,
                meta=meta,
                annotator=_annotator_name(client, ann.get("completed_by"), users),
                fixes=report.fixes,
            )
        except HasilaError as exc:
            errors.append(str(exc))
            continue
        report.documents.append(doc)
        if stored is not None and _same_annotation(stored, doc):
            report.unchanged.append(doc_id)
        else:
            to_write.append(doc)
    if errors:
        raise LabelStudioError(f"{len(errors)} task(s) could not be pulled; nothing written:\n" + "\n".join(errors))
    if write and out_root is not None:
        out = Path(out_root)
        if out.exists() and not out.is_dir():
            raise LabelStudioError(f"{out}: exists and is not a folder; --out names a folder for the pulled documents")
        report.written = write_documents(report.documents, out)
    elif write and root is not None:
        report.written = write_documents(to_write, root)
    return report


def _same_annotation(a: GoldDocument, b: GoldDocument) -> bool:
    ra, rb = a.to_record(), b.to_record()
    for rec in (ra, rb):
        rec.pop("annotator")
        rec.pop("status")
    return ra == rb


__all__ = [
    "LabelStudioError",
    "Prediction",
    "model_predictor",
    "prediction_results",
    "PullReport",
    "connect",
    "create_project",
    "cp_to_utf16",
    "document_from_annotation",
    "document_results",
    "entity_results",
    "label_config",
    "pull",
    "push",
    "region_offsets",
    "same_region_text",
    "utf16_to_cp",
]
