"""The ONNX Runtime path (infer/onnx_runtime.py) with a tiny model: the export's logits, the
cache, the command's and the API's --runtime, and the int8 parity gates on a gold dev slice."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

from hasila.infer import onnx_runtime
from hasila.infer.model import ModelError, TokenClassifier
from hasila.infer.onnx_runtime import OnnxTokenClassifier, load_classifier, resolve_runtime
from hasila.train.runtime_parity import logit_gap, padded_batches, parity_gates, run_records
from tiny_model import TINY_SENTENCES, build_tiny_model, parse_markup

TEXTS = [parse_markup(s)[0] for s in TINY_SENTENCES]
LONG = " ".join(TEXTS)  # longer than the tiny model's 64 positions: several windows, padded batches


# Derived graphs go to a temporary cache, never the user's: tests/conftest.py does it for the session.


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", train_steps=150)


@pytest.fixture(scope="module")
def torch_clf(tiny_path):
    return TokenClassifier.load(tiny_path, device="cpu", batch_size=4)


@pytest.fixture(scope="module")
def onnx_clf(tiny_path):
    return OnnxTokenClassifier.load(tiny_path, variant="fp32", batch_size=4, threads=1)


def test_export_logits_and_hidden_states_match_torch_on_padded_batches(torch_clf, onnx_clf):
    batches = padded_batches(torch_clf, TEXTS + [LONG, LONG[:300]], batch_size=4)
    assert any((m == 0).any() for _, m in batches), "the check needs padded rows"
    gap = logit_gap(torch_clf, onnx_clf, batches)
    assert gap["max_abs_logit_diff"] < 1e-4
    assert gap["max_abs_hidden_diff"] < 1e-4
    assert gap["argmax_changed"] == 0.0


def test_word_scores_and_vectors_match_torch(torch_clf, onnx_clf):
    enc = torch_clf.encoder.encode([[LONG[s:e] for s, e in __import__("hasila.infer.tokenize", fromlist=["x"]).split_words(LONG)]])
    for clf in (torch_clf, onnx_clf):
        clf.with_vectors = True
    try:
        (t_tags, t_p, t_v), = torch_clf.score(enc)
        (o_tags, o_p, o_v), = onnx_clf.score(enc)
    finally:
        torch_clf.with_vectors = onnx_clf.with_vectors = False
    assert (t_tags == o_tags).all()
    assert np.abs(t_p - o_p).max() < 1e-5
    assert o_v.dtype == np.float16 and o_v.shape == t_v.shape
    assert np.abs(t_v.astype(np.float32) - o_v.astype(np.float32)).max() < 2e-3  # float16 rounding


def test_graphs_are_built_once_into_the_cache(tiny_path, onnx_clf):
    graph = onnx_clf.graph
    assert graph.parent == onnx_runtime.cache_dir() and graph.exists()
    assert not any(p.suffix == ".onnx" for p in tiny_path.iterdir()), "nothing is written into the model folder"
    before = graph.stat().st_mtime_ns
    again = OnnxTokenClassifier.load(tiny_path, variant="fp32", threads=1)
    assert again.graph == graph and graph.stat().st_mtime_ns == before


def test_a_damaged_cached_graph_is_a_clear_error(tiny_path, tmp_path, monkeypatch):
    monkeypatch.setenv("HASILA_ONNX_CACHE", str(tmp_path))
    path = onnx_runtime.derived_path(tiny_path, "fp32")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a graph")
    with pytest.raises(ModelError, match="delete it"):
        OnnxTokenClassifier.load(tiny_path, variant="fp32")


def test_runtime_choice_and_its_errors(tiny_path, monkeypatch):
    assert resolve_runtime("auto", "cpu") == "onnx"  # int8 only once it passes the gates
    assert resolve_runtime("auto", "cuda") == "torch"
    assert resolve_runtime("torch", "cpu") == "torch"
    with pytest.raises(ModelError, match="CPU only"):
        resolve_runtime("onnx", "cuda:0")
    with pytest.raises(ModelError, match="unknown runtime"):
        resolve_runtime("tensorrt", "cpu")
    with pytest.raises(ModelError, match="dtype"):
        load_classifier(tiny_path, runtime="onnx", device="cpu", dtype="bfloat16")
    with pytest.raises(ModelError, match="local model folder"):
        OnnxTokenClassifier.load("org/not-a-folder")
    monkeypatch.setattr(onnx_runtime, "onnxruntime_available", lambda: False)
    assert resolve_runtime("auto", "cpu") == "torch"
    with pytest.raises(ModelError, match="needs the onnxruntime package"):
        resolve_runtime("int8", "cpu")


def test_command_runtimes_give_the_same_records(tiny_path, tmp_path):
    from hasila.infer.cli import main

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": str(i), "text": t, "date": "2019-04-20"}, ensure_ascii=False) + "\n"
                           for i, t in enumerate(TEXTS + [LONG])), encoding="utf-8")
    out = {}
    for runtime in ("torch", "onnx"):
        dst = tmp_path / f"{runtime}.jsonl"
        assert main([str(src), "-o", str(dst), "--model", str(tiny_path), "--device", "cpu", "--runtime", runtime, "-q"]) == 0
        out[runtime] = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert [r["entities"] for r in out["torch"]] == [r["entities"] for r in out["onnx"]]
    assert [r["incidents"] for r in out["torch"]] == [r["incidents"] for r in out["onnx"]]


def test_api_takes_the_runtime(tiny_path):
    from hasila.infer.pipeline import Extractor, extract

    assert Extractor(str(tiny_path), device="cpu", runtime="onnx").classifier.runtime == "onnx"
    a = extract(TEXTS[:3], model=str(tiny_path), device="cpu", runtime="torch")
    b = extract(TEXTS[:3], model=str(tiny_path), device="cpu", runtime="int8")
    assert [r["doc_id"] for r in a] == [r["doc_id"] for r in b] == ["0", "1", "2"]


@pytest.mark.corpus
def test_int8_parity_gates_on_a_gold_dev_slice(tiny_path, torch_clf, corpus_path):
    """The CI form of the gates (the full splits: benchmarks/onnx_parity.py)."""
    corpus_path()
    from hasila.train.gold import gold_documents

    docs = gold_documents("dev")[:12]
    ref = run_records(torch_clf, docs, batch_size=4)
    int8 = OnnxTokenClassifier.load(tiny_path, variant="int8", batch_size=4, threads=1)
    assert int8.runtime == "int8"
    result = parity_gates(docs, ref, run_records(int8, docs, batch_size=4))
    assert result.passed, result.to_json()
    # and the gates do fail when one document of the 12 gets other figures (11/12 < 97 %)
    first = docs[0].doc_id
    span = {"start": 0, "end": 1, "text": docs[0].text[:1]}
    other = {"evidence": span, "killed": {**span, "value": 99999, "low": None, "high": None, "qualifier": "exact"}}
    broken = {**ref, first: {**ref[first], "incidents": ref[first].get("incidents", []) + [other]}}
    failed = parity_gates(docs, ref, broken)
    assert not failed.figures_ok and not failed.passed and failed.differing == [first]
