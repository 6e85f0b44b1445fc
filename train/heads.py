"""Train the structure heads (figure role, incident arguments) on the gold store.

Stage 2 of the model: the tagger (stage 1, ``hasila-train run``) is frozen; the runtime's own
path (normalize → words → TokenClassifier windows) gives every gold document's word vectors once
(the last hidden state, exactly what ships), then two small MLPs are fitted on the features
``hasila.infer.heads`` builds — the same functions the runtime calls. The settings that decide
how the pipeline uses them (the role head's drop threshold; which fields the argument head
fills, at which threshold) are chosen on dev with the analyst's scorer, never on test.

    hasila-train heads --model runs/hasila-ner-world [--epochs 60] [--seed 13 --seed 14 ...]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hasila.infer.heads import (
    ARG_LABELS,
    CANDIDATE_LABELS,
    FIGURE_LABELS,
    ROLES,
    DocView,
    StructureHeads,
    _MLP,
    candidates_for,
    pair_features,
    role_features,
    save_heads,
)
from hasila.infer.sentences import split_sentences
from hasila.infer.types import Entity, Span

log = logging.getLogger("hasila.heads")


@dataclass
class Cached:
    """One gold document run once through the runtime's model path."""

    doc: Any
    item: Any  # pipeline._Prepared
    scores: Any  # (tag ids, probs, vectors)
    view: DocView
    predicted: list[Entity]  # the runtime's entities (normalized coordinates)


def run_model(model_dir: str, docs: Sequence[Any], batch_size: int = 16) -> list[Cached]:
    """Word scores and vectors of gold documents through the runtime's own steps."""

    from hasila.infer.casualty import complete_count_lists, read_counts
    from hasila.infer.decode import decode_entities
    from hasila.infer.figures import whole_figures
    from hasila.train.gold import gold_inputs
    from hasila.infer.model import TokenClassifier, word_predictions
    from hasila.infer.pipeline import _encode_prepared, _prepare

    clf = TokenClassifier.load(model_dir, device="cpu", batch_size=batch_size)
    clf.with_vectors = True
    info = clf.info.to_json()
    out: list[Cached] = []
    for b in range(0, len(docs), 64):
        chunk = docs[b:b + 64]
        prepared = _encode_prepared([_prepare(x, info) for x in gold_inputs(chunk)], clf.encoder, info)
        ok = [p for p in prepared if not isinstance(p, dict)]
        scores = clf.score([p.encoded for p in ok], batch_size=batch_size)
        by_id = {p.doc.doc_id: (p, s) for p, s in zip(ok, scores)}
        for d in chunk:
            if d.doc_id not in by_id:
                log.warning("%s: not run through the model (error record)", d.doc_id)
                continue
            p, s = by_id[d.doc_id]
            ents = whole_figures(p.norm.text, p.words, decode_entities(p.norm.text, p.words, word_predictions(clf.tags, *s)))
            ents = complete_count_lists(p.norm.text, read_counts(p.norm.text, ents))
            view = DocView(np.asarray(s[2], dtype=np.float32), list(p.words), split_sentences(p.norm.text) or [(0, len(p.norm.text))])
            out.append(Cached(d, p, s, view, ents))
        log.info("model: %d / %d documents", len(out), len(docs))
    return out


def _norm_entity(norm: Any, label: str, start: int, end: int) -> Entity | None:
    from hasila.infer.structure import _to_norm

    at = _to_norm(norm, start, end)
    if at is None:
        return None
    return Entity(label, Span.of(norm.text, *at))


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def role_examples(c: Cached) -> tuple[np.ndarray, np.ndarray]:
    """Features and gold role ids of every gold figure that has a role."""
    norm, doc = c.item.norm, c.doc
    figs, ys = [], []
    for e in doc.spans:
        role = doc.role_of(e)
        if e.label not in FIGURE_LABELS or role is None:
            continue
        ne = _norm_entity(norm, e.label, e.start, e.end)
        if ne is not None:
            figs.append(ne)
            ys.append(ROLES.index(role))
    if not figs:
        return np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int64)
    order = sorted(range(len(figs)), key=lambda i: figs[i].start)
    figs, ys = [figs[i] for i in order], [ys[i] for i in order]
    return role_features(c.view, norm.text, figs), np.asarray(ys, dtype=np.int64)


