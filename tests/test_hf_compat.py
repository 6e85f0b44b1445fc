"""The model through plain Hugging Face (hasila.train.hf_compat): a tokenizer config old
``transformers`` load, the card's pipeline recipe with exact word offsets, and card metadata
without local paths. The shipped-model tests skip without the model (fail under CI)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from hasila.infer.types import HasilaError
from hasila.train.hf_compat import (
    E5_HUB_ID, LOADABLE_TOKENIZER_CLASSES, check_tokenizer_config, fix_tokenizer_config, hub_base_model, word_entities,
    without_local_paths,
)
from tiny_model import build_tiny_model

# Made up for this test; the sentence (its two ORG names lost their spaces, every start was one early).
TEXT = "أفاد المرصد السوري لحقوق الإنسان بمقتل 12 عنصرا من قوات النظام في ريف حمص."


# ---------------------------------------------------------------- tokenizer config

def test_fix_tokenizer_config_makes_a_transformers5_folder_loadable_by_4x(tmp_path):
    from transformers import AutoTokenizer

    model = build_tiny_model(tmp_path / "m")
    cfg_path = model / "tokenizer_config.json"
    saved = json.loads(cfg_path.read_text(encoding="utf-8"))
    if saved.get("tokenizer_class") in LOADABLE_TOKENIZER_CLASSES:  # an older transformers saved it: make it v5-like
        saved["tokenizer_class"] = "TokenizersBackend"
        cfg_path.write_text(json.dumps(saved), encoding="utf-8")
    assert check_tokenizer_config(model)  # TokenizersBackend: transformers 4.44 cannot load it
    ids_before = AutoTokenizer.from_pretrained(str(model))("قتل جنود في الهجوم")["input_ids"]
    tokenizer_json = (model / "tokenizer.json").read_bytes()

    res = fix_tokenizer_config(model)
    assert res["changed"] and res["after"] == "PreTrainedTokenizerFast"
    fixed = json.loads(cfg_path.read_text(encoding="utf-8"))
    assert fixed["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert not {"backend", "is_local", "local_files_only"} & set(fixed)
    assert {k: v for k, v in fixed.items() if k.endswith("_token")} == {k: v for k, v in saved.items() if k.endswith("_token")}
    assert check_tokenizer_config(model) == []
    assert (model / "tokenizer.json").read_bytes() == tokenizer_json  # ids come from here, untouched
    tok = AutoTokenizer.from_pretrained(str(model))
    assert tok.is_fast and tok("قتل جنود في الهجوم")["input_ids"] == ids_before
    assert fix_tokenizer_config(model)["changed"] is False  # idempotent


def test_fix_tokenizer_config_errors_name_the_file(tmp_path):
    with pytest.raises(HasilaError, match="not a folder"):
        fix_tokenizer_config(tmp_path / "missing")
    (tmp_path / "m").mkdir()
    with pytest.raises(HasilaError, match="no tokenizer.json"):
        fix_tokenizer_config(tmp_path / "m")
    (tmp_path / "m" / "tokenizer.json").write_text("{}", encoding="utf-8")
    (tmp_path / "m" / "tokenizer_config.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(HasilaError, match="tokenizer_config.json: not valid JSON"):
        fix_tokenizer_config(tmp_path / "m")
    assert (tmp_path / "m" / "tokenizer_config.json").read_text(encoding="utf-8") == "{oops"  # left as it was


def test_export_and_the_cli_write_a_loadable_tokenizer_config(tmp_path, capsys):
    from hasila.train import export
    from hasila.train.cli import main

    model = build_tiny_model(tmp_path / "run")
    out = export.export_model(model, tmp_path / "shipped")
    assert json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))["tokenizer_class"] == "PreTrainedTokenizerFast"
    cfg = json.loads((model / "tokenizer_config.json").read_text(encoding="utf-8"))
    cfg["tokenizer_class"] = "TokenizersBackend"
    (model / "tokenizer_config.json").write_text(json.dumps(cfg), encoding="utf-8")
    assert main(["fix-tokenizer", str(model)]) == 0
    assert "'TokenizersBackend' -> 'PreTrainedTokenizerFast'" in capsys.readouterr().out
    assert check_tokenizer_config(model) == []
    assert main(["fix-tokenizer", str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err


# ---------------------------------------------------------------- word_entities on made-up pipeline output

class FakeTokenizer:
    """Metaspace-like: each whitespace word is «▁» + the word, split into pieces of ≤ 3 characters."""

    model_max_length = 8

    def num_special_tokens_to_add(self):
        return 2

    def pieces(self, text):
        out = []
        for m in re.finditer(r"\S+", text):
            w, s = m.group(0), m.start()
            for i in range(0, len(w), 3):
                # the first piece's offsets include the space before the word, as the real tokenizer's do
                start = s - 1 if i == 0 and s > 0 else s + i
                out.append((("▁" if i == 0 else "") + w[i:i + 3], start, s + min(i + 3, len(w)), w))
        return out

    def __call__(self, text, add_special_tokens=False, return_offsets_mapping=True):
        p = self.pieces(text)
        return {"input_ids": [x[0] for x in p], "offset_mapping": [(x[1], x[2]) for x in p]}

    def convert_ids_to_tokens(self, ids):
        return list(ids)


class FakePipeline:
    """Tags by the word: words in ``tags`` get theirs on the first piece; later pieces get noise."""

    def __init__(self, tags):
        self.tokenizer, self.tags, self.calls = FakeTokenizer(), tags, 0

    def __call__(self, text):
        self.calls += 1
        pieces = self.tokenizer.pieces(text)
        assert len(pieces) <= self.tokenizer.model_max_length - 2, "the pipeline would cut this off"
        out = []
        for i, (p, s, e, word) in enumerate(pieces):
            tag = self.tags.get(word, "O") if p.startswith("▁") else "B-PER"  # noise on non-first pieces
            out.append({"entity": tag, "score": 0.9, "index": i + 1, "word": p, "start": s, "end": e})
        return out


def test_word_entities_words_offsets_and_windows():
    text = "قال مسؤول إن قوات النظام قصفت (ريف حمص) أمس ثم قوات النظام مجددا."
    ner = FakePipeline({"قوات": "B-ORG", "النظام": "I-ORG", "(ريف": "B-LOC", "حمص)": "I-LOC", "أمس": "B-DATE"})
    ents = word_entities(ner, text)
    assert ner.calls > 1  # 20+ pieces through a window of 6: in several pieces of text
    got = [(e["entity_group"], e["word"]) for e in ents]
    assert got == [("ORG", "قوات النظام"), ("LOC", "ريف حمص"), ("DATE", "أمس"), ("ORG", "قوات النظام")]
    for e in ents:
        assert e["word"] == text[e["start"]:e["end"]]
    assert ents[0]["start"] == text.index("قوات")  # not the space before it
    assert ents[1]["start"] == text.index("ريف") and ents[1]["end"] == text.index(")")  # no edge punctuation


def test_word_entities_bio_rules():
    text = "أ ب ج د ه"
    ner = FakePipeline({"أ": "I-PER", "ب": "I-PER", "ج": "B-PER", "د": "I-LOC", "ه": "O"})
    assert [(e["entity_group"], e["word"]) for e in word_entities(ner, text)] == [("PER", "أ ب"), ("PER", "ج"), ("LOC", "د")]
    assert word_entities(ner, "") == []


# ---------------------------------------------------------------- the shipped model through transformers.pipeline

def _shipped():
    from test_shipped_model import require_shipped_model

    return require_shipped_model()


@pytest.fixture(scope="module")
def shipped_ner():
    from transformers import pipeline

    return pipeline("token-classification", model=str(_shipped()), aggregation_strategy="none", ignore_labels=[], device="cpu")


def _runtime_spans(model_dir: Path, text: str) -> set[tuple[str, int, int]]:
    from hasila.infer.decode import bio_word_spans
    from hasila.infer.model import TokenClassifier
    from hasila.infer.tokenize import split_words

    words = split_words(text)
    (pred,) = TokenClassifier.load(model_dir, device="cpu").predict([[text[s:e] for s, e in words]])
    return {(label, words[a][0], words[b - 1][1]) for label, a, b in bio_word_spans([t for t, _ in pred])}


def test_shipped_tokenizer_config_loads_on_the_oldest_allowed_transformers():
    """The fields transformers 4.44 (pyproject's floor) needs; loading it there for real:
    benchmarks/transformers_floor.py."""
    model = _shipped()
    assert check_tokenizer_config(model) == []
    floor = re.search(r'"transformers>=([0-9.]+)"', (Path(__file__).parent.parent / "pyproject.toml").read_text()).group(1)
    assert floor == "4.44", "the floor moved: rerun benchmarks/transformers_floor.py and update this test"


def test_card_recipe_gives_words_with_exact_offsets(shipped_ner):
    ents = word_entities(shipped_ner, TEXT)
    words = {e["word"] for e in ents}
    assert {"المرصد السوري لحقوق الإنسان", "قوات النظام"} <= words  # with their spaces
    for e in ents:
        assert e["word"] == TEXT[e["start"]:e["end"]] and not TEXT[e["start"]].isspace()
    assert {(e["entity_group"], e["start"], e["end"]) for e in ents} == _runtime_spans(_shipped(), TEXT)


def test_card_recipe_reads_past_the_window(shipped_ner):
    text = " ".join([TEXT] * 12)  # ~300 sub-words: the pipeline alone cuts at 128
    ents = word_entities(shipped_ner, text)
    last = len(text) - len(TEXT)
    assert any(e["start"] >= last and e["word"] == "قوات النظام" for e in ents)
    assert all(e["word"] == text[e["start"]:e["end"]] for e in ents)


def test_the_cards_own_snippet_runs_and_prints_exact_entities(capsys):
    """The python block of the generated card, executed as a user would (model path swapped in)."""
    from hasila.train.model_card import render_model_card

    model = _shipped()
    metrics = json.loads((model / "metrics.json").read_text(encoding="utf-8"))
    card = render_model_card(metrics, None, "hasila-ner")
    block = re.search(r"```python\n(.*?)```", card, re.S).group(1)
    assert "aggregation_strategy=\"none\", ignore_labels=[]" in block
    block = re.sub(r'model="[^"]*"', f'model="{model}"', block)
    exec(compile(block, "card", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    printed = {(ln.split(" ", 3)[0], int(ln.split(" ", 3)[1]), int(ln.split(" ", 3)[2])) for ln in lines}
    assert printed == _runtime_spans(model, TEXT)
    assert any(ln.endswith(" قوات النظام") for ln in lines)


# ---------------------------------------------------------------- card metadata

def test_card_gets_base_model_and_datasets_and_no_local_paths():
    from test_evaluate import _metrics

    from hasila.train.model_card import render_model_card

    metrics = _metrics()
    metrics["model"]["path"] = "/work/someone/runs/hasila-ner-final"
    cfg = {"base_model": "/work/adapt-l6-frozen", "base_model_origin": E5_HUB_ID, "label_set": "hasila",
           "output_dir": "/home/u/runs/x", "corpora": [{"name": "gold", "split": "train", "weight": 4},
                                                      {"name": "anercorp", "split": "train", "weight": 1}],
           "base_model_data": ["saudinewsnet"]}
    card = render_model_card(metrics, cfg, "hasila-ner")
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["base_model"] == E5_HUB_ID
    assert front["datasets"] == ["gold", "anercorp", "saudinewsnet"]
    assert "/work/" not in card and "/home/" not in card
    assert "`\"<local>/adapt-l6-frozen\"`" in card  # the training table says a local folder, not whose
    assert 'model="hasila-ner"' in card


def test_hub_base_model_follows_the_base_folders_manifests(tmp_path):
    build = tmp_path / "base"
    build.mkdir()
    (build / "build.json").write_text(json.dumps({"source": {"e5_wheel": {"license": f"MIT ({E5_HUB_ID})"}}}), encoding="utf-8")
    adapt = tmp_path / "adapt"
    adapt.mkdir()
    (adapt / "adapt.json").write_text(json.dumps({"base": str(build)}), encoding="utf-8")
    assert hub_base_model({"base_model": str(adapt)}) == E5_HUB_ID
    assert hub_base_model({"base_model": "CAMeL-Lab/bert-base-arabic-camelbert-mix"}) == "CAMeL-Lab/bert-base-arabic-camelbert-mix"
    assert hub_base_model({"base_model": "/nowhere/adapt-l6"}) is None  # gone and unrecorded: left out, not guessed
    assert hub_base_model({"base_model": str(tmp_path)}) is None


def test_without_local_paths_keeps_hub_ids_urls_and_relative_paths():
    text = ("base `/work/adapt-l6-frozen`, (C:\\runs\\m), ~/models/x; keep intfloat/multilingual-e5-small, "
            "https://example.org/a/b, train/configs/hasila.json, P / R, «قتيل/جريح»")
    out = without_local_paths(text)
    assert out == ("base `<local>/adapt-l6-frozen`, (<local>/m), <local>/x; keep intfloat/multilingual-e5-small, "
                   "https://example.org/a/b, train/configs/hasila.json, P / R, «قتيل/جريح»")


def test_shipped_card_has_base_model_and_datasets_and_no_local_paths():
    card = (_shipped() / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["base_model"] == E5_HUB_ID and front["datasets"]
    assert "/work/" not in card
    assert 'aggregation_strategy="none", ignore_labels=[]' in card
