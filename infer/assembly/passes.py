"""The engine: one article's state (:class:`Doc`) run through :data:`PASSES`, the single
statement of the order in which the assembly rules apply.

A pass names the rules (``A…``) it applies. Rules that drop, merge or reassign figures can be
turned off one by one (``disable={"A7b"}``; :data:`DISABLEABLE`); reading figures and building
incidents and their fields cannot. A rule can act in more than one pass (A5, A6 and A19 set a
figure's role in ``roles`` and act on it later): disabling it turns off all of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Collection, Sequence

from hasila.infer.actors import find_perpetrators, find_sources, find_targets
from hasila.infer.assembly.figures import (_build_sentences, _check_entities, _describe_figures,
                                           _drop_totals_of_attacks, _join_doubled_duals, _read_figures,
                                           _usable_entities)
from hasila.infer.assembly.fields import _sentence_dates, _sentence_locations
from hasila.infer.assembly.grouping import (_attach_early_tolls, _build_slots, _drop_repeated_totals,
                                            _merge_repeats, _merge_restatements, _merge_updates,
                                            _split_sideless_wounded)
from hasila.infer.assembly.incident import _is_background, _make_incident, _mark_disputes
from hasila.infer.assembly.state import Figure, Sentence, Slot
from hasila.infer.assembly.structure import (_attach_parts, _count_named_lists, _drop_parts_of_cumulative,
                                             _find_breakdowns)
from hasila.infer.furniture import furniture
from hasila.infer.labels import COUNT_LABELS
from hasila.infer.normalize import NormalizedText, fold_letters
from hasila.infer.types import Entity, HasilaError, Incident

# Every assembly rule: id → what it does. Guideline rules (annotations/GUIDELINES.md, "Decision
# rules") are G1…G41, a separate series.
RULES: dict[str, str] = {
    "A1": "page furniture: entities after the content or inside furniture are ignored",
    "A2": "figures: each KILLED/WOUNDED span read as a count (doubled duals and split multipliers joined)",
    "A3": "cumulative statistics: a clause counting over a long period («منذ آذار 2019») makes no incident",
    "A3b": "cumulative too: months, a report's statistics or tables, figures of 500 or more, «آخرون» after one",
    "A3c": "a week's toll broken down by place is its attacks",
    "A3d": "the parts of a figure that makes no incident make none either",
    "A4": "breakdowns: parts that add up to a total (by place: the parts are the incidents; by kind: parts)",
    "A5": "subsets: a figure after «بينهم», «منهم» … is a part of the nearest whole",
    "A5b": "named lists: lone titles listed with their names are one figure",
    "A6": "updates: «ارتفعت الحصيلة إلى …» replaces the figure of the earlier incident",
    "A7": "grouping: figures of a sentence fill incidents in text order",
    "A7b": "repeats: the same figures told again in another sentence are one incident, at the first telling",
    "A7c": "wounded of no side are an incident of their own when the dead are split by side",
    "A7d": "told again in one sentence: the same toll within one event is one incident",
    "A7e": "a figure equal to a total split into its attacks is that total told again",
    "A8": "victim", "A9": "location", "A9b": "two places joined by «و»: the smallest place around both",
    "A9c": "a country gives way to the town a later sentence names for the attack",
    "A10": "date", "A11": "source", "A12": "perpetrator", "A13": "evidence", "A14": "confidence",
    "A15": "background: an event dated more than 14 days before the article is dropped",
    "A16": "disputes: one event's different figures from different sources are marked",
    "A17": "not armed violence (accidents, disasters, disease) makes no incident",
    "A18": "bodies found make no incident",
    "A19": "early tolls («الحصيلة الأولية») are superseded by the event's figure",
    "A20": "the toll of an earlier attack referred to makes no incident",
    "A21": "the state of casualties already told makes no incident",
    "A22": "a toll of several attacks makes no incident when the attacks are told one by one",
}

# The rules that drop, merge or reassign figures: these can be disabled.
DISABLEABLE: frozenset[str] = frozenset(
    {"A3", "A3b", "A3c", "A3d", "A4", "A5", "A5b", "A6", "A7b", "A7c", "A7d", "A7e", "A15",
     "A17", "A18", "A19", "A20", "A21", "A22"}
)


@dataclass
class Doc:
    """One article on its way through the passes."""

    norm: NormalizedText
    entities: Sequence[Entity]
    article_date: dt.date | None
    disable: frozenset[str]
    text: str = ""
    folded: str = ""
    cut: int = 0
    furniture_spans: Sequence[tuple[int, int]] = ()
    kept: list[Entity] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    unread: dict[int, list[Entity]] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    made: list[tuple[Slot, Incident]] = field(default_factory=list)  # after A15: the incidents kept
    dropped: list[tuple[Slot, Incident]] = field(default_factory=list)  # by A15
    done: bool = False  # nothing left to assemble (no figures)


@dataclass(frozen=True)
class Pass:
    name: str
    rules: tuple[str, ...]  # the rules it applies
    run: Callable[[Doc], None]
    optional: bool = False  # skipped when its rule (the only one) is disabled


def _read(doc: Doc) -> None:
    """A1, A2: usable entities, sentences and the figures read as counts."""
    _check_entities(doc.norm, doc.entities)
    doc.text = doc.norm.text
    if not any(e.label in COUNT_LABELS for e in doc.entities):
        doc.done = True  # as below, without reading the page's furniture first (most news)
        return
    doc.folded = fold_letters(doc.text)
    doc.cut, doc.furniture_spans = furniture(doc.norm)
    doc.kept = _join_doubled_duals(_usable_entities(doc.entities, doc.cut, doc.furniture_spans), doc.text)
    if not any(e.label in COUNT_LABELS for e in doc.kept):
        doc.done = True  # incidents are built from figures only (A7); most news has none
        return
    doc.sentences = _build_sentences(doc.text, doc.cut, doc.kept)
    for sent in doc.sentences:
        _read_figures(doc.text, doc.folded, sent, doc.unread)
    doc.figures = [f for s in doc.sentences for f in s.figures]
    doc.done = not doc.figures


def _roles(doc: Doc) -> None:
    """The role of each figure from its cues (A3, A3b, A3c, A17, A18, A20, A21, A19, A6, A5, A22),
    its victim and own place and date, and each sentence's sources, attackers, targets, places
    and dates."""
    text, folded = doc.text, doc.folded
    # Found when a rule first asks (Sentence.finders): most sentences are never asked about.
    finders = {
        "sources": lambda s: find_sources(text, folded, s.start, s.end, s.entities),
        "perpetrators": lambda s: find_perpetrators(text, folded, s.start, s.end, s.entities),
        "targets": lambda s: find_targets(text, folded, s.start, s.end, s.entities),
        "locations": lambda s: _sentence_locations(s, folded),
        "dates": lambda s: _sentence_dates(s, text, folded),
    }
    for sent in doc.sentences:
        _describe_figures(text, folded, sent, doc.disable)
        sent.finders = finders


def _slots(doc: Doc) -> None:
    doc.slots = _build_slots(doc.sentences, doc.text, doc.folded)


def _incidents(doc: Doc) -> None:
    """A8-A14: the fields of each incident, incidents in text order."""
    doc.slots.sort(key=lambda slot: (min(slot.sentences), slot.first.start))
    groups: dict[int, list[Slot]] = {}
    for slot in doc.slots:
        groups.setdefault(slot.group, []).append(slot)
    doc.made = [(slot, _make_incident(slot, doc.norm, doc.folded, doc.sentences, doc.article_date, doc.unread,
                                      groups[slot.group])) for slot in doc.slots]


def _background(doc: Doc) -> None:
    kept = []
    for pair in doc.made:
        (doc.dropped if _is_background(pair[1], doc.article_date) else kept).append(pair)
    doc.made = kept


def _disputes(doc: Doc) -> None:
    _mark_disputes([inc for _, inc in doc.made], doc.text)


def _number_groups(doc: Doc) -> None:
    """Event groups numbered 0, 1, … in text order."""
    renumber: dict[int, int] = {}
    for _, inc in doc.made:
        inc.extra["event_group"] = renumber.setdefault(inc.extra["event_group"], len(renumber))


PASSES: tuple[Pass, ...] = (
    Pass("read", ("A1", "A2"), _read),
    Pass("roles", ("A3", "A3b", "A3c", "A17", "A18", "A20", "A21", "A19", "A6", "A5", "A22"), _roles),
    Pass("A22", ("A22",), lambda d: _drop_totals_of_attacks(d.figures), optional=True),
    Pass("A5b", ("A5b",), lambda d: _count_named_lists(d.figures, d.folded), optional=True),
    Pass("A4", ("A4", "A3c"), lambda d: _find_breakdowns(d.figures, d.folded), optional=True),
    Pass("A5", ("A5",), lambda d: _attach_parts(d.figures, d.text, d.folded), optional=True),
    Pass("A3d", ("A3d",), lambda d: _drop_parts_of_cumulative(d.figures), optional=True),
    Pass("A7", ("A7",), _slots),
    # A7d before A7c: equal tolls told again would look like two sides
    Pass("A7d", ("A7d",), lambda d: setattr(d, "slots", _merge_restatements(d.slots, d.folded)), optional=True),
    Pass("A7c", ("A7c",), lambda d: setattr(d, "slots", _split_sideless_wounded(d.slots)), optional=True),
    Pass("A6", ("A6",), lambda d: setattr(d, "slots", _merge_updates(d.slots, d.sentences, d.text, d.folded)),
         optional=True),
    Pass("A7e", ("A7e",), lambda d: setattr(d, "slots", _drop_repeated_totals(d.slots, d.figures, d.text)),
         optional=True),
    Pass("A7b", ("A7b",), lambda d: setattr(d, "slots", _merge_repeats(d.slots, d.sentences, d.text, d.folded)),
         optional=True),
    Pass("A19", ("A19",), lambda d: setattr(d, "slots", _attach_early_tolls(d.slots, d.figures, d.text)),
         optional=True),
    Pass("fields", ("A8", "A9", "A9b", "A9c", "A10", "A11", "A12", "A13", "A14"), _incidents),
    Pass("A15", ("A15",), _background, optional=True),
    Pass("A16", ("A16",), _disputes),
    Pass("groups", ("A7",), _number_groups),
)


def check_disable(disable: Collection[str] | None) -> frozenset[str]:
    """The rule ids to disable, checked: only :data:`DISABLEABLE` rules can be."""
    if disable is None:
        return frozenset()
    if isinstance(disable, str):
        disable = [r for r in disable.replace(",", " ").split() if r]
    out = frozenset(disable)
    wrong = sorted(out - DISABLEABLE)
    if wrong:
        unknown = [r for r in wrong if r not in RULES]
        why = f"unknown rule {', '.join(unknown)}" if unknown else f"{', '.join(wrong)} cannot be disabled"
        raise HasilaError(f"{why}; rules that can be disabled: {', '.join(sorted(DISABLEABLE, key=_rule_order))}")
    return out


def _rule_order(rule: str) -> tuple[int, str]:
    digits = "".join(ch for ch in rule[1:] if ch.isdigit())
    return int(digits), rule


def run_passes(norm: NormalizedText, entities: Sequence[Entity], article_date: dt.date | None,
               disable: frozenset[str]) -> Doc:
    doc = Doc(norm, entities, article_date, disable)
    for p in PASSES:
        if doc.done:
            break
        if p.optional and p.name in disable:
            continue
        p.run(doc)
    return doc


__all__ = ["DISABLEABLE", "PASSES", "RULES", "Doc", "Pass", "check_disable", "run_passes"]
