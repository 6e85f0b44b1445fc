"""Domain-adaptive masked-LM training of any BERT-like encoder (``hasila-train base adapt``).

Data: the training part of :func:`hasila.train.base.texts.domain_docs`; each document is
tokenized, cut into chunks of ``seq_len - 2`` pieces and wrapped in CLS/SEP. 15% of the
pieces (never specials) are picked for prediction: 80% become the mask token, 10% a random
piece, 10% stay. The held-out SaudiNewsNet articles (2%, fixed by URL hash) are scored with a
fixed mask before and after, as mean cross-entropy per masked piece and its exponential
(perplexity). A new MLM head (e.g. on the e5 base, which has none) is tied to the input
embeddings, and can be trained alone for a few steps first (``head_warmup_steps``).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import transformers
from hasila.infer.types import HasilaError
from transformers import AutoModelForMaskedLM, AutoTokenizer

from .build import DTYPES, replace_dir
from .texts import DEFAULT_SOURCES, TextDoc, domain_docs, split_docs

MANIFEST = "adapt.json"
MIN_CHUNK = 16  # shorter document tails are dropped
HELDOUT_MASK_SEED = 20150721  # the held-out mask is the same for every model and run
IGNORE = -100


@dataclass(frozen=True)
class AdaptOptions:
    max_steps: int = 1000
    max_minutes: float | None = None
    seq_len: int = 128
    batch_size: int = 16
    lr: float = 1e-4
    warmup: float = 0.06
    weight_decay: float = 0.01
    head_warmup_steps: int = 0
    mask_prob: float = 0.15
    sources: tuple[str, ...] = DEFAULT_SOURCES
    heldout_chunks: int = 256
    threads: int | None = None
    seed: int = 0
    save_dtype: str = "float32"
    max_shard_size: str = "15MB"
    max_train_docs: int | None = None
    log_every: int = 20


def _special_id(tokenizer, name: str) -> int:
    value = getattr(tokenizer, f"{name}_token_id", None)
    if value is None:
        raise HasilaError(f"the tokenizer has no {name} token; masked-LM training needs cls, sep, pad and mask")
    return int(value)


def doc_chunks(tokenizer, docs: Sequence[TextDoc], seq_len: int) -> list[list[int]]:
    """Each document's pieces cut into CLS + (seq_len - 2) pieces + SEP chunks."""
    if seq_len < MIN_CHUNK + 2:
        raise HasilaError(f"seq_len {seq_len} is too short (at least {MIN_CHUNK + 2})")
    cls, sep = _special_id(tokenizer, "cls"), _special_id(tokenizer, "sep")
    body = seq_len - 2
    encoded = tokenizer([d.text for d in docs], add_special_tokens=False, verbose=False)["input_ids"]
    chunks = []
    for ids in encoded:
        for start in range(0, len(ids), body):
            piece = ids[start: start + body]
            if len(piece) >= MIN_CHUNK or (start == 0 and piece):
                chunks.append([cls, *piece, sep])
    return chunks


def pad_batch(chunks: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input ids, attention mask), right-padded to the longest chunk."""
    width = max(len(c) for c in chunks)
    ids = torch.full((len(chunks), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(chunks), width), dtype=torch.long)
    for row, chunk in enumerate(chunks):
        ids[row, : len(chunk)] = torch.tensor(chunk, dtype=torch.long)
        attention[row, : len(chunk)] = 1
    return ids, attention


def mask_tokens(input_ids: torch.Tensor, maskable: torch.Tensor, mask_id: int, replacement_ids: torch.Tensor,
                prob: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking of whole pieces: (corrupted inputs, labels with IGNORE where not picked)."""
    picked = (torch.rand(input_ids.shape, generator=generator) < prob) & maskable
    labels = torch.where(picked, input_ids, torch.full_like(input_ids, IGNORE))
    roll = torch.rand(input_ids.shape, generator=generator)
    to_mask = picked & (roll < 0.8)
    to_random = picked & (roll >= 0.8) & (roll < 0.9)
    random_ids = replacement_ids[torch.randint(len(replacement_ids), input_ids.shape, generator=generator)]
    corrupted = torch.where(to_mask, torch.full_like(input_ids, mask_id), input_ids)
    corrupted = torch.where(to_random, random_ids, corrupted)
    return corrupted, labels


