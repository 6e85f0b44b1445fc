"""Arabic text normalization with an exact map back to the original offsets.

The model reads ``normalize(article).text``; everything it finds is reported with offsets into
the ORIGINAL article, through ``NormalizedText.to_original``. Each step is also a plain
``str -> str`` function (CAMeL Tools style) that can be used alone:

- ``remove_format_marks``: bidi marks/embeddings/isolates, ZWJ/ZWNJ/ZWSP, BOM, soft hyphen.
- ``normalize_presentation_forms``: Arabic presentation forms A/B to base letters (NFKC of
  those characters only: «ﻻ» → «لا»).
- ``normalize_digits``: Arabic-Indic and Persian digits to ASCII, «٬» → «,», «٫» → «.».
- ``remove_tatweel``, ``dediac``: kashida and harakat/tanween/shadda/sukun/Quranic marks.
- ``compose_hamza``: a letter followed by a combining hamza/madda becomes the precomposed
  letter (ا + ٔ → أ), as NFC would.
- ``repair_split_words``: words split to dodge content filters («ق. تل» → «قتل») are joined
  when the joined letters are a word of the conflict lexicon (resources/conflict_lexicon.txt).
- ``normalize_for_match``: the above (without repair) plus letter folding, for gazetteer and
  actor matching only, never for the model's input.

Whitespace is kept as it is (newlines mark paragraphs downstream), except inside repaired words.

CAMeL Tools (camel-tools 1.6.0, read and run from its wheel) was considered and is not used:
its ``normalize_unicode`` is NFKC of the whole string (it also rewrites «½», «²», full-width and
other non-Arabic characters, and leaves «٣» alone), ``dediac_ar`` removes only the eight
harakat plus superscript alef (not Quranic marks), ``normalize_alef_ar`` /
``normalize_alef_maksura_ar`` / ``normalize_teh_marbuta_ar`` are one-line ``re.sub`` /
``str.replace`` calls, none of them returns an offset map, and the package pulls in torch,
transformers, kenlm, pandas, scikit-learn and a 1.1M-code-point scan at import. The same
tables here are a few lines each and keep every offset.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from hasila.infer.arabic.clitics import CLITICS
from hasila.infer.arabic.letters import fold_letters
from hasila.infer.types import HasilaError, Span

__all__ = [
    "NormalizedText",
    "compose_hamza",
    "conflict_word_forms",
    "dediac",
    "fold_letters",
    "is_conflict_word",
    "load_conflict_lexicon",
    "normalize",
    "normalize_digits",
    "normalize_for_match",
    "normalize_presentation_forms",
    "remove_format_marks",
    "remove_tatweel",
    "repair_split_words",
]

TATWEEL = "\u0640"

# Invisible formatting characters: soft hyphen, Arabic letter mark, ZWSP/ZWNJ/ZWJ/LRM/RLM,
# bidi embeddings/overrides, word joiner and invisible operators, bidi isolates, deprecated
# format controls, BOM / zero-width no-break space.
_FORMAT_MARKS = frozenset(
    [chr(0x00AD), chr(0x061C)]
    + [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2060, 0x2065)]
    + [chr(c) for c in range(0x2066, 0x2070)]
    + [chr(0xFEFF)]
)

# Harakat, tanween, shadda, sukun (064B-0652), small extended vowels (0656-065E), superscript
# alef (0670), honorific/Quranic signs above letters (0610-061A) and Quranic annotation marks
# (06D6-06ED, except the small waw/yeh 06E5/06E6 which are letters and 06DD/06DE/06E9 which are
# signs). Combining hamza/madda (0653-0655) are parts of letters, not diacritics: kept, and
# composed by compose_hamza.
_DIACRITICS = frozenset(
    [chr(c) for c in range(0x0610, 0x061B)]
    + [chr(c) for c in range(0x064B, 0x0653)]
    + [chr(c) for c in range(0x0656, 0x065F)]
    + [chr(0x0670)]
    + [chr(c) for c in range(0x06D6, 0x06DD)]
    + [chr(c) for c in range(0x06DF, 0x06E5)]
    + [chr(0x06E7), chr(0x06E8)]
    + [chr(c) for c in range(0x06EA, 0x06EE)]
)

_DIGITS = {chr(0x0660 + i): str(i) for i in range(10)}
_DIGITS.update({chr(0x06F0 + i): str(i) for i in range(10)})
_DIGITS["\u066c"] = ","  # ٬ Arabic thousands separator
_DIGITS["\u066b"] = "."  # ٫ Arabic decimal separator


def _presentation_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for cp in list(range(0xFB50, 0xFE00)) + list(range(0xFE70, 0xFEFF)):
        ch = chr(cp)
        nfkc = unicodedata.normalize("NFKC", ch)
        if nfkc == ch:
            continue
        marks = nfkc[1:]
        if nfkc[0] == " " and marks and all(unicodedata.category(m) == "Mn" for m in marks):
            # Isolated harakat forms («ﹰ» = space + fathatan): keep the marks, not the space,
            # so that no word boundary appears where there was none.
            table[ch] = marks
        elif any(c.isspace() for c in nfkc):
            # Phrase ligatures (ﷺ «صلى الله عليه وسلم», ﷻ) stay one symbol: expanding one
            # character into several words would leave words with no original of their own.
            continue
        else:
            table[ch] = nfkc
    return table


_PRESENTATION = _presentation_table()


def _compose_table() -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    for base in range(0x0620, 0x0700):
        if unicodedata.category(chr(base)) != "Lo":
            continue
        for mark in ("\u0653", "\u0654", "\u0655"):
            composed = unicodedata.normalize("NFC", chr(base) + mark)
            if len(composed) == 1:
                table[(chr(base), mark)] = composed
    return table


_COMPOSE = _compose_table()

# Letter folding for matching: hamza-on-alef and wasla → bare alef, alef maksura → yeh, teh
# marbuta → heh, Persian yeh/kaf → Arabic. Hamza on waw/yeh (ؤ ئ) is NOT folded: writers keep
# those seats, and folding would merge distinct words (سئل «was asked» / سيل «torrent»,
# رؤى «visions» / روى «narrated»); the variation seen in names is the alef hamza, final ى/ي
# and final ة/ه, which are folded.

# The Arabic letters a lexicon word may contain after folding.
_ARABIC_LETTERS = frozenset(chr(c) for c in range(0x0621, 0x064B)) - {TATWEEL}


def _is_word_char(ch: str) -> bool:
    # Same test as tokenize.split_words: letters, combining marks and tatweel make words.
    return unicodedata.category(ch)[0] in ("L", "M") or ch == TATWEEL


# --------------------------------------------------------------------------------------------
# Offset-carrying text: every character with the original [start, end) it came from.


@dataclass
class _Mapped:
    text: str
    starts: Sequence[int]  # a list, or a tuple where no step changed the text yet
    ends: Sequence[int]

    @classmethod
    def identity(cls, text: str) -> _Mapped:
        count = _counting(len(text))
        return cls(text, count[: len(text)], count[1 : len(text) + 1])


_COUNT: tuple[int, ...] = tuple(range(1 << 14))


def _counting(n: int) -> tuple[int, ...]:
    """0, 1, …, n at least, the same int objects every time: making an article's identity map
    from fresh ints was 40% of normalize."""
    global _COUNT
    if len(_COUNT) <= n:
        _COUNT = tuple(range(max(n + 1, 2 * len(_COUNT))))
    return _COUNT


def _char_class(chars: Iterable[str]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


def _rewrite(m: _Mapped, pattern: re.Pattern[str], replace: Callable[[str], str], absorb: bool) -> _Mapped:
    """Replace each character matched by ``pattern`` with ``replace(ch)`` (``""`` removes it).

    Every output character of one input character maps to that character's range. A removed
    character is absorbed into the previous output character when ``absorb`` and that
    character is part of a word (a diacritic or kashida belongs to its letter); otherwise it
    belongs to nothing. Only matched characters are visited: most articles need few edits.
    """
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    last_char = ""  # the last output character, for absorption
    prev = 0
    for match in pattern.finditer(m.text):
        i = match.start()
        if i > prev:
            pieces.append(m.text[prev:i])
            starts.extend(m.starts[prev:i])
            ends.extend(m.ends[prev:i])
            last_char = m.text[i - 1]
        out = replace(m.text[i])
        if out:
            pieces.append(out)
            starts.extend([m.starts[i]] * len(out))
            ends.extend([m.ends[i]] * len(out))
            last_char = out[-1]
        elif absorb and ends and _is_word_char(last_char):
            ends[-1] = m.ends[i]
        prev = i + 1
    if prev == 0:
        return m
    pieces.append(m.text[prev:])
    starts.extend(m.starts[prev:])
    ends.extend(m.ends[prev:])
    return _Mapped("".join(pieces), starts, ends)


def _remove(_: str) -> str:
    return ""


_FORMAT_MARKS_RE = _char_class(_FORMAT_MARKS)
_PRESENTATION_RE = _char_class(_PRESENTATION)
_DIGITS_RE = _char_class(_DIGITS)
_TATWEEL_RE = re.compile(TATWEEL)
_DIACRITICS_RE = _char_class(_DIACRITICS)
_COMBINING_HAMZA_RE = re.compile("[\u0653-\u0655]")
_LETTER_AND_HAMZA_RE = re.compile("[\u0620-\u06ff][\u0653-\u0655]")


def _remove_format_marks(m: _Mapped) -> _Mapped:
    return _rewrite(m, _FORMAT_MARKS_RE, _remove, absorb=False)


def _normalize_presentation_forms(m: _Mapped) -> _Mapped:
    return _rewrite(m, _PRESENTATION_RE, _PRESENTATION.__getitem__, absorb=False)


def _normalize_digits(m: _Mapped) -> _Mapped:
    return _rewrite(m, _DIGITS_RE, _DIGITS.__getitem__, absorb=False)


def _remove_tatweel(m: _Mapped) -> _Mapped:
    return _rewrite(m, _TATWEEL_RE, _remove, absorb=True)


def _dediac(m: _Mapped) -> _Mapped:
    return _rewrite(m, _DIACRITICS_RE, _remove, absorb=True)


def _compose_hamza(m: _Mapped) -> _Mapped:
    """Merge a letter and the combining hamza/madda after it into one character."""
    merge = [
        mt.start()
        for mt in _COMBINING_HAMZA_RE.finditer(m.text)
        if mt.start() > 0 and (m.text[mt.start() - 1], mt.group()) in _COMPOSE
    ]
    if not merge:
        return m
    text, starts, ends = list(m.text), list(m.starts), list(m.ends)
    for i in reversed(merge):
        # A mark after a mark cannot be merged, so the merges never chain.
        text[i - 1 : i + 1] = [_COMPOSE[(text[i - 1], text[i])]]
        ends[i - 1] = ends[i]
        del starts[i], ends[i]
    return _Mapped("".join(text), starts, ends)


# --------------------------------------------------------------------------------------------
# Conflict lexicon and split-word repair.

_NOUN_PROCLITICS = CLITICS["noun"]
_VERB_PROCLITICS = CLITICS["verb"]
_ENCLITICS = CLITICS["enclitic"]


def _with_enclitic_stem(word: str) -> str | None:
    """The form a word takes before an attached pronoun, or None if it takes none."""
    if word.endswith("ة"):
        return word[:-1] + "ت"  # إصابة → إصابته
    if word.endswith("ى"):
        return word[:-1] + "ا"  # قتلى → قتلاهم
    if word.endswith("وا"):
        return word[:-1]  # قتلوا → قتلوه
    if word.endswith("ا"):
        return None  # قتيلا, جريحا: accusative tanween
    if word.endswith(("ون", "ين", "ان")):
        return None  # sound plurals and duals drop their ن before a pronoun; not worth listing
    return word


def _surface_forms(word: str, is_verb: bool) -> set[str]:
    if is_verb:
        proclitics = _VERB_PROCLITICS
    elif word.endswith("ا") and not word.endswith("وا"):
        proclitics = CLITICS["accusative"]  # accusative tanween: no article, no preposition
    else:
        proclitics = _NOUN_PROCLITICS
    enclitic_stem = _with_enclitic_stem(word)
    forms: set[str] = set()
    for pro in proclitics:
        if "س" in pro and not word.startswith(("ي", "ت", "ن")):
            continue  # the future prefix goes on the imperfect only (سيقتل, not سقتل)
        forms.add(pro + word)
        if enclitic_stem is not None and not pro.endswith(("ال", "لل")):
            for enc in _ENCLITICS:
                forms.add(pro + enclitic_stem + enc)
    return forms


@dataclass(frozen=True)
class ConflictLexicon:
    """Folded surface forms (with clitics) of the conflict lexicon."""

    forms: frozenset[str]
    words: tuple[str, ...]
    max_len: int  # longest form: a join longer than this cannot match

    def __contains__(self, key: str) -> bool:
        return key in self.forms


def load_conflict_lexicon(path: str | Path | None = None) -> ConflictLexicon:
    """Read a lexicon file (format: see resources/conflict_lexicon.txt); errors name the line."""
    if path is None:
        ref = resources.files(__name__.rpartition(".")[0] + ".resources") / "conflict_lexicon.txt"
        where, content = "conflict_lexicon.txt", ref.read_text(encoding="utf-8")
    else:
        where, content = str(path), Path(path).read_text(encoding="utf-8")
    forms: set[str] = set()
    words: list[str] = []
    for lineno, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) > 2 or (len(parts) == 2 and parts[1] != "v"):
            raise HasilaError(f"{where}:{lineno}: expected 'word' or 'word v', got {line!r}")
        word = parts[0]
        bad = [c for c in word if c not in _ARABIC_LETTERS]
        if bad:
            raise HasilaError(
                f"{where}:{lineno}: {word!r} contains {''.join(bad)!r}; write words with Arabic letters only"
            )
        words.append(word)
        forms.update(fold_letters(f) for f in _surface_forms(word, is_verb=len(parts) == 2))
    if not forms:
        raise HasilaError(f"{where}: no words")
    return ConflictLexicon(frozenset(forms), tuple(words), max(len(f) for f in forms))


@lru_cache(maxsize=1)
def _default_lexicon() -> ConflictLexicon:
    return load_conflict_lexicon()


def conflict_word_forms() -> frozenset[str]:
    """Every folded form (word with its clitics) that split-word repair accepts."""
    return _default_lexicon().forms


def _lexicon_key(piece: str) -> str:
    # Tatweel and diacritics do not count (so the standalone function handles «قـ.ـتل»);
    # anything else that is not an Arabic letter (a combining hamza, a Latin letter) survives
    # into the key and so can never match.
    return fold_letters(piece.translate(_NOT_IN_KEYS))


_NOT_IN_KEYS = {ord(c): None for c in _DIACRITICS | {TATWEEL}}


def is_conflict_word(word: str) -> bool:
    """Whether ``word`` (any spelling, with clitics) is a conflict-lexicon word."""
    key = normalize_for_match(word)
    return bool(key) and key in _default_lexicon()


_SEPARATOR_SPACES = (" ", "\u00a0")
_MAX_SEPARATOR_SPACES = 3
# «2015 م.» (AD) and «1436 هـ.» (Hijri) after a number are year abbreviations, never a split word.
_YEAR_ABBREVIATIONS = frozenset({"م", "ه"})


def _repair_split_words(m: _Mapped, lexicon: ConflictLexicon) -> _Mapped:
    """Join pieces «A. B» / «A.B» (chains too) when the joined letters are a lexicon word.

    Pieces are maximal runs of word characters; a separator is one "." directly after a piece,
    then at most three spaces, then the next piece. Going left to right, a chain's pieces
    i..j are joined for the longest j whose joined key is a lexicon form, unless

    - piece i is «م»/«ه» after a number (a year abbreviation: «2015 م. قتل» stays), or
    - pieces i..j-1 already make a lexicon word, the last separator has a space and piece j
      has two letters or more: that is a sentence ending on a conflict word followed by a
      new sentence («قتل. هم» stays). A split after a whole conflict word would not dodge a
      filter that targets that word, so dodgers split inside it («ق. تل»), not after it; a
      one-letter piece («قتل. ى») cannot start a sentence, so it is still joined.
    """
    text = m.text
    n = len(text)
    # Chains are found from the dots (few) rather than by scanning every character.
    pieces: list[tuple[int, int]] = []  # maximal word-character runs around linking dots
    linked: list[bool] = []  # linked[k]: piece k+1 follows piece k through a separator
    spaced: list[bool] = []  # spaced[k]: that separator has spaces after the dot
    dot = text.find(".")
    while dot != -1:
        nxt = dot + 1
        while nxt < n and nxt - dot - 1 < _MAX_SEPARATOR_SPACES and text[nxt] in _SEPARATOR_SPACES:
            nxt += 1
        if dot > 0 and _is_word_char(text[dot - 1]) and nxt < n and _is_word_char(text[nxt]):
            if not pieces or pieces[-1][1] != dot:
                start = dot - 1
                while start > 0 and _is_word_char(text[start - 1]):
                    start -= 1
                if pieces:
                    linked.append(False)
                    spaced.append(False)
                pieces.append((start, dot))
            end = nxt + 1
            while end < n and _is_word_char(text[end]):
                end += 1
            linked.append(True)
            spaced.append(nxt > dot + 1)
            pieces.append((nxt, end))
        dot = text.find(".", dot + 1)

    keys = [_lexicon_key(text[s:e]) for s, e in pieces]
    max_len = lexicon.max_len
    drop: set[int] = set()
    k = 0
    while k < len(pieces):
        if k >= len(linked) or not linked[k]:
            k += 1
            continue
        if keys[k] in _YEAR_ABBREVIATIONS and _after_number(text, pieces[k][0]):
            k += 1
            continue
        best = None
        joined = keys[k]
        j = k
        while j < len(linked) and linked[j] and len(joined) <= max_len:
            left = joined
            joined += keys[j + 1]
            j += 1
            if joined in lexicon and not (left in lexicon and spaced[j - 1] and len(keys[j]) >= 2):
                best = j
        if best is None:
            k += 1
            continue
        for p in range(k, best):
            drop.update(range(pieces[p][1], pieces[p + 1][0]))
        k = best + 1

    if not drop:
        return m
    keep = [x for x in range(n) if x not in drop]
    return _Mapped("".join(text[x] for x in keep), [m.starts[x] for x in keep], [m.ends[x] for x in keep])


def _after_number(text: str, start: int) -> bool:
    x = start - 1
    while x >= 0 and text[x].isspace():
        x -= 1
    return x >= 0 and text[x].isdigit()


# --------------------------------------------------------------------------------------------
# Public API.


@dataclass(frozen=True)
class NormalizedText:
    """Normalized text with, for each of its characters, the original range it came from."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __post_init__(self) -> None:
        if not len(self.starts) == len(self.ends) == len(self.text):
            raise ValueError(
                f"offset map of length {len(self.starts)}/{len(self.ends)} for a text of length {len(self.text)}"
            )

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[s, e)`` of normalized ``[start, end)``.

        A non-empty span covers its first character's start to its last character's end (so a
        repaired word covers the whole split form). An empty span is the point before the
        character at ``start`` (after the last character when ``start`` is the end).
        """
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) outside a normalized text of length {len(self.text)}")
        if start < end:
            return self.starts[start], self.ends[end - 1]
        if start < len(self.text):
            point = self.starts[start]
        elif self.text:
            point = self.ends[-1]
        else:
            point = 0
        return point, point

    def original_span(self, start: int, end: int, score: float | None = None) -> Span:
        return Span.of(self.original, *self.to_original(start, end), score=score)


# Order of the steps, and why:
# 1. format marks first: they sit anywhere (inside words, digit groups, «ق.\u200f تل»), and
#    every later step must see the characters they separate as neighbours.
# 2. presentation forms: they hide base letters, harakat and tatweel (ﻻ, ﹰ, ﳲ) from the steps
#    below, so they are unfolded before those run.
# 3. digits: the repair needs ASCII digits to recognise «2015 م.»; independent of 4-6.
# 4. tatweel and 5. diacritics: before the repair, so that «قـ.ـتل» and «قَتْ. لى» are seen as
#    plain pieces; removed marks are absorbed into their letter's range.
# 6. compose hamza: after dediac, because a haraka may sit between a letter and its combining
#    hamza (ا + َ + ٔ); composing earlier would leave work for a second pass (not idempotent).
# 7. split-word repair last: it looks words up letter by letter, so it needs the clean text.
_PIPELINE = (
    _remove_format_marks,
    _normalize_presentation_forms,
    _normalize_digits,
    _remove_tatweel,
    _dediac,
    _compose_hamza,
)
# The characters each step rewrites. One scan finds which of them a text has, and steps with
# nothing to do are skipped (an article needs one or two of the six; each scan cost as much as the
# work). Presentation forms unfold into letters, marks and tatweel, so with them every step runs.
_STEP_CHARS = (_FORMAT_MARKS, frozenset(_PRESENTATION), frozenset(_DIGITS), frozenset(TATWEEL), _DIACRITICS,
               frozenset("\u0653\u0654\u0655"))
_ANY_STEP_RE = _char_class(frozenset().union(*_STEP_CHARS))


def normalize(text: str) -> NormalizedText:
    """Normalize an article for the model, keeping a map back to the original offsets."""
    if not isinstance(text, str):
        raise TypeError(f"normalize expects a str, got {type(text).__name__}")
    m = _Mapped.identity(text)
    present = set(_ANY_STEP_RE.findall(text))
    every = not present.isdisjoint(_PRESENTATION)
    for step, chars in zip(_PIPELINE, _STEP_CHARS):
        if every or not present.isdisjoint(chars):
            m = step(m)
    m = _repair_split_words(m, _default_lexicon())
    return NormalizedText(text, m.text, tuple(m.starts), tuple(m.ends))


def remove_format_marks(text: str) -> str:
    """Remove bidi marks/embeddings/isolates, ZWJ/ZWNJ/ZWSP, word joiner, BOM, soft hyphen."""
    return _FORMAT_MARKS_RE.sub("", text)


def normalize_presentation_forms(text: str) -> str:
    """Arabic presentation forms A/B → base letters (NFKC of those characters only)."""
    return _PRESENTATION_RE.sub(lambda mt: _PRESENTATION[mt.group()], text)


def normalize_digits(text: str) -> str:
    """Arabic-Indic «٠-٩» and Persian «۰-۹» digits → ASCII; «٬» → «,»; «٫» → «.»."""
    return _DIGITS_RE.sub(lambda mt: _DIGITS[mt.group()], text)


def remove_tatweel(text: str) -> str:
    """Remove tatweel (kashida, U+0640)."""
    return text.replace(TATWEEL, "")


def dediac(text: str) -> str:
    """Remove harakat, tanween, shadda, sukun, superscript alef and Quranic marks."""
    return _DIACRITICS_RE.sub("", text)


def compose_hamza(text: str) -> str:
    """Letter + combining hamza/madda (U+0653-0655) → the precomposed letter (ا + ٔ → أ)."""
    if not _COMBINING_HAMZA_RE.search(text):
        return text
    return _LETTER_AND_HAMZA_RE.sub(lambda mt: _COMPOSE.get((mt[0][0], mt[0][1]), mt[0]), text)


def repair_split_words(text: str) -> str:
    """Join words split to dodge filters («ق. تل» → «قتل») when the join is a lexicon word."""
    if "." not in text:
        return text
    return _repair_split_words(_Mapped.identity(text), _default_lexicon()).text


def normalize_for_match(text: str) -> str:
    """Key for gazetteer/actor matching: ``normalize`` without the repair, then fold_letters.

    Never feed this to the model. Applied to ``normalize(x).text`` it changes letters one for
    one, so the offset map of ``normalize(x)`` stays valid for the folded text.
    """
    text = remove_tatweel(normalize_digits(normalize_presentation_forms(remove_format_marks(text))))
    return fold_letters(compose_hamza(dediac(text)))
