"""The token classifier at batch scale: one BIO tag (and its probability) per word.

Words come from :func:`hasila.infer.tokenize.split_words`, exactly as in training, and the
first sub-word of each word decides its tag. Documents longer than the encoder's window are
read in overlapping windows of sub-word tokens; a word seen by several windows takes the
prediction of the window in which it sits most centrally (most context on both sides).
Windows of a batch of documents are sorted by length before they are padded into model
batches, then put back in order, so the result does not depend on batching order.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hasila.infer.types import HasilaError

DEFAULT_STRIDE = 128  # sub-word tokens shared by neighbouring windows
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
# Models whose position ids start after the padding index (RoBERTa family) lose two positions.
_OFFSET_POSITION_MODELS = {"roberta", "xlm-roberta", "camembert", "xlm-roberta-xl"}

WordPrediction = tuple[str, float]  # (BIO tag, its probability)


class ModelError(HasilaError):
    """The model cannot be loaded or is not a BIO token classifier."""


@dataclass(frozen=True)
class ModelInfo:
    """What records say about the model: its name and the sha256 of its weight files."""

    name: str
    sha256: str | None
    labels: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256}


def weights_sha256(model_dir: Path) -> str | None:
    """sha256 of the weight files of a local checkpoint, concatenated in name order.

    For a single-file checkpoint this is that file's own sha256 (``sha256sum model.safetensors``).
    """
    # The tagger's weights only: the structure heads (heads.safetensors) have their own hash.
    files = sorted(p for p in model_dir.iterdir()
                   if p.is_file() and p.name.endswith(_WEIGHT_SUFFIXES) and p.name != "heads.safetensors")
    if not files:
        return None
    # Loading a model asks several times (the runtime's choice, the derived graph's name, the
    # records' model info): hash each set of files once while none of them changes.
    key = tuple((str(p.resolve()), st.st_size, st.st_mtime_ns) for p in files for st in (p.stat(),))
    if key not in _SHA256_SEEN:
        digest = hashlib.sha256()
        for path in files:
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        _SHA256_SEEN[key] = digest.hexdigest()
    return _SHA256_SEEN[key]


_SHA256_SEEN: dict[tuple[tuple[str, int, int], ...], str] = {}


def check_bio_labels(id2label: dict[int, str]) -> tuple[str, ...]:
    """The model's tags in id order; raises if they are not BIO tags (e.g. untrained ``LABEL_0``)."""
    if sorted(id2label) != list(range(len(id2label))):
        raise ModelError(f"the model's label ids {sorted(id2label)[:8]}... are not 0..{len(id2label) - 1}")
    tags = tuple(id2label[i] for i in range(len(id2label)))
    bad = [t for t in tags if t != "O" and not (t[:2] in ("B-", "I-") and len(t) > 2)]
    if bad or "O" not in tags:
        raise ModelError(
            f"the model's labels {list(tags)[:8]} are not BIO tags (O, B-X, I-X); "
            "is this a Hasila token-classification checkpoint?"
        )
    return tags


def resolve_device(device: str | None) -> str:
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} asked for but CUDA is not available here (use --device cpu)")
    return device


def _torch_dtype(dtype: Any):
    import torch

    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    names = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
             "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    if dtype not in names:
        raise ModelError(f"unknown dtype {dtype!r}; use one of {', '.join(names)}")
    return names[dtype]


