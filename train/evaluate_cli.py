"""``hasila-evaluate``: score a trained model on named data sets and write a metrics JSON.

    hasila-evaluate --model DIR --data anercorp-camel-test --data gold-test --out metrics.json
    hasila-evaluate --model DIR --data gold-test --predictions extracted.jsonl --out metrics.json --card

Data names: ``anercorp-camel-test`` (the official CAMeL Lab test split of ANERcorp),
``gold-dev`` / ``gold-test`` / ``gold-train`` (the project's annotations), ``CORPUS:SPLIT``
for any corpus of :func:`hasila.train.corpora.load_corpus` (``newsfane:test``,
``wojood:test``), or ``PATH:SPLIT`` for a DatasetDict saved with ``save_to_disk``.

Entity scores (both seqeval modes, per label) use the same sliding windows as training's dev
evaluation; every document is scored only on the labels its corpus annotates that the model
predicts (``--labels`` narrows further). Which labels those are is written into the JSON.

- A Hasila model on ``anercorp-camel-test`` is scored on PER / ORG / LOC (ANERcorp has no
  DATE or counts, and its MISC is not a Hasila label): a 3-class figure.
- The 4-class figure (PERS / LOC / ORG / MISC, comparable with published ANERcorp results) is
  obtained from a separate model trained with ``label_set: "anercorp4"`` on ANERcorp's own tags
  (``hasila-train run --config train/configs/benchmark-4class.json``); evaluating that model on
  ``anercorp-camel-test`` reads the corpus's original tags.

Incident scores (``gold-*`` only, Hasila label set): the model is run through the extraction
pipeline (:mod:`hasila.infer.pipeline`) on each gold text, or ``--predictions`` gives
``hasila-extract`` output (JSONL records, matched by ``doc_id``); see
:mod:`hasila.train.evaluate` for the matching rules.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hasila.infer.types import HasilaError
from hasila.train.config import CONFIG_FILENAME, CorpusSpec, atomic_write_text
from hasila.train.evaluate import (
    IncidentDoc,
    entity_metrics,
    incident_metrics,
    incidents_from_record,
    restrict_tags,
)

METRICS_VERSION = 1
NAMED_DATA: dict[str, tuple[str, str]] = {
    "anercorp-camel-test": ("anercorp", "test"),
    "gold-train": ("gold", "train"),
    "gold-dev": ("gold", "validation"),
    "gold-test": ("gold", "test"),
    # the 2015 dev split, frozen for before/after figures (SaudiNewsNet only, before the v2 splits)
    "gold-dev-2015": ("gold2015", "validation"),
}


class EvaluationError(HasilaError):
    """Evaluation cannot run as asked; the message says what is wrong."""


def resolve_data(name: str) -> CorpusSpec:
    if name in NAMED_DATA:
        corpus, split = NAMED_DATA[name]
        return CorpusSpec(corpus, split)
    corpus, sep, split = name.rpartition(":")
    if not sep or not corpus or not split:
        raise EvaluationError(f"unknown data {name!r}: use one of {', '.join(NAMED_DATA)}, CORPUS:SPLIT or PATH:SPLIT")
    return CorpusSpec(corpus, split)


def _model_settings(model_dir: Path, model_config: Any, max_length: int | None, stride: int | None) -> tuple[int, int, dict | None]:
    from hasila.train.trainer import position_limit

    train_cfg = None
    path = model_dir / CONFIG_FILENAME
    if path.is_file():
        train_cfg = json.loads(path.read_text(encoding="utf-8"))
    limit = position_limit(model_config) or 512
    ml = max_length or (train_cfg or {}).get("max_length") or min(limit, 512)
    st = stride if stride is not None else (train_cfg or {}).get("stride", 64)
    if ml > limit:
        raise EvaluationError(f"--max-length {ml} exceeds the model's {limit} positions")
    return int(ml), int(st), train_cfg


def score_entities(
    words: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    scored_labels: Sequence[Sequence[str]],
) -> dict[str, Any]:
    """Both seqeval modes; each document restricted to its own scored labels."""
    g = [restrict_tags(t, labs) for t, labs in zip(gold, scored_labels)]
    p = [restrict_tags(t, labs) for t, labs in zip(predicted, scored_labels)]
    labels = sorted({lab for labs in scored_labels for lab in labs})
    return {mode: entity_metrics(g, p, labels=labels, mode=mode) for mode in ("default", "strict")}


def runtime_predict(model: Any, tokenizer: Any, words: Sequence[Sequence[str]], *, max_length: int, stride: int,
                    batch_size: int) -> list[list[str]]:
    """Word tags through the runtime's own path (hasila.infer.model.TokenClassifier: its
    windows, the most central window per word), so that entity figures are those of what ships."""
    from hasila.infer.model import ModelInfo, TokenClassifier, check_bio_labels

    classifier = TokenClassifier(
        model, tokenizer, device=str(next(model.parameters()).device), max_length=max_length, stride=stride,
        batch_size=batch_size,
        info=ModelInfo(name="evaluated", sha256=None, labels=check_bio_labels({int(k): v for k, v in model.config.id2label.items()})),
    )
    return [[tag for tag, _ in doc] for doc in classifier.predict(words)]


def evaluate_dataset(
    name: str,
    model: Any,
    tokenizer: Any,
    *,
    max_length: int,
    stride: int,
    batch_size: int,
    only_labels: Sequence[str] | None = None,
    predictions: dict[str, dict[str, Any]] | None = None,
    model_dir: Path | None = None,
) -> dict[str, Any]:
    from hasila.train.features import label_set_of_model
    from hasila.train.trainer import read_split

    spec = resolve_data(name)
    label_set = label_set_of_model(model.config.id2label)
    split = read_split(spec, label_set)
    keep = set(label_set.labels) & set(only_labels) if only_labels else set(label_set.labels)
    scored = [[lab for lab in a if lab in keep] for a in split.annotated]
    if not any(scored):
        raise EvaluationError(f"{name}: the model's labels {label_set.labels} and what the data annotates do not overlap")
    predicted = runtime_predict(model, tokenizer, split.words, max_length=max_length, stride=stride, batch_size=batch_size)
    result: dict[str, Any] = {
        "corpus": spec.name,
        "split": spec.split,
        "documents": len(split.words),
        "words": sum(len(w) for w in split.words),
        "labels_scored": sorted({lab for s in scored for lab in s}),
        "tag_column": label_set.column,
        "entities": score_entities(split.words, split.tags, predicted, scored),
    }
    if spec.name in ("gold", "gold2015") and label_set.name == "hasila":
        result["incidents"], result["incident_predictions"] = _incident_scores(
            spec.split, predictions, model_dir, frozen="dev_2015" if spec.name == "gold2015" else None)
    return result


def _incident_scores(split: str, predictions: dict[str, dict[str, Any]] | None, model_dir: Path | None,
                     frozen: str | None = None) -> tuple[dict[str, Any], str]:
    from hasila.train.gold import gold_documents

    docs = gold_documents(split, frozen=frozen)
    if predictions is not None:
        missing = [d.doc_id for d in docs if d.doc_id not in predictions]
        if missing:
            raise EvaluationError(f"--predictions has no record for {len(missing)} gold document(s), e.g. {missing[:3]}")
        records = {d.doc_id: predictions[d.doc_id] for d in docs}
        how = "predictions file"
    else:
        records = run_pipeline(model_dir, docs)
        how = "hasila.infer.pipeline"
    items = [
        IncidentDoc(d.doc_id, d.incidents, incidents_from_record(records[d.doc_id]), hard_negative=d.kind == "hard_negative")
        for d in docs
    ]
    from hasila.train.evaluate import analyst_metrics

    metrics = incident_metrics(items)
    # The analyst's scorer beside the span-overlap figures above (kept for continuity).
    metrics["analyst"] = analyst_metrics([scored_doc(d, records[d.doc_id]) for d in docs])
    return metrics, how


def country_of(doc: Any) -> str:
    """The breakdown key: webnews' country of the violence; SaudiNewsNet as its own group."""
    meta = doc.meta if isinstance(doc.meta, dict) else {}
    if doc.corpus == "webnews":
        return str(meta.get("country") or "?")
    return f"{doc.corpus} (2015)"


