"""What every corpus loader shares: the row schema, line reading with positions, cleanup of
invisible marks, flat-IOB → Hasila-BIO mapping with repair, and Dataset building.

One row is one sentence. ``text`` is ``" ".join(words)`` so ``word_starts``/``word_ends`` are
exact: ``text[s:e] == word``. ``orig_tags`` keep the corpus's own tags; ``tags`` are Hasila BIO
tags (:data:`hasila.infer.labels.BIO_TAGS`).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import pyarrow as pa
from datasets.table import InMemoryTable

from hasila.infer.labels import BIO_TAGS, LABELS
from hasila.infer.types import HasilaError

NER_FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "doc_id": datasets.Value("string"),
        "corpus": datasets.Value("string"),
        "words": datasets.List(datasets.Value("string")),
        "tags": datasets.List(datasets.Value("string")),
        "orig_tags": datasets.List(datasets.Value("string")),
        "word_starts": datasets.List(datasets.Value("int32")),
        "word_ends": datasets.List(datasets.Value("int32")),
        "text": datasets.Value("string"),
        "annotated_labels": datasets.List(datasets.Value("string")),
    }
)

# Direction marks and BOMs are invisible and carry no text; the corpora scatter them inside
# and around words (NewsFANE/WikiFANE: U+200E before most words, ANERcorp/AQMAR: U+200F).
INVISIBLE_MARKS = "\u200e\u200f\ufeff"
_REMOVE_INVISIBLE = {ord(c): None for c in INVISIBLE_MARKS}

_BIO_SET = frozenset(BIO_TAGS)


class CorpusError(HasilaError):
    """A corpus file does not say what its loader expects; the message names file and line."""


class CorpusNotFoundError(CorpusError, FileNotFoundError):
    """A corpus file or folder is missing under the data setting."""


def missing(path: Path) -> CorpusNotFoundError:
    return CorpusNotFoundError(
        f"corpus file not found: {path} (the corpora folder is the HASILA_DATA setting, "
        f"default ../shared/data beside the checkout; see hasila.train.settings.data_dir)"
    )


def require(path: Path) -> Path:
    if not path.exists():
        raise missing(path)
    return path


@dataclass(frozen=True)
class TextFile:
    """The lines of a corpus file, without line ends; ``name`` is the path (``zip!member`` for a
    zip member) that error messages cite as ``name:line``."""

    name: str
    lines: list[str]

    def where(self, index: int) -> str:
        return f"{self.name}:{index + 1}"


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CorpusError(f"{name}:{line}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc


def _split_lines(text: str) -> list[str]:
    # Split on \n only (CRLF: drop the \r): str.splitlines() would also split on U+2028, U+0085
    # and others, which could sit inside a word and would shift every line number after it.
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_text_file(path: Path) -> TextFile:
    """A UTF-8 file (BOM dropped, CRLF or LF) as lines."""
    require(path)
    return TextFile(str(path), _split_lines(_decode(path.read_bytes(), str(path))))


def read_zip_member(zip_path: Path, member: str) -> TextFile:
    """A UTF-8 member of a zip file as lines, named ``zip!member``."""
    require(zip_path)
    with zipfile.ZipFile(zip_path) as zf:
        try:
            raw = zf.read(member)
        except KeyError:
            raise CorpusError(
                f"{zip_path}: no member {member!r} (members: {', '.join(zf.namelist())})"
            ) from None
    name = f"{zip_path}!{member}"
    return TextFile(name, _split_lines(_decode(raw, name)))


_NEEDS_CLEANING = re.compile(f"[\\s{INVISIBLE_MARKS}]")
_WHITESPACE = re.compile(r"\s")


def clean_word(word: str, where: str | Callable[[], str]) -> str:
    """The word without invisible direction marks/BOMs or surrounding whitespace; an error
    (naming ``where``) if whitespace is left inside it."""
    if not _NEEDS_CLEANING.search(word):
        return word
    cleaned = word.translate(_REMOVE_INVISIBLE).strip()
    if _WHITESPACE.search(cleaned):
        raise CorpusError(
            f"{where if isinstance(where, str) else where()}: word {word!r} contains whitespace"
        )
    return cleaned


@dataclass
class Sentence:
    """A sentence as read: words, the corpus's own tags, and the source line of each token."""

    doc_id: str
    source: str  # file name as errors cite it
    words: list[str] = field(default_factory=list)
    orig_tags: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # 1-based

    def add(self, word: str, tag: str, line: int) -> None:
        self.words.append(word)
        self.orig_tags.append(tag)
        self.lines.append(line)

    def where(self, k: int = 0) -> str:
        """``file:line`` of token ``k``."""
        return f"{self.source}:{self.lines[k]}" if self.lines else self.source

    def __len__(self) -> int:
        return len(self.words)


