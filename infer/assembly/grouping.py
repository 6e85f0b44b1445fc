"""Grouping: figures into incidents (A7), the same toll told again (A7d, A7e, A7b), wounded of
no side (A7c), updates (A6) and early tolls (A19)."""

from __future__ import annotations

from hasila.infer.actors import victims_conflict
from hasila.infer.arabic.clitics import strip_each
from hasila.infer.assembly.cues import (ANOTHER_ATTACK, DISTINCTIVE_FIGURE)
from hasila.infer.assembly.fields import _choose_location, _location_words
from hasila.infer.assembly.state import (_same_text, Figure, Sentence, Slot)

def _build_slots(sentences: list[Sentence], text: str, folded: str) -> list[Slot]:
    """A7: figures → incidents, in text order."""
    slots: list[Slot] = []
    group = -1
    previous: list[Slot] = []  # the incidents of the last sentence that had figures
    for sent in sentences:
        figs = [f for f in sent.figures if f.role in ("event", "update")]
        current: Slot | None = None
        here: list[Slot] = []
        for k, f in enumerate(figs):
            if k == 0 and f.others and f.role == "event" and previous and \
                    sent.index - max(previous[-1].sentences) <= 2:
                # «وأصيب 3 آخرون»: the figure continues the previous sentence's event.
                target = next((p for p in previous if f.label not in p.figures
                               and not victims_conflict(p.victim(), f.victim, text)), None)
                if target is not None:
                    target.figures[f.label] = f
                    target.sentences.add(sent.index)
                    current = target
                else:
                    current = Slot({f.label: f}, previous[0].group, sentences={sent.index})
                    slots.append(current)
                here.append(current)
                continue
            split_place = (
                current is not None
                and f.place is not None
                and current.place() is not None
                and not _same_text(folded, f.place, current.place())
            )
            joins = (
                current is not None
                and f.role == "event"
                # «ارتفعت الحصيلة إلى 15 قتيلاً، فيما أصيب نحو 30»: the wounded go with the update
                and all(g.role in ("event", "update") for g in current.figures.values())
                and f.label not in current.figures
                and not victims_conflict(current.victim(), f.victim, text)
                and not split_place
                and f.of_total is None
                and all(g.of_total is None for g in current.figures.values())
            )
            if joins:
                current.figures[f.label] = f
                continue
            new_event = current is None or split_place or (f.of_total is not None and f.split_by_place)
            if new_event:
                group += 1
            current = Slot({f.label: f}, group, sentences={sent.index})
            slots.append(current)
            here.append(current)
        if here:
            previous = here
    return slots


def _told_again(a: "Figure", b: "Figure", folded: str) -> bool:
    """Whether ``b`` can be ``a``'s toll told again: the same value, the same victim words (or
    one names none), and not two nouns that count by themselves and differ («ضابطان اثنان
    وجنديان»: different people)."""
    if a.value is None or a.value != b.value:
        return False
    if a.victim is not None and b.victim is not None and \
            folded[a.victim.start:a.victim.end].split()[:1] != folded[b.victim.start:b.victim.end].split()[:1]:
        return False
    ta, tb = folded[a.start:a.end], folded[b.start:b.end]
    if any(ch.isdigit() for ch in ta + tb) or _outside_victim(a) or _outside_victim(b):
        return True
    return strip_each(ta, "told_again") == strip_each(tb, "told_again")


def _outside_victim(f: "Figure") -> bool:
    """The figure names its victims in words of their own («18 شخصًا»), not in the count itself («وجنديان»)."""
    v = f.victim
    return v is not None and (v.end <= f.start or v.start >= f.end)


