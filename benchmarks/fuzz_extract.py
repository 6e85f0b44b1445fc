"""Fuzz ``hasila-extract`` end to end: generated inputs through the command, checked record by record.

    python benchmarks/fuzz_extract.py --docs 100000 --runs 10            # a tiny model built on the fly
    python benchmarks/fuzz_extract.py --docs 2000 --runs 2 --model models/hasila-ner

Each run writes, under a temporary folder, a JSONL file (valid documents among bad JSON, non-objects,
missing or mistyped fields, duplicate ids, malformed dates, unknown fields, lone surrogates, invalid
UTF-8 bytes, blank lines, lines over --max-chars) and a folder of ``.txt`` files with odd names (spaces,
Arabic, a leading dash, a newline) in every encoding (UTF-8 with and without BOM, UTF-16 with and without
BOM, Windows-1256, random bytes), and runs the command's ``main()`` on them with one of JSONL/CSV output.
It then checks: no exception and exit status 0 or 3 (``crashes``), exactly one record per input in input
order (``missing``/``extra``), every record valid against the schema, and every span of every ok record a
true slice of the text the generator wrote (``bad_offsets``, by :func:`hasila.infer.records.check_record`).
Prints one JSON line of totals; exit status 1 if any check failed. ``tests/test_robustness.py`` runs a
bounded number of documents in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hasila.infer.cli import main
from hasila.infer.records import check_record, load_schema

WORDS = ("قتل", "أصيب", "جنود", "مدنيا", "في", "ريف", "حمص", "أمس", "السبت", "قوات", "النظام", "المرصد", "السوري",
         "لحقوق", "الإنسان", "تنظيم", "الدولة", "هجوم", "على", "بلدة", "الرقة", "عشرات", "ثلاثة", "آلاف", "و312",
         "35", "١٢", "1,365", "٪", "—", "«", "»", "،", "؟", ".", "!", "(", ")", "ـــ", "قُتِلَ", "x", "ISIS", "https://t.co/x",
         "\u200c", "\u200d", "\ufeff", "\u00a0", "\t", "\r\n", "\n", "\u2028", "🙂", "𝟙𝟚", "\u0301", "ﻻ", "ﷲ", "\x00")

def _cp1256_ok(word: str) -> bool:
    try:
        word.encode("cp1256")
        return True
    except UnicodeEncodeError:
        return False


CP1256_WORDS = tuple(w for w in WORDS if _cp1256_ok(w))


def gen_text(rng: random.Random, words: tuple[str, ...] = WORDS, max_words: int = 60) -> str:
    n = rng.choice((0, 1, 2, 5, 12, 30, max_words)) if rng.random() < 0.3 else rng.randint(3, max_words)
    seps = (" ", " ", " ", "", "  ", "\n")
    return "".join(rng.choice(words) + rng.choice(seps) for _ in range(n))


def gen_jsonl(rng: random.Random, n: int, path: Path, max_chars: int) -> tuple[int, dict[str, str]]:
    """Write about ``n`` JSONL lines; returns (records expected, {doc_id: text} of texts to check)."""
    texts: dict[str, str] = {}
    expected = 0
    with open(path, "wb") as fh:
        for i in range(n):
            kind = rng.random()
            doc_id = f"d{i}" if rng.random() > 0.02 else f"d{max(0, i - 1)}"  # some duplicates
            obj: Any = {"id": doc_id, "text": gen_text(rng)}
            if rng.random() < 0.2:
                obj["date"] = rng.choice(("2015-08-10", "10/08/2015", "2015-8-10", 20150810, None, "", "2015-02-30", [1]))
            if rng.random() < 0.1:
                obj[rng.choice(("title", "lang", "tags", "metadata", ""))] = rng.choice(("x", 1, None, [1, {"a": 2}], {"b": []}))
            if rng.random() < 0.05:
                obj["source"] = rng.choice(("agency", 3, None))
            if kind < 0.04:
                line = b"{not json"
            elif kind < 0.06:
                line = json.dumps(rng.choice(([1, 2], "text", 3, None, True))).encode()
            elif kind < 0.08:
                obj.pop(rng.choice(("id", "text")))
                line = json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")
            elif kind < 0.10:
                obj["text"] = rng.choice((5, None, ["a"], {"t": 1}))
                line = json.dumps(obj).encode()
            elif kind < 0.11:
                obj["id"] = rng.choice(("", 0.5, True, [1]))
                line = json.dumps(obj).encode()
            elif kind < 0.12:
                line = json.dumps(obj, ensure_ascii=False).encode("utf-8")[:-3] + b"\xff\xfe\"}"
            elif kind < 0.13:
                line = json.dumps({"id": doc_id, "text": "قتل \ud800 جنود"}).encode()
            elif kind < 0.135:
                obj["text"] = "قتل 5 جنود " * (max_chars // 10 + 1)
                line = json.dumps(obj, ensure_ascii=False).encode("utf-8")
            elif kind < 0.14:
                line = b"[" * 100_000 + b"]" * 100_000  # nested too deeply for the JSON parser
            elif kind < 0.16:
                fh.write(rng.choice((b"\n", b"   \n", b"\r\n", b"\t\n")))  # blank: no record
                continue
            else:
                line = json.dumps(obj, ensure_ascii=rng.random() < 0.3).encode("utf-8")
                if isinstance(obj.get("text"), str) and isinstance(obj.get("id"), str) and obj["id"] not in texts:
                    texts[obj["id"]] = obj["text"]
            fh.write(line + rng.choice((b"\n", b"\r\n")))
            expected += 1
    return expected, texts


ODD_NAMES = ("plain", "with space", "خبر عاجل", "-dash", "new\nline", "dots..x", "ü", "#hash", "'quote\"")


def gen_txt_files(rng: random.Random, n: int, folder: Path) -> dict[str, str | None]:
    """``n`` .txt files; returns {path: text written} (None where the bytes are random)."""
    files: dict[str, str | None] = {}
    for i in range(n):
        sub = folder / rng.choice(("", "a", "a/b", "ج"))
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"{i:06d} {rng.choice(ODD_NAMES)}.txt"
        enc = rng.choice(("utf-8", "utf-8-bom", "utf-16", "utf-16-le", "cp1256", "random", "empty"))
        text: str | None = gen_text(rng, CP1256_WORDS if enc == "cp1256" else WORDS)
        if enc in ("utf-8", "utf-16-le"):  # a leading U+FEFF there would be a byte-order mark: no file can say otherwise
            text = text.lstrip("\ufeff")
        if enc == "utf-8":
            data = text.encode("utf-8")
        elif enc == "utf-8-bom":
            data = b"\xef\xbb\xbf" + text.encode("utf-8")
        elif enc == "utf-16":
            data = text.encode("utf-16")
        elif enc == "utf-16-le":
            data = text.encode("utf-16-le")
        elif enc == "cp1256":
            data = text.encode("cp1256")
        elif enc == "empty":
            data, text = b"", ""
        else:
            data, text = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 400))), None
        path.write_bytes(data)
        files[str(path)] = text
    return files


def one_run(seed: int, n_docs: int, model: str, work: Path, validator: Any, max_chars: int = 5000) -> dict[str, int]:
    rng = random.Random(seed)
    run_dir = work / f"run{seed}"
    run_dir.mkdir()
    n_txt = max(1, n_docs // 20)
    expected_jsonl, texts = gen_jsonl(rng, n_docs - n_txt, run_dir / "news.jsonl", max_chars)
    files = gen_txt_files(rng, n_txt, run_dir / "articles")
    fmt = rng.choice(("jsonl", "csv"))
    out = run_dir / ("out.jsonl" if fmt == "jsonl" else "out.csv")
    side = run_dir / "side.jsonl"  # the records, whatever the main format (checked here)
    totals = {"docs": 0, "crashes": 0, "missing": 0, "extra": 0, "bad_offsets": 0, "invalid": 0, "ok": 0, "error": 0,
              "warnings": 0, "incidents": 0, "unchecked": 0}
    argv = [str(run_dir / "articles"), str(run_dir / "news.jsonl"), "-o", str(out), "--model", model, "-q",
            "--max-chars", str(max_chars), "--batch-size", "64"]
    if fmt == "csv":
        argv += ["--errors", str(run_dir / "errors.csv")]
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            code = main(argv)
            if fmt == "csv":  # the records themselves, for the checks
                code = max(code, main(argv[:2] + ["-o", str(side)] + argv[4:11]))
    except BaseException as exc:  # noqa: BLE001 - a crash is what we count
        totals["crashes"] += 1
        print(f"seed {seed}: crash {type(exc).__name__}: {exc}", file=sys.stderr)
        return totals
    if code not in (0, 3) or "Traceback" in stderr.getvalue():
        totals["crashes"] += 1
        print(f"seed {seed}: exit {code}: {stderr.getvalue()[-2000:]}", file=sys.stderr)
        return totals
    records = [json.loads(line) for line in (side if fmt == "csv" else out).read_text(encoding="utf-8").split("\n") if line]
    expected_ids = sorted(files, key=lambda p: Path(p).parts)
    totals["docs"] = expected_jsonl + len(files)
    totals["missing"] = max(0, totals["docs"] - len(records))
    totals["extra"] = max(0, len(records) - totals["docs"])
    got_files = [r["doc_id"] for r in records[:len(files)]]
    if got_files != expected_ids:
        totals["missing"] += sum(1 for a, b in zip(got_files, expected_ids) if a != b)
    for rec in records:
        errors = list(validator.iter_errors(rec))
        totals["invalid"] += bool(errors)
        totals[rec["status"]] += 1
        totals["warnings"] += bool(rec.get("warnings"))
        totals["incidents"] += len(rec["incidents"])
        if rec["status"] != "ok":
            continue
        text = files.get(rec["doc_id"], texts.get(rec["doc_id"]))
        if text is None and rec["doc_id"] in files:  # random bytes: check against the command's own reading
            from hasila.infer.inputs import decode_bytes

            text = decode_bytes(Path(rec["doc_id"]).read_bytes(), rec["doc_id"])[0]
        if text is None:  # a damaged line that still parsed: its text is not the generator's
            totals["unchecked"] += 1
            continue
        try:
            check_record(rec, text)
        except Exception as exc:  # noqa: BLE001
            totals["bad_offsets"] += 1
            print(f"seed {seed}: {exc}", file=sys.stderr)
    return totals


def fuzz(n_docs: int, runs: int, model: str | None, seed: int = 0) -> dict[str, Any]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    with tempfile.TemporaryDirectory(prefix="hasila-fuzz-") as tmp:
        work = Path(tmp)
        if model is None:
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
            from tiny_model import build_tiny_model

            model = str(build_tiny_model(work / "tiny", train_steps=150))
        totals: dict[str, Any] = {}
        start = time.perf_counter()
        per_run = -(-n_docs // runs)
        for r in range(runs):
            for key, value in one_run(seed + r, per_run, model, work, validator).items():
                totals[key] = totals.get(key, 0) + value
        totals["seconds"] = round(time.perf_counter() - start, 1)
        totals["model"] = Path(model).name
    return totals


def main_cli() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=4)
    p.add_argument("--model", help="model folder (default: a tiny model built on the fly)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    import torch

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    totals = fuzz(args.docs, args.runs, args.model, args.seed)
    print(json.dumps(totals))
    return 1 if any(totals[k] for k in ("crashes", "missing", "extra", "bad_offsets", "invalid")) else 0


if __name__ == "__main__":
    sys.exit(main_cli())
