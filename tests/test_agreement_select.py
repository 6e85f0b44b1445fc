"""Inter-annotator agreement figures and the gold-set selection rules."""

from __future__ import annotations

import copy

import pytest
from conftest import require_corpus
from hasila.train.annotate.agreement import compare
from hasila.train.annotate.quotes import document_from_quotes
from hasila.train.annotate.select import classify, select, split_of
from test_store import TEXT_A, quotes_a

SOURCE = {"corpus": "madeup", "doc": "a"}


def _doc(payload):
    return document_from_quotes(payload, TEXT_A, SOURCE)


def test_identical_annotations_agree_fully():
    r = compare([(_doc(quotes_a()), _doc(quotes_a()))]).to_json()
    assert r["spans_exact"]["micro"]["f1"] == 1.0
    assert r["incidents"]["killed_figures"]["f1"] == 1.0
    assert r["incidents"]["documents_with_identical_figures"] == 1.0
    assert r["disagreements"] == []


def test_missing_span_and_different_figure_are_counted():
    b = copy.deepcopy(quotes_a())
    b["spans"] = [s for s in b["spans"] if s[0] != "LOC"]  # B missed the place
    b["incidents"][0]["location"] = None
    b["incidents"][0]["killed"] = {"quote": ["35", 1], "value": 36, "low": 36, "high": None, "qualifier": "at_least"}
    r = compare([(_doc(quotes_a()), _doc(b))]).to_json()
    loc = r["spans_exact"]["LOC"]
    assert (loc["a"], loc["b"], loc["agreed"]) == (1, 0, 0) and loc["f1"] == 0.0
    assert r["spans_exact"]["KILLED"]["f1"] == 1.0
    # 6 of 7 spans agree: micro F1 = 2*6/(7+6)
    assert r["spans_exact"]["micro"]["f1"] == pytest.approx(round(12 / 13, 4))
    assert r["incidents"]["killed_figures"]["agreed"] == 0
    assert r["incidents"]["documents_with_identical_figures"] == 0.0
    assert r["disagreements"][0]["killed"] == [[35], [36]]


def test_comparing_different_documents_is_an_error():
    a = _doc(quotes_a())
    other = copy.deepcopy(quotes_a())
    other["doc_id"] = "madeup-other"
    with pytest.raises(ValueError, match="different documents"):
        compare([(a, _doc(other))])


@pytest.mark.parametrize(
    "text, pool",
    [
        ("أعلنت الشرطة مقتل 5 أشخاص في هجوم مسلح نفذه مسلحون على نقطة تفتيش، وقال مصدر إن القصف استمر.", "incident"),
        ("لقي 3 أشخاص حتفهم في حادث مروري على الطريق السريع بعد تصادم شاحنة.", "hard_negative"),
        ("ارتفع المؤشر 35 نقطة و12 و14 و15 و16 و17 و18 و19 و20 و21 و22 و23 نقطة في جلسة اليوم.", "hard_negative"),
        ("افتتح الوزير معرضا للكتاب في العاصمة.", None),
    ],
)
def test_classify_pools(text, pool):
    got = classify(text)
    assert (got[0] if got else None) == pool


def test_splits_hold_out_dates_and_an_outlet():
    assert split_of("okaz", "2015-08-10") == "test"
    assert split_of("3alyoum", "2015-07-21") == "test"
    assert split_of("okaz", "2015-08-07") == "dev"
    assert split_of("okaz", "2015-07-21") == "train"


@pytest.mark.corpus
def test_selection_is_reproducible_and_matches_the_committed_list():
    import json

    from hasila.train.settings import annotations_dir

    root = require_corpus("saudinewsnet")
    committed = json.loads((annotations_dir() / "selection.json").read_text(encoding="utf-8"))
    params = committed["params"]
    got = select(root, params["n_incident"], params["n_negative"], max_chars=params["max_chars"], seed=params["seed"])
    assert [c.doc_id for c in got] == [d["doc_id"] for d in committed["documents"]]
    test = [c for c in got if c.split == "test"]
    assert sum(c.pool == "incident" for c in test) >= 60 and sum(c.pool == "hard_negative" for c in test) >= 15
