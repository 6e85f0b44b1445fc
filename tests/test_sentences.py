"""Sentence and clause splitting."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hasila.infer.sentences import split_clauses, split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_terminators_and_newlines():
    text = "قتل 5 عناصر. أصيب 3 آخرون! هل انتهى؟ لا؛ استمر القصف\nعنوان بلا نقطة\nسطر آخر..."
    assert sentences(text) == ["قتل 5 عناصر.", "أصيب 3 آخرون!", "هل انتهى؟", "لا؛", "استمر القصف", "عنوان بلا نقطة",
                               "سطر آخر..."]


def test_not_inside_numbers_or_glued_tokens():
    assert sentences("بلغت المساحة 2.5 كيلومتر. ثم انتهى") == ["بلغت المساحة 2.5 كيلومتر.", "ثم انتهى"]
    assert sentences("نقلت أ.ف.ب الخبر. وقالت") == ["نقلت أ.ف.ب الخبر.", "وقالت"]
    assert sentences("قال ق.ت.ل الخبر") == ["قال ق.ت.ل الخبر"]


def test_not_after_one_letter_abbreviations():
    assert sentences("وقال د. محمد إن 5 قتلوا. وأضاف") == ["وقال د. محمد إن 5 قتلوا.", "وأضاف"]
    assert sentences("نقلت أ. ف. ب الخبر.") == ["نقلت أ. ف. ب الخبر."]


def test_year_marks_close_a_sentence():
    assert sentences("وقع الهجوم عام 2015 م. وقتل فيه 5") == ["وقع الهجوم عام 2015 م.", "وقتل فيه 5"]


def test_closing_quotes_stay_with_the_sentence():
    assert sentences("قال «قتلنا 5.» ثم غادر") == ["قال «قتلنا 5.»", "ثم غادر"]


def test_clauses():
    text = "قتل 5 عناصر أمس، ليرتفع عدد القتلى منذ بداية العام إلى 1362 فيما أصيب 3 بحسب المرصد: الحصيلة 1,365"
    got = [text[s:e] for s, e in split_clauses(text)]
    assert got == ["قتل 5 عناصر أمس،", "ليرتفع عدد القتلى منذ بداية العام إلى 1362", "فيما أصيب 3 بحسب المرصد:",
                   "الحصيلة 1,365"]


@given(st.lists(st.sampled_from(list("قتل 5٣.!?؟;؛…\n،,:د» ") + ["فيما", "أ.ف.ب", " م. "]), max_size=80).map("".join))
@settings(max_examples=200, deadline=None)
def test_spans_are_ordered_stripped_and_inside(text):
    prev = 0
    for s, e in split_sentences(text):
        assert prev <= s < e <= len(text)
        assert not text[s].isspace() and not text[e - 1].isspace()
        assert "\n" not in text[s:e]
        prev = e
        for cs, ce in split_clauses(text, s, e):
            assert s <= cs < ce <= e
