"""The fields of an incident: victim (A8), location (A9, A9b, A9c), date (A10), source (A11),
perpetrator (A12)."""

from __future__ import annotations

import re
from typing import Any, Sequence

from hasila.infer.actors import Mention, Victim, actor_key, bare, has_attack_anaphora, words_in
from hasila.infer.arabic.clitics import strip_first, strip_towards
from hasila.infer.assembly.cues import (ANOTHER_ATTACK, COARSE_PLACES, DIRECTIONS, FOLLOWING_SENTENCES,
                                        GENERIC_PLACE_WORDS, HQ_WORDS, MEMBER_STEMS, PLACE_AFTER_ATTACK,
                                        PLACE_WORDS, SINCE_BEFORE, THE_ATTACK_HAPPENED)
from hasila.infer.assembly.state import (Figure, LOOKBACK_SENTENCES, Sentence, Slot)
from hasila.infer.types import Entity

def _sentence_locations(sent: Sentence, folded: str) -> list[Entity]:
    out = []
    for e in sent.entities:
        if e.label != "LOC":
            continue
        head = folded[max(sent.start, e.start - 30) : e.start]
        if HQ_WORDS.search(head):
            continue  # «ومقره بريطانيا»: where the source sits, not the event
        out.append(e)
    return sorted(out, key=lambda e: e.start)


def _event_location(sent: Sentence, text: str, folded: str) -> Entity | None:
    """A9: the first place introduced by a place word that does not merely enclose the
    place named just before it («في قضاء البعاج شمال غرب بغداد» → «البعاج», never «بغداد»)."""
    heads = [e for e in sent.locations if not any(_continues(p, e, text, folded) for p in sent.locations if p.end <= e.start)]
    for e in heads:
        head = folded[max(sent.start, e.start - 20) : e.start]
        key = folded[e.start : e.end]
        if PLACE_WORDS.search(head) or key.startswith("ب"):
            return _pair_cover(e, sent, text, folded)
    return _pair_cover(heads[0], sent, text, folded) if heads else None


def _continues(prev: Entity, e: Entity, text: str, folded: str) -> bool:
    """``e`` encloses ``prev``: it follows within three words («بريف دير الزور», «شمال غرب
    بغداد», «(جنوب الموصل)»), with no comma, full stop or «و» between them."""
    if e.start < prev.end:
        return False
    gap_words = words_in(text, folded, prev.end, e.start)
    gap = folded[prev.end : e.start]
    return not (
        len(gap_words) > 3
        or re.search(r"[.،,؛;:!?؟\)\]]", gap)
        or any(w.key in ("و", "او", "أو") for w in gap_words)
        or folded[e.start] == "و"
    )


def _location_chain(loc: Entity, sent: Sentence, text: str, folded: str) -> list[Entity]:
    chain: list[Entity] = []
    prev = loc
    for e in sent.locations:
        if e.start < prev.end:
            continue
        if not _continues(prev, e, text, folded):
            break
        chain.append(e)
        prev = e
    return chain


def _pair_cover(loc: Entity, sent: Sentence, text: str, folded: str) -> Entity:
    """A9b (G21): two places joined by «و» («بلدتي الفوعة وكفريا في محافظة
    إدلب», «قضاء المقدادية وناحية كنعان في بعقوبة»): the event covers both, so its place is the
    smallest place named around the pair — the first that encloses the second. Without one,
    the first place stays."""
    nxt = next((e for e in sent.locations if e.start >= loc.end), None)
    if nxt is None:
        return loc
    gap = words_in(text, folded, loc.end, nxt.start)
    joined = folded[nxt.start] == "و" and not gap or (
        len(gap) <= 1 and (not gap or gap[0].key == "و" or gap[0].key.startswith("و") and not gap[0].key.startswith("وفي"))
        and not re.search(r"[.،,؛;:!?؟()]", folded[loc.end : nxt.start])
    )
    if not joined:
        return loc
    for e in sent.locations:
        if e.start >= nxt.end:
            gap_words = words_in(text, folded, nxt.end, e.start)
            if len(gap_words) <= 3 and not re.search(r"[.،,؛;:!?؟]", folded[nxt.end : e.start]) and \
                    any(PLACE_WORDS.search(folded[w.start : w.end + 1]) for w in gap_words[-2:]):
                return e
            break
    return loc


