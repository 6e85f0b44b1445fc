"""Domain types shared by every stage of the pipeline.

Offsets are always Python ``str`` indices (Unicode code points) into the ORIGINAL text of a
document, half-open ``[start, end)``, exactly as the output schema requires.  Types are
frozen dataclasses so stages cannot mutate each other's results; ``to_json`` gives the
schema's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Qualifier = Literal["exact", "at_least", "at_most", "approx", "range", "vague"]
QUALIFIERS: tuple[str, ...] = ("exact", "at_least", "at_most", "approx", "range", "vague")
Precision = Literal["day", "week", "month", "year"]


class HasilaError(Exception):
    """Base class of every error Hasila raises on bad input; the message names what and where."""


@dataclass(frozen=True)
class Span:
    """A stretch of the original text: ``text == original[start:end]``."""

    start: int
    end: int
    text: str
    score: float | None = None

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"bad span offsets [{self.start}, {self.end})")
        if len(self.text) != self.end - self.start:
            raise ValueError(
                f"span text {self.text!r} has length {len(self.text)}, offsets [{self.start}, {self.end}) say {self.end - self.start}"
            )

    @classmethod
    def of(cls, original: str, start: int, end: int, score: float | None = None) -> "Span":
        if not 0 <= start <= end <= len(original):
            raise ValueError(f"span [{start}, {end}) outside a text of length {len(original)}")
        return cls(start, end, original[start:end], score)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "start": self.start, "end": self.end}
        if self.score is not None:
            out["score"] = round(float(self.score), 4)
        return out


@dataclass(frozen=True)
class Entity:
    """A labelled span found by the model (PER, ORG, LOC, DATE, KILLED, WOUNDED)."""

    label: str
    span: Span

    @property
    def start(self) -> int:
        return self.span.start

    @property
    def end(self) -> int:
        return self.span.end

    @property
    def text(self) -> str:
        return self.span.text

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, **self.span.to_json()}


@dataclass(frozen=True)
class Quantity:
    """What a quantity expression means, before it is tied to the text.

    ``value`` is the best single figure (ACLED-style conservative figure for vague words such
    as «عشرات»), or ``None`` when no figure can be given («عدد من»).
    """

    value: int | None
    low: int | None
    high: int | None
    qualifier: Qualifier

    def __post_init__(self) -> None:
        if self.qualifier not in QUALIFIERS:
            raise ValueError(f"unknown qualifier {self.qualifier!r}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low} > high {self.high}")


@dataclass(frozen=True)
class Count:
    """A casualty figure: a quantity anchored to its span in the original text."""

    span: Span
    quantity: Quantity

    @property
    def value(self) -> int | None:
        return self.quantity.value

    def to_json(self) -> dict[str, Any]:
        q = self.quantity
        return {**self.span.to_json(), "value": q.value, "low": q.low, "high": q.high, "qualifier": q.qualifier}


@dataclass(frozen=True)
class DateRef:
    """A date expression with its resolution against the article date (if any)."""

    span: Span
    resolved: str | None = None  # ISO YYYY-MM-DD
    precision: Precision | None = None

    def to_json(self) -> dict[str, Any]:
        return {**self.span.to_json(), "resolved": self.resolved, "precision": self.precision}


@dataclass(frozen=True)
class Incident:
    """One violent event with its casualties, as one article reports it."""

    evidence: Span
    killed: Count | None = None
    wounded: Count | None = None
    perpetrator: Span | None = None
    victim: Span | None = None
    location: Span | None = None
    date: DateRef | None = None
    source: Span | None = None
    confidence: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        def opt(x: Any) -> Any:
            return None if x is None else x.to_json()

        out = {
            "killed": opt(self.killed),
            "wounded": opt(self.wounded),
            "perpetrator": opt(self.perpetrator),
            "victim": opt(self.victim),
            "location": opt(self.location),
            "date": opt(self.date),
            "source": opt(self.source),
            "evidence": self.evidence.to_json(),
            "confidence": round(float(self.confidence), 4),
        }
        out.update(self.extra)
        return out
