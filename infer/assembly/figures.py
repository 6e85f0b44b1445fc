"""Figures and their roles: reading the figures (A1, A2) and the cues that make a figure no
incident of its own or a part of another (A3, A3b, A3c, A5, A6, A17-A22)."""

from __future__ import annotations

import logging
from bisect import bisect_right
from typing import Sequence

from hasila.infer.actors import find_victim, words_in
from hasila.infer.assembly.cues import (ACCIDENT, ARMED, BACK_THEN, BACK_THEN_REACH, BODY_NOUN, CUMULATIVE,
                                        CUMULATIVE_MORE, DOUBLING_TWO, EARLY_TOLL, FOUND, MULTIPLIERS,
                                        NEW_CASUALTY_VERB, OF_THE_CASUALTIES_AFTER, OF_THE_CASUALTIES_BEFORE,
                                        ONE_ATTACK, OTHERS_AFTER, PART_AFTER, PART_BEFORE, PART_LIST,
                                        PERIOD_OF_NOUN, REFERENCE_TO_ATTACK, SEVERAL_ATTACKS, SHORT_CAMPAIGN,
                                        STATE_AFTER, STATISTICS_TABLE, TOLL_VERB, UPDATE)
from hasila.infer.assembly.state import (Cue, _at, CONTEXT_CHARS, CONTEXT_WORDS, Figure, Sentence)
from hasila.infer.labels import COUNT_LABELS
from hasila.infer.normalize import NormalizedText, fold_letters
from hasila.infer.quantity import QuantityError, parse_quantity
from hasila.infer.sentences import paragraph_starts, split_clauses, split_sentences
from hasila.infer.types import Entity, HasilaError, Span

log = logging.getLogger("hasila.infer.assembly")

def _drop_totals_of_attacks(all_figs: list["Figure"]) -> None:
    """A22 (G2): a toll of several attacks is no incident when the article
    tells attacks of its own elsewhere; when it is all the article gives, it is the incident."""
    for total in [f for f in all_figs if f.several_attacks]:
        # the total's own wounded, or «وأصيب 50 آخرون» after it, are no attacks of their own
        if any(f.role == "event" and not f.several_attacks and not f.others and f.sentence is not total.sentence
               for f in all_figs):
            total.role, total.rule = "not_event", "A22"


def _is_total_of_attacks(folded: str, f: "Figure") -> "Cue":
    """A22: the figure's clause tells a toll of several attacks, and no single attack is
    named between that cue and the figure."""
    cs, ce = f.clause
    for m in SEVERAL_ATTACKS.finditer(folded, cs, ce):
        between = (m.end(), f.start) if m.end() <= f.start else (f.end, m.start())
        if between[0] <= between[1] and not ONE_ATTACK.search(folded, *between):
            return m.start(), m.end()
    return None


def _is_state_of_casualties(folded: str, f: "Figure") -> "Cue":
    """A21: «أحد الجرحى خضع للجراحة», «أربعة من المصابين في حالة خطرة»."""
    cs, ce = f.clause
    if NEW_CASUALTY_VERB.search(folded, cs, f.start) or TOLL_VERB.search(folded, cs, f.start):
        return None
    after = folded[f.end : ce]
    # «العديد من الجرحى», «عشرات القتلى» are how vague tolls are told, not a part of one
    if f.quantity.qualifier != "vague" and (m := OF_THE_CASUALTIES_AFTER.match(after)):
        return _at(m, f.end)
    if m := OF_THE_CASUALTIES_BEFORE.search(folded[cs : f.start]):
        return _at(m, cs)
    return _at(STATE_AFTER.match(after), f.end)



