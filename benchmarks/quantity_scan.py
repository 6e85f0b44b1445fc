"""``find_quantities``: a rule-based scan of free text for every quantity expression (silver
pre-annotation, the regex baseline of ``benchmarks/assembly_on_gold.py``). Never raises.

Not part of the runtime (the model finds the figures; ``hasila.infer.quantity.parse_quantity``
reads them): it serves the benchmarks and the tests, on the readers of ``hasila.infer.quantity``.

``find_quantities`` specifics: a lone number word with the article is not returned («الأحد»,
«الاثنين» are weekdays, «في المائة» a percentage, «القرن العشرين» an ordinal use, «الثلاثة» a
reference back); a lone «أحد»/«إحدى» is returned before a noun («أحد عناصر الأمن») but not after a
negation or before «من» («لم يصب أحد»); «عدد»/«العديد» only before «من»; «البعض» never; a lone
singular noun is not returned (only «جندي واحد»); ranges are merged for «A-B» (not in dates
«23-3-2019»), «A إلى B», «A حتى B», «A أو B» (not after «من»: «من 10 إلى 15» is usually an
update) and «A و B» after «بين». Everything else that reads as a number is returned (years,
distances, prices): choosing casualty figures is the caller's job.
"""

from __future__ import annotations

from hasila.infer.quantity import (CONTEXT_WORDS, QuantityError, _BETWEEN, _MAX_NUMBER_WORDS, _ONE_ADJECTIVES,
                                   _Reading, _TWO_ADJECTIVES, _VAGUE_NEED_MIN, _conj_number,
                                   _generic_dual_word, _is_punct, _key, _noun_reading, _num_analyses,
                                   _number_prefixes, _parse_words, _read_vague_core, _vague_reading)
from hasila.infer.tokenize import split_words
from hasila.infer.types import Quantity

__all__ = ["find_quantities"]


def find_quantities(text: str, persons_only: bool = True) -> list[tuple[int, int, Quantity]]:
    """Every quantity expression in ``text``: ``(start, end, Quantity)`` of its minimal span,
    sorted and non-overlapping, words aligned with ``split_words``; the qualifier is read from
    the surrounding words. Duals of non-person nouns («دبابتين») only with ``persons_only=False``.
    """
    if not isinstance(text, str):
        raise QuantityError(f"expected text, got {type(text).__name__}")
    words = split_words(text)
    keys = [_key(text[s:e]) for s, e in words]
    found: list[tuple[int, int, Quantity]] = []
    i = 0
    while i < len(keys):
        j = _candidate_end(keys, i, persons_only)
        if j is None:
            i += 1
            continue
        q = None
        for end in (j, _plain_number_end(keys, i)):
            if end is None or end <= i:
                continue
            start, stop = words[i][0], words[end - 1][1]
            raw = [text[s:e] for s, e in words[i:end]]
            before, after = keys[max(0, i - CONTEXT_WORDS):i], keys[end:end + CONTEXT_WORDS]
            try:  # the same as parse_quantity(text[start:stop], text[:start], text[stop:])
                q = _parse_words(text[start:stop], raw, keys[i:end], before, after)
            except QuantityError:
                continue
            found.append((start, stop, q))
            i = end
            break
        if q is None:
            i += 1
    return found


def _plain_number_end(keys: list[str], i: int) -> int | None:
    prefixes = _number_prefixes(keys, i)
    return prefixes[-1][1] if prefixes else None


def _between_before(keys: list[str], i: int) -> bool:
    return bool(_BETWEEN.tail(keys[max(0, i - 2):i]))


