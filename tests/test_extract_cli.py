"""hasila-extract end to end with a tiny model: records, bad inputs, formats, resume, HTML."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from hasila.infer.cli import main
from hasila.infer.records import check_record, load_schema
from hasila.infer.writers import CSV_COLUMNS, safe_cell
from tiny_model import build_tiny_model

TESTS_DIR = Path(__file__).resolve().parent

# Made-up articles.
REPORT = ("أفاد المرصد السوري بمقتل 35 عنصرا من قوات النظام في بادية حمص يوم السبت .\n"
          "وأصيب 12 مدنيا في قصف على الرقة أمس .")
SHORT = "قتل ثمانية جنود وأصيب خمسة آخرون بهجوم في ريف دير الزور أمس ."
WITH_COMMENTS = REPORT + "\nالتعليقات\nمتابع: قتل 500 شخص هذا العام ولا أحد يتحرك!"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny matrices on a shared CPU: one thread is many times faster than two that wait."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", train_steps=150))


@pytest.fixture(scope="module")
def validator():
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def write_jsonl(path: Path, rows) -> Path:
    with open(path, "wb") as fh:
        for row in rows:
            fh.write(row if isinstance(row, bytes) else (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def run(argv) -> int:
    return main([str(a) for a in argv])


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def check_all(records, texts, validator):
    for rec in records:
        validator.validate(rec)
        check_record(rec, texts.get(rec["doc_id"]))


@pytest.fixture
def bad_inputs(tmp_path):
    """A folder and a JSONL file with every kind of bad input among good ones."""
    folder = tmp_path / "articles"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text(SHORT, encoding="utf-8")
    (folder / "a.txt").write_text(REPORT, encoding="utf-8")
    (folder / "sub" / "c.txt").write_bytes(b"\xd9\x82\xd8\xaa\xd9\x84 \xff\xfe 35")  # not UTF-8
    (folder / "notes.md").write_text("ignored: not a .txt file", encoding="utf-8")
    jsonl = write_jsonl(tmp_path / "news.jsonl", [
        {"id": "n1", "text": REPORT, "date": "2019-04-20", "source": "made-up agency", "url": "https://example.org/1"},
        {"id": "n2", "text": "   \n "},
        {"id": "n3", "text": "Three soldiers were killed on Saturday."},
        {"id": "n4", "text": SHORT * 40},
        b"{not json\n",
        {"text": SHORT},
        {"id": "n5"},
        {"id": "n1", "text": SHORT},
        {"id": "n6", "text": SHORT, "date": "20/04/2019"},
        b"\n",
        b'{"id": "n7", "text": "\xff"}\n',
        {"id": 8, "text": SHORT},
        json.dumps({"id": "n9", "text": "قتل \ud800 جنود"}).encode("ascii") + b"\n",  # lone surrogate
    ])
    return folder, jsonl


EXPECTED = [  # (doc_id, status, error type) in input order
    ("DIR/a.txt", "ok", None), ("DIR/b.txt", "ok", None), ("DIR/sub/c.txt", "error", "not_utf8"),
    ("n1", "ok", None), ("n2", "error", "empty_text"), ("n3", "error", "not_arabic"), ("n4", "error", "too_long"),
    ("JSONL:5", "error", "bad_json"), ("JSONL:6", "error", "missing_field"), ("n5", "error", "missing_field"),
    ("n1", "error", "duplicate_id"), ("n6", "ok", None), ("JSONL:11", "error", "not_utf8"),
    ("8", "ok", None), ("n9", "error", "bad_text"),
]


def test_one_valid_record_per_input_in_order(model_dir, bad_inputs, tmp_path, validator, capsys):
    folder, jsonl = bad_inputs
    out = tmp_path / "out.jsonl"
    assert run([folder, jsonl, "-o", out, "--model", model_dir, "--max-chars", 1000, "--batch-size", 3]) == 0
    records = read_records(out)
    expected = [(i.replace("DIR", str(folder)).replace("JSONL", str(jsonl)), s, t) for i, s, t in EXPECTED]
    assert [(r["doc_id"], r["status"], (r["error"] or {}).get("type")) for r in records] == expected
    texts = {str(folder / "a.txt"): REPORT, str(folder / "b.txt"): SHORT, "n1": REPORT, "8": SHORT, "n6": SHORT}
    check_all(records, texts, validator)
    by_id = {r["doc_id"]: r for r in records if r["status"] == "ok"}
    assert by_id["n1"]["date"] == "2019-04-20" and by_id["n1"]["source"] == "made-up agency"
    assert by_id["n1"]["model"]["name"] == "model" and len(by_id["n1"]["model"]["sha256"]) == 64
    assert any(e["label"] == "KILLED" and e["text"] == "35" for e in by_id["n1"]["entities"])
    # Every error message names the file (and line) the document came from.
    for rec in records:
        if rec["status"] == "error":
            assert str(jsonl) + ":" in rec["error"]["message"] or str(folder) in rec["error"]["message"], rec
    dup = next(r for r in records if r["error"] and r["error"]["type"] == "duplicate_id")
    assert f"{jsonl}:8" in dup["error"]["message"] and f"{jsonl}:1" in dup["error"]["message"]
    err = capsys.readouterr().err
    assert "15 documents (10 with errors)" in err
    # A malformed date does not cost the document: it is read without it, and the record says why.
    assert by_id["n6"]["date"] is None
    assert [w["type"] for w in by_id["n6"]["warnings"]] == ["bad_date"] and "20/04/2019" in by_id["n6"]["warnings"][0]["message"]


def test_same_output_twice(model_dir, bad_inputs, tmp_path):
    folder, jsonl = bad_inputs
    outs = []
    for k in range(2):
        out, html = tmp_path / f"out{k}.jsonl", tmp_path / f"report{k}.html"
        assert run([folder, jsonl, "-o", out, "--html", html, "--model", model_dir, "-q"]) == 0
        outs.append((out.read_bytes(), html.read_bytes()))
    assert outs[0] == outs[1]


@pytest.mark.slow
def test_worker_processes_give_the_same_bytes(model_dir, bad_inputs, tmp_path):
    """--workers moves normalizing, tokenizing, the text checks and assembly into other
    processes; the records (every error record too), CSV and report stay byte for byte the same."""
    folder, jsonl = bad_inputs
    outs = []
    for workers in (0, 2):
        out, html, errors = tmp_path / f"out{workers}.jsonl", tmp_path / f"r{workers}.html", tmp_path / f"e{workers}.csv"
        # batch size 2 → chunks of 32 documents: the 15 inputs twice over span two chunks
        assert run([folder, jsonl, folder, "-o", out, "--html", html, "--errors", errors, "--model", model_dir,
                    "--max-chars", 1000, "--batch-size", 2, "--workers", workers, "-q"]) == 0
        outs.append((out.read_bytes(), html.read_bytes(), errors.read_bytes()))
    assert outs[0] == outs[1]
    assert len(outs[1][0].splitlines()) == 18


def test_workers_import_neither_torch_nor_transformers(model_dir):
    """Workers get the Rust tokenizer, not the transformers wrapper: 15 of them importing torch
    took a minute to start on the GPU machine."""
    from hasila.infer.pipeline import Extractor

    with Extractor(model_dir, device="cpu", workers=1) as extractor:
        heavy = extractor._start_pool().submit(_heavy_modules).result()
    assert heavy == []


def _heavy_modules() -> list[str]:
    return [m for m in ("torch", "transformers") if m in sys.modules]


def test_a_dead_worker_costs_nothing(model_dir, monkeypatch):
    """If a worker process dies (killed, out of memory), the batch goes on in the main process
    and every document still gets its record, in order, the same as without workers."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from hasila.infer import pipeline
    from hasila.infer.inputs import InputReader

    docs = [{"id": f"d{i}", "text": (REPORT, SHORT, "", WITH_COMMENTS)[i % 4]} for i in range(70)]
    with pipeline.Extractor(model_dir, device="cpu", batch_size=2) as serial:
        want = list(serial.extract(InputReader().docs_from_objects(docs)))

    class DiesOnFinishing:  # prepares in this process, then "dies" at the first finishing task
        def submit(self, fn, *args):
            future: Future = Future()
            if fn is pipeline._finish_many:
                future.set_exception(BrokenProcessPool("a worker was killed"))
            else:
                future.set_result(fn(*args))
            return future

        def shutdown(self, **kwargs):
            pass

    extractor = pipeline.Extractor(model_dir, device="cpu", batch_size=2, workers=2)
    pipeline._init_worker(extractor.classifier.encoder, extractor.classifier.tags, extractor.model_info)
    monkeypatch.setattr(extractor, "_start_pool", lambda: DiesOnFinishing())
    got = list(extractor.extract(InputReader(defer_text_checks=True).docs_from_objects(docs)))
    assert got == want and extractor.workers == 0


