"""Byte-identity of the JSONL records across a refactoring, from cached model entities.

The model is run once (``cache``); every later check re-runs only what comes after it —
casualty reading, incident assembly, the record — so a check takes seconds, not minutes:

    python benchmarks/identity_check.py cache -o runs/identity/cache.jsonl       # runs the model (once)
    python benchmarks/identity_check.py records runs/identity/cache.jsonl -o runs/identity/base.jsonl
    ... change the code ...
    python benchmarks/identity_check.py diff runs/identity/cache.jsonl runs/identity/base.jsonl

The documents: the gold train/dev/test documents (texts joined back from the corpora), the bundled
examples (``examples/articles.jsonl``) and 200 SaudiNewsNet articles (as
``benchmarks/snn_articles.py`` picks them). Each cached document keeps the hash of its normalized
text and words, so a change to normalization or word splitting is reported, not silently
mis-aligned. ``diff --explain`` also validates the ``--explain`` records against the schema;
``--disable A7b,...`` computes records with rules turned off (not byte-identical, by design).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent


def _digest(norm_text: str, words: list[tuple[int, int]]) -> str:
    h = hashlib.sha256(norm_text.encode("utf-8"))
    h.update(json.dumps(words).encode("ascii"))
    return h.hexdigest()[:16]


def _gold_inputs() -> Iterator[tuple[str, Any]]:
    from hasila.train.gold import gold_documents, gold_inputs

    for split in ("train", "dev", "test"):
        for doc in gold_inputs(gold_documents(split)):
            yield f"gold-{split}", doc


def _example_inputs() -> Iterator[tuple[str, Any]]:
    from hasila.infer.inputs import InputReader

    for doc in InputReader().read([str(ROOT / "examples" / "articles.jsonl")]):
        yield "examples", doc


def _snn_inputs(n: int = 200) -> Iterator[tuple[str, Any]]:
    from hasila.infer.inputs import InputDoc
    from hasila.train.corpora import load_corpus

    count = 0
    for row in load_corpus("saudinewsnet")["train"]:
        if 1500 <= len(row["content"]) <= 5000:
            yield "snn200", InputDoc(doc_id=row["doc_id"], text=row["content"],
                                     date=dt.date.fromisoformat(row["date_extracted"][:10]))
            count += 1
            if count == n:
                break


def cache(out: Path, model: str | None, threads: int | None) -> int:
    """Runs the model over every document once; writes one line per document with its decoded entities."""
    import torch

    from hasila.infer.decode import decode_entities
    from hasila.infer.model import TokenClassifier, find_model, word_predictions
    from hasila.infer.normalize import normalize
    from hasila.infer.tokenize import split_words

    if threads:
        torch.set_num_threads(threads)
    clf = TokenClassifier.load(find_model(model), device="cpu", batch_size=16)
    docs = list(_gold_inputs()) + list(_example_inputs()) + list(_snn_inputs())
    t = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    batch = 64
    for i in range(0, len(docs), batch):
        chunk = docs[i:i + batch]
        norms = [normalize(d.text) for _, d in chunk]
        words = [split_words(n.text) for n in norms]
        enc = clf.encoder.encode([[n.text[s:e] for s, e in w] for n, w in zip(norms, words)])
        scores = clf.score(enc, batch_size=16)
        for (group, d), n, w, sc in zip(chunk, norms, words, scores):
            ents = decode_entities(n.text, w, word_predictions(clf.tags, *sc))
            lines.append(json.dumps({
                "group": group, "id": d.doc_id, "text": d.text, "date": d.date.isoformat() if d.date else None,
                "digest": _digest(n.text, w),
                "entities": [[e.label, e.start, e.end, e.span.score] for e in ents],
            }, ensure_ascii=False))
        print(f"{min(i + batch, len(docs))}/{len(docs)} documents, {time.perf_counter() - t:.0f} s", file=sys.stderr)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.with_suffix(".model.json").write_text(json.dumps(clf.info.to_json(), ensure_ascii=False), encoding="utf-8")
    return 0


def load_cache(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cached_entities(item: dict[str, Any], norm: Any) -> list[Any]:
    """The model's decoded entities of a cached document (offsets into ``norm.text``)."""
    from hasila.infer.types import Entity, Span

    return [Entity(label, Span.of(norm.text, s, e, score)) for label, s, e, score in item["entities"]]


ASSEMBLY_CPU = [0.0]  # CPU seconds spent in the assembly call (records and _records_old_api add to it)


