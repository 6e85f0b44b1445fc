"""CPU time of the pipeline around the model: everything but the forward passes, per article.

    python benchmarks/cpu_around_model.py --articles runs/bench_articles.jsonl --n 200 --repeats 5
    python benchmarks/cpu_around_model.py --compare ../base-checkout --rounds 4   # before/after

On a GPU the forward passes are cheap and the CPU work around them (normalization, word
splitting, word ids, window packing, word scores, the structure heads, decoding, count kinds,
assembly, records, JSON) caps the throughput. This times that work alone: the model runs once
(its outputs kept, in memory or in ``--forward-cache``), then the full ``Extractor`` pipeline
(``bench_extract.run_hasila``: input reading, extraction, JSONL serialization, no worker
processes) runs ``--repeats`` times with the forward call replaced by a replay of those outputs
— ``OnnxTokenClassifier.logits`` on ONNX Runtime, ``model(...)`` on PyTorch. Each replayed batch
is checked against the input ids it was recorded for, so a change to windows or packing is
reported, not silently mis-replayed. Reported: ms per article, best of the repeats, wall clock
and CPU time of this process (the replay's own few microseconds taken out), then one cProfile
pass by stage (``bench_extract.STAGES`` plus the steps it does not name).

``--compare DIR`` times another checkout (``DIR/infer``, ``DIR/train``: e.g. a ``git worktree`` of
the commit before a change) against this one in the same run: ``--rounds`` rounds, each a child
process per side (before, then after), all replaying the same ``--forward-cache``; the best of
each side is reported, then each side's profile. Only compare figures from the same run.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.abc
import importlib.util
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# The steps bench_extract.STAGES does not name (same form: stage, file suffix, function name).
EXTRA_STAGES = (
    ("input reading", "infer/inputs.py", "docs_from_objects"),
    ("  window packing", "infer/model.py", "_pack"),
    ("  replayed forward", "benchmarks/cpu_around_model.py", "_replay"),
    ("  word scores", "infer/model.py", "_collect_words"),
    ("  hidden states per word", "infer/model.py", "_collect_vectors"),
    ("whole figures", "infer/figures.py", "whole_figures"),
    ("count lists", "infer/casualty.py", "complete_count_lists"),
    ("heads: figure roles", "infer/structure.py", "analyse"),
    ("heads: fields", "infer/structure.py", "fill_fields"),
    ("input fields + producer", "infer/records.py", "add_input_fields"),
)


# The steps the pipeline calls (names in hasila.infer.pipeline, or where noted), for the clocked
# pass: (row, names); a name the checkout lacks is skipped (decode_entities before decode_tag_ids).
CLOCKED = (
    ("normalize", ("normalize",)),
    ("split words", ("split_words",)),
    ("word ids (tokenizer)", ("encoder.encode",)),
    ("model stage around the forward", ("classifier.score",)),
    ("  window packing", ("classifier._pack",)),  # nested rows (two spaces) are parts of the row above
    ("  forward outputs to tag ids (+ float16)", ("classifier._run_windows",)),
    ("decode", ("decode_entities", "decode_tag_ids", "word_predictions")),
    ("whole figures", ("whole_figures",)),
    ("count kinds", ("read_counts",)),
    ("count lists", ("complete_count_lists",)),
    ("heads: figure roles", ("analyse", "kept_entities")),
    ("assembly", ("assemble",)),
    ("heads: fields", ("fill_fields",)),
    ("to original offsets", ("entity_to_original",)),
    ("record", ("ok_record",)),
    ("figure roles in the record", ("Structure.roles_json",)),
    ("record check", ("check_record",)),
    ("input fields + producer", ("add_input_fields",)),
    ("JSON", ("records.dumps",)),
)


def use_checkout(root: Path) -> None:
    """Import ``hasila``, ``hasila.infer`` and ``hasila.train`` from the checkout at ``root``,
    whatever is installed (the package maps ``infer/`` and ``train/`` to those names)."""
    where = {"hasila": root / "hasila", "hasila.infer": root / "infer", "hasila.train": root / "train"}

    class Checkout(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):  # noqa: ANN001
            if name not in where:
                return None
            return importlib.util.spec_from_file_location(name, where[name] / "__init__.py",
                                                          submodule_search_locations=[str(where[name])])

    sys.meta_path.insert(0, Checkout())


def _bench_extract():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_extract

    return bench_extract


class ForwardReplay:
    """Records the classifier's forward outputs once, then replays them in call order."""

    def __init__(self, clf: Any) -> None:
        self.clf = clf
        self.inputs: list[Any] = []  # input ids per batch, to check the replay against
        self.outputs: list[tuple[Any, Any]] = []  # (logits, last hidden state or None) per batch
        self.recording = True
        self.calls = 0
        self.seconds = 0.0  # spent in the replay itself (taken out of the figures)
        if hasattr(clf, "session"):  # ONNX Runtime: the forward pass is logits(input_ids, mask)
            real = clf.logits
            clf.logits = lambda input_ids, mask: self._replay(real, input_ids, (input_ids, mask))
        else:  # PyTorch: the forward pass is model(input_ids=..., attention_mask=..., ...)
            clf.model = _TorchModel(clf.model, self)

    def _replay(self, real: Any, ids: Any, args: tuple, kwargs: dict | None = None) -> Any:
        t0 = time.perf_counter()
        if self.recording:
            out = real(*args, **(kwargs or {}))
            self.inputs.append(_numpy(ids).copy())
            self.outputs.append(_keep(out))
        else:
            k = self.calls
            if k >= len(self.outputs) or not _same(self.inputs[k], ids):
                raise SystemExit(f"replay: batch {k} is not the batch recorded (windows or packing changed)")
            out = self.outputs[k]
            if not hasattr(self.clf, "session"):
                import types

                out = types.SimpleNamespace(logits=out[0], hidden_states=(out[1],))
        self.calls += 1
        self.seconds += time.perf_counter() - t0
        return out

    def start_replay(self) -> None:
        self.recording = False
        self.calls = 0
        self.seconds = 0.0

    def save(self, path: Path) -> None:
        import numpy as np

        arrays = {}
        for k, (ids, (logits, hs)) in enumerate(zip(self.inputs, self.outputs)):
            arrays[f"ids{k}"] = ids
            arrays[f"logits{k}"] = _numpy(logits)
            if hs is not None:  # float16 on disk: the pipeline rounds hidden states to it at once
                arrays[f"hs{k}"] = _numpy(hs).astype(np.float16)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            np.savez(fh, n=np.asarray(len(self.inputs)), **arrays)

    def load(self, path: Path) -> None:
        import numpy as np

        torch_side = not hasattr(self.clf, "session")
        with np.load(path) as z:
            for k in range(int(z["n"])):
                logits = z[f"logits{k}"]
                hs = z[f"hs{k}"].astype(np.float32) if f"hs{k}" in z.files else None
                if torch_side:
                    import torch

                    logits = torch.from_numpy(logits)
                    hs = torch.from_numpy(hs) if hs is not None else None
                self.inputs.append(z[f"ids{k}"])
                self.outputs.append((logits, hs))
        self.start_replay()


