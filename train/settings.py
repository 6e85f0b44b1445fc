"""Where training-side inputs live. Inference never reads any of these."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The corpora folder: ``$HASILA_DATA``, else ``../shared/data`` beside the checkout."""
    env = os.environ.get("HASILA_DATA")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data")


def annotations_dir() -> Path:
    """The stand-off annotation store: ``$HASILA_ANNOTATIONS``, else ``annotations/`` in the repo."""
    env = os.environ.get("HASILA_ANNOTATIONS")
    return Path(env) if env else (REPO_ROOT / "annotations")