def _candidates_pool(c: Cached) -> list[Entity]:
    """The runtime's entities plus the gold entity spans they miss (more positive pairs)."""
    norm = c.item.norm
    pool = [e for e in c.predicted if e.label in CANDIDATE_LABELS]
    for e in c.doc.spans:
        if e.label not in CANDIDATE_LABELS:
            continue
        ne = _norm_entity(norm, e.label, e.start, e.end)
        if ne is not None and not any(_overlaps((ne.start, ne.end), (p.start, p.end)) for p in pool):
            pool.append(ne)
    return sorted(pool, key=lambda e: e.start)


def arg_examples(c: Cached) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of (incident figure, candidate) pairs of the gold incidents."""
    norm = c.item.norm
    pool = _candidates_pool(c)
    xs, ys = [], []
    for inc in c.doc.incidents:
        count = inc.killed or inc.wounded
        if count is None:
            continue
        fig = _norm_entity(norm, "KILLED" if inc.killed else "WOUNDED", count.span.start, count.span.end)
        if fig is None:
            continue
        cands = candidates_for(c.view, fig, pool)
        if not cands:
            continue
        labels = []
        for cand in cands:
            orig = norm.to_original(cand.start, cand.end)
            lab = 0
            for k, name in enumerate(ARG_LABELS):
                if name == "none":
                    continue
                g = getattr(inc, name)
                span = g.span if name == "date" and g is not None else g
                if span is not None and _overlaps(orig, (span.start, span.end)):
                    lab = k
                    break
            labels.append(lab)
        xs.append(pair_features(c.view, fig, cands))
        ys.extend(labels)
    if not xs:
        return np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int64)
    return np.concatenate(xs), np.asarray(ys, dtype=np.int64)


def _stack(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    parts = [p for p in parts if len(p[1])]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def fit_mlp(x: np.ndarray, y: np.ndarray, n_classes: int, *, hidden: int = 256, epochs: int = 60, lr: float = 1e-3,
            seed: int = 13, dropout: float = 0.2) -> tuple[_MLP, dict[str, np.ndarray]]:
    """A two-layer perceptron, class-balanced cross-entropy, AdamW; returns the NumPy head."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mean = x.mean(0)
    std = np.maximum(x.std(0), 1e-2)  # a feature constant in train must not explode at inference
    xt = torch.from_numpy((x - mean) / std).float()
    yt = torch.from_numpy(y)
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, (counts.sum() / np.maximum(counts, 1)) ** 0.5, 0.0)
    weights = weights / weights[counts > 0].mean()
    net = torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(),
                              torch.nn.Dropout(dropout), torch.nn.Linear(hidden, n_classes))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    n = len(y)
    for _ in range(epochs):
        net.train()
        perm = rng.permutation(n)
        for b in range(0, n, 64):
            idx = torch.from_numpy(perm[b:b + 64])
            opt.zero_grad()
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    net.eval()
    lin1, lin2 = net[1], net[4]
    t = {
        "w1": lin1.weight.detach().numpy().T.copy(), "b1": lin1.bias.detach().numpy().copy(),
        "w2": lin2.weight.detach().numpy().T.copy(), "b2": lin2.bias.detach().numpy().copy(),
        "mean": mean.astype(np.float32), "std": std.astype(np.float32),
    }
    return _MLP(*(t[k] for k in ("w1", "b1", "w2", "b2", "mean", "std"))), t


def accuracy(mlp: _MLP, x: np.ndarray, y: np.ndarray) -> float | None:
    if not len(y):
        return None
    return float((mlp(x).argmax(1) == y).mean())