def _is_report_date(e: Entity, sent: Sentence, text: str, folded: str) -> bool:
    """A10 (G19): «أفاد المرصد اليوم الإثنين بمقتل …»: the date of the report, not of the event."""
    for m in sent.sources:
        if m.cue <= e.start < m.start:
            return True
        if m.end <= e.start <= m.end + 30 and len(words_in(text, folded, m.end, e.start)) <= 1:
            return True
    return False


def _sentence_dates(sent: Sentence, text: str, folded: str) -> list[Entity]:
    """A10: the event dates a sentence can give: not periods («منذ …») nor the date of the report."""
    out = []
    for e in sent.entities:
        if e.label != "DATE":
            continue
        if SINCE_BEFORE.search(folded[max(sent.start, e.start - 30) : e.start]) or folded[e.start : e.end].startswith("منذ"):
            continue  # a period («منذ 2 آذار»), not the event's date
        if _is_report_date(e, sent, text, folded):
            continue
        out.append(e)
    return sorted(out, key=lambda e: e.start)


def _nearest(items: Sequence[Any], pos: int) -> Any:
    return min(items, key=lambda x: abs(x.start - pos)) if items else None


def _choose_source(slot: Slot, sentences: list[Sentence]) -> tuple[Mention | None, bool]:
    """A11: the reporting name nearest before the first figure in its sentence, else the first
    after it, else one of a sentence telling the figures again (A7b), else the nearest before it
    in its paragraph (inherited). The outlet's own reporting has none."""
    first = slot.first
    sent = first.sentence
    before = [m for m in sent.sources if m.cue < first.start]
    if before:
        return before[-1], False
    if sent.sources:
        return sent.sources[0], False
    for later in _retold_sentences(slot, sent):  # the lead that tells a headline's toll again
        if later.sources:
            return later.sources[0], False
    # Else the nearest attribution before it in its paragraph: a report's later sentences go on
    # in its voice, while an attribution further on, or another paragraph's, is someone else's
    # (on the gold train split, source F1 40.6 → 46.6 against taking the paragraph's or the
    # article's first attribution).
    earlier = [m for s in sentences[: sent.index] if s.paragraph == sent.paragraph for m in s.sources]
    return (earlier[-1], True) if earlier else (None, False)


def _choose_perpetrator(slot: Slot, victim: Victim | None, source: Mention | None, sentences: list[Sentence],
                        text: str, folded: str) -> tuple[Mention | None, bool]:
    """A12: the attacker named by a cue in the sentence nearest to the figure — never the victim,
    the side attacked, or (unless it claims the attack) the source; else, when the sentence
    refers back to an attack, one of the three sentences before it, or the total's (inherited).
    The other side of a two-sided event is tried by the caller (``_other_side``)."""
    first = slot.first
    sent = first.sentence
    vkey = actor_key(text[victim.start : victim.end]) if victim else None

    targets = [t for s in sentences[max(0, sent.index - LOOKBACK_SENTENCES) : sent.index + 1] for t in s.targets]

    def ok(m: Mention) -> bool:
        if victim is not None and (m.start < victim.end and victim.start < m.end or actor_key(text[m.start : m.end]) == vkey):
            return False
        if any(t.start == m.start and t.end == m.end for t in targets):
            return False  # the side attacked («حاجزا للشرطة وقتلوا …») is not the attacker
        if source is not None and not m.claim and m.start == source.start and m.end == source.end:
            return False
        return True

    here = [m for m in sent.perpetrators if ok(m)]
    if here:
        return _nearest(here, first.start), False
    earlier: list[Sentence] = []
    total = _total_of(slot)
    if total is not None and total.sentence is not sent:
        earlier.append(total.sentence)  # the parts of a total share its attacker
    if has_attack_anaphora(folded, sent.start, sent.end):
        earlier += reversed(sentences[max(0, sent.index - LOOKBACK_SENTENCES) : sent.index])
    for prev in earlier:
        cands = [m for m in prev.perpetrators if ok(m)]
        if cands:
            return cands[0], True
    return None, False



