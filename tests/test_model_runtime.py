"""The token-classification runtime (infer/model.py) and BIO decoding (infer/decode.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hasila.infer.decode import bio_word_spans, decode_entities, entity_to_original, split_tag
from hasila.infer.labels import BIO_TAGS
from hasila.infer.model import (
    ModelError,
    ModelNotFound,
    TokenClassifier,
    check_bio_labels,
    find_model,
    most_central_window,
    window_starts,
)
from hasila.infer.normalize import normalize
from hasila.infer.tokenize import split_words
from tiny_model import TINY_SENTENCES, build_tiny_model, parse_markup, tiny_corpus


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", train_steps=150)


@pytest.fixture(scope="module")
def clf(tiny_path):
    return TokenClassifier.load(tiny_path, device="cpu", batch_size=4)


def words_of(text):
    return [text[s:e] for s, e in split_words(text)]


def reference_window(clf, token_ids):
    """Model output for one window run alone (batch of 1, no padding): (tag ids, probs)."""
    ids = torch.tensor([clf.prefix_ids + list(token_ids) + clf.suffix_ids])
    with torch.inference_mode():
        p, t = clf.model(input_ids=ids).logits.float().softmax(-1).max(-1)
    n = len(clf.prefix_ids)
    return t[0, n:n + len(token_ids)].numpy(), p[0, n:n + len(token_ids)].numpy()


# -- windows ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n,size,stride", [(1, 10, 4), (10, 10, 4), (11, 10, 4), (57, 10, 4), (300, 62, 128), (1000, 510, 128)])
def test_windows_cover_every_token_and_end_at_the_end(n, size, stride):
    starts = window_starts(n, size, stride)
    covered = np.zeros(n, dtype=bool)
    for s in starts:
        assert 0 <= s and (s + size <= n or len(starts) == 1)
        covered[s:s + size] = True
    assert covered.all()
    assert min(starts[-1] + size, n) == n
    assert starts == sorted(starts)


@pytest.mark.parametrize("n,size,stride", [(57, 10, 4), (300, 62, 128), (129, 64, 20)])
def test_each_token_goes_to_the_window_where_it_is_most_central(n, size, stride):
    starts = window_starts(n, size, stride)
    choice = most_central_window(n, size, starts)
    for t in range(n):
        margins = [min(t - s, s + size - 1 - t) for s in starts if s <= t < s + size]
        s = starts[choice[t]]
        assert s <= t < s + size
        assert min(t - s, s + size - 1 - t) == max(margins)


# -- loading ---------------------------------------------------------------------------------


def test_tiny_model_loads_in_transformers_pipeline(tiny_path):
    from transformers import pipeline

    nlp = pipeline("token-classification", model=str(tiny_path), device="cpu")
    text, _ = parse_markup(TINY_SENTENCES[0])
    out = nlp(text)
    assert out and all(o["entity"] in BIO_TAGS for o in out)
    # The fitted tiny model finds the figure of its training sentence.
    assert any(o["entity"] == "B-KILLED" and o["word"] == "35" for o in out)


def test_labels_come_from_config_and_model_info(clf, tiny_path):
    assert clf.tags == BIO_TAGS
    assert clf.info.name == tiny_path.name
    import hashlib

    assert clf.info.sha256 == hashlib.sha256((tiny_path / "model.safetensors").read_bytes()).hexdigest()
    assert clf.window == 64 - 2  # max_position_embeddings minus [CLS] and [SEP]


def test_non_bio_labels_are_refused():
    with pytest.raises(ModelError, match="not BIO tags"):
        check_bio_labels({0: "LABEL_0", 1: "LABEL_1"})
    with pytest.raises(ModelError, match="not 0"):
        check_bio_labels({0: "O", 2: "B-LOC"})
    assert check_bio_labels({0: "O", 1: "B-PERS", 2: "I-PERS"}) == ("O", "B-PERS", "I-PERS")


def test_cuda_asked_for_without_cuda_is_a_clear_error(tiny_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ModelError, match="CUDA is not available"):
        TokenClassifier.load(tiny_path, device="cuda")


def test_find_model_order_and_message(tmp_path, tiny_path, monkeypatch):
    monkeypatch.delenv("HASILA_MODEL", raising=False)
    assert find_model(str(tiny_path)) == str(tiny_path)
    with pytest.raises(ModelNotFound, match="does not exist"):
        find_model(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFound, match="config.json"):
        find_model(str(tmp_path / "empty"))
    monkeypatch.setenv("HASILA_MODEL", str(tiny_path))
    assert find_model(None) == str(tiny_path)
    monkeypatch.setenv("HASILA_MODEL", str(tmp_path / "nowhere"))
    with pytest.raises(ModelNotFound, match="HASILA_MODEL"):
        find_model(None)
    monkeypatch.delenv("HASILA_MODEL")
    monkeypatch.setattr("hasila.infer.model.SHIPPED_MODEL_DIR", tmp_path / "no-shipped-model")
    with pytest.raises(ModelNotFound, match="--model FOLDER.*HASILA_MODEL"):
        find_model(None)


# -- prediction ------------------------------------------------------------------------------


def test_short_documents_match_a_plain_forward_pass(clf):
    """First sub-word of each word, read from an unpadded single-document run."""
    docs = [words for words, _ in tiny_corpus()]
    preds = clf.predict(docs)
    for words, pred in zip(docs, preds):
        enc = clf.tokenizer(words, is_split_into_words=True, add_special_tokens=False)
        tag_ids, probs = reference_window(clf, enc["input_ids"])
        first = {}
        for t, w in enumerate(enc.word_ids()):
            first.setdefault(w, t)
        assert [tag for tag, _ in pred] == [clf.tags[tag_ids[first[w]]] for w in range(len(words))]
        assert np.allclose([p for _, p in pred], [probs[first[w]] for w in range(len(words))], atol=1e-5)


def test_the_fitted_tiny_model_tags_its_sentences(clf):
    docs = tiny_corpus()
    preds = clf.predict([w for w, _ in docs])
    right = sum(t == g for (_, gold), pred in zip(docs, preds) for (t, _), g in zip(pred, gold))
    total = sum(len(g) for _, g in docs)
    assert right / total > 0.9


def test_long_document_uses_the_most_central_window(clf):
    words = [w for ws, _ in tiny_corpus() for w in ws] * 2  # ~250 words, several windows
    [pred] = clf.predict([words])
    assert len(pred) == len(words)
    enc = clf.tokenizer(words, is_split_into_words=True, add_special_tokens=False)
    ids = enc["input_ids"]
    assert len(ids) > 3 * clf.window
    starts = window_starts(len(ids), clf.window, clf.stride)
    runs = [reference_window(clf, ids[s:s + clf.window]) for s in starts]
    first = {}
    for t, w in enumerate(enc.word_ids()):
        first.setdefault(w, t)
    for w in range(len(words)):
        t = first[w]
        # Brute force: the window with the largest margin around token t (earliest on ties).
        best = max(range(len(starts)), key=lambda k: (min(t - starts[k], starts[k] + clf.window - 1 - t)
                                                      if starts[k] <= t < starts[k] + clf.window else -1, -k))
        tag_ids, probs = runs[best]
        assert pred[w][0] == clf.tags[tag_ids[t - starts[best]]]
        assert abs(pred[w][1] - probs[t - starts[best]]) < 1e-5


def test_batching_and_order_do_not_change_results(clf):
    docs = [w for w, _ in tiny_corpus()]
    docs.append([w for ws in docs for w in ws])  # one long document among short ones
    docs.insert(3, [])  # an empty document keeps its place
    together = clf.predict(docs, batch_size=3)
    alone = [clf.predict([d], batch_size=1)[0] for d in docs]
    assert together[3] == []
    for a, b in zip(together, alone):
        assert [t for t, _ in a] == [t for t, _ in b]
        assert np.allclose([p for _, p in a], [p for _, p in b], atol=1e-5)
    assert clf.predict(docs, batch_size=3) == together  # deterministic


def test_bfloat16_weights_load_and_predict(tiny_path):
    clf16 = TokenClassifier.load(tiny_path, device="cpu", dtype="bfloat16")
    assert next(clf16.model.parameters()).dtype == torch.bfloat16
    [pred] = clf16.predict([words_of(parse_markup(TINY_SENTENCES[0])[0])])
    assert all(tag in BIO_TAGS and 0.0 <= p <= 1.0 for tag, p in pred)


# -- decoding --------------------------------------------------------------------------------


def test_split_tag():
    assert split_tag("O") == ("O", None)
    assert split_tag("I-KILLED") == ("I", "KILLED")
    with pytest.raises(ValueError):
        split_tag("X-LOC")


@pytest.mark.parametrize("tags,spans", [
    (["B-LOC", "I-LOC", "O"], [("LOC", 0, 2)]),
    (["I-LOC", "I-LOC"], [("LOC", 0, 2)]),  # I- without B- starts a span (conlleval)
    (["B-LOC", "I-ORG"], [("LOC", 0, 1), ("ORG", 1, 2)]),  # I- of another label starts one
    (["B-LOC", "B-LOC"], [("LOC", 0, 1), ("LOC", 1, 2)]),
    (["O", "I-KILLED", "O", "B-WOUNDED"], [("KILLED", 1, 2), ("WOUNDED", 3, 4)]),
    ([], []),
])
def test_bio_word_spans_conlleval(tags, spans):
    assert bio_word_spans(tags) == spans


def test_decode_entities_texts_and_scores():
    text = "قتل 35 عنصرا من قوات النظام في ريف حمص"
    words = split_words(text)
    tags = ["O", "B-KILLED", "O", "O", "B-ORG", "I-ORG", "O", "I-LOC", "I-LOC"]
    probs = [0.9, 0.8, 0.9, 0.9, 0.6, 0.4, 0.9, 1.0, 0.5]
    ents = decode_entities(text, words, list(zip(tags, probs)))
    assert [(e.label, e.text) for e in ents] == [("KILLED", "35"), ("ORG", "قوات النظام"), ("LOC", "ريف حمص")]
    assert [round(e.span.score, 6) for e in ents] == [0.8, 0.5, 0.75]
    for e in ents:
        assert text[e.start:e.end] == e.text


def test_entities_map_back_to_the_original_text():
    original = "أسفر الهجوم عن 15 قت. يلا من عناصر ‏التنظيم"
    norm = normalize(original)
    words = split_words(norm.text)
    tags = ["O"] * len(words)
    ws = [norm.text[s:e] for s, e in words]
    tags[ws.index("15")] = "B-KILLED"
    tags[ws.index("قتيلا")] = "I-KILLED"
    ents = decode_entities(norm.text, words, [(t, 0.9) for t in tags])
    [ent] = [entity_to_original(norm, e) for e in ents]
    assert ent.label == "KILLED" and ent.text == "15 قت. يلا"
    assert original[ent.start:ent.end] == ent.text
    assert ent.span.score == 0.9


# -- windows from the model, int8 ------------------------------------------------------------


def _copy_with_config(src, dst, **changes):
    import json
    import shutil

    shutil.copytree(src, dst)
    cfg = json.loads((dst / "config.json").read_text())
    cfg.update(changes)
    (dst / "config.json").write_text(json.dumps(cfg))
    return dst


def test_windows_come_from_the_models_config(tiny_path, tmp_path):
    path = _copy_with_config(tiny_path, tmp_path / "m", hasila_inference={"max_length": 24, "stride": 6})
    own = TokenClassifier.load(path, device="cpu")
    assert (own.window, own.stride) == (24 - len(own.prefix_ids) - len(own.suffix_ids), 6)
    asked = TokenClassifier.load(path, device="cpu", max_length=32, stride=4)  # the caller wins
    assert (asked.window, asked.stride) == (32 - len(asked.prefix_ids) - len(asked.suffix_ids), 4)
    long_doc = [w for ws, _ in tiny_corpus() for w in ws]
    [pred] = own.predict([long_doc])
    assert len(pred) == len(long_doc)


@pytest.mark.parametrize("bad, message", [("128", "must be an object"), ({"max_length": 4096}, "positions"),
                                          ({"max_length": 24, "stride": -1}, "stride")])
def test_a_bad_window_setting_is_a_clear_error(tiny_path, tmp_path, bad, message):
    path = _copy_with_config(tiny_path, tmp_path / "m", hasila_inference=bad)
    with pytest.raises(ModelError, match=message):
        TokenClassifier.load(path, device="cpu")


def _encodings_equal(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x.ids, y.ids) and np.array_equal(x.first_token, y.first_token)
                                    for x, y in zip(a, b))


def test_word_cache_encodes_as_the_whole_document(clf):
    """Words encoded one at a time through the cache give exactly the ids (and first sub-words)
    of the document encoded whole, cold and warm, and after pickling (as workers get it)."""
    import pickle

    docs = [words_of(normalize(s).text) for s in TINY_SENTENCES] + [[], ["ـ", "\u064b", "قتل"], ["\u200d"]]
    encoder = clf.encoder
    assert encoder.word_by_word
    whole = encoder._encode_whole(docs)
    assert _encodings_equal(encoder.encode(docs), whole)
    assert _encodings_equal(encoder.encode(docs), whole)  # warm
    copy = pickle.loads(pickle.dumps(encoder))
    assert copy._cache == {} and _encodings_equal(copy.encode(docs), whole)


def test_context_dependent_tokenizer_is_encoded_whole(clf):
    """A tokenizer whose ids for a word depend on its place in the document must not be
    cached word by word (the probe finds it out)."""
    import copy
    from types import SimpleNamespace

    class FirstWordMarked:  # the first word of each document gets an id of its own
        def encode_batch(self, docs, **kwargs):
            return [SimpleNamespace(ids=[1000 + k if k == 0 else len(w) for k, w in enumerate(d)],
                                    word_ids=list(range(len(d)))) for d in docs]

    encoder = copy.copy(clf.encoder)
    encoder.backend = FirstWordMarked()
    assert not encoder._context_free()
    encoder.word_by_word = False
    got = encoder.encode([["قتل", "جنود", "في"]])[0]
    assert got.ids.tolist() == [1000, 4, 2] and got.first_token.tolist() == [0, 1, 2]
