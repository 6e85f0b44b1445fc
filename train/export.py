"""Package a trained model for shipping: fp16 safetensors (the repository's size budget is
40 MiB), the tokenizer, and the training record the model card is generated from.

    hasila-train export --model runs/hasila-ner-cpu --out models/hasila-ner

The tokenizer config is written so that transformers 4.x loads it too
(:func:`hasila.train.hf_compat.fix_tokenizer_config`).

Nothing is half-written: the package is assembled in a temporary folder beside ``--out`` and
swapped in with one rename.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hasila.infer.types import HasilaError
from hasila.train.hf_compat import fix_tokenizer_config

# What travels with the weights (written by the trainer / hasila-evaluate).
RECORD_FILES = ("hasila_train_config.json", "training_log.json", "dev_metrics.json", "metrics.json")
SIZE_BUDGET = 40 * 1024 * 1024


def folder_size(path: Path) -> int:
    """Bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def export_model(model_dir: Path, out: Path, dtype: str = "float16") -> Path:
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    if not (model_dir / "config.json").is_file():
        raise HasilaError(f"{model_dir}: no config.json — not a trained model folder")
    torch_dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[dtype]
    model = AutoModelForTokenClassification.from_pretrained(str(model_dir), dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a model folder is meant to be shared
    try:
        model.to(torch_dtype).save_pretrained(tmp, safe_serialization=True, max_shard_size="2GB")
        tokenizer.save_pretrained(tmp)
        fix_tokenizer_config(tmp)  # transformers 5 names a class that 4.x lacks (hasila.train.hf_compat)
        for name in RECORD_FILES:
            if (model_dir / name).is_file():
                shutil.copy2(model_dir / name, tmp / name)
        size = folder_size(tmp)
        if size > SIZE_BUDGET:
            raise HasilaError(f"exported model is {size / 2**20:.1f} MiB, over the {SIZE_BUDGET / 2**20:.0f} MiB budget")
        old = out.with_name(f".{out.name}.old")
        if out.exists():
            if old.exists():
                shutil.rmtree(old)
            out.rename(old)
        tmp.rename(out)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