COARSE_OR_DIRECTION = COARSE_PLACES | DIRECTIONS


def _is_coarse(loc: Entity, folded: str) -> bool:
    words = []
    for w in folded[loc.start : loc.end].split():
        w = strip_towards(w, "coarse_place", COARSE_OR_DIRECTION) or w
        if w not in DIRECTIONS:
            words.append(w)
    key = " ".join(words)
    return key in COARSE_PLACES or ("ال" + key) in COARSE_PLACES or key.removeprefix("ال") in COARSE_PLACES


def _specific_place_after(sent: Sentence, sentences: list[Sentence], text: str, folded: str) -> tuple[Entity, Sentence] | None:
    """A9c: the first specific place of a following sentence that refers back to the attack."""
    for later in sentences[sent.index + 1 : sent.index + 1 + FOLLOWING_SENTENCES]:
        if ANOTHER_ATTACK.search(folded, later.start, later.end):
            return None  # the next attack's sentences
        m = THE_ATTACK_HAPPENED.search(folded, later.start, later.end)
        if m is None:
            continue
        places = [e for e in later.locations if e.start >= m.end() and e.start - m.end() <= PLACE_AFTER_ATTACK]
        for loc in places:
            if not _is_coarse(loc, folded):
                return _pair_cover(loc, later, text, folded), later
    return None


def _retold_sentences(slot: Slot, first: Sentence) -> list[Sentence]:
    """Sentences other than ``first`` that tell the slot's figures again (A7b), in text order."""
    out: list[Sentence] = []
    for f in sorted(slot.repeats, key=lambda f: f.start):
        if f.sentence is not first and f.sentence not in out:
            out.append(f.sentence)
    return out


def _choose_location(slot: Slot, sentences: list[Sentence], text: str, folded: str,
                     look_ahead: bool = True) -> tuple[Entity | None, Sentence | None, bool]:
    """A9 (with A9b, A9c): the figures' own place, else the sentence's event place; a later
    telling's place that names this one and more (A7b); a country gives way to the town a
    later sentence names (A9c); else the place of one of the three sentences before it."""
    own = slot.place()
    first = slot.first
    retold = _retold_sentences(slot, first.sentence)
    if own is not None:
        owner = next(f.sentence for f in slot.figures.values() if f.place is own)
        loc, sent = _pair_cover(own, owner, text, folded), owner
    else:
        loc, sent = _event_location(first.sentence, text, folded), first.sentence
    if loc is not None:
        # A later telling that names this place and more («في بادية السخنة شرقي حمص» after
        # «في بادية حمص») has the most specific place.
        mine = _location_words(loc, sent, text, folded) if retold else set()
        for later in retold:
            other = _event_location(later, text, folded)
            if other is not None and mine < _location_words(other, later, text, folded):
                return other, later, False
        if look_ahead and _is_coarse(loc, folded):
            found = _specific_place_after(sent, sentences, text, folded)
            if found is not None:
                return found[0], found[1], True  # from outside the incident's evidence
        return loc, sent, False
    for later in retold:
        loc = _event_location(later, text, folded)
        if loc is not None:
            return loc, later, False
    for prev in reversed(sentences[max(0, first.sentence.index - LOOKBACK_SENTENCES) : first.sentence.index]):
        loc = _event_location(prev, text, folded)
        if loc is not None:
            return loc, prev, True
    return None, None, False