def _candidate_end(keys: list[str], i: int, persons_only: bool) -> int | None:
    """End (exclusive word index) of the quantity expression starting at word ``i``, or None."""
    word = keys[i]
    if word == "و":
        return None
    readings = _num_analyses(word)
    prefixes = _number_prefixes(keys, i) if readings else []
    if prefixes:
        value, j = prefixes[-1]
        if j == i + 1 and not _lone_number_word_counts(readings[0], keys, i):
            return None
        return _range_end(keys, i, j, value)
    vague = _vague_reading(word)
    if vague:
        stem, article = vague
        if article and stem in ("بعض", "عده", "عدد"):
            return None  # «البعض» (some people), «العدد» (the number)
        if stem in _VAGUE_NEED_MIN and keys[i + 1:i + 2] != ["من"]:
            return None  # «عدد القتلى» is «the number of the dead»
        return _read_vague_core(keys, i).end
    noun = _noun_reading(word)
    if noun is not None:
        nxt = keys[i + 1] if i + 1 < len(keys) else ""
        if persons_only and not noun.person:
            return None
        if noun.number == 2 and nxt in _TWO_ADJECTIVES:
            return i + 2
        if noun.number == 1:
            return i + 2 if nxt in _ONE_ADJECTIVES else None
        return None if noun.ambiguous else i + 1
    if not persons_only and _generic_dual_word(word):
        return i + 1
    return None


_NEGATIONS = {"لم", "لن", "لا", "ما", "ولم", "ولن", "ولا", "دون", "بدون", "يوجد", "هناك"}


def _lone_number_word_counts(reading: _Reading, keys: list[str], i: int) -> bool:
    """Whether a number word standing alone in free text is a count.

    With the article it is a weekday («الأحد», «الاثنين»), a percentage («في المائة»), an
    ordinal use («القرن العشرين») or a reference back to a figure already given («الثلاثة»).
    A lone «أحد»/«إحدى» is one in «أحد العناصر», «أحد عناصر الأمن», not in «لم يصب أحد»,
    «أحد من», «لا أحد»."""
    if reading.article:  # «الأحد», «الاثنين», «في المائة», «القرن العشرين», «اليوم الواحد»
        return False
    if reading.stem in ("احد", "احدي"):
        next_word = keys[i + 1] if i + 1 < len(keys) else ""
        if _is_punct(next_word) or next_word in ("من", "منهم", "منا") or next_word[:1].isdigit():
            return False
        return not any(w in _NEGATIONS for w in keys[max(0, i - 3):i])
    return True


def _range_end(keys: list[str], i: int, j: int, a: int) -> int:
    """Extend the number ``keys[i:j]`` (value ``a``) over «- B», «إلى B», «أو B», «بين A و B»."""
    if j >= len(keys):
        return j
    link = keys[j]
    between = _between_before(keys, i)
    digits = keys[i][:1].isdigit() and j == i + 1
    if between and not digits:
        # word numbers after «بين»: the whole run of number words; parse_quantity splits A and B
        m = j
        while m < len(keys) and m - i < 2 * _MAX_NUMBER_WORDS:
            if keys[m] == "و" and m + 1 < len(keys) and _num_analyses(keys[m + 1]):
                m += 2
            elif _conj_number(keys[m]):
                m += 1
            else:
                break
        if m > j:
            return m
    start = None
    if link in ("-", "–", "—"):
        start = j + 1
        if not digits:
            return j
    elif link in ("الي", "حتي", "او"):
        if i > 0 and keys[i - 1] == "من":  # «من 10 إلى 15»: an update, not a range
            return j
        start = j + 1
    elif link == "و" and between:
        start = j + 1
    elif between and _conj_number(link):
        start = j
    if start is None or start >= len(keys):
        return j
    tail = _number_prefixes(keys, start)
    if not tail or tail[-1][0] <= a:
        return j
    b_end = tail[-1][1]
    if link in ("-", "–", "—"):  # «23-3-2019» is a date, not a range
        if b_end != start + 1 or not keys[start][:1].isdigit():
            return j
        if b_end + 1 < len(keys) and keys[b_end] in ("-", "–", "—", "/") and keys[b_end + 1][:1].isdigit():
            return j
        if i >= 2 and keys[i - 1] in ("-", "–", "—", "/") and keys[i - 2][:1].isdigit():
            return j
    return b_end