def read_two_column(
    file: TextFile,
    doc_id: str,
    sep: str,
    *,
    drop_empty_words: bool = True,
) -> tuple[list[Sentence], int]:
    """Sentences of a ``word<sep>tag`` file with blank lines between sentences.

    A line that is empty or only whitespace (NewsFANE writes a lone tab) ends a sentence. Words
    are cleaned of invisible marks; a word that is nothing but marks is dropped (count returned)
    if ``drop_empty_words`` and it is tagged ``O`` (else the entity around it would be cut),
    and is an error otherwise.
    """
    sentences: list[Sentence] = []
    cur = Sentence(doc_id, file.name)
    dropped = 0
    for i, text in enumerate(file.lines):
        fields = text.split(sep)
        if len(fields) != 2 or not fields[1]:
            if not text.translate(_REMOVE_INVISIBLE).strip():  # a blank line
                if len(cur):
                    sentences.append(cur)
                cur = Sentence(doc_id, file.name)
                continue
            raise CorpusError(f"{file.where(i)}: expected 'word{sep}tag', got {text!r}")
        word = clean_word(fields[0], lambda: file.where(i))
        if not word:
            if fields[1] != "O" or not drop_empty_words:
                raise CorpusError(f"{file.where(i)}: empty word tagged {fields[1]!r}")
            dropped += 1
            continue
        cur.add(word, fields[1], i + 1)
    if len(cur):
        sentences.append(cur)
    return sentences, dropped


def join_entity_breaks(
    sentences: Sequence[Sentence], typos: Mapping[str, str] | None = None
) -> tuple[list[Sentence], int]:
    """Sentences where a break between ``B-X``/``I-X`` and a following ``I-X`` (a blank line
    inside a name) is removed, and how many breaks that was. Breaks between documents stay."""
    typos = typos or {}
    out: list[Sentence] = []
    joined = 0
    for sent in sentences:
        if out and out[-1].doc_id == sent.doc_id:
            last = typos.get(out[-1].orig_tags[-1], out[-1].orig_tags[-1])
            first = typos.get(sent.orig_tags[0], sent.orig_tags[0])
            if first.startswith("I-") and last[:2] in ("B-", "I-") and last[2:] == first[2:]:
                prev = out[-1]
                out[-1] = Sentence(
                    prev.doc_id, prev.source, prev.words + sent.words,
                    prev.orig_tags + sent.orig_tags, prev.lines + sent.lines,
                )  # fmt: skip
                joined += 1
                continue
        out.append(sent)
    return out, joined


def split_iob(tag: str, where: str) -> tuple[str, str | None]:
    """``"B-LOC"`` → ``("B", "LOC")``; ``"O"`` → ``("O", None)``; anything else is an error."""
    if tag == "O":
        return "O", None
    prefix, sep, typ = tag.partition("-")
    if prefix not in ("B", "I") or not sep or not typ:
        raise CorpusError(f"{where}: malformed IOB tag {tag!r}")
    return prefix, typ


@dataclass
class MappingCounts:
    """What mapping a corpus to Hasila tags changed, for the dataset description and docs."""

    broken_i: int = 0  # I-X not continuing an X entity (after O, at sentence start, after B-Y)
    repaired: int = 0  # ... of those, the ones whose X maps to a Hasila label: turned into B-
    typo_tags: int = 0  # tags rewritten by the corpus's typo table

    def __iadd__(self, other: MappingCounts) -> MappingCounts:
        self.broken_i += other.broken_i
        self.repaired += other.repaired
        self.typo_tags += other.typo_tags
        return self


def map_flat_iob(
    sentence: Sentence,
    label_of: Mapping[str, str | None],
    table: str,
    typos: Mapping[str, str] | None = None,
) -> tuple[list[str], MappingCounts]:
    """Hasila BIO tags for a flat-IOB sentence.

    ``label_of`` maps every corpus type to a Hasila label or ``None`` (→ O); a type missing
    from it is an error naming the file, line and ``table`` (where to add it). ``typos`` rewrites
    known misspelled tags first. An ``I-X`` that does not continue an ``X`` entity starts one
    (IOB repair): it becomes ``B-<label>``.
    """
    counts = MappingCounts()
    out: list[str] = []
    prev_type: str | None = None
    for k, tag in enumerate(sentence.orig_tags):
        if typos and tag in typos:
            tag = typos[tag]
            counts.typo_tags += 1
        if tag == "O":
            out.append("O")
            prev_type = None
            continue
        prefix, typ = split_iob(tag, sentence.where(k))
        if typ not in label_of:
            known = ", ".join(sorted(label_of))
            raise CorpusError(
                f"{sentence.where(k)}: unknown tag {tag!r} (type {typ!r} is not in the mapping table "
                f"{table}; known types: {known})"
            )
        continues = prefix == "I" and prev_type == typ
        label = label_of[typ]
        if prefix == "I" and not continues:
            counts.broken_i += 1
            if label is not None:
                counts.repaired += 1
        out.append("O" if label is None else f"{'I' if continues else 'B'}-{label}")
        prev_type = typ
    return out, counts