def test_stdin_jsonl_and_plain_text(model_dir, monkeypatch, capsys, validator):
    lines = json.dumps({"id": "s1", "text": SHORT}, ensure_ascii=False) + "\n" + "not json\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines.encode("utf-8"))))
    assert run(["-", "--model", model_dir, "-q"]) == 0
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["doc_id"], r["status"]) for r in records] == [("s1", "ok"), ("-:2", "error")]
    check_all(records, {"s1": SHORT}, validator)

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SHORT.encode("utf-8"))))
    assert run(["-", "--model", model_dir, "-q", "--date", "2020-01-02"]) == 0
    [record] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert record["doc_id"] == "-" and record["status"] == "ok" and record["date"] == "2020-01-02"
    check_all([record], {"-": SHORT}, validator)


def test_csv_one_row_per_incident(model_dir, bad_inputs, tmp_path):
    folder, jsonl = bad_inputs
    out_json, out_csv, errors = tmp_path / "o.jsonl", tmp_path / "o.csv", tmp_path / "errors.csv"
    assert run([folder, jsonl, "-o", out_json, "--model", model_dir, "-q"]) == 0
    assert run([folder, jsonl, "-o", out_csv, "--errors", errors, "--model", model_dir, "-q"]) == 0
    records = read_records(out_json)
    with open(out_csv, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    incidents = [(r, i, inc) for r in records if r["status"] == "ok" for i, inc in enumerate(r["incidents"])]
    assert incidents, "the fitted tiny model should yield at least one incident"
    assert len(rows) == len(incidents)
    for row, (rec, i, inc) in zip(rows, incidents):
        assert row["doc_id"] == rec["doc_id"] and row["incident"] == str(i + 1)
        killed = inc["killed"]
        assert row["fatalities"] == ("" if not killed or killed["value"] is None else str(killed["value"]))
        assert row["notes"].lstrip("'") == inc["evidence"]["text"]
        assert (row["evidence_start"], row["evidence_end"]) == (str(inc["evidence"]["start"]), str(inc["evidence"]["end"]))
        assert row["actor1"] == (inc["perpetrator"] or {}).get("text", "")
    with open(errors, newline="", encoding="utf-8") as fh:
        err_rows = list(csv.DictReader(fh))
    assert [r["doc_id"] for r in err_rows] == [r["doc_id"] for r in records if r["status"] == "error"]
    assert all(r["error_type"] and r["message"] for r in err_rows)


def test_csv_cells_cannot_run_formulas():
    assert safe_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert safe_cell("-2+3") == "'-2+3"
    assert safe_cell("-") == "-" and safe_cell(35) == 35 and safe_cell("قتل") == "قتل"


class _TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.data = set(), [], []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)

    def handle_data(self, data):
        self.data.append(data)


