"""Throughput of ``hasila-extract --ray`` against one process, on the same documents in one run.

    python benchmarks/snn_articles.py --n 120 -o runs/bench_articles.jsonl
    python benchmarks/bench_ray.py --articles runs/bench_articles.jsonl --files 4 --actors 2 --cpus 2

The articles are split into ``--files`` JSONL files (under runs/, corpus text stays out of the
repository). One process: one Extractor (threads = ``--cpus``), the files one after the other
(model loaded before the clock starts). Ray: a local instance with ``--cpus`` CPUs,
``--actors`` actors of ``--cpus/--actors`` threads each, timed from the call of the pipeline to
the last shard written (actor start-up and model loads included; ``ray.init`` reported apart).
Both write JSONL; the script reports whether each shard equals the one-process output for its
file byte for byte.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--articles", type=Path, required=True)
    p.add_argument("--files", type=int, default=4)
    p.add_argument("--actors", type=int, default=2)
    p.add_argument("--cpus", type=int, default=2)
    p.add_argument("--model", default=None)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--work", type=Path, default=Path("runs/bench_ray"))
    p.add_argument("--order", choices=("single-first", "ray-first"), default="single-first")
    args = p.parse_args(argv)

    rows = args.articles.read_text(encoding="utf-8").splitlines()
    shutil.rmtree(args.work, ignore_errors=True)
    inputs = args.work / "in"
    inputs.mkdir(parents=True)
    per = -(-len(rows) // args.files)
    files = []
    for i in range(args.files):
        path = inputs / f"part{i:03d}.jsonl"
        path.write_text("".join(r + "\n" for r in rows[i * per:(i + 1) * per]), encoding="utf-8")
        files.append(path)
    chars = sum(len(json.loads(r)["text"]) for r in rows)
    print(f"{len(rows)} articles ({chars:,} characters) in {args.files} files")

    results = {}
    for which in (("single", "ray") if args.order == "single-first" else ("ray", "single")):
        results[which] = (_single if which == "single" else _ray)(args, files)
        print(f"{which}: {results[which]:.1f} s", flush=True)
    single_s, ray_s = results["single"], results["ray"]
    same = all((args.work / "single" / f.name).read_bytes() == (args.work / "ray" / "in" / f.name).read_bytes()
               for f in files)
    print(f"one process, {args.cpus} threads: {single_s:.1f} s, {len(rows) / single_s:.2f} articles/s")
    print(f"Ray, {args.actors} actors x {args.cpus // args.actors} threads: {ray_s:.1f} s, {len(rows) / ray_s:.2f} articles/s"
          f" (x{single_s / ray_s:.2f})")
    print(f"shards byte-identical to the one-process output: {same}")
    return 0


def _single(args, files) -> float:
    import torch

    from hasila.infer.inputs import InputReader
    from hasila.infer.model import TokenClassifier, find_model
    from hasila.infer.pipeline import Extractor
    from hasila.infer.records import dumps

    torch.set_num_threads(args.cpus)
    classifier = TokenClassifier.load(find_model(args.model), device="cpu", batch_size=args.batch_size)
    extractor = Extractor(classifier, batch_size=args.batch_size, workers=0)
    out = args.work / "single"
    out.mkdir()
    t0 = time.perf_counter()
    for f in files:
        text = "".join(dumps(r) + "\n" for r in extractor.extract(InputReader().read([str(f)])))
        (out / f.name).write_text(text, encoding="utf-8")
    return time.perf_counter() - t0


def _ray(args, files) -> float:
    import ray

    from hasila.infer.distributed import RayOptions, run_distributed

    t0 = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    print(f"ray.init: {time.perf_counter() - t0:.1f} s")
    threads = max(1, args.cpus // args.actors)
    options = RayOptions(model=args.model, batch_size=args.batch_size, threads=threads, actors=args.actors,
                         cpus_per_actor=args.cpus / args.actors)
    try:
        result = run_distributed([str(files[0].parent)], str(args.work / "ray"), options)
    finally:
        ray.shutdown()
    return result.seconds


if __name__ == "__main__":
    raise SystemExit(main())
