"""Rules only / learned only / combined, field by field, with the analyst's scorer.

    python benchmarks/structure_ablation.py --model models/hasila-ner --split dev [--out FILE.json]

The model runs once per document (the runtime's own path); each variant re-runs only the steps
after it (pipeline._finish) with the heads set up differently:

- ``rules``: the tagger and the assembly rules (heads off);
- ``combined``: the shipped settings (heads_config.json: H-role drop threshold, H-arg fields);
- ``learned``: figures kept out by the role head at p ≥ 0.5, and every field the argument head
  can fill (perpetrator, victim, location, source) taken from it alone (null when it is unsure);
- ``roles only`` / ``args only``: one head at a time at its shipped settings.

Every figure comes with a bootstrap 95% interval, overall and per corpus. Use dev while working;
read a test split once, at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/hasila-ner")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--frozen", default=None, help="dev_2015: the old dev split, for before/after")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from hasila.infer.heads import StructureHeads
    from hasila.infer.model import TokenClassifier
    from hasila.train.evaluate import analyst_metrics
    from hasila.train.evaluate_cli import scored_doc
    from hasila.train.gold import gold_documents
    from hasila.train.heads import records_with, run_model, with_settings

    docs = gold_documents(args.split, frozen=args.frozen)
    cached = run_model(args.model, docs)
    clf = TokenClassifier.load(args.model, device="cpu")
    tags, info = clf.tags, clf.info.to_json()
    heads = StructureHeads.load(args.model)
    variants = {"rules": None}
    if heads is not None:
        shipped_drop = heads.config.get("drop_threshold", 1.01)
        shipped_fields = heads.config.get("fields") or {}
        variants.update({
            "combined": heads,
            "roles only": with_settings(heads, shipped_drop, {}),
            "args only": with_settings(heads, 1.01, shipped_fields),
            "learned": with_settings(heads, 0.5, {f: 0.0 for f in ("perpetrator", "victim", "location", "source")}, learned_only=True),
        })
    out = {"model": args.model, "split": args.split, "frozen": args.frozen, "documents": len(cached), "variants": {}}
    for name, h in variants.items():
        records = records_with(cached, h, tags, info)
        m = analyst_metrics([scored_doc(c.doc, records[c.doc.doc_id]) for c in cached], bootstrap=args.bootstrap)
        out["variants"][name] = {"overall": m["overall"], "by_corpus": m["by_corpus"]}
        f = m["overall"]["figures"]
        print(f"{name:11s} " + "  ".join(f"{k.replace('_accuracy', '')} {v * 100:.1f}" for k, v in f.items() if v is not None))
    if args.out:
        args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