def _check_entities(norm: NormalizedText, entities: Sequence[Entity]) -> None:
    n = len(norm.text)
    for k, e in enumerate(entities):
        if not isinstance(e, Entity):
            raise HasilaError(f"entity #{k} is a {type(e).__name__}, not an Entity")
        if not 0 <= e.start <= e.end <= n:
            raise HasilaError(
                f"entity #{k} {e.label} [{e.start}, {e.end}) lies outside the normalized text (length {n})"
            )
        if norm.text[e.start : e.end] != e.text:
            raise HasilaError(
                f"entity #{k} {e.label} [{e.start}, {e.end}) says {e.text!r} but the normalized text there is "
                f"{norm.text[e.start:e.end]!r} (entities must carry offsets into norm.text)"
            )


def _overlaps(s: int, e: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(s < fe and fs < e for fs, fe in spans)


def _usable_entities(entities: Sequence[Entity], cut: int, furniture_spans: Sequence[tuple[int, int]]) -> list[Entity]:
    """Entities of the report in text order: non-empty, before the cut, outside furniture,
    without duplicates; a figure overlapping an earlier figure is dropped (one count per text)."""
    out: list[Entity] = []
    seen: set[tuple[str, int, int]] = set()
    figure_ends: list[tuple[int, int]] = []
    for e in sorted(entities, key=lambda e: (e.start, e.end, e.label)):
        if e.start >= e.end or e.end > cut or _overlaps(e.start, e.end, furniture_spans):
            continue
        if (e.label, e.start, e.end) in seen:
            continue
        if e.label in COUNT_LABELS:
            if _overlaps(e.start, e.end, figure_ends):
                continue
            figure_ends.append((e.start, e.end))
        seen.add((e.label, e.start, e.end))
        out.append(e)
    return out



def _join_doubled_duals(entities: list[Entity], text: str) -> list[Entity]:
    """«ضابطان اثنان»: a dual doubled by «اثنان» is ONE figure of 2 (DOMAIN.md), even when the model
    tagged the two words as two counts; left apart they would be read as 2 + 2. Likewise a number
    and its multiplier tagged apart («25» «ألف», «وخمسة» «آلاف»): one figure, 25,000 — not 25 and 1,000."""
    out: list[Entity] = []
    for e in entities:
        prev = out[-1] if out else None
        if (prev is not None and prev.label == e.label and e.label in COUNT_LABELS
                and not text[prev.end:e.start].strip()
                and (e.text in DOUBLING_TWO or fold_letters(e.text) in MULTIPLIERS)):
            try:
                one = parse_quantity(prev.text).value
                if e.text in DOUBLING_TWO:
                    joins = one == 2
                else:  # joined, the multiplier must multiply: «25 ألف» reads 25,000
                    joins = one is not None and (parse_quantity(text[prev.start:e.end]).value or 0) > one * 10
            except QuantityError:
                joins = False
            if joins:
                scores = [x.span.score for x in (prev, e) if x.span.score is not None]
                score = sum(scores) / len(scores) if scores else None
                out[-1] = Entity(e.label, Span.of(text, prev.start, e.end, score))
                continue
        out.append(e)
    return out


def _context(text: str, folded: str, sent: Sentence, ent: Entity) -> tuple[str, str]:
    # A window of characters first: a few words are never longer than this, and long
    # sentences (scraped text without punctuation) stay linear.
    lo = max(sent.start, ent.start - CONTEXT_CHARS)
    before = words_in(text, folded, lo, ent.start)
    if lo > sent.start and before:
        before = before[1:]  # possibly cut by the window
    before = before[-CONTEXT_WORDS:]
    after = words_in(text, folded, ent.end, min(sent.end, ent.end + CONTEXT_CHARS))[:CONTEXT_WORDS]
    b = text[before[0].start : ent.start] if before else ""
    a = text[ent.end : after[-1].end] if after else ""
    return b, a


def _build_sentences(text: str, cut: int, entities: Sequence[Entity]) -> list[Sentence]:
    paras = paragraph_starts(text)
    sentences = [
        Sentence(i, s, e, bisect_right(paras, s) - 1, split_clauses(text, s, e))
        for i, (s, e) in enumerate(split_sentences(text[:cut]))
    ]
    starts = [s.start for s in sentences]
    for ent in entities:
        k = bisect_right(starts, ent.start) - 1
        if k >= 0 and ent.start < sentences[k].end:
            sentences[k].entities.append(ent)
    return sentences


def _read_figures(text: str, folded: str, sent: Sentence, unread: dict[int, list[Entity]]) -> None:
    figs = sorted((e for e in sent.entities if e.label in COUNT_LABELS), key=lambda e: (e.start, e.end))
    for ent in figs:
        if ent.start == ent.end:
            continue
        before, after = _context(text, folded, sent, ent)
        try:
            quantity = parse_quantity(ent.text, before, after)
        except QuantityError as exc:
            log.debug("figure %r at %d not read: %s", ent.text, ent.start, exc)
            unread.setdefault(sent.index, []).append(ent)
            continue
        sent.figures.append(Figure(ent, sent, sent.clause_of(ent.start), quantity))


# A3b: a figure this large is a toll over many events (monthly statistics, a war's dead),
# not one attack. On the gold train and dev splits the largest figures of single incidents are
# 101 dead and 227 wounded; statistics in the hard negatives run from 844 to 25,000.
_STATISTIC_FLOOR = 500


def _is_cumulative(folded: str, start: int, end: int, disable: frozenset[str] = frozenset()) -> tuple[str, Cue] | None:
    """A3: the clause counts over a long period («منذ آذار 2019», «خلال الشهر الماضي»); A3b: over
    months, or a report's statistics. The rule and its cue, or None."""
    if "A3" not in disable:
        for m in CUMULATIVE.finditer(folded, start, end):
            if not PERIOD_OF_NOUN.search(folded[max(start, m.start() - 30) : m.start()]):
                return "A3", _at(m)
    if "A3b" not in disable:
        m = CUMULATIVE_MORE.search(folded, start, end)
        if m is not None:
            return "A3b", _at(m)
    return None


def _is_not_armed(folded: str, sent: Sentence) -> Cue:
    """A17: the sentence tells an accident, a disaster or a disease and no armed violence."""
    m = ACCIDENT.search(folded, sent.start, sent.end)
    return _at(m) if m is not None and not ARMED.search(folded, sent.start, sent.end) else None


def _is_body_count(folded: str, f: "Figure", cs: int, ce: int) -> Cue:
    """A18: a figure of bodies found («العثور على جثتي [شرطيين]», «انتشال [11] جثة»)."""
    lo = max(cs, f.start - 25)
    m = BODY_NOUN.search(folded[lo : min(ce, f.end + 12)])
    return _at(m, lo) if m is not None and FOUND.search(folded, cs, ce) else None


def _is_reference(folded: str, sent: Sentence, f: "Figure") -> Cue:
    """A20: the figure tells the toll of an earlier attack the sentence refers to. A dated
    reference («على خلفية الاعتداء الذي أوقع الثلاثاء 32 قتيلاً») is left to the date rules."""
    m = BACK_THEN.search(folded, sent.start, min(sent.end, sent.start + BACK_THEN_REACH))
    if m is not None:
        return _at(m)  # told at the head of its sentence: the time of an event told before
    m = REFERENCE_TO_ATTACK.search(folded, sent.start, f.start)
    if m is None:
        return None
    return None if any(e.label == "DATE" and m.start() <= e.start < f.end + 40 for e in sent.entities) else _at(m)


def _first_entity(entities: Sequence[Entity], label: str, start: int, end: int) -> Entity | None:
    for e in entities:
        if e.label == label and start <= e.start < end:
            return e
    return None


def _describe_figures(text: str, folded: str, sent: Sentence, disable: frozenset[str] = frozenset()) -> None:
    """Role cues, victim and own place/date of each figure of the sentence. The role's rule and
    cue are kept on the figure (``--explain``); a disabled rule's cue never fires."""
    figs = sent.figures
    table = (bool(figs) and "A3b" not in disable
             and _at(STATISTICS_TABLE.search(folded, sent.start, sent.end)))
    for k, f in enumerate(figs):
        cs, ce = f.clause
        nxt = figs[k + 1].start if k + 1 < len(figs) else sent.end
        limit = min(nxt, ce) if nxt > f.end else ce
        head = folded[cs : f.start]
        large = "A3b" not in disable and (f.quantity.value or 0) >= _STATISTIC_FLOOR
        cumulative = None if table else _is_cumulative(folded, cs, ce, disable)
        if table or cumulative or large:  # in this order: a report's table, a period, the size
            f.role = "cumulative"
            f.rule, f.cue = ("A3b", table) if table else cumulative if cumulative else ("A3b", None)
            f.campaign = ("A3c" not in disable and not table and (f.quantity.value or 0) < _STATISTIC_FLOOR
                          and SHORT_CAMPAIGN.search(folded, cs, ce) is not None
                          and not CUMULATIVE_MORE.search(folded, cs, ce))
        elif no_event := _no_event_cue(folded, sent, f, disable):
            f.role = "not_event"
            f.rule, f.cue = no_event
        elif "A19" not in disable and (m := EARLY_TOLL.search(head)):
            f.role, f.rule, f.cue = "early", "A19", _at(m, cs)
        elif "A6" not in disable and (m := UPDATE.search(head)):
            f.role, f.rule, f.cue = "update", "A6", _at(m, cs)
        elif "A5" not in disable and (cue := _part_cue(folded, sent, f)):
            f.role, f.rule, f.cue = "part", "A5", cue
        if f.role == "event" and "A22" not in disable:
            f.several_attacks = bool(cue := _is_total_of_attacks(folded, f))
            if cue:
                f.cue = cue
        f.others = bool(m := OTHERS_AFTER.match(folded[f.end : sent.end]))
        if f.others and k > 0 and figs[k - 1].role == "cumulative" and "A3b" not in disable:
            f.role, f.rule, f.cue = "cumulative", "A3b", _at(m, f.end)  # «قتلوا خلال شهر يوليو فيما أصيب 492 آخرون»
        f.victim = find_victim(text, folded, f.entity, (cs, ce), limit, sent.entities)
        f.place = _first_entity(sent.entities, "LOC", f.end, max(f.end, limit))
        f.own_date = _first_entity(sent.entities, "DATE", f.end, max(f.end, limit))


def _no_event_cue(folded: str, sent: Sentence, f: "Figure", disable: frozenset[str]) -> tuple[str, Cue] | None:
    """A17, A18, A20, A21, in this order: the first that fires, with its cue."""
    if "A17" not in disable and (cue := _is_not_armed(folded, sent)):
        return "A17", cue
    if "A18" not in disable and (cue := _is_body_count(folded, f, *f.clause)):
        return "A18", cue
    if "A20" not in disable and (cue := _is_reference(folded, sent, f)):
        return "A20", cue
    if "A21" not in disable and (cue := _is_state_of_casualties(folded, f)):
        return "A21", cue
    return None


def _part_cue(folded: str, sent: Sentence, f: "Figure") -> Cue:
    """A5: a subset cue before the figure («بينهم», «منهم» …), after it («3 منهم»), or a list of
    parts it continues."""
    m = PART_BEFORE.search(folded[sent.start : f.start])
    if m is not None:
        return _at(m, sent.start)
    m = PART_AFTER.match(folded[f.end : sent.end])
    if m is not None:
        return _at(m, f.end)
    return _is_listed_part(folded, sent, f)


def _is_listed_part(folded: str, sent: Sentence, f: "Figure") -> Cue:
    """A figure joined by «و» to a list that a part cue opened, with no new casualty verb between."""
    if not folded[f.start : f.end].startswith("و"):
        return None
    m = PART_LIST.search(folded[sent.start : f.start])
    return _at(m, sent.start) if m is not None and not NEW_CASUALTY_VERB.search(folded, sent.start + m.start(), f.start) else None


