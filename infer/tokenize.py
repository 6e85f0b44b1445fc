"""Word splitting shared by training, annotation and inference.

Words are what BIO tags are attached to, so every stage must split the same way:
whitespace separates words; punctuation is a word of its own; a run of digits (with its
thousands/decimal separators, «1,365», «2.5») is a word of its own even when glued to
letters («و15» → «و» «15», «الـ18» → «الـ» «18»), because counts are tagged on the number.
Clitics on letters stay attached («والرقة» is one word), as in ANERcorp.
"""

from __future__ import annotations

import unicodedata

_DIGIT_SEPARATORS = {",", ".", "\u066b", "\u066c", "\u060c"}  # , . ٫ ٬ ،


def _is_digit(ch: str) -> bool:
    return ch.isdigit()


def _is_word_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # Letters, combining marks (diacritics), and tatweel (Lm) belong to words.
    return cat[0] in ("L", "M") or ch == "\u0640"


def split_words(text: str) -> list[tuple[int, int]]:
    """Half-open ``(start, end)`` offsets of the words of ``text``, in order."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc"):
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


def words_of(text: str) -> list[str]:
    return [text[s:e] for s, e in split_words(text)]
