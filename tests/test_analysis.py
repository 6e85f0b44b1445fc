"""hasila.train.analysis: gold evaluation with details, confusion, incident errors, curves.

Gold documents here are made up (a fake SaudiNewsNet zip and a store in tmp_path), so
nothing needs the real corpora.
"""

from __future__ import annotations

import json
import zipfile
from types import SimpleNamespace

import pytest

from hasila.infer.types import Count, Entity, Incident, Quantity, Span
from hasila.train.analysis import (
    IncidentError,
    evaluate_gold,
    figure_text,
    incident_errors,
    learning_curves,
    read_training_log,
    select_documents,
    word_confusion,
)
from hasila.train.evaluate import IncidentDoc
from hasila.train.evaluate_cli import EvaluationError
from tiny_model import build_tiny_model

# Made-up reports (not from any corpus).
TEXTS = (
    "قتل 5 جنود في حمص يوم السبت وأصيب 3 آخرون .",
    "ارتفعت أسعار النفط 5 في المئة أمس .",
    "أفاد المرصد السوري بمقتل 35 عنصرا من قوات النظام في بادية حمص .",
)
IDS = ("snn-2015-08-09-0000", "snn-2015-08-09-0001", "snn-2015-08-09-0002")


def at(text: str, word: str) -> Span:
    i = text.index(word)
    return Span.of(text, i, i + len(word))


def count(text: str, word: str, value: int) -> Count:
    return Count(at(text, word), Quantity(value, value, value, "exact"))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from hasila.train.config import TrainConfig, save_config

    path = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", train_steps=150)
    save_config(TrainConfig(base_model=str(path), output_dir=str(path), corpora=["gold"], max_length=64, stride=16), path)
    return path


@pytest.fixture
def gold_store(tmp_path, monkeypatch):
    """Three made-up gold-dev documents: two reports and a hard negative."""
    from hasila.train.annotate.store import GoldDocument, source_for_doc_id, write_documents

    (tmp_path / "data" / "saudinewsnet").mkdir(parents=True)
    with zipfile.ZipFile(tmp_path / "data" / "saudinewsnet" / "2015-08-09.zip", "w") as zf:
        zf.writestr("2015-08-09.json", json.dumps([{"content": t, "source": "x"} for t in TEXTS]))
    ann = tmp_path / "ann"
    ann.mkdir()
    (ann / "selection.json").write_text(json.dumps({"documents": [{"doc_id": i, "split": "dev"} for i in IDS]}))
    monkeypatch.setenv("HASILA_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HASILA_ANNOTATIONS", str(ann))
    a, c = TEXTS[0], TEXTS[2]
    docs = [
        GoldDocument(IDS[0], a, source_for_doc_id(IDS[0]), "gold", "incident", "tester",
                     [Entity("KILLED", at(a, "5")), Entity("LOC", at(a, "حمص")), Entity("DATE", at(a, "السبت")),
                      Entity("WOUNDED", at(a, "3"))],
                     [Incident(Span.of(a, 0, len(a)), killed=count(a, "5", 5), wounded=count(a, "3", 3), location=at(a, "حمص"))]),
        GoldDocument(IDS[1], TEXTS[1], source_for_doc_id(IDS[1]), "gold", "hard_negative", "tester",
                     [Entity("DATE", at(TEXTS[1], "أمس"))], []),
        GoldDocument(IDS[2], c, source_for_doc_id(IDS[2]), "gold", "incident", "tester",
                     [Entity("ORG", at(c, "المرصد السوري")), Entity("KILLED", at(c, "35")), Entity("ORG", at(c, "قوات النظام")),
                      Entity("LOC", at(c, "بادية حمص"))],
                     [Incident(Span.of(c, 0, len(c)), killed=count(c, "35", 35), source=at(c, "المرصد السوري"))]),
    ]
    write_documents(docs, ann / "store")
    return docs


def test_evaluate_gold_scores_as_hasila_evaluate_does(model_dir, gold_store):
    from hasila.train.evaluate_cli import evaluate_model

    ev = evaluate_gold(model_dir, "gold-dev")
    reference = evaluate_model(model_dir, ["gold-dev"], device="cpu")["datasets"]["gold-dev"]
    assert ev.doc_ids == list(IDS)
    assert ev.entities == reference["entities"]
    assert ev.incidents == reference["incidents"]
    assert 0 < ev.entities["default"]["micro"]["f1"] < 1  # the tiny model is partly right: a real comparison
    assert [len(t) for t in ev.predicted_tags] == [len(w) for w in ev.words] == [len(t) for t in ev.gold_tags]
    assert [d.hard_negative for d in ev.incident_docs] == [False, True, False]
    assert [len(d.gold) for d in ev.incident_docs] == [1, 0, 1]


def test_evaluate_gold_on_a_slice(model_dir, gold_store):
    ev = evaluate_gold(model_dir, "gold-dev", doc_ids=[IDS[2], IDS[0]])
    assert ev.doc_ids == [IDS[2], IDS[0]] and ev.incidents["documents"] == 2
    assert evaluate_gold(model_dir, "gold-dev", limit=1).doc_ids == [IDS[0]]
    with pytest.raises(ValueError, match="snn-2015-08-09-0009"):
        evaluate_gold(model_dir, "gold-dev", doc_ids=["snn-2015-08-09-0009"])
    with pytest.raises(EvaluationError, match="only the gold splits"):
        evaluate_gold(model_dir, "anercorp-camel-test")
    with pytest.raises(EvaluationError, match="model folder not found"):
        evaluate_gold(model_dir / "missing", "gold-dev")


