"""Training configuration: one dataclass, read from a JSON file, overridden from the command line.

A run is fully described by its :class:`TrainConfig`; the resolved config is written next to
the model (``hasila_train_config.json``) so that every model says how it was made, and
``--resume`` refuses to continue a run under a different config.

Overrides use dotted keys and JSON values, e.g. ``--set learning_rate=1e-4``,
``--set corpora='[{"name": "anercorp", "weight": 2}]'``, ``--set corpora.0.weight=0.5``;
a value that is not valid JSON is taken as a string (``--set base_model=some/model``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hasila.infer.types import HasilaError

LABEL_SETS = ("hasila", "anercorp4")
MISSING_LABEL_MODES = ("marginal", "as_o")
MIXED_PRECISION = ("auto", "no", "bf16", "fp16")
CONFIG_FILENAME = "hasila_train_config.json"


class ConfigError(HasilaError, ValueError):
    """A config value that cannot be used; the message names the key."""


@dataclass
class CorpusSpec:
    """One corpus split in the training (or dev) mix.

    ``name`` is a corpus known to :func:`hasila.train.corpora.load_corpus` (``"anercorp"``, ...),
    ``"gold"`` for the project's own annotations, or the path of a ``DatasetDict`` saved with
    ``save_to_disk``. ``weight`` scales how many of its examples one epoch draws: 2.0 repeats
    the corpus twice per epoch, 0.5 draws a fresh random half every epoch.
    """

    name: str
    split: str = "train"
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("corpus spec: 'name' is empty")
        if not (isinstance(self.weight, (int, float)) and self.weight > 0):
            raise ConfigError(f"corpus {self.name!r}: weight must be a positive number, got {self.weight!r}")


@dataclass
class TrainConfig:
    base_model: str
    output_dir: str
    corpora: list[CorpusSpec]
    dev_corpora: list[CorpusSpec] = field(default_factory=list)
    label_set: str = "hasila"
    missing_labels: str = "marginal"
    max_length: int = 256
    stride: int = 64
    learning_rate: float = 5e-5
    num_epochs: float = 3.0
    max_steps: int | None = None
    batch_size: int = 16
    eval_batch_size: int = 32
    gradient_accumulation_steps: int = 1
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    seed: int = 42
    mixed_precision: str = "auto"
    save_steps: int = 500
    keep_checkpoints: int = 2
    eval_steps: int | None = None  # None: evaluate on dev at the end of every epoch
    early_stopping_patience: int | None = 3  # evaluations without improvement; None: never stop early
    early_stopping_min_delta: float = 0.0
    max_shard_size: str = "50MB"
    log_steps: int = 10
    # Corpora the base encoder itself was (further) trained on, e.g. ["saudinewsnet"] after
    # domain-adaptive masked-LM training; the model card derives the model's license from it.
    base_model_data: list[str] = field(default_factory=list)
    # The Hugging Face id the base encoder was made from, for the model card's `base_model` when
    # base_model is a local folder (e.g. "intfloat/multilingual-e5-small" for `hasila-train base`).
    base_model_origin: str | None = None

    def __post_init__(self) -> None:
        self.corpora = [_corpus_spec(c, f"corpora[{i}]") for i, c in enumerate(self.corpora)]
        self.dev_corpora = [_corpus_spec(c, f"dev_corpora[{i}]", default_split="validation") for i, c in enumerate(self.dev_corpora)]
        validate(self)


def _corpus_spec(value: Any, where: str, default_split: str = "train") -> CorpusSpec:
    if isinstance(value, CorpusSpec):
        return value
    if isinstance(value, str):
        return CorpusSpec(name=value, split=default_split)
    if isinstance(value, dict):
        unknown = set(value) - {f.name for f in dataclasses.fields(CorpusSpec)}
        if unknown:
            raise ConfigError(f"{where}: unknown keys {sorted(unknown)}; known: name, split, weight")
        if "name" not in value:
            raise ConfigError(f"{where}: 'name' is missing")
        return CorpusSpec(**{"split": default_split, **value})
    raise ConfigError(f"{where}: expected a corpus name or an object, got {value!r}")


def validate(cfg: TrainConfig) -> None:
    def need(cond: bool, key: str, msg: str) -> None:
        if not cond:
            raise ConfigError(f"config key {key!r}: {msg} (got {getattr(cfg, key)!r})")

    need(bool(cfg.base_model), "base_model", "a Hugging Face model id or local path is required")
    need(bool(cfg.output_dir), "output_dir", "required")
    need(len(cfg.corpora) > 0, "corpora", "at least one training corpus is required")
    need(cfg.label_set in LABEL_SETS, "label_set", f"one of {LABEL_SETS}")
    need(cfg.missing_labels in MISSING_LABEL_MODES, "missing_labels", f"one of {MISSING_LABEL_MODES}")
    need(cfg.mixed_precision in MIXED_PRECISION, "mixed_precision", f"one of {MIXED_PRECISION}")
    need(isinstance(cfg.max_length, int) and cfg.max_length >= 8, "max_length", "an integer >= 8")
    need(isinstance(cfg.stride, int) and 0 <= cfg.stride < cfg.max_length // 2, "stride", "an integer in [0, max_length/2)")
    need(cfg.learning_rate > 0, "learning_rate", "positive")
    need(cfg.max_steps is None or (isinstance(cfg.max_steps, int) and cfg.max_steps > 0), "max_steps", "a positive integer or null")
    need(cfg.num_epochs > 0, "num_epochs", "positive")
    for key in ("batch_size", "eval_batch_size", "gradient_accumulation_steps", "save_steps", "keep_checkpoints", "log_steps"):
        need(isinstance(getattr(cfg, key), int) and getattr(cfg, key) > 0, key, "a positive integer")
    need(0 <= cfg.warmup_ratio < 1, "warmup_ratio", "in [0, 1)")
    need(cfg.weight_decay >= 0, "weight_decay", ">= 0")
    need(cfg.eval_steps is None or (isinstance(cfg.eval_steps, int) and cfg.eval_steps > 0), "eval_steps", "a positive integer or null")
    need(
        cfg.early_stopping_patience is None or (isinstance(cfg.early_stopping_patience, int) and cfg.early_stopping_patience > 0),
        "early_stopping_patience",
        "a positive integer or null",
    )


def to_dict(cfg: TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def from_dict(data: dict[str, Any], where: str = "config") -> TrainConfig:
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; known: {sorted(known)}")
    missing = sorted(k for k in ("base_model", "output_dir", "corpora") if k not in data)
    if missing:
        raise ConfigError(f"{where}: missing required keys {missing}")
    try:
        return TrainConfig(**data)
    except TypeError as err:
        raise ConfigError(f"{where}: {err}") from err


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"a.b=1e-4"`` → (["a", "b"], 0.0001). Values are JSON, else plain strings."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {item!r}: expected key=value")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with dotted-key overrides applied (list items by index)."""
    out = json.loads(json.dumps(data))
    for item in overrides:
        path, value = parse_override(item)
        node: Any = out
        for part in path[:-1]:
            node = _child(node, part, item)
        last = path[-1]
        if isinstance(node, list):
            node[_index(node, last, item)] = value
        else:
            node[last] = value
    return out


