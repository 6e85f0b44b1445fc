"""Throughput of the hasila-extract path against a naive transformers pipeline.

    python benchmarks/bench_extract.py --model models/hasila-ner --articles examples/articles.jsonl --n 200

Both sides read the same articles with the same model and end with incidents:

- hasila: ``Extractor.extract`` (normalize → words → windowed, length-sorted batches → decode →
  assembly → records) and JSONL serialization, as the command runs it, with its worker
  processes where the command would use them (``--workers``; on CUDA all cores but one);
- naive: ``transformers.pipeline("token-classification", aggregation_strategy="first")``
  over the normalized texts (one call with ``batch_size``, windows via ``stride``), its
  character spans turned into entities and passed to the same assembly.

The hasila side runs the model on ``--runtime`` (auto: what ``hasila-extract`` picks on this
machine, see ``infer/onnx_runtime.resolve_runtime``), and ``--also`` times it on other runtimes,
each in a process of its own, in the same run; the naive side always on PyTorch fp32, in a process of its own, so that
each side's peak memory (RSS, from the kernel's high-water mark) is its own.

Reported: articles/s and sub-word tokens/s (tokens counted once, outside the timing), then a
cProfile of one hasila pass summarized by stage, and the top functions (without workers), or
where the main process spent its time (with workers). ``--naive-n`` times the naive side on
the first N articles only (it is far slower on a GPU). ``--n`` repeats the
articles file as needed. Figures depend on the machine; say which when you report them.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import platform
import pstats
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def load_articles(path: Path, n: int) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        sys.exit(f"{path}: no articles")
    out = []
    for i, row in enumerate(itertools.islice(itertools.cycle(rows), n)):
        out.append({**row, "id": f"{row.get('id', 'doc')}#{i}"})
    return out


def encode_articles(clf, articles: list[dict]) -> list:
    """The model's input for each article (normalized, split, word ids), each distinct text
    encoded once (``--n`` repeats the file)."""
    from hasila.infer.normalize import normalize
    from hasila.infer.tokenize import split_words

    texts = list(dict.fromkeys(a["text"] for a in articles))
    normalized = [normalize(t).text for t in texts]
    encoded = dict(zip(texts, clf.encoder.encode([[t[s:e] for s, e in split_words(t)] for t in normalized])))
    return [encoded[a["text"]] for a in articles]


def count_tokens(clf, articles: list[dict]) -> int:
    return sum(len(e.ids) for e in encode_articles(clf, articles))


def run_hasila(extractor, articles: list[dict]) -> int:
    from hasila.infer.inputs import InputReader
    from hasila.infer.records import dumps

    sink = io.StringIO()
    incidents = 0
    docs = InputReader(defer_text_checks=extractor.workers > 0).docs_from_objects(articles)
    for record in extractor.extract(docs):
        sink.write(dumps(record) + "\n")
        incidents += len(record["incidents"])
    return incidents


def run_naive(nlp, articles: list[dict], batch_size: int, stride: int) -> int:
    import datetime as dt

    from hasila.infer.assembly import assemble_incidents
    from hasila.infer.normalize import normalize
    from hasila.infer.types import Entity, Span

    norms = [normalize(a["text"]) for a in articles]
    outputs = nlp([n.text for n in norms], batch_size=batch_size, stride=stride, aggregation_strategy="first")
    incidents = 0
    for a, norm, groups in zip(articles, norms, outputs):
        entities = [Entity(g["entity_group"], Span(g["start"], g["end"], norm.text[g["start"]:g["end"]], float(g["score"])))
                    for g in groups]
        date = dt.date.fromisoformat(a["date"][:10]) if a.get("date") else None
        incidents += len(assemble_incidents(norm, entities, date))
    return incidents


STAGES = (  # (stage, file suffix, function name(s)): cumulative time of these functions
    ("normalize", "infer/normalize.py", "normalize"),
    ("split words", "infer/tokenize.py", "split_words"),
    ("tokenizer (word ids)", "infer/model.py", "encode"),
    ("model (windows, forward, word scores)", "infer/model.py", "score"),
    ("  forward passes", "infer/model.py", "_run_windows"),
    ("decode", "infer/decode.py", ("decode_entities", "decode_tag_ids")),
    ("count kinds", "infer/casualty.py", "read_counts"),
    ("to original offsets", "infer/decode.py", "entity_to_original"),
    ("assembly", "infer/assembly/__init__.py", "assemble"),
    ("record + check", "infer/records.py", "ok_record"),
    ("record check", "infer/records.py", "check_record"),
    ("JSON", "infer/records.py", "dumps"),
)


def stage_summary(stats: pstats.Stats, total: float, stages=STAGES) -> list[tuple[str, float, float]]:
    rows = []
    for name, suffix, func in stages:
        funcs = (func,) if isinstance(func, str) else func
        t = sum(v[3] for (f, _, fn), v in stats.stats.items() if fn in funcs and f.replace("\\", "/").endswith(suffix))
        rows.append((name, t, 100.0 * t / total if total else 0.0))
    return rows


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (MiB). Linux: ``VmHWM``, the high-water mark of
    this process's own memory; not ``ru_maxrss``, which a spawned child inherits from its parent
    (the kernel keeps the larger of the two across fork and exec), so every side would report at
    least the parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_own_process(fn, *args):
    """``fn(*args)`` in a fresh (spawned) process: its own imports, model and peak memory."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
        return child.submit(fn, *args).result()


