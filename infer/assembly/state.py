"""What the assembly rules work on: sentences, figures (KILLED/WOUNDED spans read as counts)
and slots (incidents being built), with what each rule decided about a figure (its ``rule``,
the ``cue`` that fired, the figure it refers to), which ``--explain`` reports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from hasila.infer.actors import Mention, Victim
from hasila.infer.types import Entity, Quantity

Cue = tuple[int, int] | None  # the span of the cue that fired, in folded-text offsets


def _at(m: "re.Match[str] | None", offset: int = 0) -> Cue:
    return None if m is None else (m.start() + offset, m.end() + offset)


CONTEXT_WORDS = 4
NEWS_DAYS = 14  # older events told in an article are background (G13)
CONTEXT_CHARS = 120
LOOKBACK_SENTENCES = 3


@dataclass
class Sentence:
    index: int
    start: int
    end: int
    paragraph: int
    clauses: list[tuple[int, int]]
    entities: list[Entity] = field(default_factory=list)
    figures: list["Figure"] = field(default_factory=list)
    # What the sentence names — ``sources``, ``perpetrators``, ``targets`` (Mentions), ``locations``
    # and ``dates`` (Entities) — each found on first use by the finder the roles pass sets here
    # (a function of the sentence, which it does not change): the fields' rules read them only
    # for the sentences around figures, a few of an article's dozens. Empty until then.
    finders: dict[str, Callable[["Sentence"], list[Any]]] | None = field(default=None, repr=False, compare=False)
    _found: dict[str, list[Any]] = field(default_factory=dict, repr=False, compare=False)

    def _named(self, what: str) -> list[Any]:
        got = self._found.get(what)
        if got is None:
            got = self._found[what] = self.finders[what](self) if self.finders is not None else []
        return got

    @property
    def sources(self) -> list[Mention]:
        return self._named("sources")

    @property
    def perpetrators(self) -> list[Mention]:
        return self._named("perpetrators")

    @property
    def targets(self) -> list[Mention]:
        return self._named("targets")

    @property
    def locations(self) -> list[Entity]:
        return self._named("locations")

    @property
    def dates(self) -> list[Entity]:
        return self._named("dates")

    def clause_of(self, pos: int) -> tuple[int, int]:
        for s, e in self.clauses:
            if s <= pos < e:
                return s, e
        return self.start, self.end


# Roles of figures that are no incident of their own, whatever else holds (A3, A3b, A17-A22).
NO_INCIDENT_ROLES = ("cumulative", "not_event", "early")


@dataclass
class Figure:
    entity: Entity
    sentence: Sentence
    clause: tuple[int, int]
    quantity: Quantity
    role: str = "event"  # event | cumulative | not_event | early | part | total | update
    victim: Victim | None = None
    place: Entity | None = None  # the figure's own LOC
    own_date: Entity | None = None
    whole: "Figure | None" = None
    parts: list["Figure"] = field(default_factory=list)
    of_total: "Figure | None" = None
    split_by_place: bool = False
    others: bool = False
    several_attacks: bool = False  # A22: the clause tells a toll of several attacks
    campaign: bool = False  # A3c: cumulative over a week at most («خلال الأسبوع الماضي»)
    # What the last rule that decided about the figure said (``--explain``): its id, the cue
    # that fired (folded-text offsets), the figure it made this one part / repeat / earlier
    # toll of, and ``lost`` when it took the figure out of every incident.
    rule: str | None = None
    cue: Cue = None
    ref: "Figure | None" = None
    lost: bool = False

    @property
    def label(self) -> str:
        return self.entity.label

    @property
    def start(self) -> int:
        return self.entity.start

    @property
    def end(self) -> int:
        return self.entity.end

    @property
    def value(self) -> int | None:
        return self.quantity.value


@dataclass
class Slot:
    figures: dict[str, Figure]
    group: int
    superseded: list[Figure] = field(default_factory=list)
    repeats: list[Figure] = field(default_factory=list)
    sentences: set[int] = field(default_factory=set)
    date: Entity | None = None  # the DATE chosen by A10 (what A15 judges)

    @property
    def first(self) -> Figure:
        return min(self.figures.values(), key=lambda f: f.start)

    def victim(self) -> Victim | None:
        victims = [f.victim for f in sorted(self.figures.values(), key=lambda f: f.start) if f.victim]
        named = [v for v in victims if v.named]
        return named[0] if named else (victims[0] if victims else None)

    def place(self) -> Entity | None:
        for f in sorted(self.figures.values(), key=lambda f: f.start):
            if f.place is not None:
                return f.place
        return None

    def absorb(self, other: "Slot") -> None:
        """Take what ``other`` kept beside its figures (earlier and repeated figures, sentences)
        when ``other`` merges into this incident; the figures are the merging rule's business."""
        self.superseded.extend(other.superseded)
        self.repeats.extend(other.repeats)
        self.sentences |= other.sentences


def _same_text(folded: str, a: Entity | None, b: Entity | None) -> bool:
    return a is not None and b is not None and folded[a.start : a.end] == folded[b.start : b.end]
