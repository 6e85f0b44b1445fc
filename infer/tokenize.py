"""Word splitting shared by training, annotation and inference.

Words are what BIO tags are attached to, so every stage must split the same way:
whitespace separates words; punctuation is a word of its own; a run of digits (with its
thousands/decimal separators, «1,365», «2.5») is a word of its own even when glued to
letters («و15» → «و» «15», «الـ18» → «الـ» «18»), because counts are tagged on the number.
Clitics on letters stay attached («والرقة» is one word), as in ANERcorp.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np

_DIGIT_SEPARATORS = {",", ".", "\u066b", "\u066c", "\u060c"}  # , . ٫ ٬ ،


def _is_digit(ch: str) -> bool:
    return ch.isdigit()


def _is_word_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # Letters, combining marks (diacritics), and tatweel (Lm) belong to words.
    return cat[0] in ("L", "M") or ch == "\u0640"


def _is_gap(ch: str) -> bool:
    """Characters between words: whitespace, format and control characters."""
    return ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc")


def split_words_reference(text: str) -> list[tuple[int, int]]:
    """The definition of :func:`split_words`, character by character (slow; kept for tests)."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if _is_gap(ch):
            i += 1
            continue
        start = i
        if _is_digit(ch):
            i += 1
            while i < n:
                if _is_digit(text[i]):
                    i += 1
                elif text[i] in _DIGIT_SEPARATORS and i + 1 < n and _is_digit(text[i + 1]):
                    i += 2
                else:
                    break
        elif _is_word_char(ch):
            i += 1
            while i < n and _is_word_char(text[i]):
                i += 1
        else:
            i += 1  # one punctuation/symbol character is one word
        spans.append((start, i))
    return spans


def bmp_char_class(predicate) -> str:
    """A regex character class of every BMP code point for which ``predicate`` holds."""
    ranges: list[tuple[int, int]] = []
    for cp in range(_BMP_END):
        if predicate(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    parts = (re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return "[" + "".join(parts) + "]"


_BMP_END = 0x10000
BMP_MAX = "\uffff"  # texts with a character above this take the character loops


def beyond_bmp(text: str) -> bool:
    """Whether ``text`` has a character above :data:`BMP_MAX` (``max(text) > BMP_MAX``, ~50x
    faster: such a character takes two UTF-16 code units, every other character one)."""
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


@lru_cache(maxsize=1)
def _word_class() -> str:
    return bmp_char_class(_is_word_char)


@lru_cache(maxsize=1)
def _word_pattern() -> re.Pattern[str]:
    # The same three kinds of word as split_words_reference, as one regex: the character loop
    # was a third of incident assembly's time. Built from the same predicates (once per
    # process, ~15 ms), so the two cannot disagree. BMP only: classes with astral ranges make
    # `re` test characters one range at a time (5x slower), so texts with astral characters
    # (emoji) take the reference loop.
    digit = bmp_char_class(_is_digit)
    word = _word_class()
    gap = bmp_char_class(_is_gap)
    sep = "[" + "".join(re.escape(c) for c in sorted(_DIGIT_SEPARATORS)) + "]"
    return re.compile(f"{digit}(?:{digit}|{sep}{digit})*|{word}+|(?!{gap}).", re.DOTALL)


def split_words(text: str) -> list[tuple[int, int]]:
    """Half-open ``(start, end)`` offsets of the words of ``text``, in order."""
    if beyond_bmp(text):
        return split_words_reference(text)
    if len(text) >= _TABLE_FROM:
        return _split_by_table(text)
    return list(map(re.Match.span, _word_pattern().finditer(text)))


_TABLE_FROM = 256  # characters: shorter texts (phrases, windows) take the regex, cheaper to start
_GAP, _LETTERS, _DIGITS, _SEPARATOR, _SINGLE = range(5)  # what a character is to split_words


@lru_cache(maxsize=1)
def _char_kinds() -> np.ndarray:
    """Per BMP code point, from the predicates of :func:`split_words_reference`: a gap, a word
    character, a digit, a digit separator or a character that is a word of its own."""
    kinds = np.full(_BMP_END, _SINGLE, dtype=np.uint8)
    for cp in range(_BMP_END):
        ch = chr(cp)
        if _is_gap(ch):
            kinds[cp] = _GAP
        elif _is_digit(ch):
            kinds[cp] = _DIGITS
        elif _is_word_char(ch):
            kinds[cp] = _LETTERS
        elif ch in _DIGIT_SEPARATORS:
            kinds[cp] = _SEPARATOR
    return kinds


def _split_by_table(text: str) -> list[tuple[int, int]]:
    """:func:`split_words` of a BMP text with NumPy (an article: ~3x faster than the regex,
    whose cost was one match object per word): words are runs of one kind of character."""
    kinds = _char_kinds()[np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype="<u2")]
    sep = kinds == _SEPARATOR
    if sep.any():
        # a separator between two digits belongs to the number («1,365»); elsewhere it is a word
        between = np.zeros_like(sep)
        between[1:-1] = sep[1:-1] & (kinds[:-2] == _DIGITS) & (kinds[2:] == _DIGITS)
        kinds[between] = _DIGITS
        kinds[sep & ~between] = _SINGLE
    word = kinds != _GAP
    start = word.copy()
    start[1:] &= (kinds[1:] != kinds[:-1]) | (kinds[1:] == _SINGLE)
    end = word
    end[:-1] &= (kinds[:-1] != kinds[1:]) | (kinds[:-1] == _SINGLE)
    return list(zip(np.flatnonzero(start).tolist(), (np.flatnonzero(end) + 1).tolist()))


@lru_cache(maxsize=1)
def _word_run_pattern() -> re.Pattern[str]:
    return re.compile(_word_class() + "+")


def letter_word_count(text: str) -> int:
    """How many words of ``text`` have a letter: ``sum(any(c.isalpha() for c in w) for w in words_of(text))``,
    without splitting. Only letter-mark runs can hold a letter (digits and punctuation cannot)."""
    if beyond_bmp(text):
        return sum(1 for w in words_of(text) if any(ch.isalpha() for ch in w))
    return sum(1 for run in _word_run_pattern().findall(text) if run.isalpha() or any(ch.isalpha() for ch in run))


def words_of(text: str) -> list[str]:
    return [text[s:e] for s, e in split_words(text)]
