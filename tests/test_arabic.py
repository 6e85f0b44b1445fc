"""The Arabic word layer (``hasila.infer.arabic``): folding, named clitic sets, word lists."""

from __future__ import annotations

from importlib import resources

from hasila.infer.arabic import (CLITICS, FOLDS, QUANTITY_FOLDS, alternation, clitic_prefix, cue, fold_letters,
                                 strip_first, strip_towards, word_list, word_set)
from hasila.infer.arabic.clitics import readings, strip_each, strip_number_clitics
from hasila.infer.normalize import fold_letters as normalize_fold_letters


def test_folding_is_one_letter_for_one():
    text = "إصابة أحمد في آمرلي والمستشفى"
    assert len(fold_letters(text)) == len(text)
    assert fold_letters(text) == "اصابه احمد في امرلي والمستشفي"
    assert normalize_fold_letters is fold_letters  # one folding, re-exported where it always was
    assert set(QUANTITY_FOLDS) - set(FOLDS) == {"\u06c0"}  # number words keep their own table


def test_each_caller_keeps_its_clitic_set():
    assert strip_first("وبالقوات", "actor", 2) == "قوات"
    assert strip_first("بالرقة", "place", 3) == "رقة"
    assert strip_first("بحي", "place", 3) is None  # too little left
    assert strip_towards("بالعراق", "coarse_place", {"العراق"}) == "العراق"
    assert strip_towards("لداعش", "actor_name_letter", {"داعش"}) == "داعش"
    assert strip_each("والقتلى", "told_again") == "قتلى"
    assert readings("للجيش", "actor", 2) == ["للجيش", "جيش", "لجيش"]
    assert [s for s, _, _ in strip_number_clitics("وبالعشرات")] == ["وبالعشرات", "بالعشرات", "عشرات"]
    assert all(isinstance(v, tuple) and v for v in CLITICS.values())


def test_cue_patterns_built_from_word_lists():
    assert clitic_prefix("conjunction") == "(?:و|ف)?"
    assert alternation("coarse_places").endswith(r"قطاع\s+غزة)")
    pattern = cue(rf"(?<!\w){clitic_prefix('conjunction')}{alternation('new_casualty_verbs')}(?!\w)")
    assert pattern.search(fold_letters("وأصيب ثلاثة")) and not pattern.search("القتلى")
    assert "قطاع غزة" in word_list("coarse_places")
    assert fold_letters("إسرائيل") in word_set("coarse_places")


def test_every_word_list_loads():
    folder = resources.files("hasila.infer.resources") / "words"
    names = [p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt")]
    assert len(names) >= 8
    for name in names:
        words = word_list(name)
        assert words and all(w.strip() == w and "#" not in w for w in words), name
