"""Regression tests of the shipped model, ``models/hasila-ner``.

It loads on the CPU (Hasila's runtime and plain ``transformers.pipeline``), stays small enough
to ship in the repository, predicts Hasila's label set, runs ``hasila-extract`` on the
examples, and scores at least the documented floors on a fixed slice of the gold dev split
(``tests/data/dev_slice.json``; floors and how they were set: ``tests/data/shipped_model_floor.json``).

Without the model a user's checkout skips these tests; under CI (``CI=true``) a missing
shipped model is a failure. Print the slice's current scores (to set the floors) with
``python tests/test_shipped_model.py``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import _in_ci, require_corpus
from hasila.infer.labels import BIO_TAGS, ID2TAG
from hasila.infer.model import SHIPPED_MODEL_DIR, TokenClassifier, weights_sha256

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MAX_BYTES = 40 * 1024 * 1024
# Made up for this test (not from any corpus).
SENTENCE = "قتل 12 جنديا وأصيب 5 آخرون في هجوم شنه مسلحون على حاجز للجيش قرب مدينة حلب يوم الجمعة ."

# What the floors constrain: name → score read from a GoldEvaluation.
METRICS = {
    "entity_micro_f1": lambda ev: ev.entities["default"]["micro"]["f1"],
    "entity_killed_f1": lambda ev: ev.entities["default"]["per_label"]["KILLED"]["f1"],
    "incident_killed_f1": lambda ev: ev.incidents["killed"]["f1"],
    # the structure heads (figure roles) and the analyst's incident matching
    "figure_role_accuracy": lambda ev: ev.incidents["analyst"]["overall"]["figures"]["figure_role_accuracy"],
    "analyst_incident_f1": lambda ev: ev.incidents["analyst"]["overall"]["figures"]["incident_f1"],
}


def require_shipped_model() -> Path:
    if not (SHIPPED_MODEL_DIR / "config.json").is_file():
        msg = f"shipped model not found: {SHIPPED_MODEL_DIR} (no config.json)"
        if _in_ci():
            pytest.fail(msg + " — under CI a missing shipped model is a failure")
        pytest.skip(msg)
    return SHIPPED_MODEL_DIR


@pytest.fixture(scope="module")
def shipped() -> Path:
    return require_shipped_model()


def model_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_size_on_disk(shipped):
    size = sum(p.stat().st_size for p in model_files(shipped))
    assert size <= MAX_BYTES, f"{shipped} takes {size / 2**20:.1f} MiB; the limit is {MAX_BYTES / 2**20:.0f} MiB"


def test_weights_are_fp16_safetensors(shipped):
    from safetensors import safe_open

    # the tagger's weights; the structure heads (heads.safetensors, 2.7 MiB) stay float32 by design
    weights = sorted(p for p in shipped.glob("*.safetensors") if p.name != "heads.safetensors")
    assert weights, f"{shipped} has no .safetensors weights"
    others = [p.name for p in model_files(shipped) if p.suffix in (".bin", ".pt", ".pth")]
    assert not others, f"pickled weights beside the safetensors: {others}"
    float_dtypes = set()
    for path in weights:
        with safe_open(str(path), framework="pt") as fh:
            float_dtypes |= {fh.get_slice(k).get_dtype() for k in fh.keys()} - {"I64", "I32", "BOOL", "U8"}
    assert float_dtypes == {"F16"}, f"weights stored as {sorted(float_dtypes)}, expected F16 only"


def test_label_set_is_hasilas(shipped):
    config = json.loads((shipped / "config.json").read_text(encoding="utf-8"))
    assert {int(k): v for k, v in config["id2label"].items()} == ID2TAG


def test_loads_with_the_runtime_on_cpu(shipped):
    from hasila.infer.tokenize import split_words

    clf = TokenClassifier.load(shipped, device="cpu")
    assert clf.tags == BIO_TAGS
    words = [SENTENCE[s:e] for s, e in split_words(SENTENCE)]
    (pred,) = clf.predict([words])
    assert len(pred) == len(words)
    assert all(tag in BIO_TAGS and 0.0 <= p <= 1.0 for tag, p in pred)


def test_loads_with_transformers_pipeline(shipped):
    from transformers import pipeline

    nlp = pipeline("token-classification", model=str(shipped), device="cpu")
    out = nlp(SENTENCE)
    assert isinstance(out, list)
    for item in out:
        assert item["entity"] in BIO_TAGS and item["entity"] != "O"
        assert 0 <= item["start"] < item["end"] <= len(SENTENCE)


def test_extracts_the_examples(shipped, tmp_path, monkeypatch):
    """``hasila-extract examples/articles.jsonl`` with no --model uses the shipped model."""
    import jsonschema
    from hasila.infer.cli import main
    from hasila.infer.records import check_record, load_schema

    monkeypatch.delenv("HASILA_MODEL", raising=False)
    examples = REPO / "examples" / "articles.jsonl"
    rows = [json.loads(line) for line in examples.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = {r["id"]: r["text"] for r in rows}
    out = tmp_path / "incidents.jsonl"
    assert main([str(examples), "-o", str(out), "--device", "cpu", "-q"]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 8 == len(texts)
    validator = jsonschema.Draft202012Validator(load_schema())
    sha = weights_sha256(shipped)
    for rec in records:
        validator.validate(rec)
        assert rec["status"] == "ok", rec
        check_record(rec, texts[rec["doc_id"]])
        expected = {"name": "hasila-ner", "sha256": sha}
        if (shipped / "heads.safetensors").is_file():  # records name the structure heads too
            expected["heads_sha256"] = hashlib.sha256((shipped / "heads.safetensors").read_bytes()).hexdigest()
        assert rec["model"] == expected
    assert [r["doc_id"] for r in records] == list(texts)


def read_floors() -> dict[str, dict]:
    data = json.loads((DATA / "shipped_model_floor.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def slice_scores(model_dir: Path = SHIPPED_MODEL_DIR) -> dict[str, float]:
    from hasila.train.analysis import evaluate_gold

    spec = json.loads((DATA / "dev_slice.json").read_text(encoding="utf-8"))
    ev = evaluate_gold(model_dir, spec["split"], doc_ids=spec["doc_ids"], device="cpu")
    return {name: get(ev) for name, get in METRICS.items()}


def test_floor_file_names_what_the_test_measures():
    assert set(read_floors()) == set(METRICS)


@pytest.mark.corpus
def test_scores_at_least_the_floors_on_the_dev_slice(shipped):
    require_corpus("saudinewsnet")
    require_corpus("webnews", "webnews.jsonl")
    floors = read_floors()
    unset = [name for name, v in floors.items() if v.get("floor") is None or v.get("measured") is None]
    assert not unset, f"floors not set in tests/data/shipped_model_floor.json: {unset} (run python tests/test_shipped_model.py)"
    for name, v in floors.items():
        assert v["floor"] <= v["measured"], f"{name}: floor {v['floor']} above the measured {v['measured']}"
    scores = slice_scores(shipped)
    below = {name: (round(scores[name], 4), floors[name]["floor"]) for name in METRICS if scores[name] < floors[name]["floor"]}
    assert not below, f"below the floor (score, floor): {below}"


if __name__ == "__main__":  # print the slice's scores, to set the floors
    import sys

    print(json.dumps({k: round(v, 4) for k, v in slice_scores(Path(sys.argv[1]) if len(sys.argv) > 1 else SHIPPED_MODEL_DIR).items()}, indent=1))