def test_select_documents():
    docs = [SimpleNamespace(doc_id=i) for i in "abc"]
    assert [d.doc_id for d in select_documents(docs)] == ["a", "b", "c"]
    assert [d.doc_id for d in select_documents(docs, limit=2)] == ["a", "b"]
    assert [d.doc_id for d in select_documents(docs, doc_ids=["c", "a"])] == ["c", "a"]
    for bad in ({"doc_ids": ["a", "a"]}, {"doc_ids": ["z"]}, {"limit": 0}, {"doc_ids": ["a"], "limit": 1}):
        with pytest.raises(ValueError):
            select_documents(docs, **bad)


def test_word_confusion_counts_words_by_label():
    gold = [["B-LOC", "I-LOC", "O", "B-KILLED"], ["B-PER", "O"]]
    pred = [["B-LOC", "B-ORG", "B-DATE", "O"], ["I-PER", "O"]]
    names, m = word_confusion(gold, pred)
    assert names == ["PER", "ORG", "LOC", "DATE", "KILLED", "WOUNDED", "O"]
    cell = {(names[i], names[j]): m[i][j] for i in range(len(names)) for j in range(len(names)) if m[i][j]}
    assert cell == {("LOC", "LOC"): 1, ("LOC", "ORG"): 1, ("O", "DATE"): 1, ("KILLED", "O"): 1, ("PER", "PER"): 1, ("O", "O"): 1}
    assert sum(map(sum, m)) == 6
    with pytest.raises(ValueError, match="sequence 0"):
        word_confusion([["O"]], [["O", "O"]])
    with pytest.raises(ValueError, match="MISC"):
        word_confusion([["B-MISC"]], [["O"]])


def test_incident_errors_missed_spurious_wrong_figure():
    t = "قتل 5 جنود في حمص وأصيب 3 . وفي حلب قتل 7 مدنيين . وقتل 2 في درعا ."
    gold = [
        Incident(at(t, "قتل 5 جنود في حمص"), killed=count(t, "5", 5), wounded=count(t, "3", 3)),  # found, wounded missing
        Incident(at(t, "وفي حلب قتل 7 مدنيين"), killed=count(t, "7", 7)),  # found, right
        Incident(at(t, "وقتل 2 في درعا"), killed=count(t, "2", 2)),  # missed
    ]
    pred = [
        Incident(at(t, "وفي حلب قتل 7 مدنيين"), killed=count(t, "7", 7)),
        Incident(at(t, "قتل 5 جنود في حمص"), killed=count(t, "5", 5)),
    ]
    other = "ارتفعت الأسعار 9 في المئة ."
    spurious = Incident(Span.of(other, 0, len(other)), killed=count(other, "9", 9))
    errors = incident_errors([IncidentDoc("d1", gold, pred), IncidentDoc("d2", [], [spurious], hard_negative=True)])
    by_kind = {e.kind: e for e in errors}
    assert sorted(e.kind for e in errors) == ["missed", "spurious", "wrong figure"]
    assert by_kind["missed"] == IncidentError("d1", "missed", "killed 2 «2», wounded -", "", "وقتل 2 في درعا", False)
    assert by_kind["spurious"] == IncidentError("d2", "spurious", "", "killed 9 «9», wounded -", other, True)
    assert by_kind["wrong figure"] == IncidentError(
        "d1", "wrong figure", "killed 5 «5», wounded 3 «3»", "killed 5 «5», wounded -", "قتل 5 جنود في حمص", False)
    # a different value on the same span is a wrong figure too
    four = Incident(gold[1].evidence, killed=Count(gold[1].killed.span, Quantity(4, 4, 4, "exact")))
    assert [e.kind for e in incident_errors([IncidentDoc("d", gold[1:2], [four])])] == ["wrong figure"]
    assert incident_errors([IncidentDoc("d", gold[1:2], pred[:1])]) == []


def test_figure_text():
    t = "بين 10 و20 قتيلا"
    assert figure_text(None) == "-"
    assert figure_text(Count(at(t, "بين 10 و20"), Quantity(None, 10, 20, "range"))) == "10-20 range «بين 10 و20»"


def test_learning_curves(tmp_path):
    log = {"best_step": 20, "state": {"history": [{"step": 10, "dev_micro_f1": 0.4}, {"step": 20, "dev_micro_f1": 0.5}],
                                      "loss_history": [{"step": 5, "loss": 1.5}, {"step": 10, "loss": 0.9}]}}
    c = learning_curves(log)
    assert c.dev_f1 == [(10, 0.4), (20, 0.5)] and c.loss == [(5, 1.5), (10, 0.9)] and c.best_step == 20
    assert learning_curves({"state": {"history": []}}).loss == []
    with pytest.raises(ValueError, match="state"):
        learning_curves({})
    with pytest.raises(ValueError, match="malformed"):
        learning_curves({"state": {"history": [{"step": 1}]}})
    assert read_training_log(tmp_path) is None
    (tmp_path / "training_log.json").write_text(json.dumps(log), encoding="utf-8")
    assert read_training_log(tmp_path) == log
    (tmp_path / "training_log.json").write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="not JSON"):
        read_training_log(tmp_path)
