"""Evaluation metrics against hand-computed expectations, the metrics CLI on a tiny model,
and the model card generated from a metrics JSON. Made-up sentences only."""

from __future__ import annotations

import json
import math

import pytest
import yaml
from hasila.infer.types import Count, DateRef, Incident, Quantity, Span
from hasila.train.evaluate import (
    IncidentDoc,
    entity_metrics,
    extract_entities,
    figure_matches,
    incident_from_json,
    incident_metrics,
    incidents_from_record,
    max_matching,
    normalize_name,
    restrict_tags,
    same_mention,
)
from hasila.train.model_card import derive_license, render_model_card, to_yaml
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-DATE", "I-DATE"]]
PRED = [["B-PER", "I-PER", "O", "B-ORG"], ["I-ORG", "O", "B-DATE", "O"]]


# ---------------------------------------------------------------- entities

def test_default_mode_by_hand():
    m = entity_metrics(GOLD, PRED)
    # gold: PER LOC ORG DATE; predicted: PER ORG(3) ORG(I- starts one) DATE(cut short); right: PER, ORG(seq 2)
    assert (m["micro"]["correct"], m["micro"]["predicted"], m["micro"]["gold"]) == (2, 4, 4)
    assert m["micro"]["f1"] == pytest.approx(0.5)
    pl = m["per_label"]
    assert pl["PER"]["f1"] == 1.0
    assert (pl["LOC"]["precision"], pl["LOC"]["recall"], pl["LOC"]["f1"]) == (0.0, 0.0, 0.0)
    assert (pl["ORG"]["precision"], pl["ORG"]["recall"]) == (0.5, 1.0)
    assert pl["ORG"]["f1"] == pytest.approx(2 / 3)
    assert pl["DATE"]["f1"] == 0.0
    assert m["macro"]["f1"] == pytest.approx((1 + 0 + 2 / 3 + 0) / 4)
    assert m["micro"]["f1"] == pytest.approx(f1_score(GOLD, PRED))


def test_strict_mode_by_hand():
    m = entity_metrics(GOLD, PRED, mode="strict")
    # the dangling I-ORG is no entity in strict IOB2: predicted PER, ORG(3), DATE(2..3); right: PER
    assert (m["micro"]["correct"], m["micro"]["predicted"], m["micro"]["gold"]) == (1, 3, 4)
    assert m["micro"]["f1"] == pytest.approx(2 / 7)
    assert m["micro"]["f1"] == pytest.approx(f1_score(GOLD, PRED, mode="strict", scheme=IOB2))


def test_label_subset():
    m = entity_metrics(GOLD, PRED, labels={"PER", "LOC"})
    assert set(m["per_label"]) == {"PER", "LOC"}
    assert (m["micro"]["correct"], m["micro"]["predicted"], m["micro"]["gold"]) == (1, 1, 2)
    assert m["micro"]["f1"] == pytest.approx(2 / 3)
    # a label absent from both sides is still reported (as zeros)
    assert entity_metrics([["O"]], [["O"]], labels={"KILLED"})["per_label"]["KILLED"]["gold"] == 0


def test_restrict_and_extract():
    assert restrict_tags(["B-DATE", "I-DATE", "B-PER"], {"PER"}) == ["O", "O", "B-PER"]
    assert extract_entities(["I-LOC", "I-LOC", "O"], "default") == [("LOC", 0, 2)]
    assert extract_entities(["I-LOC", "I-LOC", "O"], "strict") == []


