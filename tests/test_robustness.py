"""hasila-extract is safe with any output, any input and any install (issue 17).

Outputs that are not regular files are written in place, never replaced; write errors and a
second run on the same output get clear messages and documented exit codes; exit statuses for
batches that failed; encodings; malformed dates and unknown fields; the install; what made
every record.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import zipfile
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest

from hasila.infer.cli import EXIT_ALL_FAILED, EXIT_FAILED, EXIT_LOCKED, EXIT_STRICT, EXIT_USAGE, main
# Not there before issue 17: without the fix this module fails before it touches /dev.
from hasila.infer.inputs import InputReader, decode_bytes
from hasila.infer.records import check_record, load_schema, rules_version
from hasila.infer.writers import CSV_COLUMNS, CSV_COLUMNS_V1, output_kind
from tiny_model import build_tiny_model

REPO = Path(__file__).resolve().parent.parent
SHORT = "قتل ثمانية جنود وأصيب خمسة آخرون بهجوم في ريف دير الزور أمس ."
REPORT = "أفاد المرصد السوري بمقتل 35 عنصرا من قوات النظام في بادية حمص يوم السبت ."
# CSV format 1, frozen: later formats may only append columns.
V1 = ("doc_id", "incident", "event_date", "time_precision", "date_precision", "date_text", "actor1", "actor2",
      "location", "fatalities", "fatalities_low", "fatalities_high", "fatalities_qualifier", "fatalities_text",
      "injuries", "injuries_low", "injuries_high", "injuries_qualifier", "injuries_text", "source", "outlet", "url",
      "notes", "evidence_start", "evidence_end", "fatalities_start", "fatalities_end", "injuries_start",
      "injuries_end", "confidence")


# The command's fixtures (one torch thread, the tiny model, the schema validator), shared, not copied.
from test_extract_cli import model_dir, one_thread, validator  # noqa: E402,F401


def jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def run(*argv) -> int:
    return main([str(a) for a in argv])


def records_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def news(tmp_path):
    return jsonl(tmp_path / "news.jsonl", [{"id": "a", "text": REPORT}, {"id": "b", "text": SHORT}])


# -- item 2: outputs that are not regular files ------------------------------------------------


def test_dev_null_is_written_not_replaced(model_dir, news, capsys):
    assert output_kind("/dev/null") == "stream"
    before = os.stat("/dev/null")
    assert run(news, "-o", "/dev/null", "--model", model_dir, "-q") == 0
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert not os.path.exists("/dev/null.partial") and not os.path.exists("/dev/null.lock")


def test_fifo_gets_the_records_and_stays_a_fifo(model_dir, news, tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert run(news, "-o", fifo, "--model", model_dir, "-q") == 0
    reader.join(timeout=30)
    assert not reader.is_alive(), "the FIFO's reader hangs: the writer never closed it"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [r["doc_id"] for r in records_of(got[0].decode("utf-8"))] == ["a", "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["news.jsonl", "pipe.jsonl"]


def test_symlink_is_kept_and_its_target_written(model_dir, news, tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.jsonl"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert run(news, "-o", link, "--model", model_dir, "-q") == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert [r["doc_id"] for r in records_of(target.read_text(encoding="utf-8"))] == ["a", "b"]
    # A dangling link: its target is created, the link stays.
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "real" / "new.csv")
    assert run(news, "-o", dangling, "--model", model_dir, "-q") == 0
    assert dangling.is_symlink() and (tmp_path / "real" / "new.csv").read_text(encoding="utf-8").startswith("doc_id,")


def test_dev_full_and_other_write_errors_exit_1_with_a_message(model_dir, news, tmp_path, capsys):
    if not stat.S_ISCHR(os.stat("/dev/full").st_mode):
        pytest.skip("no /dev/full here")
    assert run(news, "-o", "/dev/full", "--model", model_dir, "-q") == EXIT_FAILED
    err = capsys.readouterr().err
    assert "cannot write /dev/full: No space left on device" in err and "Traceback" not in err
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode) and not os.path.exists("/dev/full.partial")
    # --errors to /dev/full, and a folder as the output
    assert run(news, "-o", tmp_path / "ok.jsonl", "--errors", "/dev/full", "--model", model_dir, "-q") == EXIT_FAILED
    assert "cannot write /dev/full" in capsys.readouterr().err
    assert run(news, "-o", tmp_path, "--model", model_dir, "-q") == EXIT_FAILED
    assert "it is a folder" in capsys.readouterr().err


def test_standard_output_to_dev_full_is_a_message_not_a_traceback(model_dir, news):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "hasila.infer.cli", str(news), "--model", model_dir, "-q"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == EXIT_FAILED, proc.stderr
    assert "cannot write standard output: No space left on device" in proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_a_second_run_on_the_same_output_stops_at_once(model_dir, news, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    out.write_text("kept\n", encoding="utf-8")
    lock = os.open(tmp_path / "out.jsonl.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)  # as a running hasila-extract holds it
    try:
        assert run(news, "-o", out, "--model", model_dir, "-q") == EXIT_LOCKED
    finally:
        os.close(lock)
    assert "being written by another hasila-extract run" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "kept\n" and not (tmp_path / "out.jsonl.partial").exists()
    # Once the other run is gone the output is written, and no lock file is left behind.
    assert run(news, "-o", out, "--model", model_dir, "-q") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["news.jsonl", "out.jsonl"]


def test_concurrent_runs_one_wins(model_dir, news, tmp_path):
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "hasila.infer.cli", str(news), "-o", str(out), "--model", model_dir, "-q"]
    procs = [subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = sorted(p.wait(timeout=300) for p in procs)
    # Both may finish one after the other; never both at once, and the output is whole either way.
    assert codes in ([0, 0], [0, EXIT_LOCKED])
    assert [r["doc_id"] for r in records_of(out.read_text(encoding="utf-8"))] == ["a", "b"]


# -- item 3: exit status and resume -------------------------------------------------------------


def test_exit_status_all_failed_and_strict(model_dir, tmp_path, capsys):
    bad = jsonl(tmp_path / "bad.jsonl", [{"id": "x", "text": "English only."}, {"id": "y", "text": "  "}])
    assert run(bad, "-o", tmp_path / "o1.jsonl", "--model", model_dir) == EXIT_ALL_FAILED
    assert "every document failed" in capsys.readouterr().err
    assert len(records_of((tmp_path / "o1.jsonl").read_text(encoding="utf-8"))) == 2  # still written
    mixed = jsonl(tmp_path / "mixed.jsonl", [{"id": "a", "text": SHORT}, {"id": "x", "text": "English only."}])
    assert run(mixed, "-o", tmp_path / "o2.jsonl", "--model", model_dir, "-q") == 0
    assert run(mixed, "-o", tmp_path / "o3.jsonl", "--model", model_dir, "-q", "--strict") == EXIT_STRICT
    assert len(records_of((tmp_path / "o3.jsonl").read_text(encoding="utf-8"))) == 2
    good = jsonl(tmp_path / "good.jsonl", [{"id": "a", "text": SHORT}])
    assert run(good, "-o", tmp_path / "o4.jsonl", "--model", model_dir, "-q", "--strict") == 0
    assert "exit status: 0 the batch ran" in " ".join(build_help().split())


def build_help() -> str:
    from hasila.infer.cli import build_parser

    return build_parser().format_help()


def test_resume_on_a_finished_output_does_nothing(model_dir, news, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    assert run(news, "-o", out, "--model", model_dir, "-q") == 0
    out.write_text(out.read_text(encoding="utf-8") + '{"marker": true}\n', encoding="utf-8")
    before = out.read_bytes()
    assert run(news, "-o", out, "--model", model_dir, "--resume") == 0
    assert out.read_bytes() == before
    assert "already complete" in capsys.readouterr().err
    assert run(news, "-o", "/dev/null", "--model", model_dir, "--resume") == EXIT_USAGE
    assert "regular file" in capsys.readouterr().err


# -- item 4: encodings, dates, fields ---------------------------------------------------------


def test_encodings_auto_and_explicit(model_dir, tmp_path, validator):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_cp1256.txt").write_bytes(REPORT.encode("cp1256"))
    (folder / "b_bom.txt").write_bytes(b"\xef\xbb\xbf" + REPORT.encode("utf-8"))
    (folder / "c_utf16.txt").write_bytes(REPORT.encode("utf-16"))  # with its BOM
    (folder / "d_utf16le_nobom.txt").write_bytes(REPORT.encode("utf-16-le"))
    (folder / "e_damaged.txt").write_bytes(REPORT.encode("utf-8")[:30] + b"\xff" + REPORT.encode("utf-8")[31:])
    lines = "".join(json.dumps({"id": f"j{i}", "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate([REPORT, SHORT]))
    (tmp_path / "u16.jsonl").write_bytes(lines.encode("utf-16"))
    (tmp_path / "w.jsonl").write_bytes(lines.replace("j0", "w0").replace("j1", "w1").encode("cp1256"))
    out = tmp_path / "out.jsonl"
    assert run(folder, tmp_path / "u16.jsonl", tmp_path / "w.jsonl", "-o", out, "--model", model_dir, "-q") == 0
    recs = {Path(r["doc_id"]).name: r for r in records_of(out.read_text(encoding="utf-8"))}
    texts = {"a_cp1256.txt": REPORT, "b_bom.txt": REPORT, "c_utf16.txt": REPORT, "d_utf16le_nobom.txt": REPORT,
             "j0": REPORT, "j1": SHORT, "w0": REPORT, "w1": SHORT}
    for name, text in texts.items():
        rec = recs[name]
        assert rec["status"] == "ok", rec
        validator.validate(rec)
        check_record(rec, text)  # offsets exact against the text as an editor shows it (no BOM)
        assert rec["entities"], name
    assert recs["a_cp1256.txt"]["warnings"][0]["type"] == "encoding" and "Windows-1256" in recs["a_cp1256.txt"]["warnings"][0]["message"]
    assert "warnings" not in recs["b_bom.txt"] and "warnings" not in recs["c_utf16.txt"]
    assert recs["e_damaged.txt"]["error"]["type"] == "not_utf8" and "damaged" in recs["e_damaged.txt"]["error"]["message"]
    # explicit encodings read only that
    out2 = tmp_path / "out2.jsonl"
    assert run(folder / "a_cp1256.txt", folder / "b_bom.txt", "-o", out2, "--model", model_dir, "-q", "--encoding", "utf-8") == 0
    assert [r["status"] for r in records_of(out2.read_text(encoding="utf-8"))] == ["error", "ok"]
    assert run(folder / "a_cp1256.txt", "-o", out2, "--model", model_dir, "-q", "--encoding", "cp1256") == 0
    assert records_of(out2.read_text(encoding="utf-8"))[0]["status"] == "ok"
    assert run(tmp_path / "u16.jsonl", "-o", out2, "--model", model_dir, "-q", "--encoding", "utf-16") == 0
    assert [r["doc_id"] for r in records_of(out2.read_text(encoding="utf-8"))] == ["j0", "j1"]


def test_decode_bytes_details():
    assert decode_bytes(b"\xef\xbb\xbf" + "قتل".encode(), "f") == ("قتل", None, None)
    assert decode_bytes("قتل".encode("utf-16-be"), "f", "utf-16")[1] is None  # BOM-less: LE assumed, no crash
    text, error, _ = decode_bytes(b"abc \xff def", "f.txt")  # a stray byte in ASCII: no Arabic in any encoding
    assert text is None and error.type == "not_utf8" and "byte 4" in error.message
    text, error, _ = decode_bytes(b"\xff\xfe\x00\xd8", "f.txt", "utf-16")
    assert text is None and error.type == "bad_encoding"
    with pytest.raises(ValueError):
        InputReader(encoding="latin-1")


@pytest.mark.parametrize("date", ["10/08/2015", "2015-8-10", 20150810, "yesterday"])
def test_malformed_date_is_a_warning_not_an_error(model_dir, tmp_path, date, validator):
    src = jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": SHORT, "date": date}])
    out = tmp_path / "out.jsonl"
    assert run(src, "-o", out, "--model", model_dir, "-q") == 0
    rec = records_of(out.read_text(encoding="utf-8"))[0]
    validator.validate(rec)
    assert rec["status"] == "ok" and rec["date"] is None
    assert rec["warnings"][0]["type"] == "bad_date" and json.dumps(date).strip('"') in rec["warnings"][0]["message"]
    assert run(src, "-o", out, "--model", model_dir, "-q", "--date", "2015-08-10") == 0
    rec = records_of(out.read_text(encoding="utf-8"))[0]
    assert rec["date"] == "2015-08-10" and "--date default 2015-08-10" in rec["warnings"][0]["message"]


def test_unknown_fields_are_kept_in_metadata(model_dir, tmp_path, validator):
    src = jsonl(tmp_path / "m.jsonl", [
        {"id": "a", "text": SHORT, "title": "عنوان", "tags": ["x", 1], "lang": None},
        {"id": "b", "text": "English only.", "page": 3},
        {"id": "c", "text": SHORT},
    ])
    out = tmp_path / "out.jsonl"
    assert run(src, "-o", out, "--model", model_dir, "-q") == 0
    recs = records_of(out.read_text(encoding="utf-8"))
    for rec in recs:
        validator.validate(rec)
    assert recs[0]["metadata"] == {"title": "عنوان", "tags": ["x", 1], "lang": None}
    assert recs[1]["status"] == "error" and recs[1]["metadata"] == {"page": 3}
    assert "metadata" not in recs[2]


# -- item 5: install ----------------------------------------------------------------------------


def test_missing_model_folder_is_an_immediate_clear_error(news, capsys):
    start = time.perf_counter()
    assert run(news, "--model", "models/no-such-model", "-q") == EXIT_USAGE
    err = capsys.readouterr().err
    assert time.perf_counter() - start < 10
    assert "model folder 'models/no-such-model' does not exist" in err and "--allow-download" in err
    assert run(news, "--model", "./nowhere", "-q") == EXIT_USAGE
    assert "does not exist" in capsys.readouterr().err


def test_make_extract_installs_only_the_runtime(tmp_path):
    dry = subprocess.run(["make", "-n", "extract", f"VENV={tmp_path / 'v'}"], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    installs = [line for line in dry.stdout.splitlines() if "pip install" in line]
    assert any(re.search(r"pip install -q -e \.$", line) for line in installs), installs
    assert not any("[dev]" in line or "[test]" in line for line in installs), installs


@pytest.mark.slow
def test_the_wheel_carries_the_model_and_finds_it(tmp_path):
    """A built wheel holds the shipped model where find_model looks for it, and imported from the
    unpacked wheel (outside the checkout) finds it. (A fresh venv installing the wheel and running
    the README's command needs torch installed there: a few minutes, so it is not a test.)"""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("hasila-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(site)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        assert f"hasila/models/hasila-ner/{name}" in names
    code = ("import hasila.infer.model as m, hasila.infer.records as r; "
            "print(m.__file__); print(m.find_model()); print(r.rules_version())")
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("HASILA_MODEL", None)
    found = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    module, model, rules = found.stdout.split()
    assert module.startswith(str(site)) and model == str(site / "hasila" / "models" / "hasila-ner")
    assert rules == rules_version()  # the same rules, installed or in the checkout


# -- item 9: what made every output ----------------------------------------------------------


def test_every_output_says_what_made_it(model_dir, news, tmp_path, validator):
    out, table = tmp_path / "out.jsonl", tmp_path / "out.csv"
    assert run(news, "-o", out, "--model", model_dir, "-q") == 0
    assert run(news, "-o", table, "--model", model_dir, "-q") == 0
    schema = load_schema()
    for rec in records_of(out.read_text(encoding="utf-8")):
        validator.validate(rec)
        assert rec["producer"] == {"hasila": metadata.version("hasila"), "rules": rules_version(),
                                   "schema": schema["version"]}
        assert re.fullmatch(r"[0-9a-f]{64}", rec["model"]["sha256"])
    assert re.fullmatch(r"sha256:[0-9a-f]{16}", rules_version())
    rows = list(csv.DictReader(table.open(encoding="utf-8", newline="")))
    assert rows, "the tiny model finds no incident: the CSV check needs one"
    assert all(row["hasila_version"] == metadata.version("hasila") and row["rules_version"] == rules_version()
               and row["schema_version"] == schema["version"] and len(row["model_sha256"]) == 64 for row in rows)
    # CSV columns are only ever appended.
    assert CSV_COLUMNS_V1 == V1 and CSV_COLUMNS[:len(V1)] == V1
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"schema {schema['version']}" in changelog and metadata.version("hasila") in changelog
    for column in CSV_COLUMNS[len(V1):]:
        assert f"`{column}`" in changelog, column


def test_a_zero_width_no_break_space_after_the_bom_is_text():
    """Found by the fuzzer: the BOM was dropped twice from UTF-16, shifting every offset by one."""
    text = "\ufeffقتل 5 جنود"
    for data, enc in ((text.encode("utf-16"), "auto"), (text.encode("utf-16"), "utf-16"),
                      (b"\xef\xbb\xbf" + text.encode("utf-8"), "auto")):
        assert decode_bytes(data, "f", enc)[0] == text, (data[:6], enc)


# -- item 8: the command fuzzed end to end (a bounded number here; benchmarks/fuzz_extract.py for more) --


def test_fuzz_the_command_end_to_end(model_dir):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from fuzz_extract import fuzz
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    totals = fuzz(400, 2, model_dir, seed=7)
    assert totals["docs"] > 300 and totals["ok"] > 100 and totals["error"] > 20 and totals["warnings"] > 10
    assert {k: totals[k] for k in ("crashes", "missing", "extra", "bad_offsets", "invalid")} == dict.fromkeys(
        ("crashes", "missing", "extra", "bad_offsets", "invalid"), 0), totals


def test_bomless_utf16_with_punctuation_and_emoji_is_read_as_utf16():
    # found by benchmarks/fuzz_extract.py at 100,000 documents: joiners, dashes and emoji pushed the
    # share of NUL/Arabic high bytes under the old 90 % cut, and the file was read as Windows-1256
    from hasila.infer.inputs import decode_bytes

    text = "\u200d\nثلاثة  الدولة الإنسان \t؟ 🙂— النظام \n 🙂 قتل 5 في حمص"
    for codec in ("utf-16-le", "utf-16-be"):
        got, error, warning = decode_bytes(text.encode(codec), "f.txt", "auto")
        assert error is None and got == text, codec
    arabic = "قتل 12 جنديا في هجوم على حاجز قرب حلب"
    for codec in ("utf-8", "cp1256"):  # never mistaken for UTF-16
        assert decode_bytes(arabic.encode(codec), "f.txt", "auto")[0] == arabic
