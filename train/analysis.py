"""What a model gets wrong on the gold store: the details behind ``hasila-evaluate``'s numbers.

:func:`evaluate_gold` scores a model on a gold split (or a slice of it) the way
``hasila-evaluate`` does (the same sliding windows and seqeval scoring for entities, the
extraction pipeline and the same incident matching for incidents) and also keeps what the
metrics JSON leaves out: every document's word tags, gold and predicted, and its gold and
predicted incidents. The evaluation notebook (``notebooks/evaluation.ipynb``) and the
shipped-model test are built on it; the plotting stays in the notebook, so nothing here needs
matplotlib.

- :func:`word_confusion`: word-level confusion counts over labels (B-/I- merged, O included).
- :func:`incident_errors`: missed incidents, spurious incidents and wrong killed / wounded
  figures, each with its document id, figures and evidence text (texts come from the corpus
  at run time; nothing here stores them).
- :func:`learning_curves`: training loss and dev F1 per step from a model's ``training_log.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hasila.infer.labels import LABELS
from hasila.infer.types import Count, Incident
from hasila.train.evaluate import (
    IncidentDoc,
    analyst_metrics,
    incident_metrics,
    incidents_from_record,
    pair_incidents,
    spans_overlap,
)

FIGURE_KINDS = ("killed", "wounded")
ERROR_KINDS = ("missed", "spurious", "wrong figure")


@dataclass
class GoldEvaluation:
    """Scores of a model on gold documents, with the per-document material behind them."""

    data: str  # e.g. "gold-dev"
    doc_ids: list[str]
    words: list[list[str]]
    gold_tags: list[list[str]]
    predicted_tags: list[list[str]]
    entities: dict[str, Any]  # {"default": entity_metrics, "strict": entity_metrics}
    incidents: dict[str, Any]  # incident_metrics
    incident_docs: list[IncidentDoc]


def resolve_model_dir(name: str | Path) -> Path:
    """A model folder named absolute, relative to the working directory, or relative to the
    repository (so ``models/hasila-ner`` works from ``notebooks/`` too)."""
    from hasila.train.settings import REPO_ROOT

    path = Path(name)
    if path.is_absolute() or path.exists():
        return path
    return REPO_ROOT / path


def select_documents(docs: Sequence[Any], doc_ids: Sequence[str] | None = None, limit: int | None = None) -> list[Any]:
    """``doc_ids`` in the order given (each must be among ``docs``), or the first ``limit``
    documents, or all of them."""
    if doc_ids is not None and limit is not None:
        raise ValueError("give doc_ids or limit, not both")
    if doc_ids is not None:
        by_id = {d.doc_id: d for d in docs}
        missing = [i for i in doc_ids if i not in by_id]
        if missing:
            raise ValueError(f"{len(missing)} document id(s) not in this gold split: {missing[:5]}")
        if len(set(doc_ids)) != len(doc_ids):
            raise ValueError("a document id is listed twice")
        return [by_id[i] for i in doc_ids]
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        return list(docs[:limit])
    return list(docs)


def evaluate_gold(
    model_dir: str | Path,
    data: str = "gold-dev",
    *,
    doc_ids: Sequence[str] | None = None,
    limit: int | None = None,
    device: str = "cpu",
    batch_size: int = 16,
) -> GoldEvaluation:
    """Score a Hasila model on the gold split ``data`` (``gold-dev`` / ``gold-test`` /
    ``gold-train``), restricted to ``doc_ids`` or to the first ``limit`` documents."""
    from hasila.infer.model import TokenClassifier
    from hasila.train.evaluate_cli import (
        EvaluationError,
        _model_settings,
        resolve_data,
        run_pipeline,
        runtime_predict,
        score_entities,
        scored_doc,
    )
    from hasila.train.features import label_set_of_model
    from hasila.train.gold import documents_to_rows, gold_documents

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise EvaluationError(f"model folder not found: {model_dir}")
    spec = resolve_data(data)
    if spec.name != "gold":
        raise EvaluationError(f"{data}: only the gold splits (gold-dev, gold-test, gold-train) have incidents to analyse")
    docs = select_documents(gold_documents(spec.split), doc_ids, limit)
    if not docs:
        raise EvaluationError(f"{data}: no gold document to evaluate")
    # fp32 whatever the checkpoint stores (the shipped model is fp16; the CPU has no fast fp16).
    classifier = TokenClassifier.load(model_dir, device=device, dtype="float32")
    model, tokenizer = classifier.model, classifier.tokenizer
    label_set = label_set_of_model(model.config.id2label)
    if label_set.name != "hasila":
        raise EvaluationError(f"{model_dir}: labels {label_set.labels} are not Hasila's ({', '.join(LABELS)})")
    max_length, stride, _ = _model_settings(model_dir, model.config, None, None)
    rows = documents_to_rows(docs)
    words = [r["words"] for r in rows]
    gold_tags = [r["tags"] for r in rows]
    scored = [[lab for lab in label_set.labels if lab in r["annotated_labels"]] for r in rows]
    predicted = runtime_predict(model, tokenizer, words, max_length=max_length, stride=stride, batch_size=batch_size)
    records = run_pipeline(model_dir, docs)
    incident_docs = [
        IncidentDoc(d.doc_id, d.incidents, incidents_from_record(records[d.doc_id]), hard_negative=d.kind == "hard_negative")
        for d in docs
    ]
    return GoldEvaluation(
        data=data,
        doc_ids=[d.doc_id for d in docs],
        words=words,
        gold_tags=gold_tags,
        predicted_tags=predicted,
        entities=score_entities(words, gold_tags, predicted, scored),
        incidents={**incident_metrics(incident_docs),
                   "analyst": analyst_metrics([scored_doc(d, records[d.doc_id]) for d in docs])},
        incident_docs=incident_docs,
    )


# ---------------------------------------------------------------- word-level confusion

def word_label(tag: str) -> str:
    """``B-LOC`` / ``I-LOC`` → ``LOC``; ``O`` stays ``O``."""
    return tag if tag == "O" else tag[2:]


def word_confusion(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str] = LABELS
) -> tuple[list[str], list[list[int]]]:
    """(row/column names, counts[gold][predicted]) over words; names are ``labels`` then O."""
    names = [*labels, "O"]
    index = {n: i for i, n in enumerate(names)}
    counts = [[0] * len(names) for _ in names]
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sequences but {len(predicted)} predicted")
    for n, (g, p) in enumerate(zip(gold, predicted)):
        if len(g) != len(p):
            raise ValueError(f"sequence {n}: {len(g)} gold tags but {len(p)} predicted")
        for a, b in zip(g, p):
            la, lb = word_label(a), word_label(b)
            for lab in (la, lb):
                if lab not in index:
                    raise ValueError(f"sequence {n}: tag of label {lab!r} outside {', '.join(names)}")
            counts[index[la]][index[lb]] += 1
    return names, counts


# ---------------------------------------------------------------- incident errors

@dataclass(frozen=True)
class IncidentError:
    """One incident-level mistake, for reading."""

    doc_id: str
    kind: str  # one of ERROR_KINDS
    gold: str  # the gold figures ("" for a spurious incident)
    predicted: str  # the predicted figures ("" for a missed incident)
    evidence: str  # the evidence text (gold's for missed, predicted's otherwise)
    hard_negative: bool = False


def figure_text(count: Count | None) -> str:
    """``7 «سبعة»``, ``10-20 approximate «بين 10 و20»``, or ``-`` for no figure."""
    if count is None:
        return "-"
    q = count.quantity
    number = str(q.value) if q.value is not None else f"{q.low}-{q.high}"
    qualifier = "" if q.qualifier == "exact" else f" {q.qualifier}"
    return f"{number}{qualifier} «{count.span.text}»"


def figures_text(incident: Incident) -> str:
    return f"killed {figure_text(incident.killed)}, wounded {figure_text(incident.wounded)}"


def same_figure(a: Count | None, b: Count | None) -> bool:
    """Both absent, or the same value with overlapping spans (the figure metric's rule)."""
    if a is None or b is None:
        return a is None and b is None
    return a.value == b.value and spans_overlap(a.span, b.span)


def incident_errors(docs: Sequence[IncidentDoc]) -> list[IncidentError]:
    """Missed gold incidents, spurious predicted ones, and corresponding pairs whose killed
    or wounded figure differs, paired as :func:`hasila.train.evaluate.incident_metrics` does."""
    out: list[IncidentError] = []
    for doc in docs:
        pairs = pair_incidents(doc.gold, doc.pred)
        paired_pred = {i for i, _ in pairs}
        paired_gold = {j for _, j in pairs}
        for j, g in enumerate(doc.gold):
            if j not in paired_gold:
                out.append(IncidentError(doc.doc_id, "missed", figures_text(g), "", g.evidence.text, doc.hard_negative))
        for i, p in enumerate(doc.pred):
            if i not in paired_pred:
                out.append(IncidentError(doc.doc_id, "spurious", "", figures_text(p), p.evidence.text, doc.hard_negative))
        for i, j in pairs:
            p, g = doc.pred[i], doc.gold[j]
            if not all(same_figure(getattr(p, k), getattr(g, k)) for k in FIGURE_KINDS):
                out.append(IncidentError(doc.doc_id, "wrong figure", figures_text(g), figures_text(p), p.evidence.text, doc.hard_negative))
    return out


# ---------------------------------------------------------------- learning curves

@dataclass(frozen=True)
class LearningCurves:
    loss: list[tuple[int, float]]  # (optimizer step, mean training loss since the last log)
    dev_f1: list[tuple[int, float]]  # (optimizer step, dev micro F1)
    best_step: int | None


def read_training_log(model_dir: str | Path) -> dict[str, Any] | None:
    """A model folder's ``training_log.json``, or None when it has none."""
    from hasila.train.trainer import LOG_FILENAME

    path = Path(model_dir) / LOG_FILENAME
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON ({err})") from None


def learning_curves(log: dict[str, Any]) -> LearningCurves:
    """Loss and dev F1 per step from a ``training_log.json``: ``state.history`` (the trainer's
    dev evaluations) and ``state.loss_history`` (``{"step", "loss"}`` entries, one per logged
    step); a curve the log does not record is empty."""
    state = log.get("state")
    if not isinstance(state, dict):
        raise ValueError("training log has no 'state' object")
    try:
        loss = [(int(e["step"]), float(e["loss"])) for e in state.get("loss_history", [])]
        dev = [(int(e["step"]), float(e["dev_micro_f1"])) for e in state.get("history", [])]
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"training log: malformed history entry ({err!r})") from None
    return LearningCurves(loss, dev, log.get("best_step"))