def _lm_head(model):
    for name in ("cls", "lm_head"):
        if hasattr(model, name):
            return getattr(model, name)
    raise HasilaError(f"{type(model).__name__} has no masked-LM head (cls or lm_head)")


def masked_loss_sum(model, input_ids: torch.Tensor, attention: torch.Tensor,
                    labels: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Summed cross-entropy over picked pieces; the vocabulary projection runs on those only."""
    hidden = model.base_model(input_ids=input_ids, attention_mask=attention).last_hidden_state
    picked = labels != IGNORE
    count = int(picked.sum())
    if count == 0:
        return hidden.sum() * 0.0, 0
    logits = _lm_head(model)(hidden[picked])
    return torch.nn.functional.cross_entropy(logits.float(), labels[picked], reduction="sum"), count


class MaskedBatches:
    """Reusable pieces for masking with one tokenizer."""

    def __init__(self, tokenizer, mask_prob: float):
        self.pad_id = _special_id(tokenizer, "pad")
        self.mask_id = _special_id(tokenizer, "mask")
        self.special_ids = torch.tensor(sorted(set(tokenizer.all_special_ids)), dtype=torch.long)
        vocab = torch.arange(len(tokenizer), dtype=torch.long)
        self.replacement_ids = vocab[~torch.isin(vocab, self.special_ids)]
        self.mask_prob = mask_prob

    def make(self, chunks: Sequence[Sequence[int]], generator: torch.Generator):
        ids, attention = pad_batch(chunks, self.pad_id)
        maskable = ~torch.isin(ids, self.special_ids) & attention.bool()
        corrupted, labels = mask_tokens(ids, maskable, self.mask_id, self.replacement_ids,
                                        self.mask_prob, generator)
        return corrupted, attention, labels


def evaluate(model, batches: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]) -> dict:
    """Mean loss per masked piece and perplexity over fixed masked batches."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for ids, attention, labels in batches:
            loss, n = masked_loss_sum(model, ids, attention, labels)
            total += float(loss)
            count += n
    mean = total / max(count, 1)
    return {"loss": round(mean, 4), "perplexity": round(math.exp(mean), 2), "masked_pieces": count}


def _training_chunks(tokenizer, docs: list[TextDoc], seq_len: int, rng: random.Random,
                     docs_per_read: int = 256) -> Iterator[list[int]]:
    """Chunks of the documents in a fresh random order every epoch, shuffled within a window."""
    while True:
        order = list(range(len(docs)))
        rng.shuffle(order)
        for start in range(0, len(order), docs_per_read):
            window = doc_chunks(tokenizer, [docs[i] for i in order[start: start + docs_per_read]], seq_len)
            rng.shuffle(window)
            yield from window


def _learning_rate(step: int, options: AdaptOptions, time_used: float = 0.0) -> float:
    """Constant while only the head trains; then linear warm-up and linear decay to 0.

    The decay follows whichever budget runs out first: steps, or the share ``time_used`` of
    ``max_minutes`` already spent, so that a run stopped by the clock ends at a low rate too.
    """
    head = options.head_warmup_steps
    if step < head:
        return options.lr
    step, total = step - head, max(1, options.max_steps - head)
    warm = max(1, int(options.warmup * total))
    if step < warm:
        return options.lr * (step + 1) / warm
    progress = max((step - warm) / max(1, total - warm), time_used)
    return options.lr * max(0.0, 1.0 - progress)


def adapt(base: str, out_dir: str | Path, options: AdaptOptions = AdaptOptions(),
          data_root: Path | None = None, docs: Sequence[TextDoc] | None = None,
          command: Sequence[str] = ()) -> dict:
    """Masked-LM training of ``base`` (a folder or Hugging Face id) on the domain texts; saves to ``out_dir``.

    ``docs`` replaces reading the corpora under ``data_root`` (tests).
    """
    if options.save_dtype not in DTYPES:
        raise HasilaError(f"save dtype must be one of {', '.join(DTYPES)}, not {options.save_dtype!r}")
    if options.max_steps < 1 or options.batch_size < 1:
        raise HasilaError("max_steps and batch_size must be at least 1")
    if options.threads:
        torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    out_dir = Path(out_dir)
    started = time.time()

    if docs is None:
        if data_root is None:
            raise HasilaError("adapt needs the corpora folder (data_root) or documents")
        docs = list(domain_docs(data_root, options.sources))
    train_docs, heldout_docs = split_docs(docs)
    if options.max_train_docs is not None:
        train_docs = train_docs[: options.max_train_docs]
    if not train_docs or not heldout_docs:
        raise HasilaError(f"need training and held-out documents, got {len(train_docs)} and {len(heldout_docs)}")

    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForMaskedLM.from_pretrained(base, dtype=torch.float32)
    if len(tokenizer) > model.config.vocab_size:
        raise HasilaError(f"{base}: tokenizer has {len(tokenizer)} ids, the model only {model.config.vocab_size} rows")
    masking = MaskedBatches(tokenizer, options.mask_prob)

    heldout_chunks = doc_chunks(tokenizer, heldout_docs, options.seq_len)[: options.heldout_chunks]
    mask_rng = torch.Generator().manual_seed(HELDOUT_MASK_SEED)
    heldout = [masking.make(heldout_chunks[i: i + options.batch_size], mask_rng)
               for i in range(0, len(heldout_chunks), options.batch_size)]
    before = evaluate(model, heldout)
    _log(f"held-out before: {before}")

    rng = random.Random(options.seed)
    generator = torch.Generator().manual_seed(options.seed)
    stream = _training_chunks(tokenizer, train_docs, options.seq_len, rng)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": options.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=options.lr)
    body = model.base_model
    after_head = None
    tokens_seen = masked_seen = steps = 0
    running = []
    train_started = time.time()
    deadline = train_started + options.max_minutes * 60 if options.max_minutes else None
    for step in range(options.max_steps):
        head_only = step < options.head_warmup_steps
        for param in body.parameters():
            param.requires_grad_(not head_only)
        if step == options.head_warmup_steps and step > 0:
            after_head = evaluate(model, heldout)
            _log(f"held-out after {step} head-only steps: {after_head}")
        model.train()
        ids, attention, labels = masking.make([next(stream) for _ in range(options.batch_size)], generator)
        time_used = (time.time() - train_started) / (deadline - train_started) if deadline else 0.0
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(step, options, time_used)
        loss_sum, count = masked_loss_sum(model, ids, attention, labels)
        loss = loss_sum / max(count, 1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        steps += 1
        tokens_seen += int(attention.sum())
        masked_seen += count
        running.append(loss.item())
        if steps % options.log_every == 0:
            elapsed = time.time() - train_started
            _log(f"step {steps} loss {sum(running) / len(running):.3f} "
                 f"tokens {tokens_seen} ({tokens_seen / elapsed:.0f}/s)")
            running.clear()
        if deadline and time.time() >= deadline:
            _log(f"time budget of {options.max_minutes} min reached after {steps} steps")
            break
    train_seconds = time.time() - train_started
    for param in model.parameters():
        param.requires_grad_(True)
    after = evaluate(model, heldout)
    _log(f"held-out after: {after}")

    report = {
        "base": str(base), "out_dir": str(out_dir), "command": " ".join(command),
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(options).items()},
        "train_documents": len(train_docs), "heldout_documents": len(heldout_docs),
        "heldout_chunks": len(heldout_chunks), "parameters": sum(p.numel() for p in model.parameters()),
        "steps": steps, "tokens_seen": tokens_seen, "masked_pieces_seen": masked_seen,
        "train_seconds": round(train_seconds, 1), "total_seconds": None,
        "heldout_before": before, "heldout_after_head_warmup": after_head, "heldout_after": after,
        "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    _save(model, tokenizer, out_dir, options, report, started)
    return report


def _save(model, tokenizer, out_dir: Path, options: AdaptOptions, report: dict, started: float) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model.to(DTYPES[options.save_dtype]).save_pretrained(tmp, max_shard_size=options.max_shard_size)
        model.config.dtype = "float32"  # from_pretrained computes in float32 unless told otherwise
        model.config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        report["total_seconds"] = round(time.time() - started, 1)
        (tmp / MANIFEST).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        replace_dir(tmp, out_dir, MANIFEST)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _log(message: str) -> None:
    print(f"[adapt {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
