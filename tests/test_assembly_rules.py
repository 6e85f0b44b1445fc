"""The assembly's rule machinery: the order of the passes, rule ids, disabling rules and each
figure's provenance (``explain``). Made-up articles, entities placed by hand as in
tests/test_assembly.py; one gold-corpus test validates ``--explain`` records against the schema."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest

from hasila.infer import assembly
from hasila.infer.assembly import DISABLEABLE, PASSES, RULES, assemble, assemble_incidents
from hasila.infer.normalize import normalize
from hasila.infer.records import check_record, load_schema, ok_record
from hasila.infer.types import HasilaError

from test_assembly import SAT, place

ROOT = Path(__file__).resolve().parent.parent


def explained(text: str, *specs, disable=None, date: dt.date | None = SAT):
    norm = normalize(text)
    entities = place(norm, *specs)
    result = assemble(norm, entities, date, disable=disable, explain=True)
    plain = assemble_incidents(norm, entities, date, disable=disable)
    assert [i.to_json() for i in plain] == [i.to_json() for i in result.incidents]  # explain changes nothing else
    record = ok_record("doc", text, entities=entities, incidents=result.incidents, model={}, date=date,
                       provenance=result.provenance)
    jsonschema.validate(record, load_schema())
    check_record(record, text)
    return result.incidents, {(p["figure"]["text"], p["fate"]): p for p in result.provenance}


# -- ids and order ------------------------------------------------------------------------------

def test_every_rule_is_documented_and_registered_as_a_marker():
    doc = assembly.__doc__
    for rule in RULES:
        assert re.search(rf"(?m)^\s*{rule}\. ", doc), f"{rule} has no entry in the rulebook"
    documented = set(re.findall(r"(?m)^\s*(A\d+[a-e]?)\. ", doc))
    assert documented == set(RULES)
    markers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    assert {m.split(":")[0] for m in markers if re.match(r"A\d", m)} == set(RULES)
    assert DISABLEABLE < set(RULES)


def test_passes_are_the_single_statement_of_the_order():
    assert [p.name for p in PASSES] == [
        "read", "roles", "A22", "A5b", "A4", "A5", "A3d", "A7", "A7d", "A7c", "A6", "A7e", "A7b", "A19",
        "fields", "A15", "A16", "groups"]
    applied = {r for p in PASSES for r in p.rules}
    assert applied == set(RULES)
    # an optional pass is the rule it is named after, and that rule can be disabled
    assert all(p.rules[0] == p.name and p.name in DISABLEABLE for p in PASSES if p.optional)


@pytest.mark.parametrize("rule", ["A7", "A2", "A8", "A99", "G13"])
def test_rules_that_read_figures_or_build_incidents_cannot_be_disabled(rule):
    with pytest.raises(HasilaError, match="can be disabled"):
        assemble_incidents(normalize("قتل 5"), [], SAT, disable={rule})


# -- disabling one rule ------------------------------------------------------------------------

HEADLINE_AND_LEAD = (
    "مقتل 8 عناصر من قوات النظام بهجوم لداعش في بادية حمص\n"
    "أفاد المرصد بمقتل 8 عناصر من قوات النظام في هجوم شنه تنظيم داعش في بادية السخنة شرقي حمص."
)
HL_SPECS = (("KILLED", "8"), ("ORG", "قوات النظام"), ("LOC", "بادية حمص"), ("KILLED", "8", 2),
            ("ORG", "قوات النظام", 2), ("LOC", "بادية السخنة"), ("LOC", "شرقي حمص"))


@pytest.mark.A7b
def test_disabling_a7b_keeps_each_telling():
    assert len(assemble_incidents(normalize(HEADLINE_AND_LEAD), place(normalize(HEADLINE_AND_LEAD), *HL_SPECS), SAT)) == 1
    incs, _ = explained(HEADLINE_AND_LEAD, *HL_SPECS, disable={"A7b"})
    assert len(incs) == 2


@pytest.mark.A3
def test_disabling_a3_keeps_a_cumulative_figure():
    text = "قتل 120 مدنيا منذ بداية العام."
    assert explained(text, ("KILLED", "120"))[0] == []
    [inc], _ = explained(text, ("KILLED", "120"), disable=["A3"])
    assert inc.killed.value == 120


@pytest.mark.A19
def test_disabling_a19_makes_the_early_toll_an_incident():
    text = "قتل 15 شخصا في هجوم على سوق بلدة الريحان. وكانت الحصيلة الأولى أشارت إلى سقوط تسعة قتلى."
    specs = (("KILLED", "15"), ("KILLED", "تسعة"), ("LOC", "الريحان"))
    assert len(explained(text, *specs)[0]) == 1
    assert len(explained(text, *specs, disable="A19")[0]) == 2  # a string of ids works too


# -- provenance ----------------------------------------------------------------------------------

@pytest.mark.A5
def test_a_part_says_whose_part_it_is_and_which_cue():
    [inc], fate = explained("قتل 35 عنصرا من قوات النظام بينهم 6 ضباط.", ("KILLED", "35"), ("KILLED", "6"))
    assert fate["35", "incident"]["rule"] == "A7" and fate["35", "incident"]["incident"] == 0
    part = fate["6", "part"]
    assert part["rule"] == "A5" and part["cue"]["text"].strip() == "بينهم"
    assert part["of"]["text"] == "35" and part["incident"] == 0


@pytest.mark.A3
def test_a_dropped_figure_names_its_rule_and_cue():
    incs, fate = explained("ووثق المرصد مقتل 1362 عنصرا من قوات النظام منذ آذار 2019.", ("KILLED", "1362"))
    assert incs == []
    f = fate["1362", "dropped"]
    assert f["rule"] == "A3" and f["cue"]["text"].startswith("منذ") and f["incident"] is None


@pytest.mark.A7b
def test_a_repeat_points_at_its_first_telling():
    _, fate = explained(HEADLINE_AND_LEAD, *HL_SPECS)
    f = fate["8", "repeat"]
    assert f["rule"] == "A7b" and f["of"]["start"] == 5 and f["incident"] == 0


@pytest.mark.A19
def test_an_early_toll_is_superseded_by_the_events_figure():
    text = "قتل 15 شخصا في هجوم على سوق بلدة الريحان. وكانت الحصيلة الأولى أشارت إلى سقوط تسعة قتلى."
    _, fate = explained(text, ("KILLED", "15"), ("KILLED", "تسعة"), ("LOC", "الريحان"))
    f = fate["تسعة", "superseded"]
    assert f["rule"] == "A19" and f["of"]["text"] == "15" and "الحصيلة" in f["cue"]["text"]


@pytest.mark.A6
def test_an_updated_figure_is_superseded_by_the_update():
    text = "قتل 10 مدنيين في تفجير في مدينة الباب. وارتفعت حصيلة القتلى لاحقا إلى 15 على الأقل."
    _, fate = explained(text, ("KILLED", "10"), ("LOC", "مدينة الباب"), ("KILLED", "15"))
    assert fate["10", "superseded"]["rule"] == "A6" and fate["10", "superseded"]["of"]["text"] == "15"
    assert fate["15", "incident"]["rule"] == "A6"


@pytest.mark.A4
def test_a_total_split_into_its_attacks_and_its_parts():
    text = "قتل 35 عنصرا من قوات النظام في هجمات لتنظيم داعش، 27 في ريف حمص و8 في ريف دير الزور."
    _, fate = explained(text, ("KILLED", "35"), ("KILLED", "27"), ("LOC", "ريف حمص"), ("KILLED", "8"),
                        ("LOC", "ريف دير الزور"))
    assert fate["35", "total"]["rule"] == "A4"
    assert fate["27", "incident"]["rule"] == "A4" and fate["27", "incident"]["of"]["text"] == "35"
    assert fate["8", "incident"]["incident"] == 1


@pytest.mark.A2
def test_two_words_tagged_apart_are_joined():
    text = "قتل ضابطان اثنان في كمين قرب تدمر."
    _, fate = explained(text, ("KILLED", "ضابطان"), ("KILLED", "اثنان"), ("LOC", "تدمر"))
    assert fate["ضابطان", "joined"]["of"]["text"] == "ضابطان اثنان"
    assert fate["اثنان", "joined"]["rule"] == "A2"
    assert fate["ضابطان اثنان", "incident"]["figure"]["value"] == 2


@pytest.mark.A1
def test_a_figure_in_the_comments_is_dropped_by_a1():
    text = "قتل 5 عناصر في هجوم في بادية حمص يوم السبت.\nالتعليقات\nأبو محمد: والله قتل 100 منهم وأكثر"
    _, fate = explained(text, ("KILLED", "5"), ("KILLED", "100"))
    assert fate["100", "dropped"]["rule"] == "A1"


@pytest.mark.A15
def test_a_background_event_is_dropped_by_a15_with_its_date():
    text = "وكان 20 شخصا قد قتلوا في هجوم مماثل في 3 آذار 2017."
    incs, fate = explained(text, ("KILLED", "20"), ("DATE", "3 آذار 2017"))
    assert incs == []
    assert fate["20", "dropped"]["rule"] == "A15" and fate["20", "dropped"]["cue"]["text"] == "3 آذار 2017"
    assert len(explained(text, ("KILLED", "20"), ("DATE", "3 آذار 2017"), disable={"A15"})[0]) == 1


def test_explain_is_off_by_default():
    norm = normalize("قتل 5 عناصر.")
    assert assemble(norm, place(norm, ("KILLED", "5")), SAT).provenance is None


# -- on the gold documents -----------------------------------------------------------------------

@pytest.mark.corpus
def test_explained_records_of_gold_documents_validate():
    """Gold spans as the entities (no model): every KILLED/WOUNDED span gets one fate, and the
    records validate against the schema."""
    from bisect import bisect_left, bisect_right

    from hasila.infer.types import Entity, Span

    pytest.importorskip("hasila.train.gold")
    from hasila.train.gold import gold_documents

    try:
        docs = gold_documents("dev")[:25]
    except Exception as exc:  # corpora absent
        pytest.skip(f"gold documents unavailable: {exc}")
    validator = jsonschema.Draft202012Validator(load_schema())
    for doc in docs:
        norm = normalize(doc.text)
        entities = []
        for e in doc.spans:
            first, last = bisect_left(norm.starts, e.start), bisect_right(norm.ends, e.end)
            if first < last:
                entities.append(Entity(e.label, Span.of(norm.text, first, last, score=1.0)))
        result = assemble(norm, entities, None, explain=True)
        record = ok_record(doc.doc_id, doc.text, entities=[], incidents=result.incidents, model={},
                           provenance=result.provenance)
        validator.validate(record)
        check_record(record, doc.text)
        figures = {(e.label, e.start, e.end) for e in entities if e.label in ("KILLED", "WOUNDED")}
        fates = {(p["figure"]["label"], *norm_offsets(norm, p["figure"])) for p in result.provenance}
        assert figures <= fates


def norm_offsets(norm, span):
    from bisect import bisect_left, bisect_right

    return bisect_left(norm.starts, span["start"]), bisect_right(norm.ends, span["end"])


def test_the_command_lists_the_rules_that_can_be_disabled():
    from hasila.infer.cli import build_parser

    action = next(a for a in build_parser()._actions if "--disable-rules" in a.option_strings)
    listed = set(re.findall(r"\bA\d+[a-e]?\b", action.help.split(";")[0]))
    assert listed == DISABLEABLE
