"""Write real news articles from SaudiNewsNet as a JSONL input for the speed benchmark.

    python benchmarks/snn_articles.py --n 200 -o runs/bench_articles.jsonl

Takes the first ``--n`` articles (in zip-date then array order) whose text is between
``--min-chars`` and ``--max-chars`` characters long: real article lengths, not the short
made-up examples. Reads the corpus through the data setting ($HASILA_DATA, default
../shared/data); the output is corpus text, so keep it out of the repository (runs/ is ignored).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--min-chars", type=int, default=1500)
    p.add_argument("--max-chars", type=int, default=5000)
    p.add_argument("-o", "--output", type=Path, required=True)
    args = p.parse_args(argv)

    from hasila.infer.writers import atomic_write_text
    from hasila.train.corpora import load_corpus

    rows = load_corpus("saudinewsnet")["train"]
    out = []
    for row in rows:
        if args.min_chars <= len(row["content"]) <= args.max_chars:
            out.append({"id": row["doc_id"], "text": row["content"], "date": row["date_extracted"][:10]})
            if len(out) == args.n:
                break
    if len(out) < args.n:
        print(f"only {len(out)} articles of {args.min_chars}-{args.max_chars} characters", file=sys.stderr)
    atomic_write_text(args.output, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out))
    print(f"{len(out)} articles, {sum(len(r['text']) for r in out):,} characters → {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
