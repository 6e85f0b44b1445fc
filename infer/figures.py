"""Whole figures: a count span covers its multiplier and the «و»-joined remainder.

The tagger often stops a large figure short: in «قتل أكثر من 48 ألف شخص» it tags «48», in «سبعة
آلاف و312 جنديا» «سبعة» or «آلاف» alone, so the record said 49 killed and the statistics rule
(A3b, ≥ 500) never saw 48,001. This step (rule id ``F1``, run right after decoding) widens each
KILLED/WOUNDED span over the words that make it one number — a scale word after it («ألف»,
«آلاف», «مليون»), a number before a span that starts with a scale word, and «و» + a number after
a scale word («آلاف و312») — and keeps the widening only if the quantity parser reads the wider
span as a larger figure. Count spans it swallows are merged into it. Nothing else changes.
"""

from __future__ import annotations

from typing import Sequence

from hasila.infer.normalize import fold_letters
from hasila.infer.quantity import QuantityError, parse_number, parse_quantity
from hasila.infer.types import Entity, Span

COUNT_LABELS = ("KILLED", "WOUNDED")
_SCALES = frozenset(fold_letters(w) for w in (
    "ألف", "الف", "آلاف", "الاف", "ألفا", "ألفاً", "الفا", "مليون", "ملايين", "مليونا", "مليار", "مليارات",
))  # fmt: skip


def _is_scale(word: str) -> bool:
    return fold_letters(word) in _SCALES


def _is_number(word: str) -> bool:
    try:
        parse_number(word)
        return True
    except (QuantityError, ValueError):
        return False


def _is_and_number(word: str) -> bool:
    return len(word) > 1 and word[0] == "و" and _is_number(word[1:])


def figure_value(text: str) -> int | None:
    """The value the parser reads in a count span (else its lower bound; None if unreadable)."""
    try:
        q = parse_quantity(text)
    except (QuantityError, ValueError):
        return None
    return q.value if q.value is not None else q.low


def whole_figures(text: str, words: Sequence[tuple[int, int]], entities: Sequence[Entity]) -> list[Entity]:
    """``entities`` with each count span widened to its whole number (see the module doc)."""
    if not any(e.label in COUNT_LABELS for e in entities):
        return list(entities)
    starts = {s: i for i, (s, _) in enumerate(words)}
    ends = {e: i for i, (_, e) in enumerate(words)}
    out: list[Entity] = []
    absorbed: set[tuple[int, int]] = set()
    for ent in sorted(entities, key=lambda e: e.start):
        if (ent.start, ent.end) in absorbed:
            continue
        if ent.label not in COUNT_LABELS or ent.start not in starts or ent.end not in ends:
            out.append(ent)
            continue
        first, last = starts[ent.start], ends[ent.end]
        w = lambda i: text[words[i][0]:words[i][1]]  # noqa: E731
        # a number before a span that starts with its scale word: «سبعة [آلاف]»
        if first > 0 and _is_scale(w(first)) and _is_number(w(first - 1)) and text[words[first - 1][1]:words[first][0]].isspace():
            first -= 1
        j = last
        while j + 1 < len(words) and text[words[j][1]:words[j + 1][0]].isspace():
            nxt = w(j + 1)
            if _is_scale(nxt) and not _is_scale(w(j)):
                j += 1
            elif any(_is_scale(w(k)) for k in range(first, j + 1)) and (_is_and_number(nxt) or (nxt == "و" and j + 2 < len(words) and _is_number(w(j + 2)))):
                j += 1 if nxt != "و" else 2
            else:
                break
        if (first, j) == (starts[ent.start], ends[ent.end]):
            out.append(ent)
            continue
        s, e = words[first][0], words[j][1]
        old, new = figure_value(ent.text), figure_value(text[s:e])
        if new is None or (old is not None and new <= old):
            out.append(ent)
            continue
        for other in entities:
            if other is not ent and other.label in COUNT_LABELS and other.start < e and s < other.end:
                absorbed.add((other.start, other.end))
        out = [o for o in out if not (o.label in COUNT_LABELS and o.start < e and s < o.end)]
        out.append(Entity(ent.label, Span(s, e, text[s:e], ent.span.score)))
    # a non-count entity inside a widened span (a tagged «ألف» as something else) gives way
    counts = [(o.start, o.end) for o in out if o.label in COUNT_LABELS]
    out = [o for o in out if o.label in COUNT_LABELS or not any(o.start < b and a < o.end for a, b in counts)]
    return sorted(out, key=lambda e: (e.start, e.end))