def window_starts(n_tokens: int, size: int, stride: int) -> list[int]:
    """Start offsets of windows of ``size`` tokens covering ``n_tokens``, neighbours sharing
    ``stride`` tokens; the last window ends exactly at the end (full context there too)."""
    if n_tokens <= size:
        return [0]
    step = max(1, size - min(stride, size // 2))
    starts = list(range(0, n_tokens - size, step))
    starts.append(n_tokens - size)
    return starts


def most_central_window(n_tokens: int, size: int, starts: Sequence[int]) -> np.ndarray:
    """For each token, the index (into ``starts``) of the covering window where it is farthest
    from the window's edges; ties go to the earlier window."""
    best_margin = np.full(n_tokens, -1, dtype=np.int64)
    choice = np.zeros(n_tokens, dtype=np.int64)
    for w, start in enumerate(starts):
        end = min(start + size, n_tokens)
        idx = np.arange(start, end)
        margin = np.minimum(idx - start, end - 1 - idx)
        better = margin > best_margin[start:end]
        best_margin[start:end][better] = margin[better]
        choice[start:end][better] = w
    return choice


class TokenClassifier:
    """A Hugging Face token-classification model + fast tokenizer, predicting per word."""

    runtime = "torch"  # what runs the forward passes (infer/onnx_runtime.py has the others)

    def __init__(self, model: Any, tokenizer: Any, *, info: ModelInfo, device: str,
                 autocast_dtype: Any = None, max_length: int | None = None,
                 stride: int | None = None, batch_size: int = 16) -> None:
        if not getattr(tokenizer, "is_fast", False):
            raise ModelError("a fast (Rust `tokenizers`) tokenizer is needed for word alignment")
        self.model = model
        self.tokenizer = tokenizer
        self.info = info
        self.tags = info.labels
        self.device = device
        self.autocast_dtype = autocast_dtype
        self.batch_size = batch_size
        self.prefix_ids, self.suffix_ids = self._special_ids(tokenizer)
        positions = self._position_limit(model)
        if max_length is not None and not (isinstance(max_length, int) and 0 < max_length <= positions):
            raise ModelError(f"window of {max_length!r} sub-word tokens: the model has {positions} positions")
        self.window = (max_length or self._max_length(model, tokenizer)) - len(self.prefix_ids) - len(self.suffix_ids)
        if self.window < 8:
            raise ModelError(f"model window of {self.window} sub-word tokens is too small")
        if stride is None:
            stride = min(DEFAULT_STRIDE, self.window // 2)
        # Neighbouring windows overlap by at most half a window (window_starts), so a larger
        # stride would silently mean something else.
        if not (isinstance(stride, int) and 0 <= stride <= self.window // 2):
            raise ModelError(f"window stride {stride!r}: a whole number of sub-word tokens, at most half the model's "
                             f"window of {self.window}")
        self.stride = stride
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.encoder = WordEncoder(tokenizer)
        # With structure heads (infer/heads.py): also return each word's last hidden state,
        # from the same forward pass (float16 to keep what crosses to workers small).
        self.with_vectors = False
        self.path: str | None = None

    @classmethod
    def load(cls, path_or_id: str | os.PathLike, device: str | None = "auto", dtype: Any = None, *,
             batch_size: int = 16, stride: int | None = None, max_length: int | None = None) -> "TokenClassifier":
        """Load a checkpoint (local folder or hub id). ``dtype`` loads the weights in that type
        (no autocast); by default weights stay fp32 and CUDA runs under bf16 (or fp16) autocast.
        Windows: ``max_length`` / ``stride`` sub-words, by default the model's own
        (``hasila_inference`` in its config.json, written by the trainer), else the model's
        positions / 128 (at most half a window)."""
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        device = resolve_device(device)
        torch_dtype = _torch_dtype(dtype)
        where = str(path_or_id)
        try:
            local_only = os.path.isdir(where)  # a folder never reaches the network (no hub retries)
            tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=local_only)
            # fp32 unless asked otherwise, whatever type the checkpoint was saved in (CPU has
            # no fast fp16; CUDA gets its speed from autocast).
            model = AutoModelForTokenClassification.from_pretrained(where, dtype=torch_dtype or torch.float32,
                                                                    local_files_only=local_only)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load a token-classification model from {where!r}: {exc}") from exc
        model.to(device)
        model.eval()
        tags = check_bio_labels({int(k): v for k, v in model.config.id2label.items()})
        local = Path(where)
        info = ModelInfo(
            name=local.name if local.is_dir() else where,
            sha256=weights_sha256(local) if local.is_dir() else getattr(model.config, "_commit_hash", None),
            labels=tags,
        )
        autocast = None
        if torch_dtype is None and device.startswith("cuda"):
            autocast = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        own = getattr(model.config, "hasila_inference", None) or {}
        if not isinstance(own, dict):
            raise ModelError(f"{where}: config.json's hasila_inference must be an object like "
                             f'{{"max_length": 128, "stride": 32}}, not {own!r}')
        classifier = cls(model, tokenizer, info=info, device=device, autocast_dtype=autocast,
                         max_length=max_length or own.get("max_length"),
                         stride=stride if stride is not None else own.get("stride"),
                         batch_size=batch_size)
        classifier.path = where if local.is_dir() else None  # where the structure heads would be
        return classifier

    @staticmethod
    def _position_limit(model: Any) -> int:
        config = model.config
        limit = int(getattr(config, "max_position_embeddings", 512))
        if getattr(config, "model_type", "") in _OFFSET_POSITION_MODELS:
            limit -= 2
        return limit

    @classmethod
    def _max_length(cls, model: Any, tokenizer: Any) -> int:
        limit = cls._position_limit(model)
        tok_limit = getattr(tokenizer, "model_max_length", None)
        if isinstance(tok_limit, int) and 0 < tok_limit < 1_000_000:
            limit = min(limit, tok_limit)
        return limit

    @staticmethod
    def _special_ids(tokenizer: Any) -> tuple[list[int], list[int]]:
        """The special tokens the tokenizer puts before and after a single sequence."""
        plain = tokenizer(["ا"], is_split_into_words=True, add_special_tokens=False)["input_ids"]
        full = tokenizer(["ا"], is_split_into_words=True, add_special_tokens=True)["input_ids"]
        for i in range(len(full) - len(plain) + 1):
            if full[i:i + len(plain)] == plain:
                return list(full[:i]), list(full[i + len(plain):])
        raise ModelError("cannot tell where the tokenizer puts its special tokens")

    def predict(self, docs: Sequence[Sequence[str]], batch_size: int | None = None) -> list[list[WordPrediction]]:
        """One ``(tag, probability)`` per word of each document, documents in input order."""
        encoded = self.encoder.encode(docs)
        return [word_predictions(self.tags, *scores) for scores in self.score(encoded, batch_size)]

    def score(self, encoded: Sequence["EncodedDoc"], batch_size: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per document, the tag id and its probability for each word (arrays), from documents
        already encoded by :meth:`WordEncoder.encode` (possibly in another process)."""
        batch_size = batch_size or self.batch_size
        windows: list[np.ndarray] = []
        plans: list[list[int]] = []
        for doc in encoded:
            starts = window_starts(len(doc.ids), self.window, self.stride) if len(doc.ids) else []
            plans.append(starts)
            windows.extend(doc.ids[s:s + self.window] for s in starts)
        tag_ids, probs, vectors = self._run_windows(windows, batch_size)
        out = []
        w0 = 0
        for doc, starts in zip(encoded, plans):
            w1 = w0 + len(starts)
            at = _word_positions(doc, starts, self.window) if starts else None  # shared by tags and vectors
            scores = _collect_words(doc, at, tag_ids[w0:w1], probs[w0:w1])
            if vectors is not None:
                scores = (*scores, _collect_vectors(doc, at, vectors[w0:w1], self.model.config.hidden_size))
            out.append(scores)
            w0 = w1
        return out

    def _pack(self, windows: Sequence[np.ndarray], batch: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Input ids (special tokens around each window, padded to the batch's longest) and the
        attention mask of one batch of windows (both runtimes build their batches here)."""
        pre, suf = len(self.prefix_ids), len(self.suffix_ids)
        width = pre + max(len(windows[j]) for j in batch) + suf
        input_ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        input_ids[:, :pre] = self.prefix_ids
        for r, j in enumerate(batch):
            n = len(windows[j])
            input_ids[r, pre:pre + n] = windows[j]
            input_ids[r, pre + n:pre + n + suf] = self.suffix_ids
            mask[r, :pre + n + suf] = 1
        return input_ids, mask

    def _run_windows(self, windows: Sequence[np.ndarray], batch_size: int) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray] | None]:
        """Argmax tag ids and their probabilities for each window's content tokens (and their
        last hidden states when ``with_vectors``)."""
        import torch

        order = sorted(range(len(windows)), key=lambda j: (-len(windows[j]), j))
        tag_ids: list[np.ndarray] = [None] * len(windows)  # type: ignore[list-item]
        probs: list[np.ndarray] = [None] * len(windows)  # type: ignore[list-item]
        vectors: list[np.ndarray] | None = [None] * len(windows) if self.with_vectors else None  # type: ignore[list-item]
        pre = len(self.prefix_ids)

        def fetch(pending: tuple[list[int], Any, Any, Any]) -> None:
            batch, p, t, hs = pending
            p, t = p.cpu().numpy(), t.cpu().numpy()
            hs = hs.to(torch.float16).cpu().numpy() if hs is not None else None
            for r, j in enumerate(batch):
                n = len(windows[j])
                tag_ids[j] = t[r, pre:pre + n]
                probs[j] = p[r, pre:pre + n]
                if hs is not None:
                    vectors[j] = hs[r, pre:pre + n]

        pending = None
        with torch.inference_mode():
            for b in range(0, len(order), batch_size):
                batch = order[b:b + batch_size]
                input_ids, mask = self._pack(windows, batch)
                ids_t = torch.from_numpy(input_ids).to(self.device, non_blocking=True)
                mask_t = torch.from_numpy(mask).to(self.device, non_blocking=True)
                kwargs = {"output_hidden_states": True} if self.with_vectors else {}
                if self.autocast_dtype is not None:
                    with torch.autocast(device_type="cuda", dtype=self.autocast_dtype):
                        out = self.model(input_ids=ids_t, attention_mask=mask_t, **kwargs)
                else:
                    out = self.model(input_ids=ids_t, attention_mask=mask_t, **kwargs)
                p, t = out.logits.float().softmax(-1).max(-1)
                hs = out.hidden_states[-1] if self.with_vectors else None
                # On a GPU the batch just queued runs while the previous one is copied back.
                if pending is not None:
                    fetch(pending)
                pending = (batch, p, t, hs)
            if pending is not None:
                fetch(pending)
        return tag_ids, probs, vectors


_ID_BYTES = np.dtype(np.int64).itemsize


@dataclass(frozen=True)
class EncodedDoc:
    """A document's sub-word ids (no special tokens) and, per word, the index of its first
    sub-word (-1 where the tokenizer dropped the word entirely)."""

    ids: np.ndarray
    first_token: np.ndarray


class WordEncoder:
    """Sub-word ids of documents' words, one word at a time through a cache.

    News repeats its words: most of an article's words were seen in earlier articles, so a
    dict lookup replaces the tokenizer (Unigram, ~3 ms an article on one core) for them. Used
    only when encoding words one by one gives the same ids as encoding them in their document
    (checked on a probe; true for XLM-R's Metaspace "always" and for WordPiece), else every
    document goes through the tokenizer whole. Pickles without its cache, and without
    transformers: worker processes get this, not the transformers wrapper, so that they start
    without importing transformers and torch (a minute for 15 workers on the GPU machine).
    """

    MAX_CACHED = 500_000  # words; then the cache starts over (bounded memory on endless input)

    def __init__(self, tokenizer: Any) -> None:
        from tokenizers import Tokenizer

        backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
        backend.no_truncation()
        backend.no_padding()
        self.backend = backend
        self._cache: dict[str, bytes] = {}  # word → its sub-word ids, int64 bytes
        self.word_by_word = self._context_free()

    def _encode(self, docs: Sequence[Sequence[str]]) -> list[Any]:
        return self.backend.encode_batch([list(d) for d in docs], is_pretokenized=True, add_special_tokens=False)

    def _context_free(self) -> bool:
        probe = ["قتل", "جنود", "في", "الهجوم", "2019", "«", "Reuters", "و15"]
        together = self._encode([probe])[0].ids
        alone = [i for e in self._encode([[w] for w in probe]) for i in e.ids]
        return together == alone

    def __getstate__(self) -> dict[str, Any]:
        return {"backend": self.backend, "word_by_word": self.word_by_word}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _cache={})

    def encode(self, docs: Sequence[Sequence[str]]) -> list["EncodedDoc"]:
        """Sub-word ids of each document's words (cheap to send between processes)."""
        if not self.word_by_word:
            return self._encode_whole(docs)
        cache = self._cache
        pieces = [list(map(cache.get, words)) for words in docs]
        if any(None in p for p in pieces):
            self._learn(docs)
            pieces = [p if None not in p else list(map(cache.__getitem__, words)) for p, words in zip(pieces, docs)]
        out = []
        for p in pieces:
            # each word's ids as int64 bytes: one join makes the document's (no int per id)
            lengths = np.fromiter(map(len, p), dtype=np.int64, count=len(p)) // _ID_BYTES
            starts = np.cumsum(lengths) - lengths
            first = np.where(lengths > 0, starts, -1)
            out.append(EncodedDoc(np.frombuffer(bytearray().join(p), dtype=np.int64), first))
        return out

    def _learn(self, docs: Sequence[Sequence[str]]) -> None:
        """Puts the words of ``docs`` the cache lacks into it, encoded in one tokenizer call."""
        cache = self._cache
        new = [w for w in dict.fromkeys(itertools.chain.from_iterable(docs)) if w not in cache]
        if len(cache) + len(new) > self.MAX_CACHED:
            cache.clear()
            new = list(dict.fromkeys(itertools.chain.from_iterable(docs)))
        for w, enc in zip(new, self._encode([[w] for w in new])):
            cache[w] = np.asarray(enc.ids, dtype=np.int64).tobytes()

    def _encode_whole(self, docs: Sequence[Sequence[str]]) -> list["EncodedDoc"]:
        out = [EncodedDoc(np.zeros(0, dtype=np.int64), np.full(len(words), -1, dtype=np.int64)) for words in docs]
        todo = [i for i, words in enumerate(docs) if len(words)]
        for i, enc in zip(todo, self._encode([docs[i] for i in todo]) if todo else []):
            first = np.full(len(docs[i]), -1, dtype=np.int64)
            word_ids = np.asarray([-1 if w is None else w for w in enc.word_ids], dtype=np.int64)
            # The first sub-word of each word (reversed assignment keeps the first of repeated ids).
            positions = np.arange(len(word_ids))
            keep = word_ids >= 0
            first[word_ids[keep][::-1]] = positions[keep][::-1]
            out[i] = EncodedDoc(np.asarray(enc.ids, dtype=np.int64), first)
        return out


def _word_positions(doc: EncodedDoc, starts: Sequence[int], window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the words the model saw (mask), the window where their first sub-word is most
    central and the sub-word's position in that window."""
    choice = most_central_window(len(doc.ids), window, starts)
    seen = doc.first_token >= 0
    tok = doc.first_token[seen]
    win = choice[tok]
    return seen, win, tok - np.asarray(starts, dtype=np.int64)[win]


def _collect_words(doc: EncodedDoc, at: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
                   tag_ids: Sequence[np.ndarray], probs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per word: tag id and probability from the window where its first sub-word is most
    central (``at``: :func:`_word_positions`; None when the document has no windows)."""
    n_words = len(doc.first_token)
    tags = np.full(n_words, -1, dtype=np.int64)  # -1: a word the model never saw
    p = np.ones(n_words, dtype=np.float32)
    if at is None:
        return tags, p
    seen, win, pos = at
    lengths = np.fromiter(map(len, tag_ids), dtype=np.int64, count=len(tag_ids))
    flat = (np.cumsum(lengths) - lengths)[win] + pos  # in the window outputs laid end to end
    tags[seen] = np.concatenate(tag_ids)[flat]
    p[seen] = np.concatenate(probs)[flat]
    return tags, p


def _collect_vectors(doc: EncodedDoc, at: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
                     vectors: Sequence[np.ndarray], hidden: int) -> np.ndarray:
    """Per word: the last hidden state at its first sub-word, from its most central window
    (zeros for a word the model never saw)."""
    out = np.zeros((len(doc.first_token), hidden), dtype=np.float16)
    if at is None:
        return out
    seen, win, pos = at
    rows = np.flatnonzero(seen)
    # Window by window, not laid end to end first: that copied every token's vector once more.
    for w, part in enumerate(vectors):
        mine = win == w
        out[rows[mine]] = part[pos[mine]]
    return out


def word_predictions(tags: Sequence[str], tag_ids: np.ndarray, probs: np.ndarray, *_: Any) -> list[WordPrediction]:
    """``(tag, probability)`` per word. A word the tokenizer dropped entirely (e.g. only
    stripped marks) was never seen by the model, so it cannot belong to a span: ``("O", 1.0)``
    (tag id -1 from :func:`_collect_words`)."""
    return [("O", 1.0) if t < 0 else (tags[t], q) for t, q in zip(tag_ids.tolist(), probs.tolist())]


# The shipped model: <repo>/models/hasila-ner in a checkout (editable install); a built wheel
# installs that folder as hasila/models/hasila-ner, which is the same path relative to this file.
SHIPPED_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "hasila-ner"
MODEL_ENV = "HASILA_MODEL"


class ModelNotFound(ModelError):
    pass


ALLOW_DOWNLOAD_ENV = "HASILA_ALLOW_DOWNLOAD"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def find_model(explicit: str | os.PathLike | None = None, *, allow_download: bool | None = None) -> str:
    """The model to use: ``explicit`` (a folder), else ``$HASILA_MODEL``, else the shipped
    model (``models/hasila-ner`` in a checkout, installed with the package otherwise); raises
    ModelNotFound telling how to get one. Offline by default: a name that is no folder is an
    error at once, unless ``allow_download`` (or ``$HASILA_ALLOW_DOWNLOAD=1``) lets it be a
    Hugging Face hub id («org/name»), which from_pretrained then resolves or says why not."""
    if allow_download is None:
        allow_download = os.environ.get(ALLOW_DOWNLOAD_ENV, "") in ("1", "true", "yes")
    if explicit:
        where = str(explicit)
        if os.path.exists(where):
            if not Path(where).is_dir():
                raise ModelNotFound(f"--model {where!r} is a file; give the checkpoint's folder")
            _require_checkpoint(Path(where))
            return where
        if allow_download and _HUB_ID.fullmatch(where) and not where.startswith((".", "/", "~")):
            return where
        hint = (" (to download it from the Hugging Face hub, add --allow-download)" if _HUB_ID.fullmatch(where)
                and not allow_download else "")
        raise ModelNotFound(f"model folder {where!r} does not exist (looked in {os.getcwd()}){hint}")
    env = os.environ.get(MODEL_ENV)
    if env:
        if not Path(env).is_dir():
            raise ModelNotFound(f"${MODEL_ENV} is {env!r}, which is not a folder")
        _require_checkpoint(Path(env))
        return env
    if SHIPPED_MODEL_DIR.is_dir() and (SHIPPED_MODEL_DIR / "config.json").exists():
        return str(SHIPPED_MODEL_DIR)
    raise ModelNotFound(
        f"no model given and none at {SHIPPED_MODEL_DIR}. Pass --model FOLDER (a Hugging Face "
        f"token-classification checkpoint: config.json, weights, tokenizer.json), or set {MODEL_ENV}. "
        "The shipped model is installed with Hasila (`pip install .` from a checkout, which holds it "
        "under models/hasila-ner), or train one with `hasila-train`."
    )


def _require_checkpoint(path: Path) -> None:
    if not (path / "config.json").exists():
        raise ModelNotFound(f"{path} has no config.json: not a Hugging Face checkpoint folder")
