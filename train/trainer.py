"""Fine-tune any Hugging Face encoder as Hasila's token classifier.

``train(config)`` runs under Hugging Face Accelerate, so the same code trains on the CPU, one
GPU (bf16 autocast when the GPU supports it) or several (``accelerate launch --multi_gpu
--num_processes N -m hasila.train.cli run --config ...`` or ``torchrun``). What it guarantees:

- Determinism: ``transformers.set_seed`` before the classification head is created; the
  data order of epoch e depends only on (seed, e) (:class:`EpochSampler`); the DataLoader
  draws its worker seed from its own generator, not from the global RNG, so the global RNG
  (dropout) sees the same draws whether or not a run was interrupted.
- Checkpoints every ``save_steps`` optimizer steps under ``output_dir/checkpoints/``:
  ``accelerator.save_state`` (model, optimizer, LR scheduler, every RNG, Accelerate's step
  counter) plus ``trainer_state.json`` (step, epoch, batches consumed in the epoch, early
  stopping state, dev history, a fingerprint of the training windows). Written to a
  ``.tmp`` folder and renamed, so a crash never leaves a half checkpoint that looks whole.
- ``resume=True`` continues from the newest complete checkpoint: same config (checked),
  same data (fingerprint checked), skips the batches of the epoch already consumed.
- Early stopping on dev: seqeval micro F1 (default mode), each dev document scored on the
  labels its corpus annotates; ``early_stopping_patience`` evaluations without improvement
  stop the run. The best model is kept in ``checkpoints/best`` (``save_pretrained``).
- Output: ``output_dir`` holds the best model (or the last, without dev data) with its
  tokenizer, ``config.id2label`` = the label set's BIO tags, the resolved config
  (``hasila_train_config.json``) and ``training_log.json``. It loads with
  ``transformers.pipeline("token-classification", model=output_dir)``.

What stays nondeterministic: on GPUs some kernels (atomics in attention / embedding backward)
are not bit-reproducible unless ``torch.use_deterministic_algorithms(True)`` is set, so a
resumed GPU run matches an uninterrupted one closely but not necessarily bit for bit; on the
CPU (and with 2 CPU processes under torchrun) the tests find them identical.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from hasila.infer.types import HasilaError
from hasila.train.config import (
    CONFIG_FILENAME,
    ConfigError,
    CorpusSpec,
    TrainConfig,
    atomic_write_text,
    diff_configs,
    from_dict,
    save_config,
)
from hasila.train.evaluate import entity_metrics, restrict_tags
from hasila.train.features import (
    IGNORE,
    Collator,
    EpochSampler,
    LabelSet,
    encode_documents,
    fill_word_tags,
    get_label_set,
    open_tag_ids,
    tag_ids,
)
from hasila.train.losses import token_classification_loss

log = logging.getLogger("hasila.train")

STATE_FILENAME = "trainer_state.json"
LOG_FILENAME = "training_log.json"
_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
# Keys that may change between a crash and --resume without changing what is computed.
RESUMABLE_CHANGES = ("output_dir", "save_steps", "keep_checkpoints", "log_steps", "eval_batch_size", "max_shard_size")
_OFFSET_POSITION_MODELS = {"roberta", "xlm-roberta", "camembert", "xlm-roberta-xl"}


class TrainingError(HasilaError):
    """Training cannot start or continue; the message says why and what to do."""


# ---------------------------------------------------------------- data

@dataclass
class Split:
    """The documents of one corpus split, as the label set sees them."""

    name: str
    words: list[list[str]]
    tags: list[list[str]]
    annotated: list[list[str]]  # per document: labels of the label set its corpus annotates
    doc_ids: list[str]


def load_dataset_split(spec: CorpusSpec) -> Any:
    """The ``datasets.Dataset`` a corpus spec names (a saved DatasetDict path, "gold", or a corpus)."""
    import datasets
    from hasila.train.corpora import CORPORA, load_corpus

    if spec.name in ("gold", "gold2015"):
        from hasila.train.gold import gold_dataset_dict

        obj = gold_dataset_dict(frozen="dev_2015" if spec.name == "gold2015" else None)
    elif spec.name in CORPORA:
        obj = load_corpus(spec.name)
    elif Path(spec.name).exists():
        obj = datasets.load_from_disk(spec.name)
    else:
        raise TrainingError(f"corpus {spec.name!r} is neither a known corpus (gold, {', '.join(CORPORA)}) nor a saved dataset folder")
    if isinstance(obj, datasets.DatasetDict):
        if spec.split not in obj:
            raise TrainingError(f"corpus {spec.name!r} has no split {spec.split!r}; it has: {', '.join(obj)}")
        return obj[spec.split]
    return obj


def read_split(spec: CorpusSpec, label_set: LabelSet, dataset: Any | None = None) -> Split:
    """Words, tags (from the label set's column) and annotated labels of a corpus split."""
    ds = load_dataset_split(spec) if dataset is None else dataset
    where = f"corpus {spec.name!r} split {spec.split!r}"
    needed = ["words", label_set.column] + (["annotated_labels"] if label_set.name != "anercorp4" else [])
    missing = [c for c in needed if c not in ds.column_names]
    if missing:
        raise TrainingError(f"{where}: missing columns {missing} (has {ds.column_names})")
    words = [list(w) for w in ds["words"]]
    tags = [list(t) for t in ds[label_set.column]]
    ids = list(ds["id"]) if "id" in ds.column_names else [str(i) for i in range(len(words))]
    if label_set.name == "anercorp4":
        annotated = [list(label_set.labels)] * len(words)
    else:
        annotated = [[lab for lab in label_set.labels if lab in set(a)] for a in ds["annotated_labels"]]
    known = set(label_set.tags)
    for i, (w, t) in enumerate(zip(words, tags)):
        if len(w) != len(t):
            raise TrainingError(f"{where}, document {ids[i]!r}: {len(w)} words but {len(t)} tags")
        bad = sorted(set(t) - known)
        if bad:
            raise TrainingError(
                f"{where}, document {ids[i]!r}: column {label_set.column!r} has tags {bad} outside label set "
                f"{label_set.name!r} ({', '.join(label_set.tags)})"
            )
    return Split(f"{spec.name}:{spec.split}", words, tags, annotated, ids)


@dataclass
class Encoded:
    windows: list[dict[str, Any]]
    group_sizes: list[int]  # windows per corpus, contiguous, in config order


def encode_splits(splits: Sequence[Split], label_set: LabelSet, tokenizer: Any, cfg: TrainConfig) -> Encoded:
    windows: list[dict[str, Any]] = []
    sizes: list[int] = []
    doc_offset = 0
    for sp in splits:
        ids = [tag_ids(t, label_set, f"{sp.name}, document {sp.doc_ids[i]!r}") for i, t in enumerate(sp.tags)]
        opened = [open_tag_ids(label_set, a, f"{sp.name}, document {sp.doc_ids[i]!r}") for i, a in enumerate(sp.annotated)]
        if cfg.missing_labels == "as_o":
            opened = [[] for _ in opened]
        w = encode_documents(sp.words, tokenizer, cfg.max_length, cfg.stride, labels=ids, open_tags=opened, doc_offset=doc_offset)
        if not w:
            raise TrainingError(f"{sp.name}: no non-empty document")
        windows.extend(w)
        sizes.append(len(w))
        doc_offset += len(sp.words)
    return Encoded(windows, sizes)


def fingerprint(windows: Sequence[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for w in windows:
        h.update(json.dumps([w["input_ids"], w["labels"], w["open_tags"]], separators=(",", ":")).encode())
    return h.hexdigest()


@dataclass
class DevSet:
    """Dev documents, their gold tags restricted to what each corpus annotates, and windows."""

    corpus_of_doc: list[str]
    gold: list[list[str]]
    scored_labels: list[list[str]]
    n_words: list[int]
    windows: list[dict[str, Any]]


def build_dev(splits: Sequence[Split], label_set: LabelSet, tokenizer: Any, cfg: TrainConfig) -> DevSet:
    dev = DevSet([], [], [], [], [])
    offset = 0
    for sp in splits:
        for i, t in enumerate(sp.tags):
            tag_ids(t, label_set, f"{sp.name}, document {sp.doc_ids[i]!r}")  # validates the tags
            dev.corpus_of_doc.append(sp.name)
            dev.gold.append(restrict_tags(t, sp.annotated[i]))
            dev.scored_labels.append(sp.annotated[i])
            dev.n_words.append(len(t))
        dev.windows.extend(encode_documents(sp.words, tokenizer, cfg.max_length, cfg.stride, doc_offset=offset))
        offset += len(sp.words)
    dev.windows.sort(key=lambda w: len(w["input_ids"]))  # less padding; predictions go back by doc id
    return dev


def dev_metrics(dev: DevSet, predicted: list[list[str]]) -> dict[str, Any]:
    """Micro F1 over all dev documents (each on its own corpus's labels) and per corpus."""
    pred = [restrict_tags(p, labs) for p, labs in zip(predicted, dev.scored_labels)]
    out: dict[str, Any] = {"all": entity_metrics(dev.gold, pred)}
    for name in dict.fromkeys(dev.corpus_of_doc):
        idx = [i for i, c in enumerate(dev.corpus_of_doc) if c == name]
        out[name] = entity_metrics([dev.gold[i] for i in idx], [pred[i] for i in idx], labels=dev.scored_labels[idx[0]])
    return out


# ---------------------------------------------------------------- state

@dataclass
class TrainerState:
    global_step: int = 0
    epoch: int = 0
    batches_in_epoch: int = 0  # micro-batches of the current epoch already consumed
    total_steps: int = 0
    best_metric: float | None = None
    best_step: int | None = None
    bad_evals: int = 0
    stopped_early: bool = False
    finished: bool = False
    data_fingerprint: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)
    loss_history: list[dict[str, Any]] = field(default_factory=list)  # training loss every log_steps (learning curves)
    train_seconds: float = 0.0  # wall time of the optimizer steps, evaluations and checkpoints, over resumes

    @classmethod
    def read(cls, path: Path) -> TrainerState:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def write(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n")


def list_checkpoints(root: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints (those with a trainer state), oldest first."""
    if not root.is_dir():
        return []
    out = []
    for p in root.iterdir():
        m = _CHECKPOINT_RE.match(p.name)
        if m and p.is_dir() and (p / STATE_FILENAME).is_file():
            out.append((int(m.group(1)), p))
    return sorted(out)


def _replace_dir(tmp: Path, final: Path) -> None:
    """Move a finished folder into place (the old one, if any, goes away)."""
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    if old.exists():
        shutil.rmtree(old)


def _undo_half_replace(final: Path) -> None:
    """A crash between the two renames of :func:`_replace_dir` leaves only ``NAME.old``."""
    old = final.with_name(final.name + ".old")
    if old.exists() and not final.exists():
        os.replace(old, final)


def resolve_mixed_precision(value: str) -> str:
    if value != "auto":
        return value
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16"
    return "no"


def position_limit(model_config: Any) -> int | None:
    limit = getattr(model_config, "max_position_embeddings", None)
    if limit is None:
        return None
    return int(limit) - (2 if getattr(model_config, "model_type", "") in _OFFSET_POSITION_MODELS else 0)


# ---------------------------------------------------------------- training

StepCallback = Callable[[TrainerState], None]


def train(cfg: TrainConfig, *, resume: bool = False, callbacks: Sequence[StepCallback] = ()) -> TrainerState:
    """Train (or continue training) as ``cfg`` says; returns the final trainer state.

    ``callbacks`` are called on every process after each optimizer step (after any dev
    evaluation and checkpoint of that step) with the current state.
    """
    from accelerate import Accelerator
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
        set_seed,
    )

    accelerator = Accelerator(
        mixed_precision=resolve_mixed_precision(cfg.mixed_precision),
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
    )
    if not accelerator.is_main_process:
        log.setLevel(logging.WARNING)  # one process reports progress
    out = Path(cfg.output_dir)
    ckpt_root = out / "checkpoints"
    checkpoints = list_checkpoints(ckpt_root)
    _check_resume(cfg, out, checkpoints, resume)
    if resume and (out / LOG_FILENAME).is_file() and json.loads((out / LOG_FILENAME).read_text(encoding="utf-8")).get("finished"):
        log.info("%s: training already finished; nothing to resume", out)
        return TrainerState(**json.loads((out / LOG_FILENAME).read_text(encoding="utf-8"))["state"])

    set_seed(cfg.seed)
    label_set = get_label_set(cfg.label_set)
    tokenizer = AutoTokenizer.from_pretrained(cfg.base_model)
    if not getattr(tokenizer, "is_fast", False):
        raise TrainingError(f"{cfg.base_model}: a fast tokenizer (tokenizer.json) is required for word alignment")
    if tokenizer.pad_token_id is None:
        raise TrainingError(f"{cfg.base_model}: the tokenizer has no padding token")
    model = AutoModelForTokenClassification.from_pretrained(
        cfg.base_model,
        num_labels=len(label_set.tags),
        id2label=label_set.id2tag,
        label2id=label_set.tag2id,
        ignore_mismatched_sizes=True,  # a base that already has a head with other labels
        dtype=torch.float32,  # fp32 master weights whatever the checkpoint stores; bf16 comes from autocast
    )
    limit = position_limit(model.config)
    if limit is not None and cfg.max_length > limit:
        raise ConfigError(f"config key 'max_length': {cfg.max_length} exceeds the {limit} positions of {cfg.base_model}")
    # Inference must read windows of the length the model is trained on: on the gold dev split
    # the shipped model scored span F1 72.8 with 512-token windows against 81.0 with its training
    # windows of 128. Saved with every checkpoint, read by hasila-extract (``hasila_inference``)
    # and by a plain transformers pipeline (the tokenizer's model_max_length). Encoding below
    # never truncates, so this changes nothing in training.
    model.config.hasila_inference = {"max_length": cfg.max_length, "stride": cfg.stride}
    tokenizer.model_max_length = cfg.max_length

    train_splits = [read_split(s, label_set) for s in cfg.corpora]
    encoded = encode_splits(train_splits, label_set, tokenizer, cfg)
    data_fp = fingerprint(encoded.windows)
    dev = build_dev([read_split(s, label_set) for s in cfg.dev_corpora], label_set, tokenizer, cfg) if cfg.dev_corpora else None
    for sp in train_splits:
        log.info("train %s: %d documents", sp.name, len(sp.words))

    collate = Collator(tokenizer.pad_token_id, len(label_set.tags))
    sampler = EpochSampler(encoded.group_sizes, [c.weight for c in cfg.corpora], cfg.seed)
    for spec, n, per_epoch in zip(cfg.corpora, encoded.group_sizes, sampler.examples_per_group()):
        log.info("corpus %s:%s: %d windows, weight %g → %d per epoch", spec.name, spec.split, n, spec.weight, per_epoch)
        if per_epoch == 0:
            log.warning("corpus %s:%s contributes nothing at weight %g: raise its weight", spec.name, spec.split, spec.weight)
    train_dl = torch.utils.data.DataLoader(
        encoded.windows,
        batch_size=cfg.batch_size,
        sampler=sampler,
        collate_fn=collate,
        generator=torch.Generator().manual_seed(cfg.seed),
    )
    optimizer = torch.optim.AdamW(_param_groups(model, cfg.weight_decay), lr=cfg.learning_rate)
    if dev is not None:
        dev_dl = torch.utils.data.DataLoader(dev.windows, batch_size=cfg.eval_batch_size, shuffle=False, collate_fn=collate)
        model, optimizer, train_dl, dev_dl = accelerator.prepare(model, optimizer, train_dl, dev_dl)
    else:
        dev_dl = None
        model, optimizer, train_dl = accelerator.prepare(model, optimizer, train_dl)

    batches_per_epoch = len(train_dl)
    updates_per_epoch = math.ceil(batches_per_epoch / cfg.gradient_accumulation_steps)
    total = cfg.max_steps or math.ceil(cfg.num_epochs * updates_per_epoch)
    scheduler = get_linear_schedule_with_warmup(optimizer.optimizer, round(cfg.warmup_ratio * total), total)
    accelerator.register_for_checkpointing(scheduler)

    state = TrainerState(total_steps=total, data_fingerprint=data_fp)
    if resume and checkpoints:
        step, path = checkpoints[-1]
        accelerator.load_state(str(path))
        state = TrainerState.read(path / STATE_FILENAME)
        if state.data_fingerprint != data_fp:
            raise TrainingError(
                f"{path}: the training data changed since this checkpoint (windows fingerprint differs); "
                "resume with the same corpora, tokenizer and max_length/stride, or start a new run"
            )
        log.info("resumed from %s (step %d of %d, epoch %d, batch %d)", path, step, total, state.epoch, state.batches_in_epoch)
    elif accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        save_config(cfg, out)
    if resume and accelerator.is_main_process:
        _undo_half_replace(ckpt_root / "best")

    running, running_n = 0.0, 0
    model.train()
    stop = state.global_step >= total
    tick = time.perf_counter()
    while not stop:
        train_dl.set_epoch(state.epoch)
        loader = accelerator.skip_first_batches(train_dl, state.batches_in_epoch) if state.batches_in_epoch else train_dl
        if state.batches_in_epoch:
            loader.set_epoch(state.epoch)
        for batch in loader:
            with accelerator.accumulate(model):
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                loss = token_classification_loss(logits, batch["labels"], batch["open_tags"], cfg.missing_labels)
                accelerator.backward(loss)
                if accelerator.sync_gradients and cfg.max_grad_norm:
                    accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad()
            state.batches_in_epoch += 1
            running += float(loss.detach())
            running_n += 1
            if not accelerator.sync_gradients:
                continue
            scheduler.step()
            state.global_step += 1
            if state.batches_in_epoch >= batches_per_epoch:
                state.epoch += 1
                state.batches_in_epoch = 0
                epoch_end = True
            else:
                epoch_end = False
            last = state.global_step >= total
            if state.global_step % cfg.log_steps == 0 or last:
                mean = accelerator.reduce(torch.tensor(running / max(running_n, 1), device=accelerator.device), "mean")
                log.info("step %d/%d loss %.4f lr %.3g", state.global_step, total, float(mean), scheduler.get_last_lr()[0])
                state.loss_history.append({"step": state.global_step, "loss": round(float(mean), 5), "lr": scheduler.get_last_lr()[0]})
                running, running_n = 0.0, 0
            due = (cfg.eval_steps is not None and state.global_step % cfg.eval_steps == 0) or (cfg.eval_steps is None and epoch_end)
            if dev is not None and (due or last):
                stop = _evaluate_and_track(accelerator, model, tokenizer, dev_dl, dev, label_set, cfg, state, ckpt_root)
            if state.global_step % cfg.save_steps == 0 and not (last or stop):
                _save_checkpoint(accelerator, ckpt_root, state, cfg.keep_checkpoints)
            now = time.perf_counter()
            state.train_seconds += now - tick
            tick = now
            for cb in callbacks:
                cb(state)
            if last or stop:
                stop = True
                break

    state.finished = True
    _export(accelerator, model, tokenizer, cfg, state, ckpt_root, out, dev is not None)
    return state


def _check_resume(cfg: TrainConfig, out: Path, checkpoints: list, resume: bool) -> None:
    saved = out / CONFIG_FILENAME
    if not resume:
        if checkpoints:
            raise TrainingError(f"{out} already holds checkpoints of a run: pass --resume to continue it, or choose another output_dir")
        if (out / LOG_FILENAME).is_file():
            raise TrainingError(f"{out} already holds a trained model ({LOG_FILENAME}); choose another output_dir")
        return
    if not saved.is_file():
        if checkpoints:
            raise TrainingError(f"{out}: checkpoints but no {CONFIG_FILENAME}; cannot check the config")
        return  # nothing to resume yet: a fresh start
    before = from_dict(json.loads(saved.read_text(encoding="utf-8")), str(saved))
    changed = diff_configs(before, cfg, ignore=RESUMABLE_CHANGES)
    if changed:
        raise TrainingError(f"--resume with a different config than {saved}: {', '.join(changed)} changed")


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """No weight decay on biases and normalization weights (the usual BERT recipe)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "LayerNorm" in name or "layer_norm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@torch.no_grad()
def predict_dev(accelerator: Any, model: Any, dev_dl: Any, dev: DevSet, id2tag: dict[int, str]) -> list[list[str]]:
    """Word tags for every dev document, gathered from all processes."""
    was_training = model.training
    model.eval()
    docs, index, preds = [], [], []
    for batch in dev_dl:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        pred = accelerator.pad_across_processes(logits.argmax(-1), dim=1, pad_index=0)
        wi = accelerator.pad_across_processes(batch["word_index"], dim=1, pad_index=IGNORE)
        d, wi, pred = accelerator.gather_for_metrics((batch["doc"], wi, pred))
        docs.append(d.cpu())
        index.append(wi.cpu())
        preds.append(pred.cpu())
    if was_training:
        model.train()
    tags = [["O"] * n for n in dev.n_words]
    for d, wi, p in zip(docs, index, preds):
        fill_word_tags(tags, d, wi, p, id2tag)
    return tags


def _evaluate_and_track(accelerator, model, tokenizer, dev_dl, dev, label_set, cfg, state, ckpt_root) -> bool:
    """Evaluate on dev, keep the best model, update early stopping; True when it says stop."""
    predicted = predict_dev(accelerator, model, dev_dl, dev, label_set.id2tag)
    metrics = dev_metrics(dev, predicted)
    f1 = metrics["all"]["micro"]["f1"]
    improved = state.best_metric is None or f1 > state.best_metric + cfg.early_stopping_min_delta
    entry = {"step": state.global_step, "epoch": state.epoch, "dev_micro_f1": f1,
             "per_corpus": {k: v["micro"]["f1"] for k, v in metrics.items() if k != "all"}}
    state.history.append(entry)
    log.info("dev step %d: micro F1 %.4f%s", state.global_step, f1, " (best)" if improved else "")
    if improved:
        state.best_metric, state.best_step, state.bad_evals = f1, state.global_step, 0
        _save_model(accelerator, model, tokenizer, ckpt_root / "best", cfg, {"step": state.global_step, "dev": metrics})
        return False
    state.bad_evals += 1
    if cfg.early_stopping_patience is not None and state.bad_evals >= cfg.early_stopping_patience:
        log.info("early stopping: no dev improvement in %d evaluations (best %.4f at step %s)", state.bad_evals, state.best_metric, state.best_step)
        state.stopped_early = True
        return True
    return False


def _device_name(device: Any) -> str:
    """«cpu (16 threads)» or the GPU's name: what the training time in the log was measured on."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"{device} ({torch.get_num_threads()} threads)"


def _save_model(accelerator, model, tokenizer, target: Path, cfg: TrainConfig, metrics: dict[str, Any] | None) -> None:
    """``save_pretrained`` model + tokenizer + config into ``target``, atomically."""
    accelerator.wait_for_everyone()
    state_dict = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        tmp = target.with_name(target.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        accelerator.unwrap_model(model).save_pretrained(tmp, state_dict=state_dict, max_shard_size=cfg.max_shard_size)
        tokenizer.save_pretrained(tmp)
        save_config(cfg, tmp)
        if metrics is not None:
            atomic_write_text(tmp / "dev_metrics.json", json.dumps(metrics, ensure_ascii=False, indent=1) + "\n")
        _replace_dir(tmp, target)
    accelerator.wait_for_everyone()


def _save_checkpoint(accelerator, ckpt_root: Path, state: TrainerState, keep: int) -> None:
    final = ckpt_root / f"checkpoint-{state.global_step:07d}"
    tmp = final.with_name(final.name + ".tmp")
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()  # every process has written its RNG state before the rename
    if accelerator.is_main_process:
        state.write(tmp / STATE_FILENAME)  # last file written: marks the checkpoint complete
        _replace_dir(tmp, final)
        for _, old in list_checkpoints(ckpt_root)[:-keep]:
            shutil.rmtree(old)
        log.info("checkpoint %s", final)
    accelerator.wait_for_everyone()


_WEIGHT_FILE_RE = re.compile(r"^(model|pytorch_model)(-\d+-of-\d+)?\.(safetensors|bin)(\.index\.json)?$")


def _export(accelerator, model, tokenizer, cfg: TrainConfig, state: TrainerState, ckpt_root: Path, out: Path, has_dev: bool) -> None:
    """Put the final model (best on dev, else last) into ``out`` with config and log."""
    staging = out / ".export"
    if has_dev:
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            if staging.exists():
                shutil.rmtree(staging)
            shutil.copytree(ckpt_root / "best", staging)
    else:
        _save_model(accelerator, model, tokenizer, staging, cfg, None)
    if accelerator.is_main_process:
        for p in out.iterdir():
            if p.is_file() and _WEIGHT_FILE_RE.match(p.name):
                p.unlink()  # stale shards of an earlier export
        for p in sorted(staging.iterdir()):
            os.replace(p, out / p.name)
        staging.rmdir()
        save_config(cfg, out)
        log_data = {
            "finished": True,
            "base_model": cfg.base_model,
            "label_set": cfg.label_set,
            "total_steps": state.global_step,
            "best_step": state.best_step,
            "best_dev_micro_f1": state.best_metric,
            "stopped_early": state.stopped_early,
            "model_is": "best on dev" if has_dev else "last step",
            "train_seconds": round(state.train_seconds, 1),
            "device": _device_name(accelerator.device),
            "mixed_precision": accelerator.mixed_precision,
            "processes": accelerator.num_processes,
            "state": asdict(state),
        }
        atomic_write_text(out / LOG_FILENAME, json.dumps(log_data, ensure_ascii=False, indent=1) + "\n")
        log.info("model saved to %s (%s, %d steps)", out, log_data["model_is"], state.global_step)
    accelerator.wait_for_everyone()


# ---------------------------------------------------------------- prediction (one process)

@torch.no_grad()
def predict_words(
    model: Any, tokenizer: Any, words: Sequence[Sequence[str]], *, max_length: int, stride: int, batch_size: int = 32
) -> list[list[str]]:
    """Word tags for pre-split documents with a loaded model (same windows as dev evaluation)."""
    id2tag = {int(k): v for k, v in model.config.id2label.items()}
    windows = encode_documents(words, tokenizer, max_length, stride)
    collate = Collator(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0, len(id2tag))
    tags = [["O"] * len(w) for w in words]
    device = next(model.parameters()).device
    model.eval()
    order = sorted(range(len(windows)), key=lambda i: len(windows[i]["input_ids"]))
    for s in range(0, len(order), batch_size):
        batch = collate([windows[i] for i in order[s : s + batch_size]])
        logits = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device)).logits
        fill_word_tags(tags, batch["doc"], batch["word_index"], logits.argmax(-1).cpu(), id2tag)
    return tags