def scored_doc(doc: Any, record: dict[str, Any]) -> Any:
    """A gold document and its predicted record, for the analyst's scorer."""
    from hasila.train.evaluate import FigureRole, ScoredDoc

    pred = incidents_from_record(record)
    gold_roles = [FigureRole(e.label, e.start, e.end, doc.role_of(e)) for e in doc.spans if doc.role_of(e)]
    if "figure_roles" in record:
        pred_roles = [FigureRole(f["label"], f["start"], f["end"], f["role"]) for f in record.get("figure_roles") or []]
    else:
        # rules only: a figure an incident uses is an incident's; of the others the rules say no role
        used = {(c.span.start, c.span.end) for i in pred for c in (i.killed, i.wounded) if c is not None}
        pred_roles = [FigureRole(e["label"], e["start"], e["end"], "incident" if (e["start"], e["end"]) in used else "(rules: no role)")
                      for e in record.get("entities", []) if e["label"] in ("KILLED", "WOUNDED")]
    return ScoredDoc(doc.doc_id, doc.incidents, pred, hard_negative=doc.kind == "hard_negative", corpus=doc.corpus,
                     country=country_of(doc), gold_roles=gold_roles, pred_roles=pred_roles)


def run_pipeline(model_dir: Path | None, docs: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Extraction records for gold documents (their meta date as the article date)."""
    from hasila.infer.pipeline import Extractor
    from hasila.train.gold import gold_inputs

    extractor = Extractor(str(model_dir))
    return {r["doc_id"]: r for r in extractor.extract(gold_inputs(docs))}


def read_predictions(path: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise EvaluationError(f"{path}:{n}: not JSON ({err})") from None
            if not isinstance(rec, dict) or not isinstance(rec.get("doc_id"), str):
                raise EvaluationError(f"{path}:{n}: a record needs a string 'doc_id'")
            if rec["doc_id"] in out:
                raise EvaluationError(f"{path}:{n}: doc_id {rec['doc_id']!r} appears twice")
            out[rec["doc_id"]] = rec
    return out


def evaluate_model(
    model_dir: Path,
    data: Sequence[str],
    *,
    max_length: int | None = None,
    stride: int | None = None,
    batch_size: int = 32,
    only_labels: Sequence[str] | None = None,
    predictions: Path | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """The metrics JSON (as a dict) for a model folder on the named data sets."""
    import torch
    from hasila.train.features import label_set_of_model
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    if not model_dir.is_dir():
        raise EvaluationError(f"model folder not found: {model_dir}")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForTokenClassification.from_pretrained(str(model_dir), dtype=torch.float32)  # shipped weights are fp16; score in fp32
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    label_set = label_set_of_model(model.config.id2label)
    ml, st, train_cfg = _model_settings(model_dir, model.config, max_length, stride)
    preds = read_predictions(predictions) if predictions is not None else None
    results = {}
    for name in data:
        logging.getLogger("hasila.evaluate").info("evaluating %s on %s", model_dir, name)
        results[name] = evaluate_dataset(
            name, model, tokenizer, max_length=ml, stride=st, batch_size=batch_size,
            only_labels=only_labels, predictions=preds, model_dir=model_dir,
        )
    return {
        "hasila_metrics_version": METRICS_VERSION,
        "model": {
            "path": str(model_dir),
            "name": model_dir.resolve().name,
            "label_set": label_set.name,
            "labels": list(label_set.labels),
            "base_model": (train_cfg or {}).get("base_model"),
            "train_config": train_cfg,
        },
        "evaluated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": {"max_length": ml, "stride": st, "only_labels": list(only_labels) if only_labels else None},
        "datasets": results,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="hasila-evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="a model folder written by hasila-train run")
    ap.add_argument("--data", action="append", required=True, help="data set name (repeatable)")
    ap.add_argument("--out", type=Path, required=True, help="metrics JSON to write")
    ap.add_argument("--predictions", type=Path, default=None, help="hasila-extract JSONL for incident scores on gold-*")
    ap.add_argument("--labels", default=None, help="comma-separated labels to score (default: all the model and data share)")
    ap.add_argument("--max-length", type=int, default=None, help="default: the model's training max_length")
    ap.add_argument("--stride", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
    ap.add_argument("--card", action="store_true", help="also write MODEL/README.md from the metrics")
    args = ap.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from hasila.train.cli import quiet_libraries

    quiet_libraries()
    try:
        metrics = evaluate_model(
            args.model, args.data, max_length=args.max_length, stride=args.stride, batch_size=args.batch_size,
            only_labels=args.labels.split(",") if args.labels else None, predictions=args.predictions, device=args.device,
        )
        atomic_write_text(args.out, json.dumps(metrics, ensure_ascii=False, indent=1) + "\n")
        for name, res in metrics["datasets"].items():
            m = res["entities"]["default"]["micro"]
            print(f"{name}: micro F1 {m['f1']:.4f} (P {m['precision']:.4f} R {m['recall']:.4f}) on {', '.join(res['labels_scored'])}")
        if args.card:
            from hasila.train.model_card import write_model_card

            print(f"model card: {write_model_card(args.model, args.out)}")
    except (HasilaError, FileNotFoundError, ValueError) as err:
        print(f"hasila-evaluate: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
