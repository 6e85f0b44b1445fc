"""The project's own annotations (the gold store) as training / evaluation data.

Documents come from :func:`hasila.train.annotate.store.load_store` (texts joined back from
the corpora). Their split (train / dev / test, by date and outlet) is the one drawn when they
were selected: ``annotations/selection.json`` (:mod:`hasila.train.annotate.select`); a
document's own ``meta["split"]`` wins if it has one. A stored document with neither is an
error, never silently put in train. ``dev`` is exposed as ``validation`` as in the corpora.

Every Hasila label is annotated in the gold store, so ``annotated_labels`` is all of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as dt

from hasila.infer.labels import LABELS
from hasila.infer.types import HasilaError
from hasila.train.settings import annotations_dir

SPLIT_NAMES = {"train": "train", "dev": "validation", "validation": "validation", "test": "test"}


class GoldError(HasilaError):
    """The gold store or its split table cannot be used."""


def read_split_table(path: Path | None = None, *, frozen: str | None = None) -> dict[str, str]:
    """doc id → split ("train" / "validation" / "test"): the selection file's splits, overlaid by
    ``splits.json`` (the v2 splits by event, with webnews) when it exists beside it. ``frozen``
    ("dev_2015") gives the old table with that frozen split as "validation" instead."""
    table = _read_selection(path or (annotations_dir() / "selection.json"))
    v2 = (path.parent if path else annotations_dir()) / "splits.json"
    if v2.is_file():
        data = json.loads(v2.read_text(encoding="utf-8"))
        if frozen is not None:
            ids = set(data.get("frozen", {}).get(frozen, ()))
            if not ids:
                raise GoldError(f"{v2}: no frozen split {frozen!r}")
            old = {k: ("validation" if k in ids else ("train" if v == "validation" else v)) for k, v in table.items()}
            # documents the 2015 tables never had (webnews) take no part in the frozen splits
            return {**{k: "excluded" for k in data.get("documents", {})}, **old}
        for doc_id, split in data.get("documents", {}).items():
            if split not in SPLIT_NAMES:
                raise GoldError(f"{v2}: document {doc_id!r} has split {split!r}; known: train, dev, test")
            table[doc_id] = SPLIT_NAMES[split]
    return table


def _read_selection(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise GoldError(f"split table not found: {path} (written by python -m hasila.train.annotate.select)")
    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for i, d in enumerate(data.get("documents", [])):
        split = d.get("split")
        if split not in SPLIT_NAMES:
            raise GoldError(f"{path}: documents[{i}] ({d.get('doc_id')!r}) has split {split!r}; known: train, dev, test")
        out[d["doc_id"]] = SPLIT_NAMES[split]
    return out


def document_split(doc: Any, table: dict[str, str]) -> str:
    split = doc.meta.get("split") if isinstance(doc.meta, dict) else None
    if split is not None:
        if split not in SPLIT_NAMES:
            raise GoldError(f"gold document {doc.doc_id!r}: meta split {split!r}; known: train, dev, test")
        return SPLIT_NAMES[split]
    if doc.doc_id not in table:
        raise GoldError(f"gold document {doc.doc_id!r} has no split: it is not in the selection table and has no meta['split']")
    return table[doc.doc_id]


def gold_documents(
    split: str | None = None,
    statuses: Sequence[str] = ("gold",),
    store_root: Path | None = None,
    selection: Path | None = None,
    corpora: Sequence[str] | None = None,
    frozen: str | None = None,
    skip_unsplit: bool = False,
) -> list[Any]:
    """Stored documents of the given statuses (and split, if given), in store order."""
    from hasila.train.annotate.store import corpus_resolver, load_store, store_dir

    docs = load_store(store_root or store_dir(), corpus_resolver())
    docs = [d for d in docs if d.status in statuses and (corpora is None or d.corpus in corpora)]
    if split is None:
        return docs
    wanted = SPLIT_NAMES.get(split)
    if wanted is None:
        raise GoldError(f"unknown gold split {split!r}; known: train, dev (validation), test")
    table = read_split_table(selection, frozen=frozen)
    if skip_unsplit:  # annotation still under way: documents not split yet are left out, loudly
        unsplit = [d.doc_id for d in docs if d.doc_id not in table and not (isinstance(d.meta, dict) and d.meta.get("split"))]
        if unsplit:
            import logging

            logging.getLogger("hasila.gold").warning("%d gold documents have no split yet and are left out (run hasila-annotate split)", len(unsplit))
            docs = [d for d in docs if d.doc_id not in set(unsplit)]
    return [d for d in docs if document_split(d, table) == wanted]


def article_date(doc: Any) -> "dt.date | None":
    """A gold document's article date (its meta ``date``), or None if it has none or it does not parse."""
    import datetime as dt

    d = doc.meta.get("date") if isinstance(doc.meta, dict) else None
    try:
        return dt.date.fromisoformat(str(d)[:10]) if d else None
    except ValueError:
        return None


def gold_inputs(docs: Sequence[Any]) -> list[Any]:
    """Gold documents as the pipeline's inputs (id, text, article date)."""
    from hasila.infer.inputs import InputDoc

    return [InputDoc(d.doc_id, d.text, date=article_date(d)) for d in docs]


def documents_to_rows(docs: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows in the corpora's NER schema (``tags`` from :func:`store.to_bio`)."""
    from hasila.train.annotate.store import to_bio

    rows = []
    for d in docs:
        words, tags, starts, ends = to_bio(d)
        rows.append(
            {
                "id": d.doc_id,
                "doc_id": d.doc_id,
                "corpus": "gold",
                "words": words,
                "tags": tags,
                "orig_tags": tags,
                "word_starts": starts,
                "word_ends": ends,
                "text": d.text,
                "annotated_labels": list(LABELS),
            }
        )
    return rows


def gold_dataset_dict(statuses: Sequence[str] = ("gold",), store_root: Path | None = None, selection: Path | None = None,
                      frozen: str | None = None) -> Any:
    """The gold store as a ``DatasetDict`` with splits train / validation / test (``frozen``:
    "dev_2015", the 2015 tables with the old dev split as validation)."""
    import datasets
    from hasila.train.corpora import NER_FEATURES

    docs = gold_documents(None, statuses, store_root)
    table = read_split_table(selection, frozen=frozen) if docs else {}
    by_split: dict[str, list[Any]] = {"train": [], "validation": [], "test": []}
    for d in docs:
        split = document_split(d, table)
        if split in by_split:
            by_split[split].append(d)
    def table(rows: list[dict[str, Any]]) -> Any:
        # column-wise, so an empty split still gets the schema
        return datasets.Dataset.from_dict({c: [r[c] for r in rows] for c in NER_FEATURES}, features=NER_FEATURES)

    return datasets.DatasetDict({k: table(documents_to_rows(v)) for k, v in by_split.items()})
