"""Every corpus as a :class:`datasets.DatasetDict` in one schema.

NER corpora (``anercorp``, ``newsfane``, ``wikifane``, ``aqmar``, ``wojood``): one row per
sentence with :data:`~hasila.train.corpora.common.NER_FEATURES` — ``id``, ``doc_id``,
``corpus``, ``words``, ``tags`` (Hasila BIO), ``orig_tags`` (the corpus's own), ``word_starts``/
``word_ends`` (exact offsets into ``text`` = the words joined by single spaces) and
``annotated_labels`` (the Hasila labels the corpus annotates: a word tagged O there is O only
for those). Splits ``train``/``validation``/``test``. ``saudinewsnet`` is raw articles, one
``train`` split. Label mappings and splits: ``MAPPINGS.md`` beside this file.

Loading builds in-memory datasets straight from the files (no cache to go stale); each split's
``info.description`` says what the loader changed (IOB repairs, dropped marks, alignment).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import datasets

from hasila.infer.labels import LABELS

from ..settings import data_dir as default_data_dir
from .anercorp import load_anercorp
from .aqmar import load_aqmar
from .common import NER_FEATURES, CorpusError, CorpusNotFoundError
from .fane import load_newsfane, load_wikifane
from .saudinewsnet import load_saudinewsnet
from .wojood import load_wojood

__all__ = [
    "CORPORA",
    "NER_CORPORA",
    "NER_FEATURES",
    "CorpusError",
    "CorpusNotFoundError",
    "corpus_stats",
    "load_corpus",
]

CORPORA: tuple[str, ...] = ("anercorp", "newsfane", "wikifane", "aqmar", "wojood", "saudinewsnet")
NER_CORPORA: tuple[str, ...] = CORPORA[:-1]

_LOADERS = {
    "anercorp": load_anercorp,
    "newsfane": load_newsfane,
    "wikifane": load_wikifane,
    "aqmar": load_aqmar,
    "wojood": load_wojood,
    "saudinewsnet": load_saudinewsnet,
}


def load_corpus(name: str, data_dir: Path | None = None) -> datasets.DatasetDict:
    """Corpus ``name`` (one of :data:`CORPORA`) read from ``data_dir``, by default the
    ``HASILA_DATA`` setting (:func:`hasila.train.settings.data_dir`).

    A missing file raises :class:`CorpusNotFoundError` naming the path; a malformed line or a
    tag outside the mapping tables raises :class:`CorpusError` naming file and line.
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown corpus {name!r}; known: {', '.join(CORPORA)}")
    return _LOADERS[name](Path(data_dir) if data_dir is not None else default_data_dir())


def _spans(tags: list[str], counts: Counter) -> None:
    for tag in tags:
        if tag.startswith("B-"):
            counts[tag[2:]] += 1


def corpus_stats(dd: datasets.DatasetDict) -> dict:
    """Per split: sentences, tokens, documents, longest sentence and spans per Hasila label
    (NER corpora); articles, documents and characters (SaudiNewsNet)."""
    stats: dict[str, dict] = {}
    for split, ds in dd.items():
        if "tags" in ds.column_names:
            words = ds["words"]
            spans: Counter = Counter()
            for tags in ds["tags"]:
                _spans(tags, spans)
            stats[split] = {
                "sentences": ds.num_rows,
                "tokens": sum(len(w) for w in words),
                "docs": len(set(ds["doc_id"])),
                "max_sentence_tokens": max((len(w) for w in words), default=0),
                "spans": {lab: spans[lab] for lab in LABELS if spans[lab]},
            }
        else:
            stats[split] = {
                "articles": ds.num_rows,
                "docs": len(set(ds["doc_id"])),
                "chars": sum(len(c) for c in ds["content"]),
            }
    return stats