def _merge_restatements(slots: list[Slot], folded: str) -> list[Slot]:
    """A7d: within one event, the same figures told again in the same sentence («قتل 12 شخصا
    وأصيب العشرات …، وقال مسؤول محلي: «… ما أدى إلى مقتل 12 شخصا بينهم امرأة، وإصابة عشرات
    آخرين»») are one incident, not two sides with equal tolls: a later slot whose every figure has
    the value and the victim words of one of an earlier slot of its event."""
    out: list[Slot] = []
    for slot in slots:
        target = None
        # «أربعة جنود آخرين قتلوا»: other dead, not the same ones told again.
        others = any(f.others for f in slot.figures.values() if f.label == "KILLED")
        if not others and not any(f.of_total for f in slot.figures.values()):
            for cand in out:
                if (
                    cand.group != slot.group
                    or set(slot.figures) - set(cand.figures)
                    or any(f.of_total for f in cand.figures.values())
                ):
                    continue
                if all(_told_again(cand.figures[k], f, folded) for k, f in slot.figures.items()):
                    target = cand
                    break
        if target is None:
            out.append(slot)
            continue
        for k, f in slot.figures.items():
            f.rule, f.cue, f.ref = "A7d", None, target.figures[k]
        target.repeats.extend(slot.figures.values())
        target.absorb(slot)
    return out


def _split_sideless_wounded(slots: list[Slot]) -> list[Slot]:
    """A7c (G23): when an event's dead are split by side («مقتل 12 من الأمن و3
    عمال وإصابة 7 آخرين»), wounded that name no side belong to neither: they become an incident
    of their own in the same event, not a figure of the last side's."""
    # The dead split by side in the wounded's own sentence: an event group can also gather
    # later sentences («و21 مسلحا آخرين» continuing it), which split nothing here.
    killed_slots: dict[tuple[int, int], int] = {}
    for slot in slots:
        if "KILLED" in slot.figures:
            key = (slot.group, slot.figures["KILLED"].sentence.index)
            killed_slots[key] = killed_slots.get(key, 0) + 1
    out: list[Slot] = []
    for slot in slots:
        out.append(slot)
        wounded = slot.figures.get("WOUNDED")
        if (wounded is None or "KILLED" not in slot.figures
                or killed_slots.get((slot.group, wounded.sentence.index), 0) < 2
                or wounded.victim is not None or wounded.role != "event"):
            continue
        del slot.figures["WOUNDED"]
        wounded.rule, wounded.cue = "A7c", None
        out.append(Slot({"WOUNDED": wounded}, slot.group, sentences={wounded.sentence.index}))
    return out


def _merge_updates(slots: list[Slot], sentences: list[Sentence], text: str, folded: str) -> list[Slot]:
    """A6: an update replaces the figure of the latest compatible earlier incident."""
    out: list[Slot] = []
    for slot in slots:
        update = next((f for f in slot.figures.values() if f.role == "update"), None)
        target = None
        if update is not None:
            mine = _place_words(slot, sentences, text, folded)
            for cand in reversed(out):
                old = cand.figures.get(update.label)
                if old is None or victims_conflict(cand.victim(), update.victim, text):
                    continue
                theirs = _place_words(cand, sentences, text, folded)
                if mine and theirs and not mine & theirs:
                    continue
                target = cand
                break
        if target is None:
            if update is not None:
                update.rule, update.cue = None, None  # an ordinary figure (A7)
            out.append(slot)
            continue
        for label, f in slot.figures.items():
            old = target.figures.get(label)
            if old is not None and f.role == "update":
                old.rule, old.cue, old.ref = "A6", f.cue, f
                target.superseded.append(old)
                target.figures[label] = f
            elif old is None:
                f.rule, f.cue = "A6", None
                target.figures[label] = f
            else:  # the updated incident has this figure already: this one is lost
                f.rule, f.cue, f.ref, f.lost = "A6", None, old, True
        target.absorb(slot)  # with its repeats: A7d, applied before, may have given it some
        _join_groups(slots, slot.group, target.group)
    return out


def _join_groups(slots: list[Slot], old: int, new: int) -> None:
    """The event ``old`` is ``new``: its other incidents join it."""
    for other in slots:
        if other.group == old:
            other.group = new



def _place_words(slot: Slot, sentences: list[Sentence], text: str, folded: str) -> set[str]:
    # the places the tellings themselves name (A9c's look-ahead would make every telling of
    # an attack in a country meet its later, specific place)
    loc, loc_sent, _ = _choose_location(slot, sentences, text, folded, look_ahead=False)
    if loc is None or loc_sent is None:
        return set()
    return _location_words(loc, loc_sent, text, folded)


