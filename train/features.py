"""From word-level corpora to model inputs and back.

A document is a list of words (``split_words``) with one BIO tag per word. It is tokenized
once into sub-words, then cut into windows of at most ``max_length`` tokens (special tokens
included) that overlap by ``stride`` sub-words, so long articles are never truncated:

- training: every window is an example; the first sub-word of each word carries the word's
  tag id, every other position -100 (ignored by the loss);
- prediction: each word is *scored* in exactly one window, the one in which its first
  sub-word lies farthest from a window edge (most context on both sides); ``word_index``
  holds the word's number there and -100 everywhere else.

Partial annotation: ``open_tags`` lists, per example, the tag ids an O word may really have
because its corpus never annotated that label (see :mod:`hasila.train.losses`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from hasila.infer.labels import BIO_TAGS, LABELS
from torch.utils.data import Sampler

IGNORE = -100


@dataclass(frozen=True)
class LabelSet:
    """Labels a model predicts, its BIO tags in id order, and the dataset column they come from."""

    name: str
    labels: tuple[str, ...]
    tags: tuple[str, ...]
    column: str

    @property
    def tag2id(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tags)}

    @property
    def id2tag(self) -> dict[int, str]:
        return dict(enumerate(self.tags))


def _bio(labels: Sequence[str]) -> tuple[str, ...]:
    return ("O",) + tuple(f"{p}-{lab}" for lab in labels for p in ("B", "I"))


HASILA = LabelSet("hasila", LABELS, BIO_TAGS, "tags")
# ANERcorp's own four classes, read from the original tags, for the CAMeL-test benchmark.
ANERCORP4 = LabelSet("anercorp4", ("PERS", "LOC", "ORG", "MISC"), _bio(("PERS", "LOC", "ORG", "MISC")), "orig_tags")
LABEL_SETS: dict[str, LabelSet] = {ls.name: ls for ls in (HASILA, ANERCORP4)}


def get_label_set(name: str) -> LabelSet:
    try:
        return LABEL_SETS[name]
    except KeyError:
        raise ValueError(f"unknown label set {name!r}; known: {', '.join(LABEL_SETS)}") from None


def label_set_of_model(id2label: dict[Any, str]) -> LabelSet:
    """The label set a saved model predicts, from its ``config.id2label``."""
    tags = tuple(id2label[i] if i in id2label else id2label[str(i)] for i in range(len(id2label)))
    for ls in LABEL_SETS.values():
        if ls.tags == tags:
            return ls
    labels = tuple(dict.fromkeys(t[2:] for t in tags if t != "O"))
    if "O" not in tags or any(t != "O" and t[:2] not in ("B-", "I-") for t in tags):
        raise ValueError(f"model labels {tags} are not a BIO tag set")
    return LabelSet("custom", labels, tags, "tags")


def open_tag_ids(label_set: LabelSet, annotated_labels: Iterable[str], where: str = "") -> list[int]:
    """Tag ids (B- and I-) of the labels in ``label_set`` that the corpus does NOT annotate.

    For the ANERcorp 4-class set the original tags are complete by construction, so nothing is open.
    """
    if label_set.name == "anercorp4":
        return []
    annotated = set(annotated_labels)
    unknown = annotated - set(LABELS)
    if unknown:
        raise ValueError(f"{where}: annotated_labels {sorted(unknown)} are not Hasila labels ({', '.join(LABELS)})")
    t2i = label_set.tag2id
    return [t2i[f"{p}-{lab}"] for lab in label_set.labels if lab not in annotated for p in ("B", "I")]


def tag_ids(tags: Sequence[str], label_set: LabelSet, where: str) -> list[int]:
    t2i = label_set.tag2id
    out = []
    for i, t in enumerate(tags):
        if t not in t2i:
            raise ValueError(
                f"{where}, word {i}: tag {t!r} is not in label set {label_set.name!r} ({', '.join(label_set.tags)})"
            )
        out.append(t2i[t])
    return out


def make_windows(n_tokens: int, size: int, stride: int) -> list[tuple[int, int]]:
    """Half-open token ranges of at most ``size`` covering ``[0, n_tokens)``: the runtime's own
    windows (:func:`hasila.infer.model.window_starts`), so that training and inference cut an
    article the same way. ``[]`` for an empty document."""
    from hasila.infer.model import window_starts

    if size <= stride:
        raise ValueError(f"window size {size} must exceed stride {stride}")
    if n_tokens <= 0:
        return []
    return [(s, min(s + size, n_tokens)) for s in window_starts(n_tokens, size, stride)]


def encode_documents(
    words: Sequence[Sequence[str]],
    tokenizer: Any,
    max_length: int,
    stride: int,
    labels: Sequence[Sequence[int]] | None = None,
    open_tags: Sequence[Sequence[int]] | None = None,
    doc_offset: int = 0,
) -> list[dict[str, Any]]:
    """Windows (dicts of python lists) for a batch of pre-split documents.

    ``labels``: per document, one tag id per word (training/dev); None for pure prediction.
    Each window carries ``doc`` (``doc_offset`` + position in ``words``) so predictions can be
    put back together per document.
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("a fast (Rust) tokenizer is required: word_ids() maps sub-words back to words")
    docs = [list(w) for w in words]
    nonempty = [i for i, d in enumerate(docs) if d]
    out: list[dict[str, Any]] = []
    if not nonempty:
        return out
    enc = tokenizer([docs[i] for i in nonempty], is_split_into_words=True, add_special_tokens=True, truncation=False, verbose=False)
    for k, i in enumerate(nonempty):
        ids = enc["input_ids"][k]
        wids = enc.word_ids(k)
        content = [j for j, w in enumerate(wids) if w is not None]
        if not content:
            continue  # every word vanished in the tokenizer: all predicted O
        first, last = content[0], content[-1]
        if len(content) != last - first + 1:
            raise ValueError("the tokenizer puts special tokens inside a single sequence; cannot window it")
        prefix, suffix = ids[:first], ids[last + 1 :]
        c_ids, c_words = ids[first : last + 1], wids[first : last + 1]
        size = max_length - len(prefix) - len(suffix)
        if size <= stride:
            raise ValueError(f"max_length {max_length} leaves {size} sub-words per window, not more than stride {stride}")
        windows = make_windows(len(c_ids), size, stride)
        # First sub-word of every word, and the window where it has most context.
        firsts = [p for p in range(len(c_words)) if p == 0 or c_words[p] != c_words[p - 1]]
        owner: dict[int, int] = {}
        for p in firsts:
            best, best_margin = -1, -1
            for wi, (s, e) in enumerate(windows):
                if s <= p < e:
                    margin = min(p - s, e - 1 - p)
                    if margin > best_margin:
                        best, best_margin = wi, margin
            owner[p] = best
        is_first = set(firsts)
        doc_labels = labels[i] if labels is not None else None
        if doc_labels is not None and len(doc_labels) != len(docs[i]):
            raise ValueError(f"document {doc_offset + i}: {len(docs[i])} words but {len(doc_labels)} tags")
        opened = list(open_tags[i]) if open_tags is not None else []
        pad_pre, pad_suf = [IGNORE] * len(prefix), [IGNORE] * len(suffix)
        for wi, (s, e) in enumerate(windows):
            lab, idx = [], []
            for p in range(s, e):
                w = c_words[p]
                first_here = p in is_first
                lab.append(doc_labels[w] if (first_here and doc_labels is not None) else IGNORE)
                idx.append(w if (first_here and owner[p] == wi) else IGNORE)
            out.append(
                {
                    "doc": doc_offset + i,
                    "input_ids": prefix + c_ids[s:e] + suffix,
                    "labels": pad_pre + lab + pad_suf,
                    "word_index": pad_pre + idx + pad_suf,
                    "open_tags": opened,
                }
            )
    return out


