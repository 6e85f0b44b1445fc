"""Parity gates of a derived runtime (ONNX fp32 / int8) against PyTorch fp32 on gold documents.

The gates (issue "three times the naive pipeline", item 2) compare the records of the same
pipeline on the same gold documents, once per runtime:

- entity micro F1 (exact label and character span against the gold spans) within
  :data:`MAX_F1_DROP` points of PyTorch's;
- incident F1 (``train.evaluate.incident_metrics``) within :data:`MAX_F1_DROP` points;
- the same incident figures (the killed and wounded values of every incident, in order) in at
  least :data:`MIN_SAME_FIGURES` of the documents.

``logit_gap`` measures the export itself: the largest absolute difference of logits (and of
the last hidden state) between PyTorch and ONNX Runtime, over real tokens of the pipeline's own
padded batches. Used by ``benchmarks/onnx_parity.py`` (full splits) and by the tests (a small
slice with a tiny model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

MAX_F1_DROP = 0.5  # points
MIN_SAME_FIGURES = 0.97


def run_records(classifier: Any, docs: Sequence[Any], batch_size: int = 16) -> dict[str, dict[str, Any]]:
    from hasila.infer.pipeline import Extractor
    from hasila.train.gold import gold_inputs

    extractor = Extractor(classifier, batch_size=batch_size)
    return {r["doc_id"]: r for r in extractor.extract(gold_inputs(docs))}


def entity_f1(docs: Sequence[Any], records: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Micro P/R/F1 (in points) of record entities against gold spans: same label, same characters."""
    correct = predicted = gold = 0
    for d in docs:
        g = {(e.label, e.start, e.end) for e in d.spans}
        rec = records[d.doc_id]
        p = {(e["label"], e["start"], e["end"]) for e in rec.get("entities", [])} if rec.get("status") == "ok" else set()
        correct += len(g & p)
        predicted += len(p)
        gold += len(g)
    pr = correct / predicted if predicted else 0.0
    rc = correct / gold if gold else 0.0
    f = 2 * pr * rc / (pr + rc) if pr + rc else 0.0
    return {"precision": 100 * pr, "recall": 100 * rc, "f1": 100 * f, "gold": gold, "predicted": predicted}


def incident_f1(docs: Sequence[Any], records: dict[str, dict[str, Any]]) -> float:
    from hasila.train.evaluate import IncidentDoc, incident_metrics, incidents_from_record

    items = [IncidentDoc(d.doc_id, d.incidents, incidents_from_record(records[d.doc_id]),
                         hard_negative=getattr(d, "kind", "") == "hard_negative") for d in docs]
    return 100 * incident_metrics(items)["incidents"]["f1"]


def incident_figures(record: dict[str, Any]) -> list[tuple[Any, Any]]:
    def value(c: Any) -> Any:
        return None if c is None else (c.get("value"), c.get("low"), c.get("high"), c.get("qualifier"))

    return [(value(i.get("killed")), value(i.get("wounded"))) for i in record.get("incidents", [])]


@dataclass
class GateResult:
    reference: dict[str, float]
    candidate: dict[str, float]
    same_figures: float
    documents: int
    entity_ok: bool
    incident_ok: bool
    figures_ok: bool
    differing: list[str]

    @property
    def passed(self) -> bool:
        return self.entity_ok and self.incident_ok and self.figures_ok

    def to_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "reference": self.reference, "candidate": self.candidate,
                "same_incident_figures": self.same_figures, "gates": {
                    "entity_f1_within": self.entity_ok, "incident_f1_within": self.incident_ok,
                    "same_figures_share": self.figures_ok}, "passed": self.passed,
                "documents_with_other_figures": self.differing}


def parity_gates(docs: Sequence[Any], reference: dict[str, dict[str, Any]], candidate: dict[str, dict[str, Any]]
                 ) -> GateResult:
    """The gates for ``candidate`` records against ``reference`` (PyTorch fp32) records."""
    if not docs:
        raise ValueError("parity gates need at least one document")
    missing = [d.doc_id for d in docs if d.doc_id not in reference or d.doc_id not in candidate]
    if missing:
        raise ValueError(f"no record for {len(missing)} document(s), e.g. {missing[:3]}")
    ref = {"entity_f1": entity_f1(docs, reference)["f1"], "incident_f1": incident_f1(docs, reference)}
    cand = {"entity_f1": entity_f1(docs, candidate)["f1"], "incident_f1": incident_f1(docs, candidate)}
    differing = [d.doc_id for d in docs if incident_figures(reference[d.doc_id]) != incident_figures(candidate[d.doc_id])]
    same = 1.0 - len(differing) / len(docs)
    return GateResult(ref, cand, same, len(docs),
                      entity_ok=cand["entity_f1"] >= ref["entity_f1"] - MAX_F1_DROP,
                      incident_ok=cand["incident_f1"] >= ref["incident_f1"] - MAX_F1_DROP,
                      figures_ok=same >= MIN_SAME_FIGURES, differing=differing)


def padded_batches(classifier: Any, texts: Sequence[str], batch_size: int = 16) -> list[tuple[np.ndarray, np.ndarray]]:
    """The pipeline's own model batches (windows sorted by length, padded) for these texts."""
    from hasila.infer.model import window_starts
    from hasila.infer.normalize import normalize
    from hasila.infer.tokenize import split_words

    words = []
    for t in texts:
        n = normalize(t).text
        words.append([n[s:e] for s, e in split_words(n)])
    windows = []
    for doc in classifier.encoder.encode(words):
        if len(doc.ids):
            windows.extend(doc.ids[s:s + classifier.window]
                           for s in window_starts(len(doc.ids), classifier.window, classifier.stride))
    windows.sort(key=len, reverse=True)
    pre, suf = classifier.prefix_ids, classifier.suffix_ids
    out = []
    for b in range(0, len(windows), batch_size):
        batch = windows[b:b + batch_size]
        width = len(pre) + len(batch[0]) + len(suf)
        ids = np.full((len(batch), width), classifier.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for r, w in enumerate(batch):
            row = list(pre) + list(w) + list(suf)
            ids[r, :len(row)] = row
            mask[r, :len(row)] = 1
        out.append((ids, mask))
    return out


def _outputs(classifier: Any, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logits and last hidden state (fp32 NumPy) of one batch, on the classifier's own runtime."""
    session = getattr(classifier, "session", None)
    if session is not None:
        logits, hidden = session.run(["logits", "last_hidden_state"], {"input_ids": ids, "attention_mask": mask})
        return logits, hidden
    import torch

    with torch.inference_mode():
        out = classifier.model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                               output_hidden_states=True)
    return out.logits.float().numpy(), out.hidden_states[-1].float().numpy()


def logit_gap(reference: Any, candidate: Any, batches: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Largest |logit| and |last hidden state| difference over real tokens, and the share of
    tokens whose argmax tag differs (either classifier on PyTorch or ONNX Runtime)."""
    gap_l = gap_h = 0.0
    flips = tokens = 0
    for ids, mask in batches:
        tl, th = _outputs(reference, ids, mask)
        ol, oh = _outputs(candidate, ids, mask)
        real = mask.astype(bool)
        gap_l = max(gap_l, float(np.abs(tl - ol)[real].max()))
        gap_h = max(gap_h, float(np.abs(th - oh)[real].max()))
        flips += int((tl.argmax(-1) != ol.argmax(-1))[real].sum())
        tokens += int(real.sum())
    return {"max_abs_logit_diff": gap_l, "max_abs_hidden_diff": gap_h, "argmax_changed": flips / max(1, tokens),
            "tokens": tokens}