def check_bio(tags: Sequence[str], where: str) -> None:
    """Every tag is a Hasila tag and every I-X follows B-X or I-X."""
    prev = "O"
    for i, tag in enumerate(tags):
        if tag not in _BIO_SET:
            raise CorpusError(f"{where}: token {i}: {tag!r} is not a Hasila BIO tag")
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            raise CorpusError(f"{where}: token {i}: {tag} after {prev}")
        prev = tag


def ner_row(
    corpus: str,
    split: str,
    index: int,
    doc_id: str,
    words: Sequence[str],
    tags: Sequence[str],
    orig_tags: Sequence[str],
    annotated_labels: Sequence[str],
) -> dict:
    """One dataset row; ``text`` is the words joined by single spaces, offsets exact."""
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for w in words:
        starts.append(pos)
        pos += len(w)
        ends.append(pos)
        pos += 1
    return {
        "id": f"{corpus}:{split}:{index}",
        "doc_id": doc_id,
        "corpus": corpus,
        "words": list(words),
        "tags": list(tags),
        "orig_tags": list(orig_tags),
        "word_starts": starts,
        "word_ends": ends,
        "text": " ".join(words),
        "annotated_labels": list(annotated_labels),
    }


def map_all(
    sentences: Sequence[Sentence],
    label_of: Mapping[str, str | None],
    table: str,
    typos: Mapping[str, str] | None = None,
) -> tuple[list[list[str]], MappingCounts]:
    """:func:`map_flat_iob` over sentences, with the counts summed."""
    total = MappingCounts()
    all_tags = []
    for sent in sentences:
        tags, counts = map_flat_iob(sent, label_of, table, typos)
        all_tags.append(tags)
        total += counts
    return all_tags, total


def ner_split(
    corpus: str,
    split: str,
    sentences: Sequence[Sentence],
    tags: Sequence[Sequence[str]],
    annotated_labels: Sequence[str],
    description: str,
) -> datasets.Dataset:
    """A Dataset of NER rows: one per sentence, with its Hasila ``tags`` (checked)."""
    for lab in annotated_labels:
        if lab not in LABELS:
            raise ValueError(f"annotated label {lab!r} is not a Hasila label ({', '.join(LABELS)})")
    if len(tags) != len(sentences):
        raise ValueError(f"{len(tags)} tag lists for {len(sentences)} sentences")
    columns: dict[str, list] = {name: [] for name in NER_FEATURES}
    for i, (sent, sent_tags) in enumerate(zip(sentences, tags)):
        if len(sent_tags) != len(sent.words):
            raise ValueError(f"{sent.where()}: {len(sent_tags)} tags for {len(sent.words)} words")
        check_bio(sent_tags, sent.where())
        row = ner_row(corpus, split, i, sent.doc_id, sent.words, sent_tags, sent.orig_tags, annotated_labels)
        for name, value in row.items():
            columns[name].append(value)
    return dataset_from_columns(columns, NER_FEATURES, description, split)


def dataset_from_columns(
    columns: Mapping[str, list], features: datasets.Features, description: str, split: str
) -> datasets.Dataset:
    """An in-memory Dataset (nothing cached on disk, so a stale cache can never be read).

    The Arrow table is built straight from the plain lists: ``Dataset.from_dict`` would first
    re-encode every nested value in Python, which doubles the load time of WikiFANE.
    """
    table = pa.Table.from_pydict(dict(columns), schema=features.arrow_schema)
    info = datasets.DatasetInfo(description=description, features=features)
    return datasets.Dataset(InMemoryTable(table), info=info, split=datasets.NamedSplit(split))


def tail_split(items: Sequence, fraction: float) -> tuple[list, list]:
    """(head, tail) with the tail holding ``round(fraction * len)`` items (at least 1 if any)."""
    n_tail = max(1, round(fraction * len(items))) if items else 0
    cut = len(items) - n_tail
    return list(items[:cut]), list(items[cut:])
