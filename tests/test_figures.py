"""Rule F1 (infer/figures.py): count spans widened to the whole number."""

import pytest

from hasila.infer.figures import whole_figures
from hasila.infer.tokenize import split_words
from hasila.infer.quantity import parse_quantity
from hasila.infer.types import Entity, Span


def _ent(text: str, label: str, quote: str, nth: int = 1) -> Entity:
    start = -1
    for _ in range(nth):
        start = text.index(quote, start + 1)
    return Entity(label, Span.of(text, start, start + len(quote)))


@pytest.mark.parametrize(
    "text, tagged, expected, value",
    [
        ("قتل أكثر من 48 ألف شخص في الحرب", ["48"], "48 ألف", 48000),
        ("بينهم سبعة آلاف و312 جنديا", ["سبعة"], "سبعة آلاف و312", 7312),
        ("بينهم سبعة آلاف و312 جنديا", ["آلاف"], "سبعة آلاف و312", 7312),
        ("وقتل 3 آلاف و200 مدني", ["3", "200"], "3 آلاف و200", 3200),
        ("مقتل 1.5 مليون شخص", ["1.5"], "1.5 مليون", 1500000),
    ],
)
def test_a_figure_covers_its_multiplier_and_remainder(text, tagged, expected, value):
    ents = [_ent(text, "KILLED", q) for q in tagged]
    out = [e for e in whole_figures(text, split_words(text), ents) if e.label == "KILLED"]
    assert [e.text for e in out] == [expected]
    assert parse_quantity(out[0].text).value == value


@pytest.mark.parametrize(
    "text, tagged",
    [
        ("قتل 27 في حمص و8 في دير الزور", ["27", "8"]),  # a breakdown: two figures
        ("قتل 5 و3 جرحى", ["5"]),  # no scale word: «و3» is not part of 5
        ("مقتل 12 شخصا في ألف موقع", ["12"]),  # the scale word is not next to the figure
    ],
)
def test_separate_figures_are_left_alone(text, tagged):
    ents = [_ent(text, "KILLED", q) for q in tagged]
    assert whole_figures(text, split_words(text), ents) == sorted(ents, key=lambda e: e.start)


def test_other_entities_pass_through():
    text = "قتل 48 ألف شخص في سوريا"
    ents = [_ent(text, "KILLED", "48"), _ent(text, "LOC", "سوريا")]
    out = whole_figures(text, split_words(text), ents)
    assert [(e.label, e.text) for e in out] == [("KILLED", "48 ألف"), ("LOC", "سوريا")]
