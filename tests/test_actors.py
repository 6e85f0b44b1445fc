"""The actors of an incident (``hasila.infer.actors``), on their own: actor keys, word splitting,
proclitics, victims, perpetrators, sources, targets. Made-up sentences; entities placed by hand."""

from __future__ import annotations

import pytest

from hasila.infer.actors import (Victim, actor_key, bare, find_perpetrators, find_sources, find_targets, find_victim,
                                 has_attack_anaphora, victims_conflict, words_in)
from hasila.infer.normalize import fold_letters, normalize
from hasila.infer.tokenize import split_words

from test_assembly import place


def _prepared(text: str, *specs):
    norm = normalize(text)
    return norm.text, fold_letters(norm.text), place(norm, *specs)


def _texts(text: str, mentions) -> list[str]:
    return [text[m.start:m.end] for m in mentions]


@pytest.mark.parametrize("a, b", [
    ("تنظيم داعش", "تنظيم الدولة الإسلامية"),
    ("تنظيم داعش", "التنظيم"),
    ("قوات النظام", "قوات الأسد"),
    ("قوات النظام", "ميليشيا أسد"),
    ("قوات سوريا الديمقراطية", "قسد"),
    ("لقوات النظام", "قوات النظام"),  # a one-letter proclitic before a known word
])
def test_names_of_one_actor_share_a_key(a, b):
    assert actor_key(a) == actor_key(b)


def test_names_of_different_actors_differ():
    assert actor_key("قوات النظام") != actor_key("تنظيم داعش")
    assert actor_key("الجيش التركي") != actor_key("قوات النظام")


def test_proclitics_are_stripped_only_towards_a_known_word():
    known = frozenset({fold_letters("قوات")})
    assert bare(fold_letters("وبالقوات"), known) == fold_letters("قوات")
    assert bare(fold_letters("للقوات"), known) == fold_letters("قوات")
    assert bare(fold_letters("بلدة"), known) is None
    assert bare(fold_letters("والمقاتلين"), stems=(fold_letters("مقاتل"),)) == fold_letters("مقاتلين")


def test_words_in_a_window_are_the_words_of_the_window():
    text = "قتل 5 من قوات النظام، وأصيب 3 آخرون في ريف حمص."
    folded = fold_letters(text)
    for start, end in [(0, len(text)), (4, 20), (6, 9), (3, 30)]:
        got = [(w.start - start, w.end - start) for w in words_in(text, folded, start, end)]
        assert got == split_words(text[start:end])


def test_the_victim_is_the_named_side_after_the_figure():
    text, folded, ents = _prepared("قتل 5 من عناصر قوات النظام في ريف حمص.", ("KILLED", "5"), ("ORG", "قوات النظام"))
    v = find_victim(text, folded, ents[0], (0, len(text)), len(text), ents)
    assert v is not None and v.named and text[v.start:v.end] == "قوات النظام"


def test_a_people_noun_is_a_victim_of_its_kind():
    text, folded, ents = _prepared("قتل 7 مدنيين في قصف على المدينة.", ("KILLED", "7"))
    v = find_victim(text, folded, ents[0], (0, len(text)), len(text), ents)
    assert v is not None and v.kind == "civilian" and not v.named


def test_victims_conflict_only_when_clearly_different_sides():
    text = "قوات النظام تنظيم داعش قوات الأسد"
    regime, isis, assad = Victim(0, 11, True, "combatant"), Victim(12, 22, True, "combatant"), Victim(23, 33, True, "combatant")
    civilians, persons = Victim(0, 5, False, "civilian"), Victim(0, 5, False, "person")
    assert victims_conflict(regime, isis, text)
    assert not victims_conflict(regime, assad, text)
    assert victims_conflict(regime, civilians, text)
    assert not victims_conflict(regime, persons, text) and not victims_conflict(None, regime, text)


def test_the_perpetrator_is_named_after_an_attack_cue():
    text, folded, ents = _prepared("قتل 5 جنود في هجوم شنه تنظيم داعش على حاجز.", ("KILLED", "5"), ("ORG", "تنظيم داعش"))
    assert _texts(text, find_perpetrators(text, folded, 0, len(text), ents)) == ["تنظيم داعش"]


def test_the_source_is_named_after_a_reporting_cue():
    text, folded, ents = _prepared("أفاد المرصد السوري لحقوق الإنسان بمقتل 5 جنود.", ("ORG", "المرصد السوري لحقوق الإنسان"),
                                   ("KILLED", "5"))
    assert _texts(text, find_sources(text, folded, 0, len(text), ents)) == ["المرصد السوري لحقوق الإنسان"]


def test_the_side_attacked_is_a_target_not_an_attacker():
    text, folded, ents = _prepared("شن مسلحون هجوما على قوات النظام قتل فيه 5.", ("ORG", "قوات النظام"), ("KILLED", "5"))
    assert _texts(text, find_targets(text, folded, 0, len(text), ents)) == ["قوات النظام"]


def test_a_sentence_referring_back_to_an_attack():
    for sentence, refers in [("وقتل 3 آخرون في الهجوم.", True), ("وأصيب 4 خلال الاشتباكات.", True),
                             ("قتل 3 في ريف حمص.", False)]:
        folded = fold_letters(sentence)
        assert has_attack_anaphora(folded, 0, len(folded)) is refers, sentence
