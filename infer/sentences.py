"""Sentence and clause splitting for Arabic news text.

``split_sentences`` ends a sentence at «.», «!», «?», «؟», «;», «؛», «…» and at every newline
(scraped articles put titles, captions and paragraphs on lines of their own, often without a
full stop). A full stop is NOT a sentence end when it is

- between two digits: «2.5», «1.365»;
- glued between two letters/digits with no space: «أ.ف.ب» (AFP), «www.site.com», «ق.ت.ل»
  (a split word that normalization did not repair);
- after a one-letter abbreviation followed by more text on the line: «د. محمد», «م. أحمد»,
  «أ. ف. ب» — except «م.» / «هـ.» after a number, which close a year («عام 2015 م.»).

A run of terminators and the closing quotes/brackets after it stay in the sentence
(«...قتلى!!»). Spans are stripped of surrounding whitespace; empty ones are dropped.

``split_clauses`` cuts a sentence further at commas («،», «,» outside numbers), colons and
before connectives that start a new statement (« فيما », « بينما », « في حين », « ليرتفع »…):
the unit in which a casualty figure's qualifiers, victim and "since…" phrase are looked for.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["split_sentences", "split_clauses", "paragraph_starts"]

_TERMINATORS = frozenset(".!?؟;؛…")
_CLOSERS = frozenset("\"'»”’)]}›")
# «م» (AD) and «ه»/«هـ» (Hijri) after a year: the dot is a real sentence end.
_YEAR_MARKS = frozenset({"م", "ه", "هـ"})


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in ("L", "M", "N") or ch == "\u0640"


def _word_before(text: str, i: int) -> tuple[int, str]:
    """The word ending right before position ``i`` (no space in between) and its start."""
    j = i
    while j > 0 and _is_word_char(text[j - 1]):
        j -= 1
    return j, text[j:i]


def _one_letter_before(text: str, i: int) -> bool:
    """Whether the word before ``i`` (:func:`_word_before`) could be one letter: it has at most
    one character besides tatweel. Read backwards, stopping at the second (most words before a
    dot are long)."""
    j = i
    count = 0
    while j > 0 and _is_word_char(text[j - 1]):
        j -= 1
        if text[j] != "\u0640":
            count += 1
            if count > 1:
                return False
    return True


def _is_non_final_dot(text: str, i: int) -> bool:
    """Whether the «.» at ``i`` is inside a number, a glued token or after an abbreviation."""
    n = len(text)
    prev = text[i - 1] if i > 0 else ""
    nxt = text[i + 1] if i + 1 < n else ""
    if prev.isdigit() and nxt.isdigit():
        return True
    if prev and nxt and _is_word_char(prev) and _is_word_char(nxt):
        return True
    if not _one_letter_before(text, i):
        return False
    start, word = _word_before(text, i)
    if len(word.replace("\u0640", "")) == 1 and word.isalpha():
        # A one-letter word before the dot is an abbreviation if more text follows on the line.
        k = i + 1
        while k < n and text[k] in " \t\u00a0":
            k += 1
        if k >= n or text[k] in "\r\n":
            return False
        if word.replace("\u0640", "") in _YEAR_MARKS or word == "هـ":
            b = start - 1
            while b >= 0 and text[b] in " \t\u00a0":
                b -= 1
            if b >= 0 and text[b].isdigit():
                return False
        return True
    return False


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# Where a sentence may end: line breaks and terminators (the loop jumps from one to the next
# instead of visiting every character: it ran once per article and figure sentence).
_BREAK_OR_TERMINATOR = re.compile("[\n\r\u2028\u2029" + re.escape("".join(sorted(_TERMINATORS))) + "]")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Half-open ``(start, end)`` offsets of the sentences of ``text``, in order."""
    if len(text) >= _LONG_TEXT:
        return list(_article_sentences(text))
    return _split_sentences(text)


_LONG_TEXT = 500  # characters: an article rather than a phrase


@lru_cache(maxsize=4)
def _article_sentences(text: str) -> tuple[tuple[int, int], ...]:
    # An article with figures is split three times (count kinds, structure heads, assembly).
    return tuple(_split_sentences(text))


def _split_sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    n = len(text)
    start = 0
    i = 0
    search = _BREAK_OR_TERMINATOR.search
    while (m := search(text, i)) is not None:
        i = m.start()
        ch = text[i]
        if ch in "\n\r\u2028\u2029":
            s, e = _strip(text, start, i)
            if s < e:
                spans.append((s, e))
            start = i + 1
            i += 1
            continue
        if ch in _TERMINATORS and not (ch == "." and _is_non_final_dot(text, i)):
            j = i + 1
            while j < n and (text[j] in _TERMINATORS or text[j] in _CLOSERS):
                j += 1
            s, e = _strip(text, start, j)
            if s < e:
                spans.append((s, e))
            start = i = j
            continue
        i += 1
    s, e = _strip(text, start, n)
    if s < e:
        spans.append((s, e))
    return spans


# Connectives that open a new statement inside a sentence; the clause starts at the connective.
_CLAUSE_OPENERS = re.compile(
    r"(?<!\S)(?:و)?(?:فيما|بينما|في حين|ليرتفع|لترتفع|ليصل|لتصل|لتبلغ|ليبلغ|مما يرفع|ما يرفع|وبذلك|كما)(?!\w)"
)


_CLAUSE_PUNCTUATION = re.compile("[،:,]")


def split_clauses(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Clauses of ``text[start:end]`` (absolute offsets): cut at «،», «,», «:» outside numbers
    and before statement-opening connectives («فيما», «بينما», «ليرتفع»…)."""
    end = len(text) if end is None else end
    cuts: list[int] = []
    for m in _CLAUSE_PUNCTUATION.finditer(text, start, end):
        i = m.start()
        if text[i] != "," or not (0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()):
            cuts.append(i + 1)
    for m in _CLAUSE_OPENERS.finditer(text, start, end):
        if m.start() > start:
            cuts.append(m.start())
    spans: list[tuple[int, int]] = []
    prev = start
    for cut in sorted(set(cuts)):
        s, e = _strip(text, prev, cut)
        if s < e:
            spans.append((s, e))
        prev = cut
    s, e = _strip(text, prev, end)
    if s < e:
        spans.append((s, e))
    return spans


def paragraph_starts(text: str) -> list[int]:
    """Offsets where paragraphs (lines) start; a paragraph is one line of the scraped text."""
    starts = [0]
    i = text.find("\n")
    while i != -1:
        starts.append(i + 1)
        i = text.find("\n", i + 1)
    return starts
