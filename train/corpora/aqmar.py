"""AQMAR (Mohit et al. 2012): 28 Arabic Wikipedia articles, ``word TAG`` lines, blank line
between sentences. Types: PER, LOC, ORG and MIS0–MIS3, the article-specific miscellaneous
classes (→ O), plus a few misspelled tags (:data:`AQMAR_TYPO_TAGS`). Stray U+200F/U+200E are
removed; a word that was nothing else is dropped (all are tagged O). A blank line between
``B-X``/``I-X`` and ``I-X`` (a sentence break inside a name) is removed.

AQMAR has no official split. The 28 articles fall in four domains of seven (history, science,
sports, technology); per domain, the second-to-last article (alphabetically) is validation and
the last is test (:data:`AQMAR_VALIDATION`, :data:`AQMAR_TEST`), the rest train. One document
is one article.
"""

from __future__ import annotations

from pathlib import Path

import datasets

from .common import (
    CorpusError,
    Sentence,
    join_entity_breaks,
    map_all,
    missing,
    ner_split,
    read_text_file,
    read_two_column,
)

CORPUS = "aqmar"
ARTICLES_DIR = Path("aqmar", "articles")

# MIS0–MIS3 are "miscellaneous" classes whose meaning changes per article (chosen by the
# annotators for each topic: a particle, a sport, an invention, …), MIS without a number is the
# same class unnumbered; none of them is a person, organization or place. ENGLISH/SPANISH mark
# one foreign-language word each.
AQMAR_LABELS: dict[str, str | None] = {
    "PER": "PER", "ORG": "ORG", "LOC": "LOC",
    "MIS0": None, "MIS1": None, "MIS2": None, "MIS3": None, "MIS": None,
    "ENGLISH": None, "SPANISH": None,
}  # fmt: skip
# Misspelled tags as found in the files → the tag the annotator meant.
AQMAR_TYPO_TAGS: dict[str, str] = {
    "I--ORG": "I-ORG",  # doubled hyphen, inside an ORG
    "B-MISS1": "B-MIS1",
    "B-MIS1`": "B-MIS1",  # stray backquote
    "B-MIS-1": "B-MIS1",
    "B-MIS-2": "B-MIS2",
    "IO": "O",  # after an O token, on a word that is no entity
    "OO": "O",  # doubled O on a number
}
ANNOTATED_LABELS = ("PER", "ORG", "LOC")
_TABLE = "AQMAR_LABELS / AQMAR_TYPO_TAGS in hasila/train/corpora/aqmar.py (and MAPPINGS.md)"

AQMAR_VALIDATION = ("Islamic_History", "Physics", "Soccer_Worldcup", "Solaris")
AQMAR_TEST = ("Ummaya_Mosque", "Razi", "Summer_Olympics2004", "X_window_system")


def read_article(path: Path) -> tuple[list[Sentence], int]:
    return read_two_column(read_text_file(path), f"{CORPUS}:{path.stem}", " ")


def load_aqmar(data_dir: Path) -> datasets.DatasetDict:
    folder = data_dir / ARTICLES_DIR
    paths = sorted(folder.glob("*.txt"))
    if not paths:
        raise missing(folder / "*.txt")
    stems = {p.stem for p in paths}
    absent = [a for a in AQMAR_VALIDATION + AQMAR_TEST if a not in stems]
    if absent:
        raise CorpusError(f"{folder}: articles named in the AQMAR split are missing: {', '.join(absent)}")
    parts: dict[str, list[Sentence]] = {"train": [], "validation": [], "test": []}
    dropped = joined = 0
    for path in paths:
        sentences, n = read_article(path)
        sentences, j = join_entity_breaks(sentences, AQMAR_TYPO_TAGS)
        dropped += n
        joined += j
        split = (
            "validation" if path.stem in AQMAR_VALIDATION else "test" if path.stem in AQMAR_TEST else "train"
        )
        parts[split].extend(sentences)
    splits = {}
    for split, sentences in parts.items():
        tags, counts = map_all(sentences, AQMAR_LABELS, _TABLE, AQMAR_TYPO_TAGS)
        docs = sorted({s.doc_id.split(":", 1)[1] for s in sentences})
        desc = (
            f"AQMAR {split}: articles {', '.join(docs)}. PER/ORG/LOC kept, MIS0-3 and other "
            f"misc → O; {counts.typo_tags} misspelled tags rewritten; {dropped} words that were only "
            f"U+200F/U+200E dropped and {joined} sentence breaks inside a name removed (whole "
            f"corpus). IOB: {counts.broken_i} I- tags not continuing an "
            f"entity, {counts.repaired} of them made B-."
        )
        splits[split] = ner_split(CORPUS, split, sentences, tags, ANNOTATED_LABELS, desc)
    return datasets.DatasetDict(splits)
