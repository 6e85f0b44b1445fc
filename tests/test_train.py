"""Training code on a tiny BERT (tests/tiny_model.py) and tiny made-up corpora, on the CPU:
config, windows, sampler, the partial-annotation loss, a full `hasila-train run`, the saved
model in `transformers.pipeline`, early stopping, and crash + --resume reproducing an
uninterrupted run bit for bit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from hasila.infer.labels import BIO_TAGS, LABELS, TAG2ID
from hasila.train.config import ConfigError, CorpusSpec, apply_overrides, load_config
from hasila.train.features import (
    ANERCORP4,
    HASILA,
    IGNORE,
    EpochSampler,
    LabelSet,
    encode_documents,
    make_windows,
    open_tag_ids,
)
from hasila.train.losses import allowed_tags, marginal_nll, token_classification_loss
from tiny_model import build_tiny_model, tiny_corpus

REPO = Path(__file__).resolve().parent.parent
PARTIAL = ("PER", "ORG", "LOC")  # what the ANERcorp-like corpus annotates
TO_ANERCORP = {"PER": "PERS", "ORG": "ORG", "LOC": "LOC", "DATE": "MISC"}  # a made-up 4-class view


def _rows(indices, annotated):
    rows = []
    for i in indices:
        words, tags = tiny_corpus()[i]
        tags = [t if t == "O" or t[2:] in annotated else "O" for t in tags]
        orig = [t if t == "O" or t[2:] not in TO_ANERCORP else f"{t[:2]}{TO_ANERCORP[t[2:]]}" for t in tiny_corpus()[i][1]]
        orig = [t if t == "O" or t[2:] in TO_ANERCORP.values() else "O" for t in orig]
        rows.append({"id": f"s{i}", "words": words, "tags": tags, "orig_tags": orig, "annotated_labels": list(annotated)})
    return rows


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """A tiny base model (with dropout, so RNG restoring matters) and two tiny corpora."""
    import datasets

    root = tmp_path_factory.mktemp("train")
    base = build_tiny_model(root / "base")
    cfg = json.loads((base / "config.json").read_text())
    cfg.update(hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    (base / "config.json").write_text(json.dumps(cfg))
    full = datasets.DatasetDict({
        "train": datasets.Dataset.from_list(_rows(range(6), LABELS) * 2),
        "validation": datasets.Dataset.from_list(_rows(range(6, 10), LABELS)),
    })
    partial = datasets.DatasetDict({"train": datasets.Dataset.from_list(_rows(range(3, 10), PARTIAL))})
    full.save_to_disk(str(root / "full"))
    partial.save_to_disk(str(root / "partial"))
    return root


def _config(assets: Path, out: Path, **extra) -> Path:
    cfg = {
        "base_model": str(assets / "base"),
        "output_dir": str(out),
        "corpora": [{"name": str(assets / "full"), "weight": 1.0}, {"name": str(assets / "partial"), "weight": 0.5}],
        "dev_corpora": [{"name": str(assets / "full"), "split": "validation"}],
        "max_length": 24,
        "stride": 4,
        "batch_size": 4,
        "eval_batch_size": 8,
        "learning_rate": 3e-3,
        "max_steps": 8,
        "save_steps": 4,
        "log_steps": 4,
        "seed": 7,
        **extra,
    }
    path = out.parent / f"{out.name}.json"
    path.write_text(json.dumps(cfg))
    return path


@pytest.fixture(scope="module")
def tokenizer(assets):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(assets / "base"))


# ---------------------------------------------------------------- config

def test_config_overrides_and_errors(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"base_model": "x", "output_dir": "o", "corpora": ["anercorp", {"name": "gold", "weight": 2}]}))
    cfg = load_config(path, ["learning_rate=1e-4", "corpora.1.weight=0.5", "base_model=CAMeL-Lab/bert-base-arabic-camelbert-mix"])
    assert cfg.learning_rate == 1e-4 and cfg.corpora[1] == CorpusSpec("gold", "train", 0.5)
    assert cfg.corpora[0] == CorpusSpec("anercorp", "train", 1.0)
    assert cfg.base_model == "CAMeL-Lab/bert-base-arabic-camelbert-mix"
    with pytest.raises(ConfigError, match="unknown keys \\['learning_rat'\\]"):
        load_config(path, ["learning_rat=1"])
    with pytest.raises(ConfigError, match="'missing_labels'"):
        load_config(path, ["missing_labels=ignore"])
    with pytest.raises(ConfigError, match="'stride'"):
        load_config(path, ["max_length=32", "stride=16"])
    with pytest.raises(ConfigError, match="weight"):
        load_config(path, ["corpora.0={\"name\": \"a\", \"weight\": 0}"])
    with pytest.raises(ConfigError, match="index"):
        apply_overrides({"corpora": []}, ["corpora.3.weight=1"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.json")


def test_shipped_configs_load():
    for name, label_set in (("hasila", "hasila"), ("hasila-cpu", "hasila"), ("benchmark-4class", "anercorp4"),
                            ("benchmark-4class-cpu", "anercorp4")):
        cfg = load_config(REPO / "train" / "configs" / f"{name}.json")
        assert cfg.label_set == label_set


# ---------------------------------------------------------------- windows

def test_make_windows():
    assert make_windows(0, 10, 2) == []
    assert make_windows(7, 10, 2) == [(0, 7)]
    # the runtime's windows: the last one ends at the end with full context
    assert make_windows(20, 10, 2) == [(0, 10), (8, 18), (10, 20)]
    from hasila.infer.model import window_starts

    for n in (1, 9, 10, 11, 57, 300):
        assert [s for s, _ in make_windows(n, 10, 3)] == window_starts(n, 10, 3)
    with pytest.raises(ValueError):
        make_windows(5, 4, 4)


def test_long_document_windows(tokenizer):
    words = [w for ws, _ in tiny_corpus() for w in ws]
    tags = [TAG2ID[t] for _, ts in tiny_corpus() for t in ts]
    windows = encode_documents([words, []], tokenizer, max_length=20, stride=5, labels=[tags, []], open_tags=[[3], []])
    assert len(windows) > 5 and all(len(w["input_ids"]) <= 20 for w in windows)
    assert all(w["doc"] == 0 for w in windows)  # the empty document gives no window
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    assert all(w["input_ids"][0] == cls and w["input_ids"][-1] == sep for w in windows)
    # every word is scored in exactly one window, and its label is its tag
    scored = [(wi, lab) for w in windows for wi, lab in zip(w["word_index"], w["labels"]) if wi != IGNORE]
    assert sorted(wi for wi, _ in scored) == list(range(len(words)))
    assert all(lab == tags[wi] for wi, lab in scored)
    # labels only on first sub-words: as many labelled positions as words the window starts
    enc = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
    ids = enc.word_ids()
    first_positions = [p for p in range(len(ids)) if p == 0 or ids[p] != ids[p - 1]]
    assert len(first_positions) == len(words)
    assert sum(lab != IGNORE for w in windows for lab in w["labels"]) >= len(words)  # overlaps repeat some
    assert any(len(set(w["word_index"]) - {IGNORE}) < sum(lab != IGNORE for lab in w["labels"]) for w in windows)
    assert windows[0]["open_tags"] == [3]


def test_open_tags_follow_annotated_labels():
    ids = open_tag_ids(HASILA, PARTIAL)
    assert [HASILA.tags[i] for i in ids] == ["B-DATE", "I-DATE", "B-KILLED", "I-KILLED", "B-WOUNDED", "I-WOUNDED"]
    assert open_tag_ids(HASILA, LABELS) == []
    assert open_tag_ids(ANERCORP4, ["PER"]) == []
    with pytest.raises(ValueError, match="doc 3"):
        open_tag_ids(HASILA, ["PERS"], "doc 3")


def test_sampler_is_deterministic_and_weighted():
    s = EpochSampler([4, 6], [2.0, 0.5], seed=1)
    assert len(s) == 4 * 2 + 3 and len(s.indices(0)) == len(s)
    assert s.indices(0) == EpochSampler([4, 6], [2.0, 0.5], seed=1).indices(0)
    assert s.indices(0) != s.indices(1)
    first = s.indices(0)
    assert all(first.count(i) == 2 for i in range(4))
    assert len({i for i in first if i >= 4}) == 3  # a fresh half of the second corpus
    s.set_epoch(1)
    assert list(iter(s)) == s.indices(1)


# ---------------------------------------------------------------- loss

def test_loss_equals_cross_entropy_when_everything_is_annotated():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, len(BIO_TAGS))
    labels = torch.randint(0, len(BIO_TAGS), (2, 5))
    labels[0, 0] = labels[1, 4] = IGNORE
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, len(BIO_TAGS)), labels.reshape(-1), ignore_index=IGNORE)
    no_open = torch.zeros(2, len(BIO_TAGS), dtype=torch.bool)
    assert torch.allclose(token_classification_loss(logits, labels, no_open, "marginal"), ce)
    some_open = no_open.clone()
    some_open[:, open_tag_ids(HASILA, PARTIAL)] = True
    assert torch.allclose(token_classification_loss(logits, labels, some_open, "as_o"), ce)
    assert torch.allclose(token_classification_loss(logits.bfloat16(), labels, no_open, "marginal"), ce, atol=0.05)


def test_marginal_loss_keeps_mass_on_unannotated_labels():
    logits = torch.zeros(1, 2, len(BIO_TAGS), requires_grad=True)
    labels = torch.tensor([[TAG2ID["O"], TAG2ID["B-PER"]]])
    opened = torch.zeros(1, len(BIO_TAGS), dtype=torch.bool)
    opened[0, open_tag_ids(HASILA, PARTIAL)] = True
    allowed = allowed_tags(labels, opened)
    assert allowed[0, 0].nonzero().flatten().tolist() == [0] + open_tag_ids(HASILA, PARTIAL)
    assert allowed[0, 1].nonzero().flatten().tolist() == [TAG2ID["B-PER"]]  # an entity keeps its one gold tag
    token_classification_loss(logits, labels, opened, "marginal").backward()
    g = logits.grad[0, 0]
    for tag in ("B-DATE", "I-DATE", "B-KILLED", "I-KILLED", "B-WOUNDED", "I-WOUNDED", "O"):
        assert g[TAG2ID[tag]] <= 0, tag  # gradient descent never lowers an allowed tag
    for tag in ("B-PER", "I-PER", "B-ORG", "B-LOC"):
        assert g[TAG2ID[tag]] > 0, tag
    # cross-entropy with "as O" pushes the unannotated KILLED down instead
    logits.grad = None
    token_classification_loss(logits, labels, opened, "as_o").backward()
    assert logits.grad[0, 0, TAG2ID["B-KILLED"]] > 0
    # one SGD step raises the probability of the allowed set
    with torch.no_grad():
        before = torch.softmax(logits[0, 0], -1)[allowed[0, 0]].sum()
    x = logits.detach().clone().requires_grad_(True)
    marginal_nll(x, allowed).backward()
    after = torch.softmax((x - 1.0 * x.grad)[0, 0], -1)[allowed[0, 0]].sum()
    assert after > before


def test_loss_without_labelled_positions_is_zero():
    logits = torch.randn(1, 3, len(BIO_TAGS), requires_grad=True)
    loss = token_classification_loss(logits, torch.full((1, 3), IGNORE), None, "marginal")
    loss.backward()
    assert float(loss.detach()) == 0.0 and float(logits.grad.abs().sum()) == 0.0


# ---------------------------------------------------------------- training end to end

def test_train_run_saves_a_pipeline_model(assets, tmp_path, tokenizer):
    from hasila.train.cli import main
    from hasila.train.trainer import Split, encode_splits
    from transformers import pipeline

    out = tmp_path / "run"
    assert main(["run", "--config", str(_config(assets, out, eval_steps=4)), "--set", "mixed_precision=auto"]) == 0
    for name in ("config.json", "model.safetensors", "tokenizer.json", "hasila_train_config.json", "training_log.json"):
        assert (out / name).is_file(), name
    log = json.loads((out / "training_log.json").read_text())
    assert log["total_steps"] == 8 and log["model_is"] == "best on dev"
    assert [h["step"] for h in log["state"]["history"]] == [4, 8]
    assert log["best_step"] in (4, 8)
    assert log["train_seconds"] > 0 and log["device"].startswith("cpu") and log["processes"] == 1
    cfg = json.loads((out / "config.json").read_text())
    assert [cfg["id2label"][str(i)] for i in range(len(BIO_TAGS))] == list(BIO_TAGS)
    # the windows it was trained on travel with it (hasila-extract and plain transformers)
    run_cfg = json.loads((out / "hasila_train_config.json").read_text())
    assert cfg["hasila_inference"] == {"max_length": run_cfg["max_length"], "stride": run_cfg["stride"]}
    assert json.loads((out / "tokenizer_config.json").read_text())["model_max_length"] == run_cfg["max_length"]
    ner = pipeline("token-classification", model=str(out), device=-1)
    found = ner("أفاد المرصد السوري بمقتل 35 عنصرا في بادية حمص")
    assert all(e["entity"] in BIO_TAGS for e in found)
    # a second run into the same folder must not silently start over
    assert main(["run", "--config", str(_config(assets, out))]) == 2
    # --resume with a changed config is refused
    assert main(["run", "--config", str(_config(assets, out)), "--resume", "--set", "learning_rate=0.1"]) == 2
    # partial corpus: O words may be any unannotated label; as_o switches that off
    sp = Split("p", [["قتل", "5"]], [["O", "O"]], [list(PARTIAL)], ["d"])
    cfg_obj = load_config(_config(assets, tmp_path / "x"))
    assert encode_splits([sp], HASILA, tokenizer, cfg_obj).windows[0]["open_tags"] == open_tag_ids(HASILA, PARTIAL)
    cfg_obj.missing_labels = "as_o"
    assert encode_splits([sp], HASILA, tokenizer, cfg_obj).windows[0]["open_tags"] == []


def test_early_stopping(assets, tmp_path):
    from hasila.train.trainer import train

    # a learning rate this small never changes a prediction: the first evaluation stays best
    cfg = load_config(_config(assets, tmp_path / "es", learning_rate=1e-12, max_steps=50, eval_steps=1,
                              early_stopping_patience=2, save_steps=100))
    state = train(cfg)
    assert state.stopped_early and state.global_step == 3 and state.best_step == 1
    assert json.loads((tmp_path / "es" / "training_log.json").read_text())["stopped_early"]


def test_anercorp4_label_set(assets, tmp_path):
    from hasila.train.trainer import TrainingError, read_split, train
    from transformers import AutoConfig

    cfg = load_config(_config(assets, tmp_path / "a4", label_set="anercorp4", max_steps=2, save_steps=100))
    state = train(cfg)
    assert state.global_step == 2
    conf = AutoConfig.from_pretrained(str(tmp_path / "a4"))
    assert [conf.id2label[i] for i in range(9)] == list(ANERCORP4.tags)
    import datasets

    datasets.DatasetDict({"train": datasets.Dataset.from_list([{"words": ["x"], "tags": ["O"]}])}).save_to_disk(str(tmp_path / "bad"))
    with pytest.raises(TrainingError, match="missing columns"):
        read_split(CorpusSpec(str(tmp_path / "bad")), HASILA)
    # Hasila tags read as the 4-class set are refused, naming corpus, document and tags
    with pytest.raises(TrainingError, match="document 's0'.*'B-KILLED'"):
        read_split(CorpusSpec(str(assets / "full")), LabelSet("anercorp4", ANERCORP4.labels, ANERCORP4.tags, "tags"))


_KILL = """
import os, signal, sys
from hasila.train.config import load_config
from hasila.train.trainer import train
cfg = load_config(sys.argv[1])
def crash(state):
    if state.global_step == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
