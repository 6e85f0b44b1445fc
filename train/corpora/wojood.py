"""The public Wojood sample (Jarrar et al. 2022): nested IOB, flattened to Hasila's labels.

Each line is ``word TAG [TAG …]``: one tag per entity the token belongs to, the outermost
first (``I-OCC B-ORG``: inside an occupation phrase, starting an organization within it).
:func:`nested_spans` rebuilds every entity; the ones of a type Hasila knows
(:data:`WOJOOD_LABELS`) are flattened by keeping the outermost (:func:`outermost`), and the
rest are O. ``orig_tags`` keep each token's tags as written, space-separated. The sample's
train/val/test files are the train/validation/test splits; one document per file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets

from .common import CorpusError, Sentence, TextFile, clean_word, ner_split, read_text_file, require, split_iob

CORPUS = "wojood"
FILES = {"train": Path("wojood-sample", "train.txt"), "validation": Path("wojood-sample", "val.txt"),
         "test": Path("wojood-sample", "test.txt")}  # fmt: skip

# All 21 Wojood types. GPE (countries, cities), LOC (natural regions) and FAC (buildings,
# roads, checkpoints) are all "where" for Hasila. NORP (nationalities, groups), OCC (jobs,
# titles) and the numeric/other types have no Hasila label. TIME ("now", "five minutes", "this
# morning") mixes durations and moments with few calendar dates, so it is O; a DATE nested in
# it is still kept.
WOJOOD_LABELS: dict[str, str | None] = {
    "PERS": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "DATE": "DATE",
    "NORP": None, "OCC": None, "EVENT": None, "TIME": None, "LANGUAGE": None, "LAW": None,
    "PRODUCT": None, "WEBSITE": None, "CARDINAL": None, "ORDINAL": None, "PERCENT": None,
    "QUANTITY": None, "UNIT": None, "MONEY": None, "CURR": None,
}  # fmt: skip
ANNOTATED_LABELS = ("PER", "ORG", "LOC", "DATE")
_TABLE = "WOJOOD_LABELS in hasila/train/corpora/wojood.py (and MAPPINGS.md)"


@dataclass(frozen=True)
class Entity:
    type: str
    start: int  # token index
    end: int  # exclusive


@dataclass
class FlattenCounts:
    entities: int = 0  # all nested entities, every type
    kept: int = 0  # entities of a Hasila type that are outermost among those
    inside_other: int = 0  # entities of a Hasila type dropped: inside (or crossing) a kept one
    broken_i: int = 0  # I-X not continuing an X entity: starts one


def read_wojood(file: TextFile, doc_id: str) -> list[Sentence]:
    """Sentences with, per token, the tags as written joined by a space."""
    sentences: list[Sentence] = []
    cur = Sentence(doc_id, file.name)
    for i, text in enumerate(file.lines):
        if not text.strip():
            if len(cur):
                sentences.append(cur)
            cur = Sentence(doc_id, file.name)
            continue
        fields = text.split(" ")
        if len(fields) < 2 or "" in fields:
            raise CorpusError(f"{file.where(i)}: expected 'word TAG [TAG ...]', got {text!r}")
        word = clean_word(fields[0], file.where(i))
        if not word:
            raise CorpusError(f"{file.where(i)}: empty word")
        cur.add(word, " ".join(fields[1:]), i + 1)
    if len(cur):
        sentences.append(cur)
    return sentences


def nested_spans(sentence: Sentence, counts: FlattenCounts) -> list[Entity]:
    """Every entity of the sentence. An ``I-X`` continues the open ``X`` entity in its own
    column if there is one, else any open ``X`` entity; with none open it starts one."""
    done: list[Entity] = []
    open_: list[tuple[str, int, int]] = []  # (type, start, column)
    for k, tag_str in enumerate(sentence.orig_tags):
        continued: list[tuple[str, int, int]] = []
        started: list[tuple[str, int, int]] = []
        tags = tag_str.split(" ")
        if tags != ["O"]:
            for col, tag in enumerate(tags):
                prefix, typ = split_iob(tag, sentence.where(k))
                if typ is None:
                    raise CorpusError(f"{sentence.where(k)}: 'O' among other tags {tag_str!r}")
                if typ not in WOJOOD_LABELS:
                    raise CorpusError(
                        f"{sentence.where(k)}: unknown tag {tag!r} (type {typ!r} is not in the mapping "
                        f"table {_TABLE}; known types: {', '.join(sorted(WOJOOD_LABELS))})"
                    )
                if prefix == "I":
                    candidates = [e for e in open_ if e[0] == typ and e not in continued]
                    same_col = [e for e in candidates if e[2] == col]
                    if same_col or candidates:
                        e = (same_col or candidates)[0]
                        continued.append((typ, e[1], col))
                        open_.remove(e)
                        continue
                    counts.broken_i += 1
                started.append((typ, k, col))
        done.extend(Entity(t, s, k) for t, s, _ in open_)  # not continued: they ended before k
        open_ = continued + started
    done.extend(Entity(t, s, len(sentence)) for t, s, _ in open_)
    counts.entities += len(done)
    return done


def outermost(entities: Sequence[Entity], counts: FlattenCounts) -> list[Entity]:
    """The entities of a Hasila type that no longer such entity contains; longest first, so
    of two crossing ones the longer (then the earlier) wins."""
    known = [e for e in entities if WOJOOD_LABELS[e.type] is not None]
    kept: list[Entity] = []
    for e in sorted(known, key=lambda e: (-(e.end - e.start), e.start)):
        if all(e.end <= k.start or k.end <= e.start for k in kept):
            kept.append(e)
        else:
            counts.inside_other += 1
    counts.kept += len(kept)
    return sorted(kept, key=lambda e: e.start)


def flat_tags(sentence: Sentence, counts: FlattenCounts) -> list[str]:
    tags = ["O"] * len(sentence)
    for e in outermost(nested_spans(sentence, counts), counts):
        label = WOJOOD_LABELS[e.type]
        tags[e.start] = f"B-{label}"
        for i in range(e.start + 1, e.end):
            tags[i] = f"I-{label}"
    return tags


def load_wojood(data_dir: Path) -> datasets.DatasetDict:
    splits = {}
    for split, rel in FILES.items():
        path = require(data_dir / rel)
        sentences = read_wojood(read_text_file(path), f"{CORPUS}:{path.stem}")
        counts = FlattenCounts()
        tags = [flat_tags(s, counts) for s in sentences]
        desc = (
            f"Wojood sample {split} ({rel}): {counts.entities} nested entities; {counts.kept} of a "
            f"Hasila type (PERS→PER, ORG→ORG, GPE/LOC/FAC→LOC, DATE→DATE) kept as the outermost, "
            f"{counts.inside_other} such entities dropped inside a kept one; other types → O. "
            f"IOB: {counts.broken_i} I- tags not continuing an entity, treated as starting one."
        )
        splits[split] = ner_split(CORPUS, split, sentences, tags, ANNOTATED_LABELS, desc)
    return datasets.DatasetDict(splits)
