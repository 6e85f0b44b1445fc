"""The output record of one document (``resources/document.schema.json``).

Every input gets exactly one record: ``status`` "ok" with its entities and incidents, or
"error" with ``error {type, message}`` and empty lists. Besides the contract, records carry
``text_sha256`` (of the original text, to tie a record to the exact text it was read from),
``date`` (the article date used to resolve relative dates, or null) and the input's
``source`` / ``url`` when it had them, ``warnings`` (problems with the input that did not stop it:
a malformed date, a guessed encoding) and ``metadata`` (the input's other fields) when there are
any, and ``producer``: what made the record — Hasila's version, the rules version (a hash of the
code and word lists that turn the model's tags into records) and the schema version; the model's
name and sha256 are in ``model``.

:func:`check_record` verifies what the schema cannot: every span lies inside the original
text and its ``text`` equals ``original[start:end]``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import lru_cache
from importlib import metadata as _metadata
from importlib import resources
from typing import Any, Iterator, Sequence

from hasila.infer.types import Entity, HasilaError, Incident


class RecordError(HasilaError):
    """A record breaks the output contract (a bug upstream, reported for one document)."""


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The output JSON schema shipped with the package."""
    ref = resources.files("hasila.infer.resources") / "document.schema.json"
    return json.loads(ref.read_text(encoding="utf-8"))


# Modules that only carry records elsewhere (not rules): left out of the rules version.
_NOT_RULES = frozenset({"cli.py", "writers.py", "report_html.py", "records.py", "inputs.py", "__init__.py"})


def schema_version() -> str:
    """The output schema's version (``version`` in document.schema.json; minor = additive)."""
    return str(load_schema().get("version", "1.0"))


def hasila_version() -> str:
    try:
        return _metadata.version("hasila")
    except _metadata.PackageNotFoundError:  # run from a checkout without installing
        import hasila

        return getattr(hasila, "__version__", "unknown")


@lru_cache(maxsize=1)
def rules_version() -> str:
    """``sha256:`` + 16 hex digits over the installed rule code and word lists (every
    ``hasila.infer`` module except the input/output ones, and ``resources/``), in name order:
    two runs with the same value applied the same rules to the model's tags."""
    digest = hashlib.sha256()
    package = resources.files("hasila.infer")
    files = [(f.name, f) for f in package.iterdir() if f.name.endswith(".py") and f.name not in _NOT_RULES]
    files += [(f"resources/{f.name}", f) for f in (package / "resources").iterdir()
              if f.name.endswith((".txt", ".json")) and f.name != "document.schema.json"]
    for name, ref in sorted(files, key=lambda item: item[0]):
        data = ref.read_bytes()
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return "sha256:" + digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def producer() -> dict[str, str]:
    """What made a record, besides the model: ``{"hasila", "rules", "schema"}``."""
    return {"hasila": hasila_version(), "rules": rules_version(), "schema": schema_version()}


def add_input_fields(doc: Any, record: dict[str, Any]) -> dict[str, Any]:
    """Finish a record with what its input document says besides its text (``warnings``,
    ``metadata``) and with :func:`producer`. ``doc``: an :class:`~hasila.infer.inputs.InputDoc`."""
    warnings = getattr(doc, "warnings", ())
    if warnings:
        record["warnings"] = [{"type": w.type, "message": w.message} for w in warnings]
    metadata = getattr(doc, "metadata", None)
    if metadata:
        record["metadata"] = metadata
    record["producer"] = producer()
    return record


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ok_record(doc_id: str, text: str, *, entities: Sequence[Entity], incidents: Sequence[Incident],
              model: dict[str, Any] | None, date: dt.date | None = None,
              source: str | None = None, url: str | None = None,
              provenance: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The record of a document read successfully; offsets are into ``text`` (the original).
    ``provenance`` (``--explain``): the fate of each figure, after the incidents."""
    record: dict[str, Any] = {
        "doc_id": doc_id,
        "status": "ok",
        "error": None,
        "model": model or {},
        "date": date.isoformat() if date else None,
        "text_sha256": text_sha256(text),
    }
    _add_provenance(record, source, url)
    record["entities"] = [e.to_json() for e in sorted(entities, key=lambda e: (e.start, e.end, e.label))]
    record["incidents"] = [i.to_json() for i in incidents]
    if provenance is not None:
        record["provenance"] = provenance
    return record


def error_record(doc_id: str, error_type: str, message: str, *, model: dict[str, Any] | None,
                 date: dt.date | None = None, source: str | None = None, url: str | None = None) -> dict[str, Any]:
    """The record of a document that could not be read or processed."""
    record: dict[str, Any] = {
        "doc_id": doc_id,
        "status": "error",
        "error": {"type": error_type, "message": message},
        "model": model or {},
        "date": date.isoformat() if date else None,
    }
    _add_provenance(record, source, url)
    record["entities"] = []
    record["incidents"] = []
    return record


def _add_provenance(record: dict[str, Any], source: str | None, url: str | None) -> None:
    if source is not None:
        record["source"] = source
    if url is not None:
        record["url"] = url


def _is_span(value: Any) -> bool:
    return isinstance(value, dict) and {"text", "start", "end"} <= value.keys()


def _nested_spans(value: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Spans inside extra fields (lists/dicts of spans, e.g. ``location_context``)."""
    if _is_span(value):
        yield where, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nested_spans(item, f"{where}.{key}")
    elif isinstance(value, list):
        for k, item in enumerate(value):
            yield from _nested_spans(item, f"{where}[{k}]")


def record_spans(record: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, span)`` for every span of a record: entities, incident fields and the spans
    inside incidents' extra fields."""
    for i, entity in enumerate(record.get("entities", [])):
        yield f"entities[{i}]", entity
    for i, incident in enumerate(record.get("incidents", [])):
        for key, value in incident.items():
            if key != "confidence" and value is not None:
                yield from _nested_spans(value, f"incidents[{i}].{key}")
    for i, figure in enumerate(record.get("figure_roles") or []):
        yield f"figure_roles[{i}]", figure
    for i, fate in enumerate(record.get("provenance") or []):  # --explain
        for key in ("figure", "cue", "of"):
            if fate.get(key) is not None:
                yield f"provenance[{i}].{key}", fate[key]


def check_record(record: dict[str, Any], text: str | None) -> None:
    """Raise RecordError unless every span of ``record`` is a true slice of ``text``."""
    if record.get("status") != "ok":
        return
    if text is None:
        raise RecordError(f"{record.get('doc_id')}: an ok record needs its original text to be checked")
    for where, span in record_spans(record):
        start, end = span["start"], span["end"]
        if not 0 <= start <= end <= len(text):
            raise RecordError(f"{record['doc_id']}: {where} [{start}, {end}) lies outside the text (length {len(text)})")
        if text[start:end] != span["text"]:
            raise RecordError(f"{record['doc_id']}: {where} text {span['text']!r} != original[{start}:{end}] {text[start:end]!r}")
        score = span.get("score")
        if score is not None and not 0.0 <= score <= 1.0:
            raise RecordError(f"{record['doc_id']}: {where} score {score} is outside [0, 1]")


def dumps(record: dict[str, Any]) -> str:
    """One JSONL line (no newline): UTF-8 text kept readable, key order as built."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
