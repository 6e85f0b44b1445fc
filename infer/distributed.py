"""``hasila-extract --ray``: the same extraction spread over a Ray cluster with Ray Data.

    hasila-extract --ray auto corpus/ s3://bucket/news/ -o s3://bucket/hasila-out/ --actors 8
    hasila-extract --ray local news/*.jsonl -o out/ --actors 2        # a local Ray instance

Inputs are local paths or any URL that fsspec reaches (``s3://``, ``gs://``, ``abfs://``,
``memory://``; the filesystem package, e.g. ``s3fs``, must be installed on every node):

- a ``.jsonl``/``.ndjson`` file: one shard, read exactly as ``hasila-extract FILE`` reads it;
- a ``.parquet`` file: one shard, its rows read like JSONL lines (columns ``id``, ``text``,
  ``date``?, ``source``?, ``url``?; positions ``FILE:ROW`` from 1);
- any other file: one shard holding that one text document;
- a folder: its JSONL and Parquet files (recursively) one shard each, and the ``.txt`` files
  of each folder one shard per folder (ids = paths, sorted by name).

The work is a Ray Data pipeline: a read task per shard cuts it into chunks of documents at the
same positions as the single-machine command (``chunk_size`` documents, from the batch size);
``map_batches`` sends each chunk to an actor pool in which every actor holds one
:class:`~hasila.infer.pipeline.Extractor` (no worker processes of its own; ``num_gpus=1`` per
actor with ``--device cuda``); the driver gathers the chunks of each shard and writes it. So a
shard's records are byte for byte those of ``hasila-extract SHARD_INPUT`` with the same model,
batch size, dtype and device: same ids, order and error records (ids are checked for duplicates
within a shard, as the single command does within its inputs).

Output (``-o FOLDER``, local or fsspec URL): one file per shard, ``<input path below the input
argument's parent>`` with its suffix replaced by ``.jsonl`` (``--output-format parquet``:
``.parquet`` with columns ``doc_id, status, error_type, incidents, record``, the record as its
JSON line); a folder of ``.txt`` files gives ``<folder>/_texts.jsonl``. Each shard is written
atomically (a temporary file renamed on local disk; one PUT on object stores), then listed in
``_manifest.json`` with the input's SHA-256 and the output's. A rerun with the same options
skips the shards listed and does the rest; a listed shard whose input changed is refused (exit
2), as are changed settings. Ray retries a chunk whose actor died (``max_restarts``/
``max_task_retries``); chunks are gathered by (shard, position), so nothing is lost or written
twice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import logging
import os
import posixpath
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from hasila.infer.inputs import JSONL_SUFFIXES, InputDoc, InputError, InputReader
from hasila.infer.types import HasilaError

log = logging.getLogger("hasila.extract")

MANIFEST = "_manifest.json"
MANIFEST_VERSION = 1
TXT_SHARD = "_texts"
PARQUET_SUFFIXES = (".parquet", ".pq")


class DistributedError(HasilaError):
    """A distributed run cannot start as asked (bad inputs or output folder, changed inputs)."""


# -- files: local paths and fsspec URLs ------------------------------------------------------------


def _fs(url: str):
    import fsspec

    return fsspec.core.url_to_fs(url)


def _is_local(fs) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,))


def _join(base: str, rel: str) -> str:
    if not rel:
        return base
    return base.rstrip("/") + "/" + rel if "://" in base else os.path.join(base, rel)


@dataclass
class Shard:
    """One unit of input, one output file."""

    kind: str          # "jsonl" | "parquet" | "text" (one file) | "txtdir" (the .txt files of a folder)
    name: str          # the output file name below -o, without suffix
    paths: list[str]   # as the user gave them (+ the relative part): ids and messages use these
    fingerprint: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "paths": self.paths}


def plan_shards(inputs: list[str]) -> list[Shard]:
    """The shards of the inputs, in input order; raises DistributedError for missing inputs or
    two inputs that would write the same output file."""
    shards: list[Shard] = []
    for arg in inputs:
        fs, root = _fs(arg)
        if not fs.exists(root):
            raise DistributedError(f"input {arg!r} does not exist")
        if not fs.isdir(root):
            shards.append(_file_shard(arg, posixpath.basename(root.rstrip("/"))))
            continue
        top = posixpath.basename(root.rstrip("/")) or "input"
        texts: dict[str, list[str]] = {}
        for path in sorted(fs.find(root)):
            rel = posixpath.relpath(path, root)
            if rel.lower().endswith(".txt"):
                texts.setdefault(posixpath.dirname(rel), []).append(rel)
            elif rel.lower().endswith(JSONL_SUFFIXES + PARQUET_SUFFIXES):
                shards.append(_file_shard(_join(arg, rel), posixpath.join(top, rel)))
        for folder in sorted(texts):
            files = sorted(texts[folder], key=lambda r: r.split("/"))
            shards.append(Shard("txtdir", posixpath.join(top, folder, TXT_SHARD), [_join(arg, r) for r in files]))
    seen: dict[str, str] = {}
    for shard in shards:
        if shard.name in seen:
            raise DistributedError(f"inputs {seen[shard.name]!r} and {shard.paths[0]!r} would both write the shard "
                                   f"{shard.name!r}; rename one or run them into different output folders")
        seen[shard.name] = shard.paths[0]
    if not shards:
        raise DistributedError("the inputs hold no .jsonl, .parquet or .txt files")
    return shards


def _file_shard(path: str, rel: str) -> Shard:
    low = rel.lower()
    for suffix in JSONL_SUFFIXES + PARQUET_SUFFIXES:
        if low.endswith(suffix):
            kind = "parquet" if suffix in PARQUET_SUFFIXES else "jsonl"
            return Shard(kind, rel[: -len(suffix)], [path])
    return Shard("text", rel.rsplit(".", 1)[0] if "." in posixpath.basename(rel) else rel, [path])


def _read_bytes(path: str) -> bytes:
    fs, p = _fs(path)
    with fs.open(p, "rb") as fh:
        return fh.read()


def shard_fingerprint(shard: Shard) -> str:
    """SHA-256 over the shard's input files (names and bytes)."""
    h = hashlib.sha256()
    for path in shard.paths:
        data = _read_bytes(path)
        h.update(len(path.encode()).to_bytes(8, "big") + path.encode() + len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


# -- reading a shard into documents (runs in a Ray task) ----------------------------------------


def _doc_to_json(doc: InputDoc) -> dict[str, Any]:
    return {"doc_id": doc.doc_id, "text": doc.text, "error": [doc.error.type, doc.error.message] if doc.error else None,
            "date": doc.date.isoformat() if doc.date else None, "source": doc.source, "url": doc.url,
            "where": doc.where}


def _doc_from_json(d: dict[str, Any]) -> InputDoc:
    return InputDoc(d["doc_id"], text=d["text"], error=InputError(*d["error"]) if d["error"] else None,
                    date=dt.date.fromisoformat(d["date"]) if d["date"] else None, source=d["source"], url=d["url"],
                    where=d["where"])


def _parquet_value(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def read_shard(shard: Shard, reader: InputReader) -> tuple[list[InputDoc], str]:
    """The shard's documents (bad ones with their errors, as hasila-extract makes them) and the
    SHA-256 of its input bytes."""
    h = hashlib.sha256()
    docs: list[InputDoc] = []
    for path in shard.paths:
        try:
            data = _read_bytes(path)
        except OSError as exc:
            h.update(b"unreadable:" + path.encode())
            docs.append(reader._finish(InputDoc(path, error=InputError("read_error", f"{path}: cannot read: {exc}"),
                                                where=path)))
            continue
        h.update(len(path.encode()).to_bytes(8, "big") + path.encode() + len(data).to_bytes(8, "big"))
        h.update(data)
        if shard.kind == "jsonl":
            docs.extend(reader._jsonl_docs(path, io.BytesIO(data)))
        elif shard.kind == "parquet":
            docs.extend(_parquet_docs(path, data, reader))
        else:
            if len(data) > 4 * reader.max_chars + 3:
                docs.append(reader._text_doc(path, (None, InputError(
                    "too_long", f"{path}: {len(data):,} bytes, over the limit of {reader.max_chars:,} characters (--max-chars)"))))
            else:
                docs.append(reader._text_doc(path, (data, None)))
    return docs, h.hexdigest()


def _parquet_docs(path: str, data: bytes, reader: InputReader) -> Iterator[InputDoc]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # not Parquet, truncated file: one error record for the file
        yield reader._finish(InputDoc(path, error=InputError("bad_parquet", f"{path}: cannot read as Parquet: {exc}"),
                                      where=path))
        return
    columns = [c for c in ("id", "text", "date", "source", "url") if c in table.column_names]
    for i, row in enumerate(table.select(columns).to_pylist(), start=1):
        yield reader._object_doc({k: _parquet_value(v) for k, v in row.items()}, f"{path}:{i}")


def _chunk_rows(row: dict[str, Any], *, chunk_size: int, reader_options: dict[str, Any]) -> list[dict[str, Any]]:
    """Ray Data flat_map: one shard → its chunks (the single command's chunk positions)."""
    shard = Shard(**json.loads(row["shard"]))
    reader_options = dict(reader_options)
    date = reader_options.pop("default_date")
    reader = InputReader(default_date=dt.date.fromisoformat(date) if date else None, **reader_options)
    docs, fingerprint = read_shard(shard, reader)
    chunks = [docs[i:i + chunk_size] for i in range(0, len(docs), chunk_size)] or [[]]
    return [{"shard": row["index"], "chunk": j, "n_chunks": len(chunks), "fingerprint": fingerprint,
             "docs": json.dumps([_doc_to_json(d) for d in chunk], ensure_ascii=False)}
            for j, chunk in enumerate(chunks)]


# -- the actor ---------------------------------------------------------------------------------


class ChunkExtractor:
    """A Ray Data actor: one Extractor, one chunk of documents per call → its JSONL lines."""

    def __init__(self, model: str | None, device: str, dtype: str | None, batch_size: int, stride: int | None,
                 threads: int | None, chunk_size: int, runtime: str | None = "auto") -> None:
        from hasila.infer.model import find_model
        from hasila.infer.onnx_runtime import load_classifier
        from hasila.infer.pipeline import Extractor

        if threads:
            import torch

            torch.set_num_threads(threads)
        # The runtime is resolved here, on the actor's machine ("auto" follows its CPU / GPU, as
        # the one-machine command does): name one with --runtime for a cluster of mixed machines.
        classifier = load_classifier(find_model(model), runtime=runtime, device=device, dtype=dtype,
                                     batch_size=batch_size, stride=stride, threads=threads)
        self.extractor = Extractor(classifier, batch_size=batch_size, chunk_size=chunk_size, workers=0)
        self.pid = os.getpid()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        from hasila.infer.records import dumps

        out: dict[str, list[Any]] = {k: [] for k in ("shard", "chunk", "n_chunks", "fingerprint", "lines", "docs",
                                                      "errors", "incidents", "pid")}
        for i in range(len(batch["shard"])):
            docs = [_doc_from_json(d) for d in json.loads(batch["docs"][i])]
            records = [record for _, record in self.extractor.extract_pairs(docs)]
            for key in ("shard", "chunk", "n_chunks", "fingerprint"):
                out[key].append(batch[key][i])
            out["lines"].append("".join(dumps(r) + "\n" for r in records))
            out["docs"].append(len(records))
            out["errors"].append(sum(r["status"] == "error" for r in records))
            out["incidents"].append(sum(len(r.get("incidents") or ()) for r in records))
            out["pid"].append(self.pid)
        return out


# -- writing -----------------------------------------------------------------------------------


def _write_atomic(url: str, data: bytes) -> None:
    fs, path = _fs(url)
    if _is_local(fs):
        from pathlib import Path

        from hasila.infer.writers import fsync_dir

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".partial")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
    else:  # object stores: one PUT is all or nothing
        parent = posixpath.dirname(path)
        if parent:
            fs.makedirs(parent, exist_ok=True)
        fs.pipe_file(path, data)


def _parquet_bytes(lines: str) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = lines.splitlines()
    records = [json.loads(line) for line in rows]
    table = pa.table({
        "doc_id": pa.array([r["doc_id"] for r in records], pa.string()),
        "status": pa.array([r["status"] for r in records], pa.string()),
        "error_type": pa.array([(r.get("error") or {}).get("type") for r in records], pa.string()),
        "incidents": pa.array([len(r.get("incidents") or ()) for r in records], pa.int32()),
        "record": pa.array(rows, pa.string()),
    })
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


@dataclass
class RunResult:
    shards: int = 0
    skipped: int = 0
    docs: int = 0
    errors: int = 0
    incidents: int = 0
    seconds: float = 0.0
    pids: set[int] = field(default_factory=set)


class Manifest:
    def __init__(self, output: str, settings: dict[str, Any]) -> None:
        self.url = _join(output, MANIFEST)
        self.settings = settings
        self.shards: dict[str, dict[str, Any]] = {}

    def load(self) -> bool:
        fs, path = _fs(self.url)
        if not fs.exists(path):
            return False
        try:
            data = json.loads(_read_bytes(self.url))
        except (OSError, ValueError) as exc:
            raise DistributedError(f"{self.url}: unreadable manifest ({exc})") from None
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            raise DistributedError(f"{self.url}: not a manifest of this version")
        # Actors of 0.2.0 ran PyTorch fp32 whatever --runtime said: resuming such a run needs --runtime torch.
        written = {"runtime": "torch", **data["settings"]}
        if written != self.settings:
            diff = sorted(k for k in set(written) | set(self.settings) if written.get(k) != self.settings.get(k))
            raise DistributedError(f"{self.url}: written with other settings ({', '.join(diff)}); run again with "
                                   "the same options, or write to a new output folder")
        self.shards = data["shards"]
        return True

    def save(self) -> None:
        data = {"version": MANIFEST_VERSION, "settings": self.settings, "shards": self.shards}
        _write_atomic(self.url, (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8"))


# -- the run -----------------------------------------------------------------------------------


@dataclass
class RayOptions:
    model: str | None = None
    device: str = "cpu"
    dtype: str | None = None
    runtime: str | None = "auto"
    batch_size: int | None = None
    stride: int | None = None
    threads: int | None = None
    actors: int = 1
    cpus_per_actor: float = 1.0
    output_format: str = "jsonl"
    date: dt.date | None = None
    max_chars: int | None = None
    min_arabic_share: float | None = None


def run_distributed(inputs: list[str], output: str, options: RayOptions, *,
                    on_chunk: Callable[[dict[str, Any]], None] | None = None, progress: bool = False) -> RunResult:
    """Extract every shard of ``inputs`` into ``output`` with Ray Data (ray.init must have run)."""
    import ray

    from hasila.infer.inputs import DEFAULT_MAX_CHARS, DEFAULT_MIN_ARABIC_SHARE
    from hasila.infer.model import find_model
    from hasila.infer.pipeline import default_batch_size, default_chunk_size

    t0 = time.perf_counter()
    cuda = str(options.device).startswith("cuda")
    batch_size = options.batch_size or default_batch_size("cuda" if cuda else "cpu")
    chunk_size = default_chunk_size(batch_size)
    model_dir = find_model(options.model)
    reader_options = {"max_chars": options.max_chars or DEFAULT_MAX_CHARS,
                      "min_arabic_share": DEFAULT_MIN_ARABIC_SHARE if options.min_arabic_share is None
                      else options.min_arabic_share,
                      "default_date": options.date.isoformat() if options.date else None}
    settings = {"model": _model_id(model_dir), "format": options.output_format, "device": options.device,
                "dtype": options.dtype, "runtime": options.runtime or "auto", "batch_size": batch_size,
                "chunk_size": chunk_size, "stride": options.stride,
                **reader_options}

    shards = plan_shards(inputs)
    out_fs, out_root = _fs(output)
    manifest = Manifest(output, settings)
    if not manifest.load() and out_fs.exists(out_root) and out_fs.ls(out_root):
        raise DistributedError(f"output folder {output!r} is not empty and has no {MANIFEST}; "
                               "give a new or empty folder (files there are never overwritten)")
    suffix = ".parquet" if options.output_format == "parquet" else ".jsonl"
    result = RunResult(shards=len(shards))

    # Shards listed as done: skip them if their input is unchanged (hashed in Ray tasks), refuse if changed.
    listed = [(i, s) for i, s in enumerate(shards) if s.name + suffix in manifest.shards]
    if listed:
        remote = ray.remote(num_cpus=0)(shard_fingerprint)
        now = ray.get([remote.remote(s) for _, s in listed])
        changed = [f"{s.paths[0] if len(s.paths) == 1 else posixpath.dirname(s.paths[0]) + '/*.txt'} "
                   f"(shard {s.name + suffix})" for (_, s), h in zip(listed, now)
                   if manifest.shards[s.name + suffix]["input_sha256"] != h]
        if changed:
            raise DistributedError("input changed since its shard was written (see " + manifest.url + "): "
                                   + "; ".join(changed) + ". Delete that shard's entry from the manifest (or its output"
                                   " folder) to extract it again")
    done = set()
    for i, s in listed:
        if out_fs.exists(_fs(_join(output, s.name + suffix))[1]):
            done.add(i)
            result.skipped += 1
    todo = [i for i in range(len(shards)) if i not in done]
    if not todo:
        result.seconds = time.perf_counter() - t0
        return result

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = progress
    # One chunk per block (a block is cut once it passes this size; a chunk row is larger), so that
    # the chunks of one big shard spread over the actors. (A repartition step would need CPUs of
    # its own, which the actors hold.)
    ctx.target_max_block_size = 1
    items = [{"index": i, "shard": json.dumps(shards[i].to_json())} for i in todo]
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    # Reading is light (I/O, JSON, text checks) and must not wait for the CPUs the actors hold.
    ds = ds.flat_map(_chunk_rows, fn_kwargs={"chunk_size": chunk_size, "reader_options": reader_options},
                     num_cpus=0)
    actor_args = {"num_gpus": 1} if cuda else {"num_cpus": options.cpus_per_actor}
    ds = ds.map_batches(
        ChunkExtractor, batch_size=1, batch_format="numpy",
        fn_constructor_kwargs={"model": model_dir, "device": options.device, "dtype": options.dtype,
                               "batch_size": batch_size, "stride": options.stride, "threads": options.threads,
                               "chunk_size": chunk_size, "runtime": options.runtime},
        # A dead actor is restarted and its chunks run again: Ray Data's defaults for actor pools
        # (max_restarts=-1, max_task_retries=-1).
        compute=ray.data.ActorPoolStrategy(size=options.actors), **actor_args)

    pending: dict[int, dict[int, dict[str, Any]]] = {}
    for row in ds.iter_rows():
        shard_i, chunk_i = int(row["shard"]), int(row["chunk"])
        chunks = pending.setdefault(shard_i, {})
        if chunk_i in chunks:  # a chunk delivered twice (a retry): the records are the same, keep one
            continue
        chunks[chunk_i] = row
        result.pids.add(int(row["pid"]))
        result.docs += int(row["docs"])
        result.errors += int(row["errors"])
        result.incidents += int(row["incidents"])
        if on_chunk is not None:
            on_chunk(row)
        if len(chunks) == int(row["n_chunks"]):
            shard = shards[shard_i]
            lines = "".join(str(chunks[j]["lines"]) for j in range(len(chunks)))
            data = _parquet_bytes(lines) if options.output_format == "parquet" else lines.encode("utf-8")
            _write_atomic(_join(output, shard.name + suffix), data)
            manifest.shards[shard.name + suffix] = {
                "inputs": shard.paths, "input_sha256": str(row["fingerprint"]),
                "docs": sum(int(c["docs"]) for c in chunks.values()),
                "errors": sum(int(c["errors"]) for c in chunks.values()),
                "output_sha256": hashlib.sha256(data).hexdigest()}
            manifest.save()
            del pending[shard_i]
    if pending:  # cannot happen unless Ray dropped rows: say so rather than write a short shard
        raise DistributedError(f"{len(pending)} shards came back incomplete; rerun to complete them")
    result.seconds = time.perf_counter() - t0
    return result


def _model_id(model_dir: str) -> str:
    """What identifies the model for the manifest: the hash of its weights file(s)."""
    if not os.path.isdir(model_dir):
        return model_dir  # a hub id
    h = hashlib.sha256()
    names = sorted(n for n in os.listdir(model_dir) if n.endswith((".safetensors", ".json", ".txt")))
    for name in names:
        with open(os.path.join(model_dir, name), "rb") as fh:
            h.update(name.encode() + b"\0" + hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


# -- command line ----------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("on a Ray cluster (pip install 'hasila[ray]')")
    g.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                   help="run with Ray Data: ADDRESS of the cluster (default 'auto': the one this node belongs to, "
                        "or a new local instance), 'local' for a new local instance, or ray://HOST:10001. "
                        "-o is then an output FOLDER (local or fsspec URL) of one shard per input file + a manifest; "
                        "inputs may be fsspec URLs (s3://, gs://, ...)")
    g.add_argument("--actors", type=int, metavar="N", help="with --ray: actors, each holding one model "
                   "(default: the cluster's GPUs with --device cuda, else its CPUs / --cpus-per-actor)")
    g.add_argument("--cpus-per-actor", type=float, default=1.0, metavar="N",
                   help="with --ray: CPUs reserved per CPU actor (default 1; the model's threads follow it)")
    g.add_argument("--output-format", choices=("jsonl", "parquet"), default="jsonl",
                   help="with --ray: shard format (default jsonl; parquet has the record as columns + its JSON)")


def usage_problems(args: argparse.Namespace) -> list[str]:
    problems = []
    if not args.output:
        problems.append("--ray needs -o FOLDER (one output shard per input file)")
    for opt in ("html", "errors", "resume", "format", "workers", "csv_bom"):
        if getattr(args, opt, None):
            problems.append(f"--{opt.replace('_', '-')} does not apply with --ray (shards are JSONL or Parquet, "
                            "error records are in them, and a rerun completes the unfinished shards)")
    if "-" in args.inputs:
        problems.append("standard input (-) cannot be read with --ray; give files, folders or URLs")
    if args.actors is not None and args.actors < 1:
        problems.append("--actors must be at least 1")
    if args.cpus_per_actor <= 0:
        problems.append("--cpus-per-actor must be more than 0")
    return problems


def main(args: argparse.Namespace, date: dt.date | None) -> int:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        print("hasila-extract: error: --ray needs Ray Data: pip install 'hasila[ray]'", file=sys.stderr)
        return 2
    address = None if args.ray == "local" else args.ray
    if address == "auto" and not os.environ.get("RAY_ADDRESS") and not _cluster_running():
        address = None  # no cluster here: a local instance
    ray.init(address=address, ignore_reinit_error=True, logging_level=logging.WARNING,
             log_to_driver=not args.quiet)
    cuda = str(args.device).startswith("cuda")
    resources = ray.cluster_resources()
    actors = args.actors or max(1, int(resources.get("GPU", 0) if cuda else resources.get("CPU", 1) // args.cpus_per_actor))
    options = RayOptions(model=args.model, device="cpu" if args.device == "auto" and not cuda else args.device,
                         dtype=args.dtype, runtime=args.runtime, batch_size=args.batch_size, stride=args.stride,
                         threads=args.threads or (None if cuda else max(1, int(args.cpus_per_actor))),
                         actors=actors, cpus_per_actor=args.cpus_per_actor, output_format=args.output_format,
                         date=date, max_chars=args.max_chars, min_arabic_share=args.min_arabic_share)
    try:
        result = run_distributed(args.inputs, args.output, options, progress=sys.stderr.isatty() and not args.quiet)
    except KeyboardInterrupt:
        print("\nhasila-extract: interrupted; finished shards are kept, rerun the same command to complete the rest",
              file=sys.stderr)
        return 130
    except DistributedError as exc:
        print(f"hasila-extract: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hasila-extract: error: writing failed: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        rate = result.docs / result.seconds if result.seconds else 0.0
        print(f"hasila-extract: {result.shards} shards ({result.skipped} already done), {result.docs} documents "
              f"({result.errors} with errors), {result.incidents} incidents → {args.output} "
              f"[{actors} actors, {result.seconds:.1f} s, {rate:.1f} docs/s]", file=sys.stderr)
    return 0


def _cluster_running() -> bool:
    try:
        from ray._private.services import find_gcs_addresses  # type: ignore

        return bool(find_gcs_addresses())
    except Exception:
        return False
