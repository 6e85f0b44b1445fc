"""ONNX Runtime against PyTorch fp32 on the gold splits: the export's logit gap, the int8 parity
gates, and (``--sensitivity``) which layers int8 hurts.

    HASILA_DATA=/work/shared/data python benchmarks/onnx_parity.py --split dev --split test
    HASILA_DATA=/work/shared/data python benchmarks/onnx_parity.py --split dev --sensitivity --docs 60

- logit gap: largest |logit| (and |last hidden state|) difference over the real tokens of the
  pipeline's own padded batches, fp32 ONNX against PyTorch fp32 (the export gate: 1e-4);
- gates (``hasila.train.runtime_parity``): entity micro F1 and incident F1 within 0.5 points of
  PyTorch's, the same incident figures in >= 97 % of the documents;
- sensitivity: each group of MatMul layers (by kind, then by layer) quantized *alone*, the rest
  fp32; share of tokens whose tag changes and largest logit gap against fp32, on ``--docs``
  documents (the int8 recipe of ``hasila.infer.int8``, one group at a time).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

def _kind(module: str) -> str:
    if ".attention.self." in module:
        return "attention q/k/v"
    if module.endswith("attention.output.dense"):
        return "attention output"
    if module.endswith("intermediate.dense"):
        return "feed-forward in"
    if module.endswith("output.dense"):
        return "feed-forward out"
    return module.rsplit(".", 1)[-1]  # classifier


def sensitivity(model: str, docs, n_docs: int) -> list[dict]:
    """Each group of linear layers (by kind, then by layer) on int8 *alone*, the rest fp32: share
    of tags changed and largest logit change against the fp32 graph."""
    import re

    import numpy as np
    import onnx

    from hasila.infer.int8 import quantize_graph
    from hasila.infer.model import TokenClassifier
    from hasila.infer.onnx_runtime import build, checkpoint_state, load_calibration, make_session, weights_sha256
    from hasila.train.runtime_parity import padded_batches

    clf = TokenClassifier.load(model, device="cpu")
    fp32 = build(model, "fp32")
    cal = load_calibration(Path(model), weights_sha256(Path(model)))
    state = checkpoint_state(Path(model))
    ref = make_session(fp32)
    batches = padded_batches(clf, [d.text for d in docs[:n_docs]])
    ref_out = [ref.run(["logits"], {"input_ids": i, "attention_mask": a})[0] for i, a in batches]
    modules = sorted(cal.inputs)
    groups: dict[str, list[str]] = {}
    for m in modules:
        groups.setdefault(_kind(m), []).append(m)
        layer = re.search(r"layer\.(\d+)\.", m)
        if layer:
            groups.setdefault(f"layer {layer.group(1)}", []).append(m)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, members in groups.items():
            out = Path(tmp) / "q.onnx"
            graph, _ = quantize_graph(onnx.load(str(fp32)), cal, state, exclude=[m for m in modules if m not in members])
            onnx.save(graph, str(out))
            sess = make_session(out)
            flips = tokens = 0
            gap = 0.0
            for (i, a), r in zip(batches, ref_out):
                o = sess.run(["logits"], {"input_ids": i, "attention_mask": a})[0]
                real = a.astype(bool)
                flips += int((o.argmax(-1) != r.argmax(-1))[real].sum())
                tokens += int(real.sum())
                gap = max(gap, float(np.abs(o - r)[real].max()))
            rows.append({"group": name, "tags_changed_pct": 100 * flips / tokens, "max_abs_logit_diff": gap})
            print(f"  int8 only {name:<20} tags changed {100 * flips / tokens:6.3f} %   max |dlogit| {gap:6.3f}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None)
    p.add_argument("--split", action="append", help="gold split(s) (default: dev)")
    p.add_argument("--docs", type=int, help="only the first N documents of each split")
    p.add_argument("--sensitivity", action="store_true", help="measure each layer group's int8 damage alone")
    p.add_argument("--variant", action="append", choices=("fp32", "int8", "bf16"), help="runtimes to gate (default: all three)")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--metrics", type=Path, help="also store them as runtime_parity in this metrics JSON (for the model card)")
    args = p.parse_args(argv)

    from hasila.infer.model import TokenClassifier, find_model
    from hasila.infer.int8 import ALPHA, OUTLIERS
    from hasila.infer.onnx_runtime import OnnxTokenClassifier
    from hasila.train.gold import gold_documents
    from hasila.train.runtime_parity import logit_gap, padded_batches, parity_gates, run_records

    model = find_model(args.model)
    figures: dict = {"model": model, "int8": {"alpha": ALPHA, "outliers": OUTLIERS}, "splits": {}}
    for split in args.split or ["dev"]:
        docs = gold_documents(split)[: args.docs]
        print(f"{split}: {len(docs)} gold documents", flush=True)
        if args.sensitivity:
            figures["sensitivity"] = sensitivity(model, docs, len(docs))
            continue
        torch_clf = TokenClassifier.load(model, device="cpu")
        t0 = time.perf_counter()
        ref = run_records(torch_clf, docs)
        row: dict = {"documents": len(docs), "torch_seconds": time.perf_counter() - t0}
        for variant in args.variant or ["fp32", "int8", "bf16"]:
            if variant == "bf16":  # PyTorch with bf16 weights (the CPU default where there is AMX)
                clf = TokenClassifier.load(model, device="cpu", dtype="bfloat16")
            else:
                clf = OnnxTokenClassifier.load(model, variant=variant)
            t0 = time.perf_counter()
            cand = run_records(clf, docs)
            seconds = time.perf_counter() - t0
            gap = logit_gap(torch_clf, clf, padded_batches(torch_clf, [d.text for d in docs]))
            gates = parity_gates(docs, ref, cand).to_json()
            row[variant] = {"seconds": seconds, "logit_gap": gap, **gates}
            print(f"  {variant}: max |dlogit| {gap['max_abs_logit_diff']:.2e}, max |dhidden| {gap['max_abs_hidden_diff']:.2e}, "
                  f"tags changed {100 * gap['argmax_changed']:.3f} % | entity F1 {gates['reference']['entity_f1']:.2f} -> "
                  f"{gates['candidate']['entity_f1']:.2f}, incident F1 {gates['reference']['incident_f1']:.2f} -> "
                  f"{gates['candidate']['incident_f1']:.2f}, same incident figures {100 * gates['same_incident_figures']:.1f} % "
                  f"-> {'PASS' if gates['passed'] else 'FAIL'}", flush=True)
        figures["splits"][split] = row
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    if args.metrics:
        metrics = json.loads(args.metrics.read_text(encoding="utf-8"))
        metrics["runtime_parity"] = figures
        args.metrics.write_text(json.dumps(metrics, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