train(cfg, callbacks=[crash])
"""


def test_crash_and_resume_equals_uninterrupted_run(assets, tmp_path):
    from safetensors.torch import load_file

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    # no dev set: the exported model is the last step's, so the final weights are compared
    common = {"dev_corpora": [], "max_steps": 12, "save_steps": 4, "keep_checkpoints": 1}
    straight = _config(assets, tmp_path / "straight", **common)
    crashed = _config(assets, tmp_path / "crashed", **common)
    cli = [sys.executable, "-m", "hasila.train.cli", "run", "--config"]
    p1 = subprocess.Popen(cli + [str(straight)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    p2 = subprocess.Popen([sys.executable, "-c", _KILL, str(crashed), "6"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out2 = p2.communicate(timeout=300)[0]
    out1 = p1.communicate(timeout=300)[0]
    assert p1.returncode == 0, out1
    assert p2.returncode == -signal.SIGKILL, out2
    ckpts = sorted(p.name for p in (tmp_path / "crashed" / "checkpoints").iterdir())
    assert ckpts == ["checkpoint-0000004"], ckpts  # killed at step 6, after the step-4 checkpoint
    assert not (tmp_path / "crashed" / "model.safetensors").exists()
    # --resume --output-dir alone reads the config the run saved there
    resume = [sys.executable, "-m", "hasila.train.cli", "run", "--resume", "--output-dir", str(tmp_path / "crashed")]
    p3 = subprocess.run(resume, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert p3.returncode == 0, p3.stdout + p3.stderr
    assert "resumed from" in p3.stderr and "step 4 of 12" in p3.stderr
    a, b = load_file(tmp_path / "straight" / "model.safetensors"), load_file(tmp_path / "crashed" / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ from the uninterrupted run"
    for run in ("straight", "crashed"):
        assert json.loads((tmp_path / run / "training_log.json").read_text())["total_steps"] == 12
    # the weights did train (the comparison is not between two untouched copies of the base)
    base = load_file(assets / "base" / "model.safetensors")
    assert not torch.equal(base["bert.embeddings.word_embeddings.weight"], a["bert.embeddings.word_embeddings.weight"])
    # resuming a finished run does nothing
    from hasila.train.trainer import train

    state = train(load_config(crashed), resume=True)
    assert state.finished and state.global_step == 12
    assert load_file(tmp_path / "crashed" / "model.safetensors").keys() == a.keys()


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("HASILA_RUN_SLOW") != "1" and os.environ.get("CI", "").lower() not in ("1", "true", "yes"),
                    reason="two-process run (19 s): runs under CI=true, else set HASILA_RUN_SLOW=1")
def test_two_process_training_and_resume(assets, tmp_path):
    """torchrun with 2 CPU processes (gloo): sharded batches, gathered dev predictions, per-process
    RNG states in checkpoints, and a resumed run equal to the uninterrupted one."""
    import shutil

    from safetensors.torch import load_file

    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "ACCELERATE_USE_CPU": "true"}
    cfg = _config(assets, tmp_path / "ddp", max_steps=8, save_steps=3, eval_steps=4)
    run = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "hasila.train.cli", "run"]
    p = subprocess.run(run + ["--config", str(cfg)], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("trained 8 steps") == 1
    first = tmp_path / "ddp" / "checkpoints" / "checkpoint-0000003"
    assert {"random_states_0.pkl", "random_states_1.pkl"} <= {f.name for f in first.iterdir()}
    again = tmp_path / "again"
    shutil.copytree(tmp_path / "ddp", again)
    for gone in ("checkpoints/checkpoint-0000006", "checkpoints/best", "training_log.json", "model.safetensors"):
        target = again / gone
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    p = subprocess.run(run + ["--resume", "--output-dir", str(again)], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    a, b = load_file(tmp_path / "ddp" / "model.safetensors"), load_file(again / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((again / "training_log.json").read_text())["state"]["history"] == \
        json.loads((tmp_path / "ddp" / "training_log.json").read_text())["state"]["history"]


def test_export_packages_fp16_with_its_records(tmp_path, monkeypatch):
    from hasila.infer.model import TokenClassifier
    from hasila.train import export
    from safetensors import safe_open

    model_dir = build_tiny_model(tmp_path / "run", train_steps=5)
    (model_dir / "training_log.json").write_text('{"finished": true}', encoding="utf-8")
    out = export.export_model(model_dir, tmp_path / "shipped")
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float16}
    assert (out / "training_log.json").read_text(encoding="utf-8") == '{"finished": true}'
    assert export.folder_size(out) == sum(p.stat().st_size for p in out.iterdir())
    TokenClassifier.load(out, device="cpu")  # loads (in fp32) with the runtime
    # over the budget: an error, and the package already there is left as it was
    before = sorted(p.name for p in out.iterdir())
    monkeypatch.setattr(export, "SIZE_BUDGET", 1000)
    with pytest.raises(export.HasilaError, match="over the"):
        export.export_model(model_dir, out)
    assert sorted(p.name for p in out.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".shipped")] == []
