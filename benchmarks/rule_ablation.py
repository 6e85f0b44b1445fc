"""Each assembly rule's effect on the gold incidents: incident P/R/F1 with that rule alone disabled.

    python benchmarks/rule_ablation.py --split train [--model models/hasila-ner] [--json out.json]

The model runs once per split and its entities are cached (``runs/rule_ablation/SPLIT.jsonl``;
``--cache`` reads a cache of ``benchmarks/identity_check.py`` instead); each row then re-runs only
the casualty reading and the assembly, so the whole table takes seconds. Scored with
``hasila.train.evaluate.incident_metrics``, as ``hasila-evaluate`` scores incidents. A rule whose
ΔF1 is negative helps (turning it off costs F1); positive: the split would do better without it.
Use it for the "what changed" figures of a change to the rules (the test split is for final
figures only, never for tuning).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from identity_check import cached_entities, load_cache  # noqa: E402


def build_cache(split: str, docs, model: str | None, path: Path) -> None:
    """The model's decoded entities of the split's documents (one JSON line each)."""
    from hasila.infer.decode import decode_entities
    from hasila.infer.model import TokenClassifier, find_model, word_predictions
    from hasila.infer.normalize import normalize
    from hasila.infer.tokenize import split_words

    clf = TokenClassifier.load(find_model(model), device="cpu", batch_size=16)
    norms = [normalize(d.text) for d in docs]
    words = [split_words(n.text) for n in norms]
    scores = clf.score(clf.encoder.encode([[n.text[s:e] for s, e in w] for n, w in zip(norms, words)]), batch_size=16)
    lines = []
    for d, n, w, sc in zip(docs, norms, words, scores):
        ents = decode_entities(n.text, w, word_predictions(clf.tags, *sc))
        lines.append(json.dumps({"group": f"gold-{split}", "id": d.doc_id, "text": d.text,
                                 "entities": [[e.label, e.start, e.end, e.span.score] for e in ents]},
                                ensure_ascii=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(split: str, model: str | None, cache: Path | None) -> dict:
    from hasila.infer.assembly import DISABLEABLE, RULES, assemble_incidents
    from hasila.infer.casualty import complete_count_lists, read_counts
    from hasila.infer.normalize import normalize
    from hasila.train.evaluate import IncidentDoc, incident_metrics
    from hasila.train.gold import article_date, gold_documents

    docs = gold_documents(split)
    path = cache or Path("runs/rule_ablation") / f"{split}.jsonl"
    if not path.is_file():
        t = time.perf_counter()
        build_cache(split, docs, model, path)
        print(f"model entities of {len(docs)} documents cached in {path} ({time.perf_counter() - t:.0f} s)",
              file=sys.stderr)
    items = {item["id"]: item for item in load_cache(path) if item["group"] == f"gold-{split}"}
    missing = [d.doc_id for d in docs if d.doc_id not in items or items[d.doc_id]["text"] != d.text]
    if missing:
        raise SystemExit(f"{len(missing)} documents are not in {path} as they are now (e.g. {missing[0]}); "
                         "delete the cache to rebuild it")
    prepared = []
    for d in docs:
        norm = normalize(d.text)
        entities = complete_count_lists(norm.text, read_counts(norm.text, cached_entities(items[d.doc_id], norm)))
        prepared.append((d, norm, entities, article_date(d)))

    def score(disable: frozenset[str]) -> dict:
        return incident_metrics(
            IncidentDoc(d.doc_id, d.incidents, assemble_incidents(norm, ents, date, disable=disable),
                        d.kind == "hard_negative")
            for d, norm, ents, date in prepared)

    order = sorted(DISABLEABLE, key=lambda r: (int("".join(c for c in r[1:] if c.isdigit())), r))
    rows = {"none": score(frozenset())}
    for rule in order:
        rows[rule] = score(frozenset({rule}))
    return {"split": split, "documents": len(docs), "rules": {r: RULES[r] for r in order}, "results": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="dev", choices=("train", "dev", "test"))
    ap.add_argument("--model", default=None)
    ap.add_argument("--cache", type=Path, default=None, help="a cache of benchmarks/identity_check.py")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    out = run(args.split, args.model, args.cache)
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    base = out["results"]["none"]["incidents"]
    print(f"{out['documents']} gold {args.split} documents; incident P/R/F1 with one rule disabled")
    print("| disabled | incident P | incident R | incident F1 | ΔF1 | predicted | HN rate | rule |")
    print("|---|---|---|---|---|---|---|---|")
    for rule, r in out["results"].items():
        inc = r["incidents"]
        hn = r["hard_negatives"]["false_incident_rate"]
        print(f"| {rule} | {inc['precision']:.3f} | {inc['recall']:.3f} | {inc['f1']:.3f} | "
              f"{inc['f1'] - base['f1']:+.3f} | {inc['predicted']} | {'-' if hn is None else f'{hn:.3f}'} | "
              f"{out['rules'].get(rule, 'all rules on')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