def test_entity_metrics_rejects_misaligned():
    with pytest.raises(ValueError, match="sequence 1"):
        entity_metrics([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="mode"):
        entity_metrics([["O"]], [["O"]], mode="lenient")


# ---------------------------------------------------------------- incidents

TEXT = "قتل 5 جنود في حمص وأصيب 3 في حماة . قتل 2 في حلب . وصل الوفد إلى حمص"


def sp(word: str, nth: int = 0) -> Span:
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(word, start + 1)
    return Span.of(TEXT, start, start + len(word))


def cnt(word: str, value: int, nth: int = 0) -> Count:
    return Count(sp(word, nth), Quantity(value, value, value, "exact"))


EVID = Span.of(TEXT, 0, len(TEXT))
G1 = Incident(EVID, killed=cnt("5", 5), wounded=cnt("3", 3), location=sp("حمص"), victim=sp("جنود"))
G2 = Incident(EVID, killed=cnt("2", 2), location=sp("حلب"))


def test_incident_metrics_by_hand():
    p1 = Incident(EVID, killed=cnt("5", 5), wounded=Count(sp("3"), Quantity(4, 4, 4, "exact")), location=sp("حمص"), victim=sp("جنود"))
    p2 = Incident(EVID, killed=cnt("2", 2), location=sp("حماة"))
    p3 = Incident(EVID, killed=Count(sp("حماة"), Quantity(7, 7, 7, "exact")))  # overlaps no gold figure
    hard_hit = IncidentDoc("neg1", [], [p3], hard_negative=True)
    hard_clean = IncidentDoc("neg2", [], [], hard_negative=True)
    m = incident_metrics([IncidentDoc("a", [G1, G2], [p1, p2, p3]), hard_hit, hard_clean])
    assert m["documents"] == 3
    assert (m["incidents"]["correct"], m["incidents"]["predicted"], m["incidents"]["gold"]) == (2, 4, 2)
    assert (m["killed"]["correct"], m["killed"]["predicted"], m["killed"]["gold"]) == (2, 4, 2)
    assert m["killed"]["precision"] == 0.5 and m["killed"]["recall"] == 1.0
    assert (m["wounded"]["correct"], m["wounded"]["predicted"], m["wounded"]["gold"]) == (0, 1, 1)  # 4 ≠ 3
    assert (m["location"]["correct"], m["location"]["predicted"], m["location"]["gold"]) == (1, 2, 2)  # حماة ≠ حلب
    assert (m["victim"]["correct"], m["victim"]["precision"], m["victim"]["recall"]) == (1, 1.0, 1.0)
    assert m["perpetrator"]["gold"] == 0 and m["perpetrator"]["f1"] == 0.0
    assert m["hard_negatives"] == {"documents": 2, "with_predicted_incident": 1, "false_incident_rate": 0.5}


def test_location_by_normalized_text_elsewhere():
    # the prediction names حمص at its second mention: no overlap, same name → correct
    p = Incident(EVID, killed=cnt("5", 5), location=sp("حمص", nth=1))
    m = incident_metrics([IncidentDoc("a", [G1], [p])])
    assert m["location"]["correct"] == 1
    assert normalize_name("قوّات الأسد") == normalize_name("قوات الاسد")
    assert normalize_name("مدينة الرقة") == normalize_name("مدينه الرقه")
    assert not same_mention(sp("حمص"), sp("حلب"))


def test_figures_need_value_and_overlap():
    shifted = Incident(EVID, killed=cnt("2", 5))  # right value, wrong place
    assert figure_matches([G1], [shifted], "killed") == 0
    wrong_value = Incident(EVID, killed=Count(sp("5"), Quantity(6, 6, 6, "exact")))
    assert figure_matches([G1], [wrong_value], "killed") == 0


def test_maximum_matching_beats_greedy():
    # pred 0 fits gold 0 and 1, pred 1 only gold 0: greedy (0→0) finds 1 pair, the maximum is 2
    ok = {(0, 0), (0, 1), (1, 0)}
    assert max_matching(2, 2, lambda i, j: (i, j) in ok) == [(0, 1), (1, 0)]
    # the same with figures: a predicted span covering two gold figures of the same value
    text = "قتل 5 و 5"
    a, b = text.index("5"), text.rindex("5")
    q = Quantity(5, 5, 5, "exact")
    gold = [Incident(Span.of(text, 0, 9), killed=Count(Span.of(text, a, a + 1), q)),
            Incident(Span.of(text, 0, 9), killed=Count(Span.of(text, b, b + 1), q))]
    pred = [Incident(Span.of(text, 0, 9), killed=Count(Span.of(text, a, b + 1), q)),
            Incident(Span.of(text, 0, 9), killed=Count(Span.of(text, a, a + 1), q))]
    assert figure_matches(gold, pred, "killed") == 2


def test_duplicate_document_rejected():
    with pytest.raises(ValueError, match="twice"):
        incident_metrics([IncidentDoc("a", [], []), IncidentDoc("a", [], [])])


def test_incident_round_trip_through_record_json():
    inc = Incident(EVID, killed=cnt("5", 5), wounded=Count(sp("3"), Quantity(3, 3, None, "at_least")), location=sp("حمص"),
                   date=DateRef(sp("حلب"), "2015-08-01", "day"), source=sp("الوفد"), confidence=0.75)
    record = {"doc_id": "x", "status": "ok", "entities": [], "incidents": [inc.to_json()]}
    assert incidents_from_record(record) == [inc]
    assert incidents_from_record({"doc_id": "y", "status": "error", "incidents": []}) == []
    with pytest.raises(ValueError, match="incidents\\[0\\].killed"):
        incident_from_json({"evidence": EVID.to_json(), "killed": {"start": 0, "end": 1, "text": "ق"}}, "incidents[0]")


# ---------------------------------------------------------------- model card

def _metrics() -> dict:
    ent = entity_metrics(GOLD, PRED)
    strict = entity_metrics(GOLD, PRED, mode="strict")
    inc = incident_metrics([IncidentDoc("a", [G1, G2], [G1]), IncidentDoc("n", [], [], hard_negative=True)])
    return {
        "hasila_metrics_version": 1,
        "model": {"path": "runs/x", "name": "hasila-test", "label_set": "hasila", "labels": ["PER", "ORG", "LOC", "DATE", "KILLED", "WOUNDED"]},
        "datasets": {
            "gold-test": {"corpus": "gold", "split": "test", "documents": 2, "words": 8, "labels_scored": ["DATE", "LOC", "ORG", "PER"],
                          "entities": {"default": ent, "strict": strict}, "incidents": inc, "incident_predictions": "predictions file"},
        },
    }


def test_model_card_front_matter_and_numbers():
    cfg = {"base_model": "CAMeL-Lab/bert-base-arabic-camelbert-mix", "label_set": "hasila", "missing_labels": "marginal",
           "corpora": [{"name": "gold", "split": "train", "weight": 4}, {"name": "anercorp", "split": "train", "weight": 1}],
           "learning_rate": 0.0001}
    card = render_model_card(_metrics(), cfg, "hasila-test")
    assert card.startswith("---\n")
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["license"] == "cc-by-nc-sa-4.0"  # gold annotations sit on SaudiNewsNet texts
    assert front["base_model"] == "CAMeL-Lab/bert-base-arabic-camelbert-mix"
    assert front["pipeline_tag"] == "token-classification"
    results = front["model-index"][0]["results"]
    values = {m["name"]: m["value"] for m in results[0]["metrics"]}
    assert values["micro F1 (seqeval default)"] == 0.5
    assert values["micro F1 (seqeval strict IOB2)"] == round(2 / 7, 4)
    assert values["killed figure exact-match F1"] == round(2 * 0.5 / 1.5, 4)  # P 1, R 1/2
    assert values["hard-negative false-incident rate"] == 0.0
    assert "| ORG | 50.0 | 100.0 | 66.7 |" in card
    assert "| **micro** | 50.0 | 50.0 | **50.0** | 28.6 | 4 |" in card
    for needed in ("Intended use", "Out-of-scope", "CC BY-NC-SA 4.0", "Misattributed responsibility", "Undercounting",
                   "Outlet and dialect drift", "--base-model CAMeL-Lab/bert-base-arabic-camelbert-mix", "research use"):
        assert needed in card


def test_ablation_and_benchmark_rows_go_into_the_card(tmp_path):
    import json

    from hasila.train.cli import main

    run_metrics = _metrics()
    run_metrics["datasets"]["gold-dev"] = run_metrics["datasets"].pop("gold-test")
    run_metrics["model"]["path"] = "runs/abl"
    (tmp_path / "run.json").write_text(json.dumps(run_metrics))
    bench = _metrics()
    bench["datasets"]["anercorp-camel-test"] = bench["datasets"].pop("gold-test")
    (tmp_path / "bench.json").write_text(json.dumps(bench))
    target = tmp_path / "metrics.json"
    target.write_text(json.dumps(_metrics()))
    for change in ("first wording", "as B, without the general corpora"):  # the same run twice: replaced
        assert main(["ablation", "--metrics", str(target), "--run", "C", "--change", change,
                     "--from", str(tmp_path / "run.json"), "--note", "300 steps each"]) == 0
    assert main(["benchmark", "--metrics", str(target), "--model", "anercorp4", "--what", "4 classes",
                 "--from", str(tmp_path / "bench.json")]) == 0
    metrics = json.loads(target.read_text())
    [row] = metrics["ablations"]
    assert row["change"] == "as B, without the general corpora" and row["micro_f1"] == 0.5 and row["model"] == "runs/abl"
    assert metrics["ablations_note"] == "300 steps each"
    log = {"train_seconds": 2220.0, "device": "cpu (2 threads)", "processes": 1, "total_steps": 700}
    card = render_model_card(metrics, None, "hasila-test", log)
    assert "| C | as B, without the general corpora | 50.0 |" in card
    assert "| anercorp4 | 4 classes | `anercorp-camel-test` | 50.0 |" in card
    assert "37.0 minutes of wall time on cpu (2 threads), 1 process(es), 700 steps (0 GPU hours)" in card
    # a run without the data named is a clear error, and nothing is written
    before = target.read_text()
    assert main(["ablation", "--metrics", str(target), "--run", "X", "--change", "x",
                 "--from", str(tmp_path / "bench.json")]) == 2
    assert target.read_text() == before


def test_license_derivation():
    assert derive_license(["anercorp"])[0] == "other"
    assert derive_license(["aqmar", "wikifane"])[0] == "cc-by-sa-3.0"
    assert derive_license(["aqmar", "saudinewsnet"])[0] == "cc-by-nc-sa-4.0"
    assert derive_license(["/tmp/some/dataset"])[0] == "other"


def test_yaml_writer_quotes_everything():
    tricky = {"a": "x: y # not a comment", "b": ["- dash", "نص عربي", 'quote " and \\'], "c": {"d": None, "e": 1.5, "f": True}, "g": []}
    assert yaml.safe_load(to_yaml(tricky)) == tricky


# ---------------------------------------------------------------- hasila-evaluate on a tiny model

@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("model"), train_steps=15)  # fits partly: 0 < F1 < 1