def train_heads(train: Sequence[Cached], dev: Sequence[Cached], *, epochs: int = 60, seed: int = 13,
                hidden: int = 256) -> tuple[StructureHeads, dict[str, np.ndarray], dict[str, Any]]:
    t0 = time.time()
    rx, ry = _stack([role_examples(c) for c in train])
    ax, ay = _stack([arg_examples(c) for c in train])
    role, rt = fit_mlp(rx, ry, len(ROLES), hidden=hidden, epochs=epochs, seed=seed)
    arg, at = fit_mlp(ax, ay, len(ARG_LABELS), hidden=hidden, epochs=max(10, epochs // 3), seed=seed)
    dx, dy = _stack([role_examples(c) for c in dev] or [(rx[:0], ry[:0])])
    dax, day = _stack([arg_examples(c) for c in dev] or [(ax[:0], ay[:0])])
    stats = {
        "seed": seed, "epochs": epochs, "hidden": hidden, "seconds": round(time.time() - t0, 1),
        "train_figures": int(len(ry)), "train_pairs": int(len(ay)),
        "train_role_distribution": {ROLES[k]: int(v) for k, v in enumerate(np.bincount(ry, minlength=len(ROLES)))},
        "dev_figures": int(len(dy)), "dev_pairs": int(len(day)),
        "dev_role_accuracy_gold_spans": accuracy(role, dx, dy),
        "dev_pair_accuracy": accuracy(arg, dax, day),
    }
    tensors = {**{f"role.{k}": v for k, v in rt.items()}, **{f"arg.{k}": v for k, v in at.items()}}
    config = {"roles": list(ROLES), "arg_labels": list(ARG_LABELS), "hidden_size": int(rx.shape[1] and train[0].view.vectors.shape[1]),
              "drop_threshold": 1.01, "fields": {}, "training": stats}
    return StructureHeads(role, arg, config), tensors, stats


# ---------------------------------------------------------------- choosing settings on dev


def records_with(cached: Sequence[Cached], heads: StructureHeads | None, tags: Sequence[str], info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Records of cached documents with these heads (None: rules only), without re-running the model."""
    from hasila.infer.assembly import check_disable
    from hasila.infer.pipeline import _finish

    options = {"explain": False, "disable": check_disable(None), "heads": heads}
    return {c.doc.doc_id: _finish(c.item, c.scores if heads is not None else c.scores[:2], tags, info, options) for c in cached}


def score_records(cached: Sequence[Cached], records: dict[str, dict[str, Any]], bootstrap: int = 0) -> dict[str, Any]:
    from hasila.train.evaluate import analyst_metrics
    from hasila.train.evaluate_cli import scored_doc

    docs = [scored_doc(c.doc, records[c.doc.doc_id]) for c in cached]
    return analyst_metrics(docs, bootstrap=bootstrap, breakdown=False)["overall"]


def with_settings(heads: StructureHeads, drop: float, fields: dict[str, float], learned_only: bool = False) -> StructureHeads:
    return StructureHeads(heads.role, heads.arg, {**heads.config, "drop_threshold": drop, "fields": fields,
                                                  "learned_only": learned_only})


def choose_settings(heads: StructureHeads, dev: Sequence[Cached], tags: Sequence[str], info: dict[str, Any]) -> dict[str, Any]:
    """Drop threshold by dev incident F1; then, field by field, rules vs heads-over-rules at a
    threshold, by dev field accuracy (ties keep the rules)."""
    trail: dict[str, Any] = {"drop": {}, "fields": {}}
    base = score_records(dev, records_with(dev, None, tags, info))["figures"]
    trail["rules_only"] = base
    best_drop, best_f1 = 1.01, base["incident_f1"]
    for tau in (0.5, 0.6, 0.7, 0.8, 0.9):
        f = score_records(dev, records_with(dev, with_settings(heads, tau, {}), tags, info))["figures"]
        trail["drop"][str(tau)] = f["incident_f1"]
        if f["incident_f1"] > best_f1 + 1e-9:
            best_drop, best_f1 = tau, f["incident_f1"]
    fields: dict[str, float] = {}
    for field in ("perpetrator", "location", "victim", "source"):
        rule_acc = score_records(dev, records_with(dev, with_settings(heads, best_drop, fields), tags, info))["figures"][f"{field}_accuracy"] or 0.0
        best = (rule_acc, None)
        trail["fields"][field] = {"rules": rule_acc}
        for tau in (0.3, 0.5, 0.7, 0.85):
            acc = score_records(dev, records_with(dev, with_settings(heads, best_drop, {**fields, field: tau}), tags, info))["figures"][f"{field}_accuracy"] or 0.0
            trail["fields"][field][str(tau)] = acc
            if acc > best[0] + 1e-9:
                best = (acc, tau)
        if best[1] is not None:
            fields[field] = best[1]
    return {"drop_threshold": best_drop, "fields": fields, "trail": trail}


CAL_BINS = 8


def _fit_bins(pairs: Sequence[tuple[float, int]], bins: int = CAL_BINS) -> dict[str, list[float]]:
    """Histogram binning on equal-width bins of [0, 1]: each bin's value is its observed rate
    (a bin with few cases leans on the overall rate: add-2 smoothing toward it)."""
    edges = [i / bins for i in range(bins + 1)]
    overall = sum(y for _, y in pairs) / len(pairs) if pairs else 0.5
    values = []
    for k in range(bins):
        ys = [y for p, y in pairs if (edges[k] <= p < edges[k + 1]) or (k == bins - 1 and p == 1.0)]
        values.append((sum(ys) + 2 * overall) / (len(ys) + 2))
    return {"edges": edges, "values": values}


def _apply_bins(cal: dict[str, list[float]], p: float) -> float:
    k = int(np.searchsorted(np.asarray(cal["edges"][1:-1]), p, side="right"))
    return cal["values"][min(k, len(cal["values"]) - 1)]


def ece(pairs: Sequence[tuple[float, int]], bins: int = 10) -> float | None:
    """Expected calibration error over equal-width bins."""
    if not pairs:
        return None
    total = 0.0
    for k in range(bins):
        sel = [(p, y) for p, y in pairs if (k / bins <= p < (k + 1) / bins) or (k == bins - 1 and p == 1.0)]
        if sel:
            total += len(sel) / len(pairs) * abs(sum(p for p, _ in sel) / len(sel) - sum(y for _, y in sel) / len(sel))
    return total


def reliability(pairs: Sequence[tuple[float, int]], bins: int = 10) -> list[dict[str, float]]:
    out = []
    for k in range(bins):
        sel = [(p, y) for p, y in pairs if (k / bins <= p < (k + 1) / bins) or (k == bins - 1 and p == 1.0)]
        if sel:
            out.append({"bin": k, "mean_predicted": sum(p for p, _ in sel) / len(sel),
                        "observed": sum(y for _, y in sel) / len(sel), "n": len(sel)})
    return out


def calibration_pairs(cached: Sequence[Cached], heads: StructureHeads, tags: Sequence[str], info: dict[str, Any]) -> dict[str, list[tuple[float, int, str]]]:
    """(raw score, right?, doc id) per predicted incident ("incident": matched a gold incident)
    and per set field of matched incidents (field: the field agrees with gold)."""
    from hasila.train.evaluate import NO_INCIDENT_ROLES, FigureRole, _analyst_pairs, _same_field, incidents_from_record

    raw_heads = StructureHeads(heads.role, heads.arg, {**heads.config, "emit_raw_scores": True, "calibration": {}})
    records = records_with(cached, raw_heads, tags, info)
    out: dict[str, list[tuple[float, int, str]]] = {"incident": [], **{f: [] for f in ("perpetrator", "victim", "location", "date", "source")}}
    for c in cached:
        rec = records[c.doc.doc_id]
        if rec.get("status") != "ok":
            continue
        pred = incidents_from_record(rec)
        raws = [x.get("_raw_scores") for x in rec["incidents"]]
        blocked = [FigureRole(e.label, e.start, e.end, c.doc.role_of(e)) for e in c.doc.spans
                   if c.doc.role_of(e) in NO_INCIDENT_ROLES]
        matched = dict(_analyst_pairs(c.doc.incidents, pred, blocked))
        for i, inc in enumerate(pred):
            r = raws[i] or {}
            if r.get("incident") is not None:
                out["incident"].append((float(r["incident"]), int(i in matched), c.doc.doc_id))
            if i not in matched:
                continue
            g = c.doc.incidents[matched[i]]
            for f in out:
                if f == "incident" or f not in r:
                    continue
                a, b = getattr(inc, f), getattr(g, f)
                out[f].append((float(r[f]), int(a is not None and b is not None and _same_field(a, b, f)), c.doc.doc_id))
    return out


def fit_calibration(cached: Sequence[Cached], heads: StructureHeads, tags: Sequence[str], info: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Calibration maps fitted on all of dev, and their honest measure: ECE of the raw scores
    and of maps cross-fitted on two halves of dev (by document), with reliability bins."""
    import hashlib

    pairs = calibration_pairs(cached, heads, tags, info)
    maps, report = {}, {}
    for what, items in pairs.items():
        if len(items) < 20:
            continue
        maps[what] = _fit_bins([(p, y) for p, y, _ in items])
        fold = lambda d: int(hashlib.sha256(d.encode()).hexdigest(), 16) % 2  # noqa: E731
        crossed = []
        for k in (0, 1):
            fit = _fit_bins([(p, y) for p, y, d in items if fold(d) != k])
            crossed += [(_apply_bins(fit, p), y) for p, y, d in items if fold(d) == k]
        raw = [(p, y) for p, y, _ in items]
        report[what] = {"n": len(items), "ece_raw": ece(raw), "ece_calibrated_crossfit": ece(crossed),
                        "reliability_raw": reliability(raw), "reliability_calibrated_crossfit": reliability(crossed)}
    return maps, report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="hasila-train heads", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="the tagger's folder; the heads are written into it")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, action="append", default=None, help="repeatable: one run per seed, the best dev kept")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--report", type=Path, default=None, help="JSON report of the runs")
    args = ap.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from hasila.train.gold import gold_documents

    train_docs = gold_documents("train", skip_unsplit=True)
    dev_docs = gold_documents("dev", skip_unsplit=True)
    log.info("train %d, dev %d documents", len(train_docs), len(dev_docs))
    train_c = run_model(args.model, train_docs)
    dev_c = run_model(args.model, dev_docs)
    from hasila.infer.model import TokenClassifier

    clf_info = TokenClassifier.load(args.model, device="cpu")
    tags, info = clf_info.tags, clf_info.info.to_json()
    runs = []
    best = None
    for seed in args.seed or [13]:
        random.seed(seed)
        heads, tensors, stats = train_heads(train_c, dev_c, epochs=args.epochs, seed=seed, hidden=args.hidden)
        chosen = choose_settings(heads, dev_c, tags, info)
        final = with_settings(heads, chosen["drop_threshold"], chosen["fields"])
        dev_scores = score_records(dev_c, records_with(dev_c, final, tags, info))["figures"]
        run = {"seed": seed, "training": stats, "chosen": chosen, "dev": dev_scores}
        runs.append(run)
        log.info("seed %d: dev incident F1 %.3f, role acc (gold spans) %s", seed, dev_scores["incident_f1"], stats["dev_role_accuracy_gold_spans"])
        key = (dev_scores["incident_f1"], dev_scores.get("figure_role_accuracy") or 0)
        if best is None or key > best[0]:
            best = (key, final, tensors)
    assert best is not None
    _, final, tensors = best
    maps, cal_report = fit_calibration(dev_c, final, tags, info)
    final = StructureHeads(final.role, final.arg, {**final.config, "calibration": maps})
    config = dict(final.config)
    config["training"] = {**config["training"], "calibration": cal_report}
    config["training"] = {**config["training"], "seeds": [r["seed"] for r in runs],
                          "dev_incident_f1_by_seed": [r["dev"]["incident_f1"] for r in runs]}
    from hasila.infer.model import weights_sha256

    config["tagger_sha256"] = weights_sha256(Path(args.model))
    save_heads(args.model, tensors, config)
    if args.report:
        args.report.write_text(json.dumps(runs, ensure_ascii=False, indent=1, default=float) + "\n", encoding="utf-8")
    print(json.dumps({"saved": args.model, "drop_threshold": config["drop_threshold"], "fields": config["fields"],
                      "ece": {k: [v["ece_raw"], v["ece_calibrated_crossfit"]] for k, v in cal_report.items()},
                      "dev_incident_f1_by_seed": config["training"]["dev_incident_f1_by_seed"]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
