"""The incident: evidence (A13), confidence (A14), background events (A15), disputes (A16), and
the record of each figure's fate (``--explain``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from hasila.infer.actors import actor_key
from hasila.infer.assembly.fields import (_choose_date, _choose_location, _choose_perpetrator, _choose_source,
                                          _choose_victim, _location_chain, _other_side)
from hasila.infer.assembly.state import (Figure, NEWS_DAYS, Sentence, Slot)
from hasila.infer.dates import latest_day, resolve_date
from hasila.infer.normalize import NormalizedText
from hasila.infer.types import Count, DateRef, Entity, Incident, Span

def _count(norm: NormalizedText, f: Figure) -> Count:
    return Count(norm.original_span(f.start, f.end, score=f.entity.span.score), f.quantity)


def _span(norm: NormalizedText, start: int, end: int, score: float | None = None) -> Span:
    return norm.original_span(start, end, score=score)


def _count_json(norm: NormalizedText, f: Figure) -> dict[str, Any]:
    return {**_count(norm, f).to_json(), "label": f.label}



def _make_incident(slot: Slot, norm: NormalizedText, folded: str, sentences: list[Sentence],
                   article_date: dt.date | None, unread: dict[int, list[Entity]],
                   group: Sequence[Slot]) -> Incident:
    """One incident's record: its fields (A8-A12), evidence (A13) and confidence (A14)."""
    text = norm.text
    figs = sorted(slot.figures.values(), key=lambda f: f.start)
    inherited: list[str] = []
    victim, victim_inh = _choose_victim(slot, sentences, text, folded)
    source, src_inh = _choose_source(slot, sentences)
    perp, perp_inh = _choose_perpetrator(slot, victim, source, sentences, text, folded)
    perp_from_other_side = False
    if perp is None and victim is not None and victim.kind == "combatant":
        perp = _other_side(victim, [g for g in group if g is not slot], text)
        perp_from_other_side = perp is not None
    loc, loc_sent, loc_inh = _choose_location(slot, sentences, text, folded)
    date_ent, date_inh = _choose_date(slot, sentences)
    slot.date = date_ent
    for name, flag in (("victim", victim_inh), ("source", src_inh), ("perpetrator", perp_inh), ("location", loc_inh), ("date", date_inh)):
        if flag:
            inherited.append(name)

    # A13: the evidence is the hull of the sentences the figures came from (and the figure spans).
    ev_sents = [sentences[i] for i in sorted(slot.sentences | {f.sentence.index for f in figs})]
    ev_start = min([s.start for s in ev_sents] + [f.start for f in figs])
    ev_end = max([s.end for s in ev_sents] + [f.end for f in figs])

    date_ref = None
    if date_ent is not None:
        resolved, precision = resolve_date(date_ent.text, article_date)
        date_ref = DateRef(_span(norm, date_ent.start, date_ent.end, date_ent.span.score), resolved, precision)

    # A14: confidence = s · (0.5 + 0.1 · n), n of the five fields found; × 0.8 when no figure has a value.
    found = sum(x is not None for x in (victim, perp, loc, date_ent, source))
    scores = [f.entity.span.score if f.entity.span.score is not None else 1.0 for f in figs]
    confidence = (sum(scores) / len(scores)) * (0.5 + 0.1 * found)
    if all(f.value is None for f in figs):
        confidence *= 0.8

    extra: dict[str, Any] = {"event_group": slot.group}
    parts = [p for f in figs for p in f.parts]
    if parts:
        extra["parts"] = [_count_json(norm, p) for p in sorted(parts, key=lambda p: p.start)]
    totals = {id(f.of_total): f.of_total for f in figs if f.of_total is not None}
    if totals:
        extra["of_total"] = [_count_json(norm, t) for t in totals.values()]
    if slot.superseded:
        extra["superseded"] = [_count_json(norm, f) for f in slot.superseded]
    if slot.repeats:
        extra["repeats"] = [_count_json(norm, f) for f in sorted(slot.repeats, key=lambda f: f.start)]
    if loc is not None and loc_sent is not None:
        chain = _location_chain(loc, loc_sent, text, folded)
        if chain:
            extra["location_context"] = [_span(norm, e.start, e.end, e.span.score).to_json() for e in chain]
    lost = [e for s in ev_sents for e in unread.get(s.index, [])]
    if lost:
        extra["unread_counts"] = [{**_span(norm, e.start, e.end, e.span.score).to_json(), "label": e.label} for e in lost]
    if inherited:
        extra["inherited"] = inherited
    if perp_from_other_side:
        extra["perpetrator_is_other_side"] = True

    killed = slot.figures.get("KILLED")
    wounded = slot.figures.get("WOUNDED")
    return Incident(
        evidence=_span(norm, ev_start, ev_end),
        killed=_count(norm, killed) if killed else None,
        wounded=_count(norm, wounded) if wounded else None,
        perpetrator=_span(norm, perp.start, perp.end) if perp else None,
        victim=_span(norm, victim.start, victim.end) if victim else None,
        location=_span(norm, loc.start, loc.end, loc.span.score) if loc else None,
        date=date_ref,
        source=_span(norm, source.start, source.end) if source else None,
        confidence=max(0.0, min(1.0, confidence)),
        extra=extra,
    )



def _is_background(inc: Incident, article_date: dt.date | None) -> bool:
    """A15: an event dated, in its own sentence, more than two weeks before the article."""
    if article_date is None or inc.date is None or inc.date.resolved is None:
        return False
    if "date" in inc.extra.get("inherited", []):
        return False
    return latest_day(inc.date.resolved, inc.date.precision) < article_date - dt.timedelta(days=NEWS_DAYS)


def _mark_disputes(incidents: list[Incident], text: str) -> None:
    """A16: one event, different figures from different sources → ``extra["disputed"]``."""
    by_group: dict[int, list[Incident]] = {}
    for inc in incidents:
        by_group.setdefault(inc.extra["event_group"], []).append(inc)
    for members in by_group.values():
        for a in members:
            for b in members:
                if a is b or a.source is None or b.source is None:
                    continue
                if actor_key(a.source.text) == actor_key(b.source.text):
                    continue
                differ = any(
                    x is not None and y is not None and x.value != y.value
                    for x, y in ((a.killed, b.killed), (a.wounded, b.wounded))
                )
                if differ:
                    a.extra["disputed"] = True