class Collator:
    """Pads windows into tensors; ``open_tags`` becomes a [batch, num_tags] bool mask."""

    def __init__(self, pad_token_id: int, num_tags: int):
        self.pad_token_id = pad_token_id
        self.num_tags = num_tags

    def __call__(self, batch: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        n = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), n), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(batch), n), dtype=torch.long)
        labels = torch.full((len(batch), n), IGNORE, dtype=torch.long)
        word_index = torch.full((len(batch), n), IGNORE, dtype=torch.long)
        open_mask = torch.zeros((len(batch), self.num_tags), dtype=torch.bool)
        for r, b in enumerate(batch):
            k = len(b["input_ids"])
            ids[r, :k] = torch.tensor(b["input_ids"], dtype=torch.long)
            mask[r, :k] = 1
            labels[r, :k] = torch.tensor(b["labels"], dtype=torch.long)
            word_index[r, :k] = torch.tensor(b["word_index"], dtype=torch.long)
            if b["open_tags"]:
                open_mask[r, b["open_tags"]] = True
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "labels": labels,
            "word_index": word_index,
            "open_tags": open_mask,
            "doc": torch.tensor([b["doc"] for b in batch], dtype=torch.long),
        }


def fill_word_tags(
    tags: list[list[str]], docs: torch.Tensor, word_index: torch.Tensor, pred_ids: torch.Tensor, id2tag: dict[int, str]
) -> None:
    """Write window predictions into per-document word tags (rows: windows). Only positions
    whose ``word_index`` is a word (not -100) count; a ``docs`` entry < 0 is a padding row.
    Words no window scores (no sub-words) keep what ``tags`` held (O)."""
    for d, wrow, prow in zip(docs.tolist(), word_index.tolist(), pred_ids.tolist()):
        if d < 0:
            continue
        for w, p in zip(wrow, prow):
            if w >= 0:
                tags[d][w] = id2tag[p]


class EpochSampler(Sampler[int]):
    """Deterministic weighted mixing of corpora: the order of epoch ``e`` depends only on
    (seed, e), so a resumed run sees exactly the batches an uninterrupted one would.

    ``group_sizes[k]`` examples of corpus k lie contiguously in the dataset; each epoch takes
    ``floor(w)`` full copies of it plus a fresh random ``round(frac(w) * size)`` subset, then
    shuffles everything together.
    """

    def __init__(self, group_sizes: Sequence[int], weights: Sequence[float], seed: int, shuffle: bool = True):
        if len(group_sizes) != len(weights):
            raise ValueError("one weight per corpus")
        self.group_sizes = list(group_sizes)
        self.weights = [float(w) for w in weights]
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _counts(self) -> list[tuple[int, int]]:
        return [(int(w), round((w - int(w)) * n)) for n, w in zip(self.group_sizes, self.weights)]

    def examples_per_group(self) -> list[int]:
        return [whole * n + part for (whole, part), n in zip(self._counts(), self.group_sizes)]

    def __len__(self) -> int:
        return sum(self.examples_per_group())

    def indices(self, epoch: int) -> list[int]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        out: list[int] = []
        offset = 0
        for (whole, part), n in zip(self._counts(), self.group_sizes):
            for _ in range(whole):
                out.extend(range(offset, offset + n))
            if part:
                out.extend((offset + torch.randperm(n, generator=g)[:part]).tolist())
            offset += n
        if self.shuffle:
            order = torch.randperm(len(out), generator=g).tolist()
            out = [out[i] for i in order]
        return out

    def __iter__(self):
        return iter(self.indices(self.epoch))