class _TorchModel:
    def __init__(self, model: Any, replay: ForwardReplay) -> None:
        self._model, self._replay_to = model, replay
        self.config = model.config

    def __call__(self, **kwargs: Any) -> Any:
        return self._replay_to._replay(self._model, kwargs["input_ids"], (), kwargs)


def _numpy(x: Any) -> Any:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else x


def _keep(out: Any) -> tuple[Any, Any]:
    if isinstance(out, tuple):  # ONNX: (logits, hidden states or None)
        return out
    hs = out.hidden_states[-1].detach().clone() if getattr(out, "hidden_states", None) else None
    return out.logits.detach().clone(), hs


def _same(a: Any, b: Any) -> bool:
    import numpy as np

    b = _numpy(b)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def clocked_pass(be: Any, extractor: Any, articles: list[dict], replay: ForwardReplay) -> tuple[float, list]:
    """One pass with a clock around each step of :data:`CLOCKED` (no profiler: the clocks cost
    about a microsecond a call); returns the pass's seconds and (row, seconds) per step, the
    replayed forward taken out of the model stage, and what no clock saw as "rest"."""
    import hasila.infer.pipeline as pipeline
    import hasila.infer.records as records
    import hasila.infer.structure as structure

    clock: dict[str, float] = {}
    undo: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, attr: str, row: str) -> None:
        fn = getattr(owner, attr)

        def timed(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                clock[row] += time.perf_counter() - t0

        undo.append((owner, attr, fn))
        setattr(owner, attr, timed)

    owners = {"encoder": extractor.classifier.encoder, "classifier": extractor.classifier, "records": records,
              "Structure": structure.Structure}
    for row, names in CLOCKED:
        clock[row] = 0.0
        for name in names:
            where, _, attr = name.rpartition(".")
            owner = owners[where] if where else pipeline
            if hasattr(owner, attr):
                wrap(owner, attr, row)
    replay.start_replay()
    try:
        t0 = time.perf_counter()
        be.run_hasila(extractor, articles)
        total = time.perf_counter() - t0 - replay.seconds
    finally:
        for owner, attr, fn in reversed(undo):
            setattr(owner, attr, fn)
    clock["model stage around the forward"] -= replay.seconds
    # the nested rows: packing inside _run_windows, which holds the replay too
    clock["  forward outputs to tag ids (+ float16)"] -= replay.seconds + clock["  window packing"]
    rows = list(clock.items())
    rows.append(("rest (input reading, chunks, ...)", total - sum(t for name, t in rows if not name.startswith(" "))))
    return total, rows


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Times the pipeline with the forward passes replayed; returns the figures."""
    be = _bench_extract()
    from hasila.infer.model import find_model
    from hasila.infer.onnx_runtime import load_classifier
    from hasila.infer.pipeline import Extractor

    clf = load_classifier(find_model(args.model), runtime=args.runtime, device="cpu", batch_size=args.batch_size,
                          threads=1)
    extractor = Extractor(clf, batch_size=args.batch_size, workers=0)
    articles = be.load_articles(args.articles, args.n)
    replay = ForwardReplay(clf)
    cache = args.forward_cache
    if cache is not None and cache.exists():
        replay.load(cache)
    else:
        t0 = time.perf_counter()
        be.run_hasila(extractor, articles)  # the forward passes, once
        print(f"forward passes recorded ({len(replay.outputs)} batches, {time.perf_counter() - t0:.1f} s)",
              file=sys.stderr)
        if cache is not None:
            replay.save(cache)
    replay.start_replay()
    be.run_hasila(extractor, articles)  # warm-up: word-id cache, lazily built tables
    n = len(articles)
    wall = cpu = float("inf")
    incidents = 0
    for _ in range(args.repeats):
        replay.start_replay()
        t0, c0 = time.perf_counter(), time.process_time()
        incidents = be.run_hasila(extractor, articles)
        w, c = time.perf_counter() - t0 - replay.seconds, time.process_time() - c0 - replay.seconds
        wall, cpu = min(wall, w), min(cpu, c)
    figures: dict[str, Any] = {
        "checkout": str(Path(sys.modules["hasila.infer"].__file__).parent.parent), "articles": n,
        "runtime": clf.runtime, "batch_size": args.batch_size, "repeats": args.repeats, "incidents": incidents,
        "batches": len(replay.outputs), "wall_ms_per_article": 1000 * wall / n, "cpu_ms_per_article": 1000 * cpu / n,
        "load_average": os.getloadavg(),
    }
    if args.profile:
        figures["clocked_seconds"], figures["clocked"] = clocked_pass(be, extractor, articles, replay)
    if args.write_records:  # the records of one more pass, to compare checkouts byte for byte
        from hasila.infer.inputs import InputReader
        from hasila.infer.records import dumps

        replay.start_replay()
        lines = [dumps(r) + "\n" for r in extractor.extract(InputReader().docs_from_objects(articles))]
        args.write_records.write_text("".join(lines), encoding="utf-8")
    if args.profile:
        profiler = cProfile.Profile()
        replay.start_replay()
        profiler.enable()
        t0 = time.perf_counter()
        be.run_hasila(extractor, articles)
        total = time.perf_counter() - t0
        profiler.disable()
        stats = pstats.Stats(profiler)
        rows = be.stage_summary(stats, total, be.STAGES + EXTRA_STAGES)
        figures["profile_seconds"] = total
        figures["profile"] = [(name, t) for name, t, _ in rows]
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        figures["top"] = "\n".join(line for line in out.getvalue().splitlines() if line.strip())
    return figures


def report(figures: dict[str, Any], top: bool = True) -> None:
    n = figures["articles"]
    print(f"{figures['checkout']}: {n} articles, runtime {figures['runtime']}, {figures['batches']} replayed batches, "
          f"{figures['incidents']} incidents")
    print(f"  around the model, best of {figures['repeats']}: {figures['wall_ms_per_article']:.3f} ms/article wall, "
          f"{figures['cpu_ms_per_article']:.3f} ms/article CPU")
    if "clocked" in figures:
        print(f"  one clocked pass: {1000 * figures['clocked_seconds'] / n:.3f} ms/article")
        for name, t in figures["clocked"]:
            print(f"    {name:<40} {1000 * t / n:7.3f} ms/article")
    if "profile" in figures:
        print(f"  one profiled pass: {figures['profile_seconds']:.3f} s (profiling adds overhead)")
        for name, t in figures["profile"]:
            print(f"    {name:<40} {t:8.3f} s  {1000 * t / n:7.3f} ms/article")
        if top:
            print(figures["top"][-6000:])


def compare(args: argparse.Namespace) -> int:
    """Before (``--compare DIR``) and after (this checkout), interleaved in child processes."""
    base = args.compare.resolve()
    sides = (("before", base), ("after", REPO))
    with tempfile.TemporaryDirectory(prefix="cpu-around-") as tmp:
        cache = args.forward_cache or Path(tmp) / "forward.npz"

        def child(root: Path, repeats: int, profile: bool) -> dict[str, Any]:
            out = Path(tmp) / "figures.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--src", str(root), "--articles", str(args.articles),
                   "--n", str(args.n), "--repeats", str(repeats), "--batch-size", str(args.batch_size),
                   "--runtime", args.runtime, "--forward-cache", str(cache), "--json", str(out), "--top", str(args.top)]
            cmd += ["--model", args.model] if args.model else []
            cmd += [] if profile else ["--no-profile"]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            return json.loads(out.read_text(encoding="utf-8"))

        best: dict[str, dict[str, Any]] = {}
        for r in range(args.rounds):
            for name, root in sides:
                f = child(root, args.repeats, profile=False)
                print(f"round {r + 1} {name:<6}: {f['wall_ms_per_article']:.3f} ms/article wall, "
                      f"{f['cpu_ms_per_article']:.3f} CPU (load {f['load_average'][0]:.2f})", flush=True)
                b = best.setdefault(name, f)
                b["wall_ms_per_article"] = min(b["wall_ms_per_article"], f["wall_ms_per_article"])
                b["cpu_ms_per_article"] = min(b["cpu_ms_per_article"], f["cpu_ms_per_article"])
        profiles = {name: child(root, 1, profile=True) for name, root in sides}
    n = args.n
    print(f"\nbest of {args.rounds} rounds x {args.repeats} repeats ({n} articles):")
    for name, _ in sides:
        print(f"  {name:<6} {best[name]['wall_ms_per_article']:.3f} ms/article wall, "
              f"{best[name]['cpu_ms_per_article']:.3f} ms/article CPU")
    ratio = best["after"]["cpu_ms_per_article"] / best["before"]["cpu_ms_per_article"]
    print(f"  after/before (CPU): {ratio:.3f}")
    cb, ca = dict(profiles["before"]["clocked"]), dict(profiles["after"]["clocked"])
    print(f"\nper step, one clocked pass each (ms/article): before -> after")
    print(f"    {'total':<40} {1000 * profiles['before']['clocked_seconds'] / n:8.3f} -> "
          f"{1000 * profiles['after']['clocked_seconds'] / n:8.3f}")
    for name in cb:
        print(f"    {name:<40} {1000 * cb[name] / n:8.3f} -> {1000 * ca.get(name, 0.0) / n:8.3f}")
    print(f"\nper stage, one profiled pass each (ms/article, with profiling overhead): before -> after")
    pb, pa = dict(profiles["before"]["profile"]), dict(profiles["after"]["profile"])
    print(f"    {'total':<40} {1000 * profiles['before']['profile_seconds'] / n:8.3f} -> "
          f"{1000 * profiles['after']['profile_seconds'] / n:8.3f}")
    for name in pb:
        print(f"    {name:<40} {1000 * pb[name] / n:8.3f} -> {1000 * pa.get(name, 0.0) / n:8.3f}")
    if args.json:
        args.json.write_text(json.dumps({"best": best, "after_over_before_cpu": ratio, "profiles": profiles},
                                        indent=1), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=Path, default=REPO / "runs" / "bench_articles.jsonl",
                   help="JSONL of {id, text, date?} (default: runs/bench_articles.jsonl, benchmarks/snn_articles.py)")
    p.add_argument("--n", type=int, default=200, help="number of articles (the file is repeated as needed)")
    p.add_argument("--repeats", type=int, default=5, help="timed passes (the best is reported)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.add_argument("--model", help="model folder (default: $HASILA_MODEL, else models/hasila-ner)")
    p.add_argument("--runtime", choices=("auto", "torch", "bf16", "onnx", "int8"), default="onnx")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--forward-cache", type=Path, help="keep the recorded forward outputs in this .npz (reused if there)")
    p.add_argument("--no-profile", dest="profile", action="store_false", help="skip the profiled pass")
    p.add_argument("--write-records", type=Path, metavar="JSONL",
                   help="also write the records (forward replayed) to this file, e.g. to cmp two checkouts")
    p.add_argument("--top", type=int, default=25, help="functions to list from the profile")
    p.add_argument("--src", type=Path, help="import hasila from this checkout instead of the installed one")
    p.add_argument("--compare", type=Path, metavar="DIR", help="time checkout DIR (before) against this one (after)")
    p.add_argument("--rounds", type=int, default=3, help="with --compare: child processes per side")
    args = p.parse_args(argv)
    if args.compare:
        return compare(args)
    use_checkout(args.src.resolve() if args.src else REPO)
    figures = measure(args)
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