def test_html_report_escapes_everything(model_dir, tmp_path):
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    jsonl = write_jsonl(tmp_path / "evil.jsonl", [
        {"id": '"><img src=x onerror=alert(3)>', "text": SHORT + " " + evil, "url": "javascript:alert(4)",
         "source": "<b>bold</b>"},
        {"id": "ok", "text": WITH_COMMENTS, "url": "https://example.org/a?b=1&c=2"},
        {"id": "<i>bad</i>", "text": ""},
    ])
    html_path = tmp_path / "r.html"
    assert run([jsonl, "--html", html_path, "-o", tmp_path / "o.jsonl", "--model", model_dir, "-q"]) == 0
    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ar" dir="rtl">' in page
    parser = _TagCollector()
    parser.feed(page)
    assert parser.tags <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "div", "span", "main",
                           "article", "h2", "p", "table", "thead", "tbody", "tr", "th", "td", "a", "br", "b", "bdi", "footer"}
    assert not any(k.startswith("on") for _, k, _ in parser.attrs)
    hrefs = [v for tag, k, v in parser.attrs if k == "href"]
    assert "https://example.org/a?b=1&c=2" in hrefs
    assert all(h.startswith("#") or h.startswith("https://") for h in hrefs)
    shown = "".join(parser.data)  # what the reader sees: the input's markup as plain text
    assert evil in shown and "<b>bold</b>" in shown and '"><img src=x onerror=alert(3)>' in shown
    assert "<script" not in page.lower() and "<img" not in page.lower()
    # Every evidence link points at an anchor in the page; the comments are marked as furniture.
    ids = {v for _, k, v in parser.attrs if k == "id"}
    assert all(h[1:] in ids for h in hrefs if h.startswith("#"))
    assert 'class="furn"' in page or ' furn"' in page


