"""notebooks/evaluation.ipynb: committed without outputs, and it runs end to end.

The run uses a tiny model (tests/tiny_model.py) given a training config and a training log,
on the first few gold-dev documents (texts from SaudiNewsNet), in a real Jupyter kernel.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import require_corpus
from tiny_model import build_tiny_model

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "evaluation.ipynb"
LIMIT = 4  # gold-dev documents scored in the run


def read_notebook():
    import nbformat

    return nbformat.read(NOTEBOOK, as_version=4)


def test_committed_notebook_has_no_outputs():
    """Outputs would carry corpus text (evidence, figures) into git."""
    nb = read_notebook()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cells"
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"cells {dirty} of {NOTEBOOK} have outputs: clear all outputs before saving"


def test_parameter_cell_reads_the_environment():
    source = read_notebook().cells[1].source
    assert 'MODEL = os.environ.get("HASILA_NOTEBOOK_MODEL", "models/hasila-ner")' in source
    assert 'SPLIT = "gold-dev"' in source
    assert "HASILA_NOTEBOOK_LIMIT" in source


def tiny_trained_model(path: Path) -> Path:
    """A tiny model with what training leaves beside it: its config and training log."""
    from hasila.train.config import TrainConfig, save_config

    build_tiny_model(path, train_steps=150)
    # max_length = the tiny model's 64 positions; a short stride so windows fit
    save_config(TrainConfig(base_model=str(path), output_dir=str(path), corpora=["gold"], max_length=64, stride=16), path)
    history = [{"step": s, "epoch": 0, "dev_micro_f1": f, "per_corpus": {"gold:validation": f}} for s, f in ((5, 0.2), (10, 0.35), (15, 0.3))]
    losses = [{"step": s, "loss": 2.0 / s, "lr": 1e-4} for s in range(1, 16)]
    log = {"finished": True, "best_step": 10, "best_dev_micro_f1": 0.35, "model_is": "best on dev",
           "state": {"global_step": 15, "history": history, "loss_history": losses}}
    (path / "training_log.json").write_text(json.dumps(log), encoding="utf-8")
    return path


@pytest.mark.corpus
@pytest.mark.slow
def test_notebook_runs_and_draws_its_figures(tmp_path, monkeypatch):
    require_corpus("saudinewsnet")
    from nbclient import NotebookClient

    model = tiny_trained_model(tmp_path / "model")
    monkeypatch.setenv("HASILA_NOTEBOOK_MODEL", str(model))
    monkeypatch.setenv("HASILA_NOTEBOOK_LIMIT", str(LIMIT))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = read_notebook()
    # Run from notebooks/ as a user would; a failing cell raises CellExecutionError.
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(images) == 3, f"expected per-label F1, confusion matrix and learning curves, got {len(images)} figures"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"on gold-dev: {LIMIT} documents" in text
    assert "micro F1" in text
    # the incident cell reports its counts and shows a table or says there is nothing to show
    assert "missed" in text and "spurious" in text and "wrong figure" in text
    tables = [o for o in outputs if "text/html" in o.get("data", {})]
    assert tables or "no incident errors" in text
