"""Label Studio round trip: push documents as tasks, pull finished annotations into the store.

Tasks carry ``{"text", "doc_id", "text_sha256"}``; spans are ``labels`` regions over the
``text`` object, the document kind is a ``choices`` result, and incidents are one ``textarea``
holding a JSON list in quote form (``quotes.py``), pre-filled on push.  The labelling
interface is ``annotations/label_config.xml``.

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
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hasila.infer.labels import LABELS
from hasila.infer.types import Entity, HasilaError, Span
from hasila.train.annotate.quotes import (
    dumps_quotes,
    incident_from_quotes,
    incident_quotes,
)
from hasila.train.annotate.store import (
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
INCIDENTS_TAG = "incidents"

#: A model for pre-annotation: document text -> entities (offsets into that text).
Predictor = Callable[[str], Sequence[Entity]]


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
# Push


def entity_results(entities: Iterable[Entity], id_prefix: str) -> list[dict[str, Any]]:
    """Label Studio ``labels`` results (code-point offsets, see module doc)."""
    out = []
    for i, ent in enumerate(sorted_entities(entities)):
        item: dict[str, Any] = {
            "id": f"{id_prefix}{i}",
            "from_name": LABELS_TAG,
            "to_name": TEXT_TAG,
            "type": "labels",
            "value": {"start": ent.start, "end": ent.end, "text": ent.text, "labels": [ent.label]},
        }
        if ent.span.score is not None:
            item["score"] = float(ent.span.score)
        out.append(item)
    return out


def document_results(doc: GoldDocument) -> list[dict[str, Any]]:
    """A stored document as one Label Studio annotation: spans, kind, incidents in quote form."""
    results = entity_results(doc.spans, "s")
    results.append({"id": "kind", "from_name": KIND_TAG, "to_name": TEXT_TAG, "type": "choices", "value": {"choices": [doc.kind]}})
    if doc.incidents:
        box = dumps_quotes([incident_quotes(doc.text, inc) for inc in doc.incidents])
        results.append(
            {"id": "incidents", "from_name": INCIDENTS_TAG, "to_name": TEXT_TAG, "type": "textarea", "value": {"text": [box]}}
        )
    return results


def _checked_predictions(doc_id: str, text: str, entities: Sequence[Entity]) -> list[Entity]:
    for ent in entities:
        if ent.label not in LABELS:
            raise LabelStudioError(f"{doc_id}: the model gave unknown label {ent.label!r}")
        if not (0 <= ent.start < ent.end <= len(text)) or text[ent.start : ent.end] != ent.text:
            raise LabelStudioError(f"{doc_id}: the model's {ent.label} [{ent.start}, {ent.end}) «{ent.text}» does not match the text")
    return list(entities)


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
) -> dict[str, int]:
    """Create one task per document (skipping doc ids the project already has).

    ``items`` are store documents (gold ones become annotations, silver ones predictions) or
    bare doc ids (text from ``resolver(source_of(doc_id))``).  With ``predict``, the model's
    entities are attached as predictions (pre-annotations).  Returns doc_id -> task id.
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
            ents = _checked_predictions(doc_id, text, predict(text))
            predictions.append({"model_version": model_version, "result": entity_results(ents, "p")})
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
) -> GoldDocument:
    """One Label Studio annotation → a gold store document (validated)."""
    doc_id = data.get("doc_id")
    where = f"task {task_id} ({doc_id})"
    if data.get("text") != text or data.get("text_sha256") != text_sha256(text):
        raise LabelStudioError(
            f"{where}: the task text is not the corpus text (task sha256 {data.get('text_sha256')}, corpus {text_sha256(text)})"
        )
    spans: dict[tuple[str, int, int], Entity] = {}
    kind: str | None = None
    box: list[str] = []
    for item in result:
        name, typ, value = item.get("from_name"), item.get("type"), item.get("value") or {}
        region = f"{where} region {item.get('id')!r}"
        if typ == "labels" and name == LABELS_TAG:
            s, e, note = region_offsets(text, value, region)
            if note:
                fixes.append(note)
                log.warning(note)
            ts, te = _trim(text, s, e)
            if ts == te:
                raise LabelStudioError(f"{region}: the region [{s}, {e}) holds only whitespace")
            if (ts, te) != (s, e):
                fixes.append(f"{region}: trimmed whitespace at the edges of «{text[s:e]}» → [{ts}, {te})")
            for label in value.get("labels") or []:
                if label not in LABELS:
                    raise LabelStudioError(f"{region}: unknown label {label!r}; known: {', '.join(LABELS)}")
                key = (label, ts, te)
                if key in spans:
                    fixes.append(f"{region}: duplicate {label} [{ts}, {te}) dropped")
                spans[key] = Entity(label, Span.of(text, ts, te))
        elif typ == "choices" and name == KIND_TAG:
            choices = value.get("choices") or []
            kind = choices[0] if choices else None
        elif typ == "textarea" and name == INCIDENTS_TAG:
            box.extend(t for t in value.get("text") or [] if isinstance(t, str))
        else:
            raise LabelStudioError(f"{region}: unexpected result {name!r} of type {typ!r} (is the project using annotations/label_config.xml?)")
    incidents_raw: Any = []
    joined = "\n".join(box).strip()
    if joined:
        try:
            incidents_raw = json.loads(joined)
        except json.JSONDecodeError as exc:
            raise LabelStudioError(f"{where}: the incidents box is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        if isinstance(incidents_raw, dict):
            incidents_raw = [incidents_raw]
        if not isinstance(incidents_raw, list):
            raise LabelStudioError(f"{where}: the incidents box must hold a JSON list of incidents")
    try:
        incidents = [incident_from_quotes(text, raw, f"{where}: incidents[{n}]") for n, raw in enumerate(incidents_raw)]
        doc = GoldDocument(
            doc_id=str(doc_id),
            text=text,
            source=dict(source),
            status="gold",
            kind=kind or ("incident" if incidents else "hard_negative"),
            annotator=annotator,
            spans=sorted_entities(spans.values()),
            incidents=incidents,
            meta=dict(meta),
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
) -> PullReport:
    """Read each task's latest submitted annotation back as a gold document.

    Source and meta come from the stored document when there is one, else from ``source_of`` /
    ``meta_of`` (default: what the corpus under data_dir() gives).  All tasks are converted and validated before anything is written; any error
    raises :class:`LabelStudioError` listing every failing task, and nothing is written.
    A document whose annotation equals the stored one is left untouched (keeps its annotator).
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
    if write and root is not None:
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