def _drop_repeated_totals(slots: list[Slot], all_figs: list[Figure], text: str) -> list[Slot]:
    """A7e (A7b for totals): a headline «مقتل 35» over a body that splits its 35 into attacks is
    the total told again, not one more incident; it goes to the first part's ``repeats``."""
    totals = [f for f in all_figs if f.role == "total"]
    if not totals:
        return slots
    first_part: dict[int, Slot] = {}
    for slot in slots:
        for f in slot.figures.values():
            if f.of_total is not None:
                first_part.setdefault(id(f.of_total), slot)
    out: list[Slot] = []
    for slot in slots:
        for label, f in list(slot.figures.items()):
            if f.of_total is not None or f.role != "event":
                continue
            for t in totals:
                if (t.label == label and t.value == f.value and t.sentence is not f.sentence
                        and id(t) in first_part and not victims_conflict(t.victim, f.victim, text)):
                    f.rule, f.cue, f.ref = "A7e", None, t
                    first_part[id(t)].repeats.append(f)
                    first_part[id(t)].sentences.add(f.sentence.index)
                    del slot.figures[label]
                    break
        if slot.figures:
            out.append(slot)
    return out


# A7b: figures this large, told again exactly, are the same toll even where the two tellings

def _tells_another_attack(folded: str, slot: Slot) -> bool:
    sent = slot.first.sentence
    return ANOTHER_ATTACK.search(folded, sent.start, sent.end) is not None


def _distinctive(a: Slot, common: set[str]) -> bool:
    return all(a.figures[k].value is not None and a.figures[k].value >= DISTINCTIVE_FIGURE for k in common)


def _merge_repeats(slots: list[Slot], sentences: list[Sentence], text: str, folded: str) -> list[Slot]:
    """A7b: the same figures told again (a headline and its lead, a quote) are one incident,
    anchored at the first telling."""
    out: list[Slot] = []
    places = {id(slot): _place_words(slot, sentences, text, folded) for slot in slots}
    for slot in slots:
        target = None
        if not any(f.of_total for f in slot.figures.values()):
            mine = places[id(slot)]
            for cand in out:
                common = set(cand.figures) & set(slot.figures)
                if (
                    not common
                    or cand.group == slot.group
                    or any(f.of_total for f in cand.figures.values())
                    or any(cand.figures[k].value is None or cand.figures[k].value != slot.figures[k].value for k in common)
                    or victims_conflict(cand.victim(), slot.victim(), text)
                ):
                    continue
                theirs = places[id(cand)]
                if mine and theirs and not mine & theirs and (
                        not _distinctive(cand, common) or _tells_another_attack(folded, slot)):
                    continue
                target = cand
                places[id(cand)] = theirs | mine
                break
        if target is None:
            out.append(slot)
            continue
        for label, f in slot.figures.items():
            # The incident stays at the figure's first telling (where readers and annotators meet
            # it, and what its own sentence says is what the gold incidents take); the later
            # tellings are its repeats and fill in what the first does not say (_retold_sentences).
            if label in target.figures:
                f.rule, f.cue, f.ref = "A7b", None, target.figures[label]
                target.repeats.append(f)
            else:
                f.rule, f.cue = "A7b", None
                target.figures[label] = f
        target.absorb(slot)
        _join_groups(slots, slot.group, target.group)
    return out


def _attach_early_tolls(slots: list[Slot], all_figs: list[Figure], text: str) -> list[Slot]:
    """A19: an early toll («الحصيلة الأولية», «وكانت الحصيلة») is an earlier figure of an
    event told elsewhere in the article: it goes to the ``superseded`` of the nearest incident
    with a figure of its label and a compatible victim; with none, it is an incident itself."""
    for f in all_figs:
        if f.role != "early":
            continue
        cands = [s for s in slots if f.label in s.figures and not victims_conflict(s.victim(), f.victim, text)]
        if cands:
            nearest = min(cands, key=lambda s: abs(s.figures[f.label].start - f.start))
            f.ref = nearest.figures[f.label]
            nearest.superseded.append(f)
        else:
            f.role, f.rule, f.cue = "event", None, None
            slots.append(Slot({f.label: f}, max((s.group for s in slots), default=-1) + 1, sentences={f.sentence.index}))
    return slots


