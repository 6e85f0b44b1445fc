"""``python -m hasila.train.corpora [NAME ...]``: load corpora, print their statistics as JSON
lines (with the load time), and each split's description with ``--describe``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import CORPORA, corpus_stats, load_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hasila.train.corpora", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"corpora to load (default: all of {', '.join(CORPORA)})")  # fmt: skip
    parser.add_argument("--data-dir", type=Path, default=None, help="default: the HASILA_DATA setting")
    parser.add_argument("--describe", action="store_true", help="also print each split's description")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in CORPORA]
    if unknown:
        parser.error(f"unknown corpus {', '.join(unknown)}; known: {', '.join(CORPORA)}")
    for name in args.names or CORPORA:
        start = time.perf_counter()
        dd = load_corpus(name, args.data_dir)
        seconds = time.perf_counter() - start
        print(json.dumps({"corpus": name, "load_seconds": round(seconds, 2), "splits": corpus_stats(dd)}))
        if args.describe:
            for split, ds in dd.items():
                print(f"  {split}: {ds.info.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