def _choose_date(slot: Slot, sentences: list[Sentence]) -> tuple[Entity | None, bool]:
    """A10: the figure's own DATE, else the one of its sentence nearest to it, else one of a
    sentence telling it again (A7b), else the first of the nearest dated sentence among the
    three before it (inherited)."""
    first = slot.first
    for f in sorted(slot.figures.values(), key=lambda f: f.start):
        if f.own_date is not None and f.own_date in first.sentence.dates + f.sentence.dates:
            return f.own_date, False
    if first.sentence.dates:
        return _nearest(first.sentence.dates, first.start), False
    for sent in _retold_sentences(slot, first.sentence):
        if sent.dates:
            return _nearest(sent.dates, sent.start), False
    # Else the first date of the nearest dated sentence among the three before it: an event's
    # date comes early in its sentence (later ones date reports and reactions), and an article's
    # opening date does not reach its far paragraphs (train date F1 52.1 → 53.7, dev 55.0 → 61.0).
    for prev in reversed(sentences[max(0, first.sentence.index - LOOKBACK_SENTENCES) : first.sentence.index]):
        if prev.dates:
            return prev.dates[0], True
    return None, False



def _total_of(slot: Slot) -> Figure | None:
    return next((f.of_total for f in slot.figures.values() if f.of_total is not None), None)



def _says_only_members(text: str, folded: str, victim: Victim) -> bool:
    return any(bare(w.key, stems=MEMBER_STEMS) for w in words_in(text, folded, victim.start, victim.end))


def _choose_victim(slot: Slot, sentences: list[Sentence], text: str, folded: str) -> tuple[Victim | None, bool]:
    """A8: the figures' own victim; when that names no side (nothing, or members only:
    «عناصر», «أفراد»), the side attacked in the sentence («هجوم على قوات النظام»), or in the
    attack an earlier sentence told when this one refers back to it."""
    victim = slot.victim()
    members_only = victim is not None and victim.kind == "combatant" and _says_only_members(text, folded, victim)
    if victim is not None and (victim.named or not members_only):
        return victim, False
    total = _total_of(slot)
    if total is not None and total.victim is not None and (total.victim.named or victim is None):
        return total.victim, True  # «وقتل 27 منهم في …»: the total's side
    sent = slot.first.sentence
    pools = [(sent, False)]
    if has_attack_anaphora(folded, sent.start, sent.end):
        pools += [(prev, True) for prev in reversed(sentences[max(0, sent.index - LOOKBACK_SENTENCES) : sent.index])]
    for pool, inherited in pools:
        attackers = {actor_key(text[m.start : m.end]) for m in sent.perpetrators + pool.perpetrators}
        for m in pool.targets:
            if actor_key(text[m.start : m.end]) not in attackers:
                return Victim(m.start, m.end, True, "combatant"), inherited
    return victim, False


def _other_side(victim: Victim | None, group: Sequence[Slot], text: str) -> Mention | None:
    """A12: in a two-sided event, one side's casualties were caused by the other side."""
    if victim is None or not victim.named:
        return None
    key = actor_key(text[victim.start : victim.end])
    for other in group:
        v = other.victim()
        if v is not None and v.named and v.kind == "combatant" and actor_key(text[v.start : v.end]) != key:
            return Mention(v.start, v.start, v.end)
    return None


def _location_words(loc: Entity, loc_sent: Sentence, text: str, folded: str) -> set[str]:
    """The place's words and its context's, without «ال»/«ريف»/«مدينة»…: what two tellings compare."""
    out = set()
    for e in [loc] + _location_chain(loc, loc_sent, text, folded):
        for w in words_in(text, folded, e.start, e.end):
            key = strip_first(w.key, "place", 3) or w.key
            if w.is_letters and key not in GENERIC_PLACE_WORDS and w.key not in GENERIC_PLACE_WORDS:
                out.add(key)
    return out