def test_usage_errors_exit_2(model_dir, tmp_path, capsys, monkeypatch):
    good = tmp_path / "a.txt"
    good.write_text(SHORT, encoding="utf-8")
    assert run([tmp_path / "missing.txt", "--model", model_dir]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert run([good, "--resume", "--model", model_dir]) == 2
    assert "--resume needs -o" in capsys.readouterr().err
    assert run([good, "--date", "yesterday", "--model", model_dir]) == 2
    assert run([good, "--model", tmp_path / "no-model"]) == 2
    assert run([good, "--model", model_dir, "--stride", "-1"]) == 2
    assert "--stride must be 0 or more" in capsys.readouterr().err
    assert run([good, "--model", model_dir, "--stride", "100000"]) == 2
    assert "at most half the model's window" in capsys.readouterr().err
    assert run([good, "--model", model_dir, "--stride", "2", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "ok"
    monkeypatch.delenv("HASILA_MODEL", raising=False)
    monkeypatch.setattr("hasila.infer.model.SHIPPED_MODEL_DIR", tmp_path / "no-shipped-model")
    assert run([good]) == 2
    assert "HASILA_MODEL" in capsys.readouterr().err
    monkeypatch.setenv("HASILA_MODEL", model_dir)
    assert run([good, "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "ok"


def test_a_failing_document_does_not_stop_the_batch(model_dir, tmp_path, monkeypatch, validator):
    import hasila.infer.pipeline as pipeline

    real = pipeline.assemble

    def flaky(norm, entities, date, **options):
        if "ثمانية" in norm.text:
            raise RuntimeError("boom")
        return real(norm, entities, date, **options)

    monkeypatch.setattr(pipeline, "assemble", flaky)
    jsonl = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": REPORT}, {"id": "b", "text": SHORT},
                                                {"id": "c", "text": REPORT}])
    out = tmp_path / "o.jsonl"
    assert run([jsonl, "-o", out, "--model", model_dir, "-q"]) == 0
    records = read_records(out)
    assert [(r["doc_id"], r["status"]) for r in records] == [("a", "ok"), ("b", "error"), ("c", "ok")]
    assert records[1]["error"]["type"] == "internal_error" and "RuntimeError: boom" in records[1]["error"]["message"]
    check_all(records, {"a": REPORT, "c": REPORT}, validator)


def test_tokenizer_or_model_failing_on_one_document_costs_only_its_record(model_dir, tmp_path, monkeypatch, validator):
    from hasila.infer.model import TokenClassifier, WordEncoder

    real_encode, real_score = WordEncoder.encode, TokenClassifier.score

    def encode(encoder, docs):
        if any("ثمانية" in words for words in docs):
            raise RuntimeError("tokenizer boom")
        return real_encode(encoder, docs)

    def score(self, encoded, batch_size=None):
        if any(len(e.ids) > 60 for e in encoded):  # the long document only
            raise MemoryError("out of memory")
        return real_score(self, encoded, batch_size)

    monkeypatch.setattr(WordEncoder, "encode", encode)
    monkeypatch.setattr(TokenClassifier, "score", score)
    jsonl = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": REPORT}, {"id": "b", "text": SHORT},
                                                {"id": "c", "text": REPORT * 3}, {"id": "d", "text": REPORT}])
    out = tmp_path / "o.jsonl"
    assert run([jsonl, "-o", out, "--model", model_dir, "-q"]) == 0
    records = read_records(out)
    assert [(r["doc_id"], r["status"]) for r in records] == [("a", "ok"), ("b", "error"), ("c", "error"), ("d", "ok")]
    assert "tokenization failed: RuntimeError: tokenizer boom" in records[1]["error"]["message"]
    assert "the model failed: MemoryError" in records[2]["error"]["message"]
    check_all(records, {"a": REPORT, "d": REPORT}, validator)


def test_python_api(model_dir, validator):
    from hasila.infer.pipeline import extract

    records = extract([SHORT, "", {"id": "x", "text": REPORT, "date": "2019-04-20"}], model=model_dir, device="cpu")
    assert [(r["doc_id"], r["status"]) for r in records] == [("0", "ok"), ("1", "error"), ("x", "ok")]
    assert records[2]["date"] == "2019-04-20"
    check_all(records, {"0": SHORT, "x": REPORT}, validator)
    with pytest.raises(TypeError):
        extract(SHORT, model=model_dir)


def test_explain_adds_provenance_and_nothing_else(model_dir, bad_inputs, tmp_path, validator):
    """--explain: each ok record gets ``provenance`` (valid per the schema); the rest of the record
    is the same bytes as without it, with worker processes too."""
    folder, jsonl = bad_inputs
    plain, explained, parallel = tmp_path / "plain.jsonl", tmp_path / "explained.jsonl", tmp_path / "parallel.jsonl"
    assert run([folder, jsonl, "-o", plain, "--model", model_dir, "-q"]) == 0
    assert run([folder, jsonl, "-o", explained, "--model", model_dir, "-q", "--explain"]) == 0
    assert run([folder, jsonl, "-o", parallel, "--model", model_dir, "-q", "--explain", "--workers", 2]) == 0
    assert explained.read_bytes() == parallel.read_bytes()
    from hasila.infer.records import dumps

    for a, b in zip(read_records(plain), read_records(explained)):
        validator.validate(b)
        assert ("provenance" in b) == (b["status"] == "ok")
        b.pop("provenance", None)
        assert dumps(a) == dumps(b)


def test_rules_are_disabled_by_id_and_wrong_ids_are_usage_errors(model_dir, bad_inputs, tmp_path, capsys):
    folder, _ = bad_inputs
    out = tmp_path / "out.jsonl"
    assert run([folder, "-o", out, "--model", model_dir, "-q", "--disable-rules", "A7b,A3"]) == 0
    assert run([folder, "-o", out, "--model", model_dir, "-q", "--disable-rules", "A7"]) == 2
    assert "A7 cannot be disabled" in capsys.readouterr().err
    assert run([folder, "-o", tmp_path / "out.csv", "--model", model_dir, "-q", "--explain"]) == 2


def test_python_api_explain_and_disable(model_dir, validator):
    from hasila.infer.pipeline import extract
    from hasila.infer.types import HasilaError

    [rec] = extract([REPORT], model=model_dir, device="cpu", explain=True, disable={"A7b"})
    validator.validate(rec)
    assert isinstance(rec["provenance"], list)
    assert "provenance" not in extract([REPORT], model=model_dir, device="cpu")[0]
    with pytest.raises(HasilaError, match="cannot be disabled"):
        extract([REPORT], model=model_dir, device="cpu", disable={"A8"})


# -- atomic output and resume ------------------------------------------------------------------

SLOW_RUNNER = """
import sys, time
sys.path.insert(0, {tests!r})
from hasila.infer import model
_score = model.TokenClassifier.score
def slow(self, docs, batch_size=None):
    time.sleep({delay})
    return _score(self, docs, batch_size)
model.TokenClassifier.score = slow
from hasila.infer.cli import main
if __name__ == "__main__":  # worker processes import this script again
    sys.exit(main(sys.argv[1:]))
"""


def _many_docs(path: Path, n: int) -> Path:
    rows = []
    for i in range(n):
        rows.append({"id": f"d{i}", "text": (REPORT, SHORT, WITH_COMMENTS)[i % 3]} if i % 7 else {"id": f"d{i}", "text": ""})
    return write_jsonl(path, rows)


def _progress(path: Path) -> int:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["done"]
    except (OSError, ValueError, KeyError):
        return 0


def _worker_pids(parent: int) -> list[int]:
    """The multiprocessing children of ``parent`` (Linux /proc)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and b"multiprocessing" in cmdline:
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 2])
def test_killed_run_resumes_to_the_same_bytes(model_dir, tmp_path, workers):
    inputs = _many_docs(tmp_path / "in.jsonl", 100)  # chunks of 32 documents
    common = ["--model", model_dir, "--batch-size", "2", "--threads", "1", "--workers", str(workers), "-q"]

    ref = tmp_path / "ref"
    ref.mkdir()
    assert run([inputs, "-o", ref / "out.jsonl", "--html", ref / "r.html", "--errors", ref / "e.csv"] + common) == 0

    out = tmp_path / "run"
    out.mkdir()
    (out / "out.jsonl").write_text("old results\n", encoding="utf-8")  # must survive the crash
    script = tmp_path / "slow_runner.py"
    script.write_text(SLOW_RUNNER.format(tests=str(TESTS_DIR), delay=1.0), encoding="utf-8")
    argv = [sys.executable, str(script), str(inputs), "-o", str(out / "out.jsonl"), "--html", str(out / "r.html"),
            "--errors", str(out / "e.csv")] + [str(a) for a in common]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    progress = out / "out.jsonl.partial.json"
    deadline = time.time() + 120
    while _progress(progress) < 32 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    # (the pool starts its workers as work arrives; the resource tracker is a child too)
    children = _worker_pids(proc.pid) if Path("/proc").is_dir() else []
    assert bool(children) == bool(workers) or not Path("/proc").is_dir()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = _progress(progress)
    assert 32 <= done < 100, proc.stderr.read().decode()
    # Orphaned workers leave by themselves (they would otherwise wait for work forever).
    deadline = time.time() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in children) and time.time() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]
    assert (out / "out.jsonl").read_text(encoding="utf-8") == "old results\n"  # old file intact
    assert not (out / "r.html").exists()
    # A torn write after the last checkpoint: resume must cut it off.
    with open(out / "out.jsonl.partial", "ab") as fh:
        fh.write(b'{"doc_id": "half-writ')

    assert run([inputs, "-o", out / "out.jsonl", "--html", out / "r.html", "--errors", out / "e.csv", "--resume"] + common) == 0
    for name in ("out.jsonl", "r.html", "e.csv"):
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name
    assert not progress.exists() and not (out / "out.jsonl.partial").exists()


def test_resume_refuses_changed_input_or_settings(model_dir, tmp_path, capsys, monkeypatch):
    inputs = _many_docs(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out.jsonl"
    common = ["--model", model_dir, "--batch-size", "2", "-q"]
    # An interrupted run: Ctrl-C right after the first checkpoint.
    import hasila.infer.writers as writers

    real_checkpoint = writers.BatchWriter.checkpoint

    def checkpoint_then_stop(self):
        real_checkpoint(self)
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(writers.BatchWriter, "checkpoint", checkpoint_then_stop)
        assert run([inputs, "-o", out] + common) == 130
    assert _progress(tmp_path / "out.jsonl.partial.json") == 32
    assert not out.exists()
    capsys.readouterr()

    changed = _many_docs(tmp_path / "changed.jsonl", 40)
    rows = changed.read_text(encoding="utf-8").splitlines()
    rows[3] = json.dumps({"id": "d3", "text": SHORT + " تغيير"}, ensure_ascii=False)
    changed.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert run([changed, "-o", out, "--resume"] + common) == 2
    assert "differ from those of the interrupted run" in capsys.readouterr().err
    assert run([inputs, "-o", out, "--resume", "--date", "2020-01-01"] + common) == 2
    assert "settings differ" in capsys.readouterr().err
    assert run([inputs, "-o", out, "--resume", "--stride", "1"] + common) == 2  # other windows, other results
    assert "settings differ" in capsys.readouterr().err
    assert run([inputs, "-o", out, "--resume"] + common) == 0
    assert len(read_records(out)) == 40


def test_progress_bar_only_on_a_terminal(model_dir, tmp_path, capsys):
    good = tmp_path / "a.txt"
    good.write_text(SHORT, encoding="utf-8")
    assert run([good, "--model", model_dir, "-o", tmp_path / "o.jsonl"]) == 0
    err = capsys.readouterr().err
    assert "doc/s" not in err and "it/s" not in err and "1 documents (0 with errors)" in err


def test_input_reader_details(tmp_path):
    from hasila.infer.inputs import InputReader, arabic_share

    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + SHORT.encode("utf-8"))
    big = tmp_path / "big.txt"
    big.write_bytes(SHORT.encode("utf-8") * 10)
    jsonl = write_jsonl(tmp_path / "bom.jsonl", [b"\xef\xbb\xbf" + json.dumps({"id": "j", "text": SHORT}).encode() + b"\n"])
    docs = list(InputReader(max_chars=100).read([str(bom), str(big), str(jsonl)]))
    assert docs[0].ok and docs[0].text == SHORT  # the BOM is not part of the text
    assert docs[1].error.type == "too_long" and str(big) in docs[1].error.message
    assert docs[2].ok and docs[2].doc_id == "j"
    assert arabic_share("قتل 35 [ads3] www") == 3 / 9
    assert arabic_share("35 ، 12") == 0.0
