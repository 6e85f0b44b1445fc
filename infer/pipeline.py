"""The extraction pipeline: documents in, one record per document out, in input order.

For each document: normalize (keeping the map to original offsets) → split words → the
token classifier → BIO decoding → the kind of each count from its words,
and counts that are no casualties dropped (``casualty``) → incident assembly → record. Entities are reported over the
whole text (they are what the model read); incident assembly ignores those in page furniture
(readers' comments, related-article titles, ad markers: see ``assembly`` and ``furniture``),
which are not reports.

Documents are processed in chunks (``chunk_size`` documents): the model sees all windows of
a chunk, sorted by length, in batches of ``batch_size``. Chunks start at fixed document
positions, so a run resumed at a chunk boundary computes exactly what an uninterrupted run
does. A failure in one document (normalizer, assembler, a broken span) becomes that
document's error record; the batch goes on.

With ``workers`` (``hasila-extract`` uses them on CUDA by default), the CPU work of each document — normalization, word
splitting, tokenization before the model; decoding, counts, assembly and the record after it —
runs in worker processes while the main process keeps the GPU busy and writes records. The
chunks and model batches are the same as without workers, so the records are identical.

Python use::

    from hasila.infer.pipeline import extract
    records = extract(["نص الخبر الأول", "نص الخبر الثاني"], model="models/hasila-ner")
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import logging
import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Collection, Iterable, Iterator, Sequence

from hasila.infer.assembly import assemble, check_disable
from hasila.infer.casualty import complete_count_lists, read_counts
from hasila.infer.decode import decode_tag_ids, entity_to_original
from hasila.infer.inputs import InputDoc, InputReader, check_doc_text
from hasila.infer.model import EncodedDoc, TokenClassifier, find_model
from hasila.infer.figures import whole_figures
from hasila.infer.heads import StructureHeads
from hasila.infer.normalize import NormalizedText, normalize
from hasila.infer.structure import analyse, fill_fields, kept_entities
from hasila.infer.records import add_input_fields, check_record, error_record, ok_record
from hasila.infer.tokenize import split_words


log = logging.getLogger("hasila.extract")

DEFAULT_BATCH_SIZE = 16


def default_batch_size(device: str) -> int:
    """Model windows per batch: 16 on CPU, 512 on CUDA (on the H100 the whole pipeline ran
    1,690 articles/s with 512 against 1,317 with 256; README, "Speed")."""
    return 512 if str(device).startswith("cuda") else DEFAULT_BATCH_SIZE


def default_chunk_size(batch_size: int) -> int:
    """Documents per chunk: enough windows to sort into several full batches."""
    return max(32, 4 * batch_size)


def default_workers(device: str) -> int:
    """Worker processes for the CPU stages: none on CPU (the model already uses every core),
    all cores but the main process's on a GPU machine, at most 16."""
    if not str(device).startswith("cuda"):
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(0, min(16, cores - 1))


@dataclass
class _Prepared:
    doc: InputDoc
    norm: NormalizedText
    words: list[tuple[int, int]]
    encoded: EncodedDoc | None = None


