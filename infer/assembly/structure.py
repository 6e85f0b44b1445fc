"""Structure: breakdowns of a total into parts (A4, A3c), subsets (A5), named lists (A5b) and
the parts of figures that make no incident (A3d)."""

from __future__ import annotations

import re
from typing import Callable, Iterable

from hasila.infer.actors import victims_conflict
from hasila.infer.assembly.cues import (NEW_CASUALTY_VERB, TOTAL_CUE)
from hasila.infer.assembly.state import (Figure, NO_INCIDENT_ROLES)
from hasila.infer.types import Quantity

def _split_parts(total: Figure, parts: list[Figure], folded: str) -> None:
    """A4: ``parts`` add up to ``total``. Parts with places (or dates) of their own are
    separate events and become the incidents; parts by kind or side («5 قتلى: شرطيان و3
    مدنيين») are one event and stay inside the total (G15)."""
    across = parts[0].sentence is not total.sentence
    cued = parts[0].role == "part"
    if across and not cued and total.place is not None:
        return  # «قتل 10 في إدلب. وقتل 6 في حلب و4 في حماة»: three events that happen to add up
    keys = {
        folded[p.place.start : p.place.end] if p.place else folded[p.own_date.start : p.own_date.end]
        for p in parts
        if p.place is not None or p.own_date is not None
    }
    rule = "A3c" if total.role == "cumulative" else "A4"
    if len(keys) == len(parts):
        total.role, total.rule = "total", rule
        for p in parts:
            p.role, p.rule, p.cue, p.ref = "event", rule, None, total
            p.of_total = total
            p.split_by_place = True
        return
    if across and not cued:
        return
    for p in parts:
        p.role, p.rule, p.cue, p.ref = "part", "A4", None, total
        p.whole = total
        total.parts.append(p)


def _adding_up(total: Figure, figures: Iterable[Figure], beyond: Callable[[Figure], bool],
               stop_roles: tuple[str, ...]) -> tuple[list[Figure], int]:
    """Figures of ``total``'s kind, in the order given, until one is ``beyond`` reach, has a role
    in ``stop_roles``, is already part of a whole, or the running sum reaches the total; and that sum."""
    parts: list[Figure] = []
    running = 0
    for f in figures:
        if beyond(f):
            break
        if f.label != total.label:
            continue
        if f.role in stop_roles or f.of_total or f.whole or f.value is None:
            break
        running += f.value
        parts.append(f)
        if running >= total.value:
            break
    return parts, running


def _find_totals_after_parts(all_figs: list[Figure], folded: str) -> None:
    """A4, told the other way: «5 في إدلب و3 في حلب … ليرتفع عدد القتلى إلى 8»."""
    for j, total in enumerate(all_figs):
        if total.role in (*NO_INCIDENT_ROLES, "total") or total.whole is not None or total.value is None:
            continue
        if not TOTAL_CUE.search(folded[total.clause[0] : total.start]):
            continue
        parts, running = _adding_up(total, reversed(all_figs[:j]), lambda f: f.sentence.index < total.sentence.index - 1,
                                    (*NO_INCIDENT_ROLES, "total", "part"))
        parts.reverse()
        if len(parts) >= 2 and running == total.value:
            if total.campaign and not all(p.place is not None for p in parts):
                continue  # a campaign's toll by side or kind stays cumulative
            _split_parts(total, parts, folded)


def _find_breakdowns(all_figs: list[Figure], folded: str) -> None:
    """A4: a total followed by located/sided parts that add up to it exactly."""
    _find_totals_after_parts(all_figs, folded)
    for i, total in enumerate(all_figs):
        if total.of_total or total.whole or total.value is None:
            continue
        # A3c: a week's toll (cumulative) broken down by place is its attacks (G2)
        if total.role in (*NO_INCIDENT_ROLES, "update", "total") and not total.campaign:
            continue
        parts, running = _adding_up(total, all_figs[i + 1 :], lambda f: f.sentence.index > total.sentence.index + 1,
                                    (*NO_INCIDENT_ROLES, "update", "total"))
        if len(parts) >= 2 and running == total.value:
            _split_parts(total, parts, folded)