def naive_side(model_path: str, device: str, articles: list[dict], batch_size: int, stride: int, repeats: int,
               threads: int | None, dtype: str | None = None) -> dict:
    """The naive side in a fresh process (spawned): its time, incidents and peak RSS."""
    import torch
    from hasila.infer.model import TokenClassifier
    from transformers import pipeline

    if threads:
        torch.set_num_threads(threads)
    plain = TokenClassifier.load(model_path, device=device, dtype=dtype)
    nlp = pipeline("token-classification", model=plain.model, tokenizer=plain.tokenizer, device=torch.device(device))
    run_naive(nlp, articles[: min(8, len(articles))], batch_size, stride)  # warm-up
    best, inc = float("inf"), 0
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        inc = run_naive(nlp, articles, batch_size, stride)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return {"seconds": best, "incidents": inc, "peak_rss_mib": peak_rss_mib()}


def hasila_side(model_path: str, runtime: str, device: str, articles: list[dict], batch_size: int, repeats: int,
                threads: int | None) -> dict:
    """The hasila path on another runtime, in a fresh process (spawned): time, incidents, peak RSS."""
    import torch
    from hasila.infer.onnx_runtime import load_classifier
    from hasila.infer.pipeline import Extractor

    if threads:
        torch.set_num_threads(threads)
    clf = load_classifier(model_path, runtime=runtime, device=device, batch_size=batch_size)
    extractor = Extractor(clf, batch_size=batch_size, workers=0)
    run_hasila(extractor, articles[: min(8, len(articles))])  # warm-up
    best, inc = float("inf"), 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        inc = run_hasila(extractor, articles)
        best = min(best, time.perf_counter() - t0)
    return {"runtime": clf.runtime, "seconds": best, "incidents": inc, "peak_rss_mib": peak_rss_mib()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="model folder (default: $HASILA_MODEL, else models/hasila-ner)")
    p.add_argument("--articles", type=Path, default=REPO / "examples" / "articles.jsonl", help="JSONL of {id, text, date?}")
    p.add_argument("--n", type=int, default=64, help="number of articles (the file is repeated as needed)")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    p.add_argument("--repeats", type=int, default=1, help="timed passes per side (the best is reported)")
    p.add_argument("--top", type=int, default=20, help="functions to list from the profile")
    p.add_argument("--runtime", choices=("auto", "torch", "bf16", "onnx", "int8"), default="auto",
                   help="hasila side's model runtime (default: what hasila-extract uses on this machine)")
    p.add_argument("--also", action="append", default=[], choices=("torch", "bf16", "onnx", "int8"),
                   help="repeatable: time the hasila path on this runtime too, in a process of its own, in the same run")
    p.add_argument("--no-naive", action="store_true", help="skip the transformers pipeline baseline")
    p.add_argument("--naive-dtype", choices=("float32", "bfloat16"),
                   help="weights of the naive side (default float32, as transformers.pipeline loads them)")
    p.add_argument("--model-only", type=int, default=0, metavar="N",
                   help="also time the model alone (windows, forward passes, word scores) on N articles encoded beforehand")
    p.add_argument("--naive-n", type=int, help="articles for the naive side (default: all of --n)")
    p.add_argument("--workers", type=int, help="worker processes (default: what hasila-extract uses on this device)")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16"),
                   help="hasila side: load the weights in this type (default: fp32, CUDA under autocast)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args(argv)

    import torch
    from hasila.infer.model import find_model
    from hasila.infer.onnx_runtime import load_classifier
    from hasila.infer.pipeline import Extractor, default_workers

    if args.threads:
        torch.set_num_threads(args.threads)
    model_path = find_model(args.model)
    clf = load_classifier(model_path, runtime=args.runtime, device=args.device,
                          batch_size=args.batch_size, dtype=args.dtype)
    workers = default_workers(clf.device) if args.workers is None else args.workers
    extractor = Extractor(clf, batch_size=args.batch_size, workers=workers)
    articles = load_articles(args.articles, args.n)
    tokens = count_tokens(clf, articles)
    chars = sum(len(a["text"]) for a in articles)
    device = clf.device
    print(f"model {model_path} ({clf.info.name}, sha256 {str(clf.info.sha256)[:12]}), device {device}, "
          f"torch threads {torch.get_num_threads()}, {platform.processor() or platform.machine()}")
    if device.startswith("cuda"):
        print(f"GPU {torch.cuda.get_device_name(device)}")
    print(f"{len(articles)} articles, {chars:,} characters, {tokens:,} sub-word tokens; batch size {args.batch_size}, "
          f"{workers} worker processes, weights {args.dtype or 'float32'}, runtime {clf.runtime}")
    print(f"load average {' '.join(f'{x:.2f}' for x in __import__('os').getloadavg())} (1, 5, 15 min) at start")

    def timed(fn):
        best, result = float("inf"), None
        for _ in range(args.repeats):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            result = fn()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t0)
        return best, result

    t0 = time.perf_counter()
    run_hasila(extractor, articles[: min(8 * max(1, workers), len(articles))])  # warm-up (starts the workers)
    t_start = time.perf_counter() - t0
    extractor.timings = dict.fromkeys(extractor.timings, 0.0)
    t_h, inc_h = timed(lambda: run_hasila(extractor, articles))
    rss_h = peak_rss_mib()
    figures = {"device": device, "articles": len(articles), "tokens": tokens, "batch_size": args.batch_size,
               "runtime": clf.runtime, "window": clf.window, "stride": clf.stride, "workers": workers,
               "dtype": args.dtype or "float32", "warm_up_seconds": t_start,
               "hasila": {"seconds": t_h, "articles_per_s": len(articles) / t_h, "tokens_per_s": tokens / t_h,
                          "incidents": inc_h, "peak_rss_mib": rss_h}}
    print(f"\nhasila-extract path : {t_h:8.3f} s  {len(articles) / t_h:9.1f} articles/s  {tokens / t_h:11.0f} tokens/s  "
          f"({inc_h} incidents)  peak RSS {rss_h:.0f} MiB")

    if workers:
        share = {k: round(v / (t_h * args.repeats), 3) for k, v in extractor.timings.items()}
        figures["main_process_share"] = share
        print(f"  warm-up (starting {workers} workers, first {min(8 * workers, len(articles))} articles): {t_start:.2f} s; "
              f"main process time shares: " + ", ".join(f"{k} {100 * v:.1f} %" for k, v in share.items()))

    if args.model_only:
        some = articles[: args.model_only]
        encoded = encode_articles(clf, some)
        some_tokens = sum(len(e.ids) for e in encoded)
        t_m, _ = timed(lambda: clf.score(encoded, batch_size=args.batch_size))
        figures["model_only"] = {"articles": len(some), "seconds": t_m, "articles_per_s": len(some) / t_m,
                                 "tokens_per_s": some_tokens / t_m}
        print(f"model alone         : {t_m:8.3f} s  {len(some) / t_m:9.1f} articles/s  {some_tokens / t_m:11.0f} tokens/s  "
              f"({len(some)} articles encoded beforehand: the ceiling the model sets)")

    if not args.no_naive:
        stride = min(128, clf.window // 4)
        naive_articles = articles[: args.naive_n] if args.naive_n else articles
        naive_tokens = count_tokens(clf, naive_articles) if args.naive_n else tokens
        naive = in_own_process(naive_side, model_path, device, naive_articles, args.batch_size, stride, args.repeats,
                               args.threads, args.naive_dtype)
        t_n, inc_n = naive["seconds"], naive["incidents"]
        n_n = len(naive_articles)
        figures["naive"] = {"seconds": t_n, "articles": n_n, "articles_per_s": n_n / t_n,
                            "tokens_per_s": naive_tokens / t_n, "incidents": inc_n, "stride": stride,
                            "peak_rss_mib": naive["peak_rss_mib"]}
        speedup = (len(articles) / t_h) / (n_n / t_n)
        figures["speedup"] = speedup
        print(f"naive pipeline      : {t_n:8.3f} s  {n_n / t_n:9.1f} articles/s  {naive_tokens / t_n:11.0f} tokens/s  "
              f"({inc_n} incidents, {n_n} articles)  peak RSS {naive['peak_rss_mib']:.0f} MiB   speed-up x{speedup:.2f}")
        print(f"load average {' '.join(f'{x:.2f}' for x in __import__('os').getloadavg())} (1, 5, 15 min) at the end")
        figures["load_average_end"] = __import__("os").getloadavg()

    if args.also:
        figures["also"] = {}
        for runtime in args.also:
            r = in_own_process(hasila_side, model_path, runtime, device, articles, args.batch_size, args.repeats,
                               args.threads)
            r.update(articles_per_s=len(articles) / r["seconds"], tokens_per_s=tokens / r["seconds"])
            if "naive" in figures:
                r["speedup"] = r["articles_per_s"] / figures["naive"]["articles_per_s"]
            figures["also"][runtime] = r
            print(f"hasila, {r['runtime']:<11} : {r['seconds']:8.3f} s  {r['articles_per_s']:9.1f} articles/s  "
                  f"{r['tokens_per_s']:11.0f} tokens/s  ({r['incidents']} incidents)  peak RSS {r['peak_rss_mib']:.0f} MiB"
                  + (f"   speed-up x{r['speedup']:.2f}" if "speedup" in r else ""))

    if workers:  # the profile of the main process would show only waiting
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
        extractor.close()
        return 0
    profiler = cProfile.Profile()
    profiler.enable()
    t0 = time.perf_counter()
    run_hasila(extractor, articles)
    total = time.perf_counter() - t0
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"\nwhere the time goes (one profiled hasila pass, {total:.3f} s; profiling adds overhead):")
    stages = stage_summary(stats, total)
    for name, t, share in stages:
        print(f"  {name:<38} {t:8.3f} s  {share:5.1f} %")
    figures["profile"] = {name.strip(): round(t, 4) for name, t, _ in stages}
    print(f"\ntop {args.top} functions by own time:")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-6000:])
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":  # the guard is needed: worker processes re-import this module
    sys.exit(main())
