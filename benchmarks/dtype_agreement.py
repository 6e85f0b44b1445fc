"""How much the weights' type changes the output: records of the same articles with two dtypes.

    python benchmarks/dtype_agreement.py --articles runs/bench_gpu.jsonl --n 2000 --device cuda

Compares fp32 weights under the GPU's autocast (the default) with bf16 weights: the share of
articles whose entities and incidents (probabilities aside) are identical, and the agreement of entity spans
(label, start, end) as an F1 of one against the other.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def spans(record: dict) -> set[tuple[str, int, int]]:
    return {(e["label"], e["start"], e["end"]) for e in record.get("entities", [])}


def without_scores(value):
    """The record minus its probabilities (which always move a little with the weights' type)."""
    if isinstance(value, dict):
        return {k: without_scores(v) for k, v in value.items() if k not in ("score", "confidence")}
    if isinstance(value, list):
        return [without_scores(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=Path, required=True)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--model")
    p.add_argument("--device", default="auto")
    p.add_argument("--other", default="bfloat16", choices=("bfloat16", "float16"))
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)

    from hasila.infer.inputs import InputReader
    from hasila.infer.model import find_model, resolve_device
    from hasila.infer.pipeline import Extractor, default_workers

    rows = [json.loads(line) for line in args.articles.read_text(encoding="utf-8").splitlines() if line.strip()][: args.n]
    runs = {}
    for dtype in (None, args.other):
        workers = default_workers(resolve_device(args.device))
        with Extractor(find_model(args.model), device=args.device, dtype=dtype, batch_size=args.batch_size,
                       workers=workers) as ex:
            runs[dtype or "default"] = list(ex.extract(InputReader(defer_text_checks=ex.workers > 0).docs_from_objects(rows)))
    a, b = runs["default"], runs[args.other]
    same_entities = sum(spans(x) == spans(y) for x, y in zip(a, b))
    same_incidents = sum(without_scores(x["incidents"]) == without_scores(y["incidents"]) for x, y in zip(a, b))
    both = sum(len(spans(x) & spans(y)) for x, y in zip(a, b))
    na, nb = sum(len(spans(x)) for x in a), sum(len(spans(y)) for y in b)
    figures = {"articles": len(a), "other": args.other, "identical_entities": same_entities / len(a),
               "identical_incidents": same_incidents / len(a), "entity_agreement_f1": 2 * both / (na + nb) if na + nb else 1.0,
               "entities": [na, nb], "incidents": [sum(len(x["incidents"]) for x in a), sum(len(y["incidents"]) for y in b)]}
    print(json.dumps(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":  # the guard is needed: worker processes re-import this module
    sys.exit(main())