def records(items: list[dict[str, Any]], model_info: dict[str, Any], explain: bool = False,
            disable: frozenset[str] = frozenset()) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(cached item, record) per document, computed as ``pipeline._finish`` does after the model."""
    from hasila.infer.assembly import assemble
    from hasila.infer.casualty import complete_count_lists, read_counts
    from hasila.infer.decode import entity_to_original
    from hasila.infer.normalize import normalize
    from hasila.infer.records import check_record, ok_record
    from hasila.infer.tokenize import split_words

    for item in items:
        norm = normalize(item["text"])
        if _digest(norm.text, split_words(norm.text)) != item["digest"]:
            raise SystemExit(f"{item['id']}: normalized text or words changed since the cache was made")
        date = dt.date.fromisoformat(item["date"]) if item["date"] else None
        entities = complete_count_lists(norm.text, read_counts(norm.text, cached_entities(item, norm)))
        t = time.process_time()
        result = assemble(norm, entities, date, disable=disable, explain=explain)
        ASSEMBLY_CPU[0] += time.process_time() - t
        record = ok_record(item["id"], item["text"], entities=[entity_to_original(norm, e) for e in entities],
                           incidents=result.incidents, model=model_info, date=date,
                           provenance=result.provenance if explain else None)
        check_record(record, item["text"])
        yield item, record


def _records_old_api(items: list[dict[str, Any]], model_info: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """The same, through the API of commit 733e49e (no ``assemble``): writes the baseline there."""
    from hasila.infer.assembly import assemble_incidents
    from hasila.infer.casualty import complete_count_lists, read_counts
    from hasila.infer.decode import entity_to_original
    from hasila.infer.normalize import normalize
    from hasila.infer.records import check_record, ok_record
    from hasila.infer.tokenize import split_words

    for item in items:
        norm = normalize(item["text"])
        assert _digest(norm.text, split_words(norm.text)) == item["digest"]
        date = dt.date.fromisoformat(item["date"]) if item["date"] else None
        entities = complete_count_lists(norm.text, read_counts(norm.text, cached_entities(item, norm)))
        t = time.process_time()
        incidents = assemble_incidents(norm, entities, date)
        ASSEMBLY_CPU[0] += time.process_time() - t
        record = ok_record(item["id"], item["text"], entities=[entity_to_original(norm, e) for e in entities],
                           incidents=incidents, model=model_info, date=date)
        check_record(record, item["text"])
        yield item, record


def _lines(pairs: Iterator[tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    from hasila.infer.records import dumps

    return [dumps(rec) for _, rec in pairs]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cache", help="run the model once over all documents")
    c.add_argument("-o", "--output", type=Path, required=True)
    c.add_argument("--model", default=None)
    c.add_argument("--threads", type=int, default=None)
    r = sub.add_parser("records", help="write the records computed from the cache (the baseline)")
    r.add_argument("cache", type=Path)
    r.add_argument("-o", "--output", type=Path, required=True)
    r.add_argument("--old-api", action="store_true", help="use assemble_incidents (the API of commit 733e49e)")
    r.add_argument("--explain", action="store_true", help="with provenance (not the baseline: timing only)")
    r.add_argument("--repeat", type=int, default=1, help="compute the records this many times; the best time is reported")
    d = sub.add_parser("diff", help="compare the records computed now with a baseline, document by document")
    d.add_argument("cache", type=Path)
    d.add_argument("baseline", type=Path)
    d.add_argument("--explain", action="store_true",
                   help="also compute --explain records and validate them against the schema")
    args = ap.parse_args(argv)
    if args.cmd == "cache":
        return cache(args.output, args.model, args.threads)
    items = load_cache(args.cache)
    model_info = json.loads(args.cache.with_suffix(".model.json").read_text(encoding="utf-8"))
    t = time.perf_counter()
    if args.cmd == "records":
        best = best_assembly = float("inf")
        for _ in range(args.repeat):
            t = time.process_time()
            ASSEMBLY_CPU[0] = 0.0
            lines = _lines(_records_old_api(items, model_info) if args.old_api
                           else records(items, model_info, explain=args.explain))
            best = min(best, time.process_time() - t)
            best_assembly = min(best_assembly, ASSEMBLY_CPU[0])
        args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{len(lines)} records → {args.output} (CPU time, best of {args.repeat}: {best:.2f} s after the model, "
              f"{best_assembly:.2f} s of it in the assembly = {1000 * best_assembly / len(lines):.2f} ms per document)")
        return 0
    base = args.baseline.read_text(encoding="utf-8").splitlines()
    now = _lines(records(items, model_info))
    elapsed = time.perf_counter() - t
    groups: dict[str, list[int]] = {}
    for item, a, b in zip(items, base, now):
        g = groups.setdefault(item["group"], [0, 0])
        g[0] += 1
        g[1] += a != b
    differ = [item["id"] for item, a, b in zip(items, base, now) if a != b]
    for name, (n, bad) in groups.items():
        print(f"{name:12s} {n:4d} documents, {bad} differ")
    print(f"total        {len(items):4d} documents, {len(differ)} differ ({elapsed:.1f} s)"
          + (f": {', '.join(differ[:10])}" if differ else ""))
    status = 1 if differ or len(base) != len(now) else 0
    if args.explain:
        import jsonschema

        from hasila.infer.records import load_schema

        validator = jsonschema.Draft202012Validator(load_schema())
        t = time.perf_counter()
        explained = list(records(items, model_info, explain=True))
        t_explain = time.perf_counter() - t
        bad = 0
        figures = 0
        for (item, rec), line in zip(explained, base):
            errors = list(validator.iter_errors(rec))
            if errors:
                bad += 1
                print(f"{item['id']}: {errors[0].message}", file=sys.stderr)
            plain = dict(rec)
            figures += len(plain.pop("provenance"))
            from hasila.infer.records import dumps

            if dumps(plain) != line:
                bad += 1
                print(f"{item['id']}: --explain changes the record beyond its provenance", file=sys.stderr)
        print(f"explain: {len(explained)} records, {figures} figures explained, {bad} invalid "
              f"({t_explain:.1f} s against {elapsed:.1f} s without)")
        status = status or int(bad > 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