class Extractor:
    """Runs the pipeline with one loaded model; reusable across batches."""

    def __init__(self, model: TokenClassifier | str | None = None, *, device: str | None = "auto",
                 batch_size: int = DEFAULT_BATCH_SIZE, dtype: Any = None, chunk_size: int | None = None,
                 workers: int = 0, explain: bool = False, disable: Collection[str] | None = None,
                 heads: bool | StructureHeads | None = True,
                 runtime: str | None = "auto") -> None:
        if isinstance(model, TokenClassifier):
            self.classifier = model
            model_dir = getattr(model, "path", None)
        else:
            from hasila.infer.onnx_runtime import load_classifier

            model_dir = find_model(model)
            # runtime: auto (see onnx_runtime.resolve_runtime), torch, bf16, onnx or int8 (infer/onnx_runtime.py)
            self.classifier = load_classifier(model_dir, runtime=runtime, device=device, dtype=dtype,
                                              batch_size=batch_size)
        # The structure heads beside the tagger (infer/heads.py): loaded by default when the model
        # folder has them; heads=False runs the rules alone (and skips the hidden states).
        if heads is True:
            self.heads = StructureHeads.load(model_dir) if model_dir else None
        elif isinstance(heads, StructureHeads):
            self.heads = heads
        else:
            self.heads = None
        if self.heads is not None:
            config = getattr(getattr(self.classifier, "model", None), "config", None)  # the ONNX runtime has none
            self.heads.check_tagger(self.classifier.info.sha256, getattr(config, "hidden_size", None), str(model_dir))
        self.classifier.with_vectors = self.heads is not None
        self.batch_size = batch_size
        self.chunk_size = chunk_size or default_chunk_size(batch_size)
        self.model_info = self.classifier.info.to_json()
        if self.heads is not None:  # records say which heads made them too
            self.model_info["heads_sha256"] = self.heads.config.get("weights_sha256")
        # --explain: each record says what became of each KILLED/WOUNDED figure (``provenance``);
        # disable: assembly rules turned off (ids of hasila.infer.assembly.DISABLEABLE).
        self.options = {"explain": bool(explain), "disable": check_disable(disable), "heads": self.heads}
        # Worker processes are started with spawn, which re-imports the caller's main module:
        # scripts using them need Python's `if __name__ == "__main__":` guard, so they are opt-in
        # here (the command line turns them on for CUDA: default_workers).
        if not isinstance(workers, int) or workers < 0:
            raise ValueError(f"workers must be a whole number >= 0, not {workers!r}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        # Seconds the main process spent per stage (benchmarks/bench_extract.py reports them).
        self.timings = {"wait_prepare": 0.0, "model": 0.0, "wait_finish": 0.0}

    def close(self) -> None:
        """Stop the worker processes (if any); the extractor starts new ones when used again."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "Extractor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def extract(self, docs: Iterable[InputDoc]) -> Iterator[dict[str, Any]]:
        """One record per document, in input order, streamed chunk by chunk."""
        for _, record in self.extract_pairs(docs):
            yield record

    def extract_pairs(self, docs: Iterable[InputDoc]) -> Iterator[tuple[InputDoc, dict[str, Any]]]:
        """Like :meth:`extract`, each record with its input document (for reports)."""
        chunks = iter(lambda it=iter(docs): list(itertools.islice(it, self.chunk_size)), [])
        pairs = self._extract_parallel(chunks) if self.workers else (p for c in chunks for p in self._process_chunk(c))
        for doc, record in pairs:
            yield doc, add_input_fields(doc, record)  # warnings, metadata, producer (records.py)

    # -- one chunk ---------------------------------------------------------------------------

    def _process_chunk(self, chunk: Sequence[InputDoc]) -> list[tuple[InputDoc, dict[str, Any]]]:
        # Per document: a _Prepared to run through the model, or its (error) record already.
        prepared = _encode_prepared([_prepare(doc, self.model_info) for doc in chunk], self.classifier.encoder,
                                    self.model_info)
        scores = iter(self._score([p.encoded for p in prepared if isinstance(p, _Prepared)]))
        return [(doc, item if isinstance(item, dict) else _finish(item, next(scores), self.classifier.tags, self.model_info,
                                                                          self.options))
                for doc, item in zip(chunk, prepared)]

    def _score(self, encoded: Sequence[EncodedDoc]) -> list[Any]:
        """Word scores per document, in order (an exception in place of a document's scores);
        if the batch fails, document by document so one bad document (e.g. one that exhausts
        memory) costs only its own record."""
        try:
            return self.classifier.score(encoded, batch_size=self.batch_size)
        except Exception as exc:
            if len(encoded) <= 1:
                return [exc for _ in encoded]
            log.warning("model failed on a chunk (%s: %s); retrying document by document", type(exc).__name__, exc)
        out: list[Any] = []
        for enc in encoded:
            try:
                out.append(self.classifier.score([enc], batch_size=1)[0])
            except Exception as exc:
                out.append(exc)
        return out

    # -- with worker processes -----------------------------------------------------------------

    def _start_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            # spawn, not fork: the parent may hold CUDA and tokenizer threads, which fork does not copy safely.
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(self.classifier.encoder, self.classifier.tags, self.model_info, self.options),
            )
        return self._pool

    def _pieces(self, items: Sequence[Any]) -> list[Sequence[Any]]:
        # A few pieces per worker: even load, and each task's pickling overhead stays small.
        size = max(1, -(-len(items) // (4 * self.workers)))
        return [items[i:i + size] for i in range(0, len(items), size)]

    def _extract_parallel(self, chunks: Iterator[list[InputDoc]]) -> Iterator[tuple[InputDoc, dict[str, Any]]]:
        # Three stages in flight: chunks being prepared by the workers, chunks in the model (a
        # thread of its own, so that this one keeps handing out work and passing on records
        # while the GPU computes), chunks being finished by the workers. Records leave in order.
        pool = self._start_pool()
        model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hasila-model")
        preparing: deque[tuple[list[InputDoc], list[Future]]] = deque()
        scoring: deque[tuple[list[InputDoc], list[Any], Future]] = deque()
        # (chunk, its error records with None where the workers make the record, their futures)
        finishing: deque[tuple[list[InputDoc], list[dict[str, Any] | None], list[Future]]] = deque()
        try:
            while True:
                while len(preparing) < 3 and (chunk := next(chunks, None)) is not None:
                    preparing.append((chunk, [pool.submit(_prepare_encode_many, piece) for piece in self._pieces(chunk)]))
                if preparing and len(scoring) < 2:
                    chunk, futures = preparing[0]
                    t0 = time.perf_counter()
                    items = [x for f in futures for x in f.result()]
                    self.timings["wait_prepare"] += time.perf_counter() - t0
                    preparing.popleft()
                    encoded = [x for x in items if isinstance(x, EncodedDoc)]
                    scoring.append((chunk, items, model_thread.submit(self._score, encoded)))
                    continue
                if scoring:
                    chunk, items, future = scoring[0]
                    t0 = time.perf_counter()
                    scores = future.result()
                    self.timings["model"] += time.perf_counter() - t0
                    scoring.popleft()
                    jobs = list(zip((doc for doc, x in zip(chunk, items) if isinstance(x, EncodedDoc)), scores))
                    done = [pool.submit(_finish_many, piece) for piece in self._pieces(jobs)]
                    finishing.append((chunk, [x if isinstance(x, dict) else None for x in items], done))
                while len(finishing) > 1 or (finishing and not preparing and not scoring):
                    pairs = self._finished(finishing[0])  # may raise: the chunk stays listed until done
                    finishing.popleft()
                    yield from pairs
                if not (preparing or scoring or finishing):
                    break
        except BrokenProcessPool as exc:
            # A worker died (killed, out of memory): finish in this process, losing nothing.
            log.warning("a worker process died (%s); going on without workers", exc)
            self._pool = None
            self.workers = 0
            for chunk in [c[0] for c in finishing] + [c[0] for c in scoring] + [c[0] for c in preparing]:
                yield from self._process_chunk(chunk)
            for chunk in chunks:
                yield from self._process_chunk(chunk)
        finally:
            model_thread.shutdown(wait=True, cancel_futures=True)

    def _finished(self, entry: tuple[list[InputDoc], list[dict[str, Any] | None], list[Future]]
                  ) -> list[tuple[InputDoc, dict[str, Any]]]:
        chunk, ready, futures = entry
        t0 = time.perf_counter()
        records = iter([r for f in futures for r in f.result()])
        self.timings["wait_finish"] += time.perf_counter() - t0
        return [(doc, rec if rec is not None else next(records)) for doc, rec in zip(chunk, ready)]


# -- the steps of one document, shared by the main process and the workers ----------------------

def _error_record(doc: InputDoc, error_type: str, message: str, model_info: dict[str, Any]) -> dict[str, Any]:
    return error_record(doc.doc_id, error_type, message, model=model_info, date=doc.date, source=doc.source, url=doc.url)


def _internal_error(doc: InputDoc, stage: str, exc: BaseException, model_info: dict[str, Any]) -> dict[str, Any]:
    log.warning("%s: %s failed", doc.doc_id, stage, exc_info=exc)
    where = doc.where or doc.doc_id
    return _error_record(doc, "internal_error", f"{where}: {stage} failed: {type(exc).__name__}: {exc}", model_info)


def _prepare(doc: InputDoc, model_info: dict[str, Any], check_text: bool = True) -> _Prepared | dict[str, Any]:
    """Normalized text and words of a document, or its error record. ``check_text=False``: the
    document's text already passed its deferred checks (normalized again after the model)."""
    if doc.error is not None:
        return _error_record(doc, doc.error.type, doc.error.message, model_info)
    if check_text and doc.deferred_checks is not None:
        problem = check_doc_text(doc, *doc.deferred_checks)
        if problem is not None:
            return _error_record(doc, problem.type, problem.message, model_info)
    try:
        norm = normalize(doc.text)
        return _Prepared(doc, norm, split_words(norm.text))
    except Exception as exc:  # one document's failure must not stop the batch
        return _internal_error(doc, "normalization", exc, model_info)


def _encode_prepared(prepared: list[_Prepared | dict[str, Any]], encoder: Any,
                     model_info: dict[str, Any]) -> list[_Prepared | dict[str, Any]]:
    """Sets each prepared document's sub-word ids, in one tokenizer call; if that fails,
    document by document, so that a document the tokenizer cannot read costs only its record."""
    todo = [p for p in prepared if isinstance(p, _Prepared)]
    words = [[p.norm.text[s:e] for s, e in p.words] for p in todo]
    try:
        for p, enc in zip(todo, encoder.encode(words)):
            p.encoded = enc
        return prepared
    except Exception:
        pass
    doc_words = dict(zip(map(id, todo), words))
    out: list[_Prepared | dict[str, Any]] = []
    for p in prepared:
        if isinstance(p, _Prepared):
            try:
                p.encoded = encoder.encode([doc_words[id(p)]])[0]
            except Exception as exc:
                out.append(_internal_error(p.doc, "tokenization", exc, model_info))
                continue
        out.append(p)
    return out


def _finish(item: _Prepared, scores: Any, tags: Sequence[str], model_info: dict[str, Any],
            options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The record of a prepared document from its word scores (or the model's exception);
    ``options``: ``explain`` and ``disable`` of the assembly."""
    doc, norm = item.doc, item.norm
    if isinstance(scores, Exception):
        return _internal_error(doc, "the model", scores, model_info)
    try:
        entities = decode_tag_ids(norm.text, item.words, tags, scores[0], scores[1])
        entities = whole_figures(norm.text, item.words, entities)
        entities = complete_count_lists(norm.text, read_counts(norm.text, entities))
        explain = bool(options and options["explain"])
        disable = options["disable"] if options else None
        heads = options.get("heads") if options else None
        structure = None
        if heads is not None and len(scores) > 2:
            # Structure heads (H-role, H-arg; infer/structure.py): figures the role head calls no
            # incident's never reach the rules; fields the argument head is sure of are its own.
            structure = analyse(heads, norm, item.words, scores[2], entities)
            result = assemble(norm, kept_entities(structure, entities), doc.date, disable=disable, explain=explain)
            result = replace(result, incidents=fill_fields(heads, structure, norm, result.incidents, entities))
        else:
            result = assemble(norm, entities, doc.date, disable=disable, explain=explain)
        record = ok_record(
            doc.doc_id, doc.text, entities=[entity_to_original(norm, e) for e in entities],
            incidents=result.incidents, model=model_info, date=doc.date, source=doc.source, url=doc.url,
            provenance=result.provenance,
        )
        if structure is not None:
            record["figure_roles"] = structure.roles_json(norm)
        check_record(record, doc.text)
        return record
    except Exception as exc:
        return _internal_error(doc, "incident assembly", exc, model_info)


_WORKER: dict[str, Any] = {}  # in a worker process: the word encoder, tags and model info


def _init_worker(encoder: Any, tags: Sequence[str], model_info: dict[str, Any],
                 options: dict[str, Any] | None = None) -> None:
    import signal

    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one thread per worker; the workers are the parallelism
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle (it stops the pool)
    # A main process killed outright (kill -9, the OOM killer) cannot stop its pool: the workers
    # would wait for work forever. Each leaves once it is orphaned.
    parent = os.getppid()
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True, name="hasila-orphan-check").start()
    _WORKER.update(encoder=encoder, tags=tuple(tags), model_info=model_info, options=options)


def _exit_when_orphaned(parent: int, every: float = 1.0) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


def _prepare_encode_many(docs: Sequence[InputDoc]) -> list[EncodedDoc | dict[str, Any]]:
    """Worker: per document, its encoded words for the model, or its error record."""
    prepared = _encode_prepared([_prepare(doc, _WORKER["model_info"]) for doc in docs], _WORKER["encoder"],
                                _WORKER["model_info"])
    return [p.encoded if isinstance(p, _Prepared) else p for p in prepared]


def _finish_many(jobs: Sequence[tuple[InputDoc, Any]]) -> list[dict[str, Any]]:
    """Worker: records of documents from their word scores (normalized again here: cheaper
    than sending the normalized text and its offset map through the main process)."""
    out = []
    for doc, scores in jobs:
        item = _prepare(doc, _WORKER["model_info"], check_text=False)
        out.append(item if isinstance(item, dict) else _finish(item, scores, _WORKER["tags"], _WORKER["model_info"],
                                                                        _WORKER.get("options")))
    return out


@lru_cache(maxsize=2)
def _cached_extractor(model: str | None, device: str | None, batch_size: int, runtime: str | None = "auto") -> Extractor:
    return Extractor(model, device=device, batch_size=batch_size, runtime=runtime)


def _with_options(extractor: Extractor, explain: bool, disable: Collection[str] | None) -> Extractor:
    """The cached extractor's model with other assembly options (a shallow copy: no reload)."""
    options = {"explain": bool(explain), "disable": check_disable(disable), "heads": extractor.options.get("heads")}
    if options == extractor.options:
        return extractor
    other = copy.copy(extractor)
    other.options = options
    other._pool = None
    return other


def extract(texts_or_docs: Iterable[str | dict | InputDoc], model: str | TokenClassifier | None = None, *,
            device: str | None = "auto", batch_size: int = DEFAULT_BATCH_SIZE,
            date: dt.date | str | None = None, explain: bool = False,
            disable: Collection[str] | None = None, runtime: str | None = "auto") -> list[dict[str, Any]]:
    """Records for texts (ids "0", "1", ...), JSONL-like dicts or InputDocs, in order.

    ``model``: a checkpoint folder, hub id or loaded TokenClassifier (default: $HASILA_MODEL,
    then the shipped model); ``date``: the article date for inputs that carry none;
    ``explain``: add each figure's fate to the records (``provenance``); ``disable``: assembly
    rules to turn off (``{"A7b", ...}``, ids of ``hasila.infer.assembly.DISABLEABLE``);
    ``runtime``: ``auto`` (PyTorch on CUDA; on CPU the fastest runtime that passes the parity gates
    there, ``onnx_runtime.resolve_runtime``), ``torch``, ``bf16``, ``onnx`` or ``int8``.
    Loaded models are cached, so calling this repeatedly is cheap.
    """
    if isinstance(texts_or_docs, str):
        raise TypeError("extract() takes a list of texts; wrap a single text as [text]")
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    if isinstance(model, TokenClassifier):
        extractor = Extractor(model, batch_size=batch_size, explain=explain, disable=disable)
    else:
        extractor = _with_options(_cached_extractor(str(model) if model is not None else None, device, batch_size, runtime),
                                  explain, disable)
    docs = InputReader(default_date=date).docs_from_objects(texts_or_docs)
    return list(extractor.extract(docs))