def test_evaluate_cli_on_tiny_model(tmp_path, tiny_model_dir):
    import datasets
    from hasila.infer.labels import LABELS
    from hasila.train.evaluate_cli import main as evaluate_main
    from hasila.train.trainer import predict_words
    from tiny_model import tiny_corpus

    model_dir = tiny_model_dir
    corpus = tiny_corpus()
    # the same sentences again with PER and LOC swapped in the gold: the model predicts the same for
    # both copies, so F1 stays below 1 even on a machine where the tiny model learns its data by heart
    swap = {"PER": "LOC", "LOC": "PER"}
    corpus += [(w, [t[:2] + swap.get(t[2:], t[2:]) if t != "O" else t for t in tags]) for w, tags in corpus]
    rows = [{"id": str(i), "words": w, "tags": t, "annotated_labels": list(LABELS) if i % 2 else ["PER", "ORG", "LOC"]}
            for i, (w, t) in enumerate(corpus)]
    datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "data"))
    out = tmp_path / "metrics.json"
    rc = evaluate_main(["--model", str(model_dir), "--data", f"{tmp_path / 'data'}:test", "--out", str(out),
                        "--max-length", "16", "--stride", "4", "--card"])
    assert rc == 0
    metrics = json.loads(out.read_text(encoding="utf-8"))
    res = metrics["datasets"][f"{tmp_path / 'data'}:test"]
    assert res["documents"] == len(rows) and res["labels_scored"] == sorted(LABELS)
    # recompute by hand from the model's own predictions: odd rows on every label, even rows on PER/ORG/LOC
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    model = AutoModelForTokenClassification.from_pretrained(str(model_dir))
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    pred = predict_words(model, tok, [r["words"] for r in rows], max_length=16, stride=4)
    keep = [r["annotated_labels"] for r in rows]
    expected = entity_metrics([restrict_tags(r["tags"], k) for r, k in zip(rows, keep)],
                              [restrict_tags(p, k) for p, k in zip(pred, keep)], labels=LABELS)
    assert 0 < expected["micro"]["f1"] < 1
    assert math.isclose(res["entities"]["default"]["micro"]["f1"], expected["micro"]["f1"])
    assert res["entities"]["default"]["micro"]["gold"] == expected["micro"]["gold"]
    card = (model_dir / "README.md").read_text(encoding="utf-8")
    assert yaml.safe_load(card.split("---\n")[1])["model-index"][0]["results"][0]["metrics"][0]["value"] == round(expected["micro"]["f1"], 4)
    # unknown data names fail with a clear message
    assert evaluate_main(["--model", str(model_dir), "--data", "nonsense", "--out", str(tmp_path / "m2.json")]) == 2