def _index(node: list, part: str, item: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(f"override {item!r}: {part!r} is not an index of a list of {len(node)}")
    return int(part)


def _child(node: Any, part: str, item: str) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, item)]
    if isinstance(node, dict):
        return node.setdefault(part, {})
    raise ConfigError(f"override {item!r}: cannot descend into {node!r} at {part!r}")


def load_config(path: str | Path | None, overrides: list[str] = ()) -> TrainConfig:
    """Read a JSON config (or start from nothing when ``path`` is None) and apply overrides."""
    data: dict[str, Any] = {}
    where = "overrides"
    if path is not None:
        where = str(path)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise ConfigError(f"config file not found: {path}") from err
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path}: not valid JSON: {err}") from err
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the top level must be an object")
        data.pop("_comment", None)
    return from_dict(apply_overrides(data, list(overrides)), where)


def atomic_write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_config(cfg: TrainConfig, directory: str | Path) -> Path:
    path = Path(directory) / CONFIG_FILENAME
    atomic_write_text(path, json.dumps(to_dict(cfg), ensure_ascii=False, indent=2) + "\n")
    return path


def diff_configs(a: TrainConfig, b: TrainConfig, ignore: tuple[str, ...] = ()) -> list[str]:
    """Keys whose values differ between two configs."""
    da, db = to_dict(a), to_dict(b)
    return sorted(k for k in da if k not in ignore and da[k] != db.get(k))