def _count_named_lists(all_figs: list[Figure], folded: str) -> None:
    """A5b (G16): named casualties listed one by one, each a lone title with
    its name («استشهاد العريف [PER]، والجندي [PER]، والجندي [PER]»), are one figure whose
    value is the number of people named; the later titles become its parts. Items follow each
    other in one sentence, joined by «،» or «و», with a name between them and no new casualty
    verb."""
    i = 0
    while i < len(all_figs):
        head = all_figs[i]
        run = [head]
        for g in all_figs[i + 1 :]:
            prev = run[-1]
            if not (_lone(head) and _lone(g) and g.sentence is head.sentence and g.label == head.label):
                break
            gap = folded[prev.end : g.start]
            names = [e for e in head.sentence.entities if e.label == "PER" and prev.end <= e.start < g.start]
            if not names or NEW_CASUALTY_VERB.search(gap) or len(gap) > 80 or \
                    not (folded[g.start] == "و" or re.search(r"(?:[،,]|(?:^|\s)و)\s*$", gap)):
                break
            run.append(g)
        if len(run) >= 2:
            n = len(run)
            head.quantity = Quantity(n, n, n, "exact")
            head.rule = "A5b"
            for g in run[1:]:
                g.role, g.rule, g.cue, g.ref = "part", "A5b", None, head
                g.whole = head
                head.parts.append(g)
        i += len(run)


def _lone(f: Figure) -> bool:
    return f.role == "event" and f.value == 1 and f.quantity.qualifier == "exact"


def _attach_parts(all_figs: list[Figure], text: str, folded: str) -> None:
    """A5: subsets stay inside their whole; part lists continue while they fit."""
    for i, f in enumerate(all_figs):
        if f.role != "part" or f.whole is not None:
            continue
        whole = None
        for g in reversed(all_figs[:i]):
            same_sentence = g.sentence is f.sentence
            opens_sentence = f.sentence.index == g.sentence.index + 1 and f.sentence.figures[0] is f
            if not (same_sentence or opens_sentence):
                break
            if g.label != f.label or g.role == "part" or g.of_total is not None:
                continue
            if g.value is not None and f.value is not None and f.value > g.value:
                continue
            whole = g
            break
        if whole is None:
            f.role, f.rule, f.cue = "event", None, None
            continue
        f.whole, f.ref = whole, whole
        whole.parts.append(f)
        # Continuations: «بينهم 6 ضباط و4 عناصر».
        used = sum(p.value or 0 for p in whole.parts)
        prev = f
        for g in all_figs[i + 1 :]:
            if g.sentence is not f.sentence or g.label != f.label or g.role != "event" or g.of_total:
                break
            gap = folded[prev.end : g.start]
            if NEW_CASUALTY_VERB.search(gap) or not re.search(r"(?:^|\s)و\s*$|[،,]\s*$", gap):
                break
            if victims_conflict(whole.victim, g.victim, text):
                break
            if whole.value is not None and (g.value is None or used + g.value > whole.value):
                break
            g.role, g.rule, g.cue, g.ref = "part", "A5", (prev.end, g.start), whole
            g.whole = whole
            whole.parts.append(g)
            used += g.value or 0
            prev = g


def _drop_parts_of_cumulative(all_figs: list[Figure]) -> None:
    """A3d: the parts of a figure that makes no incident (cumulative, A3-A3b; not an event,
    A17-A22) go with it: no incident either."""
    for f in all_figs:
        if f.role == "part" and f.whole is not None and f.whole.role in ("cumulative", "not_event"):
            f.role, f.rule, f.cue, f.ref = f.whole.role, "A3d", None, f.whole