def test_gold_test_with_predictions_file(tmp_path, monkeypatch, tiny_model_dir):
    """hasila-evaluate --data gold-test --predictions: a made-up SaudiNewsNet zip, a store with
    one incident document and one hard negative, and extraction records to score."""
    import zipfile

    from hasila.infer.labels import LABELS
    from hasila.infer.types import Entity
    from hasila.train.annotate.store import (
        GoldDocument,
        source_for_doc_id,
        write_documents,
    )
    from hasila.train.evaluate_cli import main as evaluate_main
    from hasila.train.gold import GoldError, gold_dataset_dict, gold_documents

    text_a = "قتل 5 جنود في حمص يوم السبت ."
    text_b = "ارتفعت أسعار النفط 5 في المئة ."
    (tmp_path / "data" / "saudinewsnet").mkdir(parents=True)
    with zipfile.ZipFile(tmp_path / "data" / "saudinewsnet" / "2015-08-09.zip", "w") as zf:
        zf.writestr("2015-08-09.json", json.dumps([{"content": text_a, "source": "x"}, {"content": text_b, "source": "x"}]))
    ann = tmp_path / "ann"
    ann.mkdir()
    ids = ["snn-2015-08-09-0000", "snn-2015-08-09-0001"]
    (ann / "selection.json").write_text(json.dumps({"documents": [{"doc_id": i, "split": "test"} for i in ids]}))
    monkeypatch.setenv("HASILA_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HASILA_ANNOTATIONS", str(ann))

    def at(text, word):
        i = text.index(word)
        return Span.of(text, i, i + len(word))

    five, homs = at(text_a, "5"), at(text_a, "حمص")
    incident = Incident(Span.of(text_a, 0, len(text_a)), killed=Count(five, Quantity(5, 5, 5, "exact")), location=homs)
    docs = [
        GoldDocument(ids[0], text_a, source_for_doc_id(ids[0]), "gold", "incident", "tester",
                     [Entity("KILLED", five), Entity("LOC", homs), Entity("DATE", at(text_a, "السبت"))], [incident]),
        GoldDocument(ids[1], text_b, source_for_doc_id(ids[1]), "gold", "hard_negative", "tester", [], []),
    ]
    write_documents(docs, ann / "store")

    dd = gold_dataset_dict()
    assert (len(dd["train"]), len(dd["validation"]), len(dd["test"])) == (0, 0, 2)
    assert dd["test"][0]["tags"] == ["O", "B-KILLED", "O", "O", "B-LOC", "O", "B-DATE", "O"]
    assert dd["test"][0]["annotated_labels"] == list(LABELS)
    assert [d.doc_id for d in gold_documents("dev")] == []

    false_alarm = Incident(Span.of(text_b, 0, len(text_b)), killed=Count(at(text_b, "5"), Quantity(5, 5, 5, "exact")))
    preds = tmp_path / "pred.jsonl"
    preds.write_text("\n".join(json.dumps({"doc_id": i, "status": "ok", "entities": [], "incidents": [x.to_json()]}, ensure_ascii=False)
                                for i, x in zip(ids, (incident, false_alarm))) + "\n", encoding="utf-8")
    out = tmp_path / "m.json"
    args = ["--model", str(tiny_model_dir), "--data", "gold-test", "--out", str(out), "--max-length", "16", "--stride", "4"]
    assert evaluate_main(args + ["--predictions", str(preds)]) == 0
    res = json.loads(out.read_text())["datasets"]["gold-test"]
    assert res["documents"] == 2 and res["labels_scored"] == sorted(LABELS)
    inc = res["incidents"]
    assert (inc["killed"]["correct"], inc["killed"]["predicted"], inc["killed"]["gold"]) == (1, 2, 1)
    assert inc["location"]["f1"] == 1.0
    assert inc["hard_negatives"] == {"documents": 1, "with_predicted_incident": 1, "false_incident_rate": 1.0}
    assert res["incident_predictions"] == "predictions file"
    # without --predictions the model runs through the extraction pipeline
    assert evaluate_main(args) == 0
    res = json.loads(out.read_text())["datasets"]["gold-test"]
    assert res["incident_predictions"] == "hasila.infer.pipeline"
    assert res["incidents"]["documents"] == 2 and res["incidents"]["killed"]["gold"] == 1
    # a predictions file that lacks a gold document is an error, not a silent zero
    preds.write_text(preds.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert evaluate_main(args + ["--predictions", str(preds)]) == 2
    # a stored document without a split is an error, never silently train
    (ann / "selection.json").write_text(json.dumps({"documents": [{"doc_id": ids[0], "split": "test"}]}))
    with pytest.raises(GoldError, match=ids[1]):
        gold_documents("test")
