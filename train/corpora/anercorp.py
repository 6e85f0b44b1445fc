"""ANERcorp (Benajiba 2007) with the CAMeL Lab train/test split, anchored on the official test file.

``ANERCorp.txt`` is one ``word TAG`` per line with no sentence breaks. CAMeL Lab's recipe (remove
U+200F, map the middle dot and bullet to ".", break sentences after runs of ".", the sentences
covering the first 5/6 of the words are train) lands about 20 tokens away from the official
test file, so the boundary is taken from the official file instead: the test split IS that file
(its sentences, words and tags, unchanged) and train is every corpus token before the point
where it begins (:func:`find_test_anchor`). The last 10% of the train sentences are the
validation split. See ``MAPPINGS.md`` for the label table and what was measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets

from .common import (
    CorpusError,
    Sentence,
    clean_word,
    map_all,
    ner_split,
    read_text_file,
    read_two_column,
    require,
    tail_split,
)

CORPUS = "anercorp"
FULL_FILE = Path("anercorp", "ANERCorp.txt")
TEST_FILE = Path("anercorp", "ANERCorp_CamelLab_test.txt")
FULL_DOC_ID = "anercorp:ANERCorp"
TEST_DOC_ID = "anercorp:ANERCorp_CamelLab_test"

# ANERcorp type → Hasila label (None: O). MISC (events, currencies, products, …) has no Hasila
# counterpart; orig_tags keep it, so a 4-class ANERcorp evaluation stays possible.
ANERCORP_LABELS: dict[str, str | None] = {"PERS": "PER", "ORG": "ORG", "LOC": "LOC", "MISC": None}
ANNOTATED_LABELS = ("PER", "ORG", "LOC")
_TABLE = "ANERCORP_LABELS in hasila/train/corpora/anercorp.py (and MAPPINGS.md)"

VALIDATION_FRACTION = 0.10
_TO_PERIOD = str.maketrans({"\u00b7": ".", "\u2022": "."})  # middle dot, bullet (CAMeL recipe)
_PROBE_TOKENS = 300  # official tokens used to anchor the test file in the corpus
_MIN_PROBE_AGREEMENT = 0.9
_SEEDS = 5


@dataclass(frozen=True)
class Token:
    word: str
    tag: str
    line: int  # in ANERCorp.txt, 1-based


def camel_clean(word: str, where: str) -> str:
    """CAMeL's character cleanup of one ANERcorp word: no U+200F (nor other invisible marks),
    middle dot and bullet → ".", no surrounding whitespace."""
    return clean_word(word.translate(_TO_PERIOD), where)


def read_full_corpus(path: Path) -> tuple[list[Token], int]:
    """Tokens of ``ANERCorp.txt`` after :func:`camel_clean`, and how many were dropped because
    nothing was left of them (a lone U+200F or an empty word; they must be tagged O)."""
    tokens: list[Token] = []
    dropped = 0
    file = read_text_file(path)
    for i, text in enumerate(file.lines):
        if not text.strip():
            continue
        # rpartition: one line holds a word with a space between two U+200F.
        word, sep, tag = text.rpartition(" ")
        if not sep or not tag:
            raise CorpusError(f"{file.where(i)}: expected 'word TAG', got {text!r}")
        cleaned = camel_clean(word, file.where(i))
        if not cleaned:
            if tag != "O":
                raise CorpusError(f"{file.where(i)}: empty word tagged {tag!r}")
            dropped += 1
            continue
        tokens.append(Token(cleaned, tag, i + 1))
    return tokens, dropped


def read_official_test(path: Path) -> list[Sentence]:
    """The official CAMeL test file, sentence by sentence, words and tags as written."""
    sentences, _ = read_two_column(read_text_file(path), TEST_DOC_ID, " ", drop_empty_words=False)
    return sentences


def _is_period(word: str) -> bool:
    return bool(word) and word.strip(".") == ""


def split_after_periods(tokens: Sequence[Token], doc_id: str, source: str) -> list[Sentence]:
    """Sentences ending after each run of "." tokens (CAMeL's recipe), except where the next
    token continues an entity (``I-`` tag: a name written with initials and full stops)."""
    sentences: list[Sentence] = []
    cur = Sentence(doc_id, source)
    for i, tok in enumerate(tokens):
        cur.add(tok.word, tok.tag, tok.line)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is None or (
            _is_period(tok.word) and not _is_period(nxt.word) and not nxt.tag.startswith("I-")
        ):
            sentences.append(cur)
            cur = Sentence(doc_id, source)
    return sentences


def _sentence_initial(sentences: Sequence[Sentence]) -> list[bool]:
    return [k == 0 for s in sentences for k in range(len(s))]


def find_test_anchor(full: Sequence[Token], test: Sequence[Sentence]) -> int:
    """Index in ``full`` where the official test file begins.

    Candidates are positions where the official file's non-sentence-initial words among its
    first tokens agree with the corpus (the official file's sentence-initial words differ from
    the corpus almost everywhere, see MAPPINGS.md); the best candidate must agree on at least
    90% of them and be the only one that does.
    """
    if not test:
        raise CorpusError("the official test file holds no sentence")
    words = [w for s in test for w in s.words]
    initial = _sentence_initial(test)
    probes = [k for k in range(min(_PROBE_TOKENS, len(words))) if not initial[k]]
    if not probes:
        raise CorpusError(f"{test[0].source}: too few tokens to anchor in the full corpus")
    full_words = [t.word for t in full]
    seeds = {words[k] for k in probes[:_SEEDS]}
    # Anchors that put one of the first few probe words in place (several seeds, so that one
    # differing word cannot hide the true anchor).
    candidates = {
        pos - k
        for pos, w in enumerate(full_words)
        if w in seeds
        for k in probes[:_SEEDS]
        if words[k] == w and 0 <= pos - k and pos - k + probes[-1] < len(full_words)
    }
    scored = [(sum(full_words[a + k] == words[k] for k in probes) / len(probes), a) for a in candidates]
    good = sorted((s for s in scored if s[0] >= _MIN_PROBE_AGREEMENT), reverse=True)
    if len(good) != 1:
        raise CorpusError(
            f"cannot anchor {test[0].source} "
            f"in the full corpus: {len(good)} positions agree on >= {_MIN_PROBE_AGREEMENT:.0%} "
            f"of its first {len(probes)} non-initial words"
        )
    return good[0][1]


@dataclass(frozen=True)
class CamelAlignment:
    """How the official test file lines up with the cleaned full corpus."""

    full_tokens: int  # after cleanup, empty words dropped
    dropped_empty: int  # words that were nothing but U+200F (or empty), all tagged O
    anchor: int  # first full-corpus token covered by the official test file = train tokens
    test_tokens: int
    test_sentences: int
    compared: int  # min(test tokens, full tokens after the anchor)
    word_mismatches: int
    tag_mismatches: int
    mismatches_sentence_initial: int  # positions (word or tag differs) that start a sentence
    mismatches_elsewhere: int

    def summary(self) -> str:
        return (
            f"train {self.anchor:,} tokens; test {self.test_tokens:,} tokens in "
            f"{self.test_sentences:,} sentences, occupying full-corpus tokens "
            f"{self.anchor:,}..{self.anchor + self.test_tokens - 1:,} of {self.full_tokens:,} "
            f"({self.dropped_empty} empty words dropped); test tokens identical to the corpus at "
            f"{self.compared - self.mismatches_sentence_initial - self.mismatches_elsewhere:,} of "
            f"{self.compared:,} positions: {self.word_mismatches} word and {self.tag_mismatches} tag "
            f"mismatches, at {self.mismatches_sentence_initial} sentence-initial positions and "
            f"{self.mismatches_elsewhere} elsewhere"
        )


def camel_alignment(
    full: Sequence[Token], dropped: int, test: Sequence[Sentence], anchor: int
) -> CamelAlignment:
    words = [w for s in test for w in s.words]
    tags = [t for s in test for t in s.orig_tags]
    initial = _sentence_initial(test)
    tail = full[anchor:]
    n = min(len(words), len(tail))
    word_mm = tag_mm = at_initial = elsewhere = 0
    for k in range(n):
        w_diff = tail[k].word != words[k]
        t_diff = tail[k].tag != tags[k]
        word_mm += w_diff
        tag_mm += t_diff
        if w_diff or t_diff:
            if initial[k]:
                at_initial += 1
            else:
                elsewhere += 1
    return CamelAlignment(
        full_tokens=len(full),
        dropped_empty=dropped,
        anchor=anchor,
        test_tokens=len(words),
        test_sentences=len(test),
        compared=n,
        word_mismatches=word_mm,
        tag_mismatches=tag_mm,
        mismatches_sentence_initial=at_initial,
        mismatches_elsewhere=elsewhere,
    )


def load_camel_split(data_dir: Path) -> tuple[list[Sentence], list[Sentence], list[Sentence], CamelAlignment]:
    """(train, validation, test) sentences and the alignment report."""
    full_path = require(data_dir / FULL_FILE)
    full, dropped = read_full_corpus(full_path)
    test = read_official_test(require(data_dir / TEST_FILE))
    anchor = find_test_anchor(full, test)
    train_all = split_after_periods(full[:anchor], FULL_DOC_ID, str(full_path))
    train, validation = tail_split(train_all, VALIDATION_FRACTION)
    return train, validation, test, camel_alignment(full, dropped, test, anchor)


def load_anercorp(data_dir: Path) -> datasets.DatasetDict:
    train, validation, test, alignment = load_camel_split(data_dir)
    splits = {}
    for split, sentences in (("train", train), ("validation", validation), ("test", test)):
        tags, counts = map_all(sentences, ANERCORP_LABELS, _TABLE)
        source = (
            f"the official CAMeL test file {TEST_FILE}"
            if split == "test"
            else f"{FULL_FILE} before the official test (CAMeL cleanup, sentences end after runs of '.')"
            + ("; last 10% of train sentences" if split == "validation" else "")
        )
        desc = (
            f"ANERcorp {split}: {source}. PERS→PER, ORG→ORG, LOC→LOC, MISC→O. IOB: "
            f"{counts.broken_i} I- tags not continuing an entity, {counts.repaired} of them made B-. "
            f"CAMeL alignment: {alignment.summary()}."
        )
        splits[split] = ner_split(CORPUS, split, sentences, tags, ANNOTATED_LABELS, desc)
    return datasets.DatasetDict(splits)
