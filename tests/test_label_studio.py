"""Label Studio round trip: offset conversion (pure) and push → annotate → pull against a real server.

The server tests (marker ``labelstudio``) start Label Studio from its own venv
(``$HASILA_LS_VENV``, default /opt/hasila-ls; install: ``train/annotate/ls_server.sh install``).
Without it they skip; under CI (``CI=true``) a missing server is a failure. The browser test
also needs ``playwright`` in that venv (``ls_server.sh install-browser-test``) and a Chromium
(``$HASILA_CHROMIUM``, default /usr/bin/chromium), under the same rule.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from hasila.infer.types import Entity, Span
from hasila.train.annotate.label_studio import (
    LabelStudioError,
    cp_to_utf16,
    create_project,
    document_from_annotation,
    pull,
    push,
    region_offsets,
    same_region_text,
    utf16_to_cp,
)
from hasila.train.annotate.quotes import document_from_quotes, occurrences
from hasila.train.annotate.store import (
    GoldDocument,
    load_store,
    text_sha256,
    write_documents,
)
from hasila.train.settings import REPO_ROOT

# Made-up articles: an emoji (astral, 2 UTF-16 units) before Arabic spans; an article that ends
# with an Arabic word; an article with full diacritics.
TEXT_EMOJI = "قال المرصد 😀 إن 12 قتيلا سقطوا في قصف على حلب صباح اليوم 🙏 وأصيب 7 آخرون."
TEXT_END = "أعلنت وكالة الأنباء مقتل 4 عناصر من الشرطة في هجوم قرب مدينة دير الزور"
TEXT_DIAC = "قُتِلَ خَمْسَةُ جُنُودٍ وَجُرِحَ ثَلَاثَةٌ فِي الرَّقَّةِ يَوْمَ الْأَحَدِ."
TEXTS = {"emoji": TEXT_EMOJI, "end": TEXT_END, "diac": TEXT_DIAC}


def resolver(source):
    return TEXTS[source["doc"]]


def at(text: str, quote: str, n: int = 1) -> tuple[int, int]:
    start = occurrences(text, quote)[n - 1]
    return start, start + len(quote)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(msg: str) -> None:
    if _in_ci():
        pytest.fail(msg + " — under CI this is a failure")
    pytest.skip(msg)


# ---------------------------------------------------------------------------- pure offset logic


def test_utf16_conversion_round_trips_around_astral_chars():
    for i in range(len(TEXT_EMOJI) + 1):
        assert utf16_to_cp(TEXT_EMOJI, cp_to_utf16(TEXT_EMOJI, i)) == i
        assert cp_to_utf16(TEXT_EMOJI, i) == len(TEXT_EMOJI[:i].encode("utf-16-le")) // 2
    inside_pair = cp_to_utf16(TEXT_EMOJI, TEXT_EMOJI.index("😀")) + 1
    assert utf16_to_cp(TEXT_EMOJI, inside_pair) is None


def test_region_offsets_code_points_utf16_and_rtl_shift():
    s, e = at(TEXT_EMOJI, "حلب")
    assert region_offsets(TEXT_EMOJI, {"start": s, "end": e, "text": "حلب"}, "t") == (s, e, None)

    u = {"start": cp_to_utf16(TEXT_EMOJI, s), "end": cp_to_utf16(TEXT_EMOJI, e), "text": "حلب"}
    got = region_offsets(TEXT_EMOJI, u, "task 9 region 'r1'")
    assert got[:2] == (s, e) and "read as UTF-16 offsets" in got[2] and "task 9 region 'r1'" in got[2]

    s, e = at(TEXT_END, "الزور")
    shifted = {"start": s + 1, "end": e + 1, "text": "الزور"}  # end beyond the text, as in LS#2007
    got = region_offsets(TEXT_END, shifted, "t")
    assert got[:2] == (s, e) and "start -1, end -1" in got[2]

    with pytest.raises(LabelStudioError, match=r"task 3 region 'x': offsets \[0, 4\) give «أعلن» but the region text is «وكالة»"):
        region_offsets(TEXT_END, {"start": 0, "end": 4, "text": "وكالة"}, "task 3 region 'x'")
    with pytest.raises(LabelStudioError, match="outside the text"):
        region_offsets(TEXT_END, {"start": 0, "end": 400}, "t")
    with pytest.raises(LabelStudioError, match="must be integers"):
        region_offsets(TEXT_END, {"start": "0", "end": 4}, "t")


def test_region_text_rendering_of_newlines():
    assert same_region_text("قتل\nثلاثة", "قتل\\nثلاثة")
    assert same_region_text("قتل\r\nثلاثة", "قتل\\n\\nثلاثة")
    assert not same_region_text("قتل ثلاثة", "قتل أربعة")
    text = "سطر أول\nقتل ثلاثة"
    s, e = 4, 12
    assert region_offsets(text, {"start": s, "end": e, "text": "أول\\nقتل"}, "t") == (s, e, None)


def test_document_from_annotation_errors_name_the_task():
    data = {"text": TEXT_END, "doc_id": "madeup-end", "text_sha256": text_sha256(TEXT_END)}
    kw = dict(task_id=5, data=data, text=TEXT_END, source={"corpus": "madeup", "doc": "end"}, meta={}, annotator="a", fixes=[])
    box = {"id": "i", "from_name": "incidents", "to_name": "text", "type": "textarea", "value": {"text": ["[{oops"]}}
    with pytest.raises(LabelStudioError, match=r"task 5 \(madeup-end\): the incidents box is not valid JSON \(line 1, column 3"):
        document_from_annotation(result=[box], **kw)
    s, e = at(TEXT_END, "الشرطة")
    overlapping = [
        {"id": "a", "from_name": "label", "to_name": "text", "type": "labels", "value": {"start": s, "end": e, "text": "الشرطة", "labels": ["ORG"]}},
        {"id": "b", "from_name": "label", "to_name": "text", "type": "labels", "value": {"start": s - 3, "end": e, "text": "من الشرطة", "labels": ["ORG"]}},
    ]
    with pytest.raises(LabelStudioError, match=r"task 5 \(madeup-end\): madeup-end: two ORG spans overlap: .*«من الشرطة»"):
        document_from_annotation(result=overlapping, **kw)
    changed = dict(kw, data=dict(data, text=TEXT_END + "!"))
    with pytest.raises(LabelStudioError, match="the task text is not the corpus text"):
        document_from_annotation(result=[], **changed)


# ---------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LS_USER = "annotator@hasila.local"
LS_PASSWORD = "hasila-test-password"
LS_TOKEN = "hasila-test-token-4f1c2a9e77"


@pytest.fixture(scope="session")
def ls_server(tmp_path_factory):
    venv = Path(os.environ.get("HASILA_LS_VENV", "/opt/hasila-ls"))
    if not (venv / "bin" / "label-studio").exists():
        _missing(f"Label Studio not installed in {venv} (train/annotate/ls_server.sh install)")
    port = _free_port()
    data = tmp_path_factory.mktemp("label-studio")
    env = {
        **os.environ,
        "HASILA_LS_VENV": str(venv),
        "HASILA_LS_DATA": str(data),
        "HASILA_LS_USER": LS_USER,
        "HASILA_LS_PASSWORD": LS_PASSWORD,
        "HASILA_LS_TOKEN": LS_TOKEN,
    }
    log_path = data / "server.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            ["bash", str(REPO_ROOT / "train" / "annotate" / "ls_server.sh"), "start", str(port)],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Label Studio exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - t0 > 400:
                pytest.fail(f"Label Studio not up after 400 s:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(1)
        print(f"Label Studio up in {time.monotonic() - t0:.0f} s", file=sys.stderr)
        yield {"url": url, "token": LS_TOKEN, "venv": venv}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the session the fixture started: server + its children
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def client(ls_server):
    from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=ls_server["url"], api_key=ls_server["token"])


def made_up_store(root: Path) -> list[GoldDocument]:
    """Three gold documents in a store under ``root`` (texts via the custom resolver)."""
    docs = [
        document_from_quotes(
            {"doc_id": "madeup-emoji", "kind": "incident", "annotator": "lead", "source": {"corpus": "madeup", "doc": "emoji"},
             "spans": [["ORG", "المرصد"], ["KILLED", "12"], ["LOC", "حلب"]],
             "incidents": [{"killed": {"quote": ["12", 1], "value": 12, "low": 12, "high": 12, "qualifier": "exact"},
                            "location": ["حلب", 1], "source": ["المرصد", 1]}]},
            TEXT_EMOJI, {"corpus": "madeup", "doc": "emoji"}),
        document_from_quotes(
            {"doc_id": "madeup-end", "kind": "hard_negative", "annotator": "lead", "source": {"corpus": "madeup", "doc": "end"},
             "spans": [["ORG", "وكالة الأنباء"]]},
            TEXT_END, {"corpus": "madeup", "doc": "end"}),
        document_from_quotes(
            {"doc_id": "madeup-diac", "kind": "hard_negative", "annotator": "lead", "source": {"corpus": "madeup", "doc": "diac"},
             "spans": []},
            TEXT_DIAC, {"corpus": "madeup", "doc": "diac"}),
    ]
    write_documents(docs, root)
    return docs


def digits_model(text: str) -> list[Entity]:
    """A stand-in pre-annotation model: every digit run is KILLED."""
    return [Entity("KILLED", Span.of(text, m.start(), m.end(), score=0.5)) for m in re.finditer(r"\d+", text)]


@pytest.mark.labelstudio
@pytest.mark.slow
def test_push_annotate_pull_round_trip(client, tmp_path):
    store = tmp_path / "store"
    made_up_store(store)
    docs = load_store(store, resolver)
    project = create_project(client, "hasila round trip")
    pushed = push(client, project, docs, predict=digits_model, model_version="digits-v0")
    assert sorted(pushed) == ["madeup-diac", "madeup-emoji", "madeup-end"]
    assert push(client, project, docs) == {}  # already there: not pushed twice

    task = client.tasks.get(id=pushed["madeup-emoji"])
    assert task.data == {"text": TEXT_EMOJI, "doc_id": "madeup-emoji", "text_sha256": text_sha256(TEXT_EMOJI)}
    preds = {p.model_version: p.result for p in task.predictions}
    assert [(r["value"]["text"], r["value"]["labels"]) for r in preds["digits-v0"]] == [("12", ["KILLED"]), ("7", ["KILLED"])]
    assert len(task.annotations) == 1  # the stored gold, as an annotation

    # A second annotator corrects the documents. LS 1.23 writes code-point offsets plus the
    # region text (as here for most regions); the regions after the emoji get UTF-16 offsets
    # (older LS, other tools) and the last region of the «end» task the RTL off-by-one of
    # LS#2007 (one past the end of the text): both must be repaired and logged.
    a2 = client.users.create(username="a2", email="a2@hasila.local", password="a2-password-123")
    want = {
        "madeup-emoji": [("ORG", *at(TEXT_EMOJI, "المرصد")), ("KILLED", *at(TEXT_EMOJI, "12")), ("LOC", *at(TEXT_EMOJI, "حلب")),
                         ("WOUNDED", *at(TEXT_EMOJI, "7")), ("DATE", *at(TEXT_EMOJI, "صباح اليوم"))],
        "madeup-end": [("ORG", *at(TEXT_END, "وكالة الأنباء")), ("KILLED", *at(TEXT_END, "4")), ("ORG", *at(TEXT_END, "الشرطة")),
                       ("LOC", *at(TEXT_END, "دير الزور"))],
        "madeup-diac": [("KILLED", *at(TEXT_DIAC, "خَمْسَةُ")), ("WOUNDED", *at(TEXT_DIAC, "ثَلَاثَةٌ")),
                        ("LOC", *at(TEXT_DIAC, "الرَّقَّةِ")), ("DATE", *at(TEXT_DIAC, "يَوْمَ الْأَحَدِ"))],
    }
    incidents = {
        "madeup-emoji": [{"killed": {"quote": ["12", 1], "value": 12, "low": 12, "high": 12, "qualifier": "exact"},
                          "wounded": {"quote": ["7", 1], "value": 7, "low": 7, "high": 7, "qualifier": "exact"},
                          "location": ["حلب", 1], "date": {"quote": ["صباح اليوم", 1], "resolved": None, "precision": "day"},
                          "source": ["المرصد", 1], "evidence": ["إن 12", "آخرون."]}],
        "madeup-end": [{"killed": {"quote": ["4", 1], "value": 4, "low": 4, "high": 4, "qualifier": "exact"},
                        "victim": ["الشرطة", 1], "location": ["دير الزور", 1], "source": ["وكالة الأنباء", 1]}],
        "madeup-diac": [{"killed": {"quote": ["خَمْسَةُ", 1], "value": 5, "low": 5, "high": 5, "qualifier": "exact"},
                         "wounded": {"quote": ["ثَلَاثَةٌ", 1], "value": 3, "low": 3, "high": 3, "qualifier": "exact"},
                         "location": ["الرَّقَّةِ", 1], "date": {"quote": ["يَوْمَ الْأَحَدِ", 1], "resolved": None, "precision": "day"}}],
    }
    for doc_id, regions in want.items():
        text = TEXTS[doc_id.split("-")[1]]
        result = []
        for i, (label, s, e) in enumerate(regions):
            value = {"start": s, "end": e, "text": text[s:e], "labels": [label]}
            if doc_id == "madeup-emoji" and label in ("LOC", "WOUNDED", "DATE"):
                value.update(start=cp_to_utf16(text, s), end=cp_to_utf16(text, e))  # after the emoji: UTF-16 ≠ code points
            if doc_id == "madeup-end" and label == "LOC":
                value.update(start=s + 1, end=e + 1)  # one past the end of the text
            result.append({"id": f"r{i}", "from_name": "label", "to_name": "text", "type": "labels", "value": value})
        kind = "incident"
        result.append({"id": "k", "from_name": "kind", "to_name": "text", "type": "choices", "value": {"choices": [kind]}})
        box = json.dumps(incidents[doc_id], ensure_ascii=False)
        result.append({"id": "i", "from_name": "incidents", "to_name": "text", "type": "textarea", "value": {"text": [box]}})
        client.annotations.create(id=pushed[doc_id], result=result, completed_by=a2.id, lead_time=12.5)

    report = pull(client, project, resolver=resolver, store_root=store)
    assert sorted(p.name for p in report.written) == ["madeup-diac.json", "madeup-emoji.json", "madeup-end.json"]
    assert len(report.fixes) == 4 and sum("read as UTF-16 offsets" in f for f in report.fixes) == 3
    assert any("madeup-end" in f and "start -1, end -1" in f for f in report.fixes)

    pulled = {d.doc_id: d for d in load_store(store, resolver)}
    for doc_id, regions in want.items():
        d = pulled[doc_id]
        assert sorted((e.label, e.start, e.end) for e in d.spans) == sorted(regions)
        assert (d.status, d.annotator, d.kind, len(d.incidents)) == ("gold", "a2", "incident", 1)
        assert d.source == {"corpus": "madeup", "doc": doc_id.split("-")[1]}
    inc = pulled["madeup-emoji"].incidents[0]
    assert (inc.killed.value, inc.wounded.value, inc.location.text) == (12, 7, "حلب")
    assert inc.evidence.text == TEXT_EMOJI[TEXT_EMOJI.index("إن 12"):]

    # Pulling again changes nothing.
    again = pull(client, project, resolver=resolver, store_root=store)
    assert again.written == [] and sorted(again.unchanged) == sorted(want)


@pytest.mark.labelstudio
@pytest.mark.slow
def test_pull_with_a_bad_region_writes_nothing(client, tmp_path):
    store = tmp_path / "store"
    docs = made_up_store(store)
    before = {p: p.read_bytes() for p in store.rglob("*.json")}
    project = create_project(client, "hasila bad region")
    pushed = push(client, project, docs)
    s, e = at(TEXT_END, "الشرطة")
    bad = [{"id": "zz", "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": s, "end": e, "text": "الجيش", "labels": ["ORG"]}}]
    client.annotations.create(id=pushed["madeup-end"], result=bad)
    with pytest.raises(LabelStudioError) as exc:
        pull(client, project, resolver=resolver, store_root=store)
    msg = str(exc.value)
    assert f"task {pushed['madeup-end']} (madeup-end) region 'zz'" in msg and "«الشرطة»" in msg and "«الجيش»" in msg
    assert "nothing written" in msg
    assert {p: p.read_bytes() for p in store.rglob("*.json")} == before


@pytest.mark.labelstudio
@pytest.mark.slow
def test_real_browser_annotation_round_trips(ls_server, client, tmp_path):
    """A person's selections in the real UI (Chromium) come back as the exact spans."""
    chromium = os.environ.get("HASILA_CHROMIUM", "/usr/bin/chromium")
    py = ls_server["venv"] / "bin" / "python"
    has_pw = subprocess.run([str(py), "-c", "import playwright"], capture_output=True).returncode == 0
    if not (Path(chromium).exists() and has_pw):
        _missing(f"browser test needs Chromium at {chromium} and playwright in {ls_server['venv']}")
    store = tmp_path / "store"
    made_up_store(store)
    project = create_project(client, "hasila browser")
    # Bare doc ids: tasks without a pushed annotation, so the person starts from an empty one.
    pushed = push(client, project, ["madeup-emoji", "madeup-end", "madeup-diac"], resolver=resolver,
                  source_of=lambda doc_id: {"corpus": "madeup", "doc": doc_id.split("-")[1]})
    actions = {
        "madeup-emoji": [("KILLED", *at(TEXT_EMOJI, "12"), "range"), ("LOC", *at(TEXT_EMOJI, "حلب"), "mouse"),
                         ("ORG", *at(TEXT_EMOJI, "المرصد"), "dblclick")],
        "madeup-end": [("LOC", *at(TEXT_END, "دير الزور"), "mouse"), ("ORG", *at(TEXT_END, "الشرطة"), "dblclick")],
        "madeup-diac": [("KILLED", *at(TEXT_DIAC, "خَمْسَةُ"), "mouse"), ("DATE", *at(TEXT_DIAC, "الْأَحَدِ"), "dblclick")],
    }
    job = {
        "url": ls_server["url"], "email": LS_USER, "password": LS_PASSWORD, "project": project, "chromium": chromium,
        "tasks": [
            {"task": pushed[doc_id], "kind": "hard_negative",
             "actions": [{"label": lab, "start": s, "end": e, "how": how} for lab, s, e, how in acts]}
            for doc_id, acts in actions.items()
        ],
    }
    run = subprocess.run([str(py), str(Path(__file__).parent / "ls_browser.py")], input=json.dumps(job),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    for shown, (doc_id, acts) in zip(json.loads(run.stdout), actions.items()):
        assert sorted(shown) == sorted(TEXTS[doc_id.split("-")[1]][s:e] for _, s, e, _ in acts)
    report = pull(client, project, resolver=resolver, store_root=store)
    assert report.fixes == []  # the real UI gives exact code-point offsets, also at the end of RTL text
    pulled = {d.doc_id: d for d in load_store(store, resolver)}
    for doc_id, acts in actions.items():
        assert sorted((e.label, e.start, e.end) for e in pulled[doc_id].spans) == sorted((lab, s, e) for lab, s, e, _ in acts)
        assert pulled[doc_id].annotator == "annotator"  # the LS user (e-mail local part: no username set)


@pytest.mark.labelstudio
@pytest.mark.slow
def test_cli_push_and_pull_over_a_corpus(ls_server, client, tmp_path, capsys):
    from hasila.train.annotate import cli
    from hasila.train.annotate.label_studio import existing_tasks

    data = tmp_path / "data"
    (data / "saudinewsnet").mkdir(parents=True)
    articles = [{"source": "madeup", "url": "", "date_extracted": "2015-08-02 10:00:00", "title": "", "author": "", "content": t}
                for t in (TEXT_EMOJI, TEXT_END)]
    with zipfile.ZipFile(data / "saudinewsnet" / "2015-08-02.zip", "w") as zf:
        zf.writestr("2015-08-02.json", json.dumps(articles, ensure_ascii=False))
    base = ["--store", str(tmp_path / "store"), "--data", str(data)]
    auth = ["--url", ls_server["url"], "--api-key", ls_server["token"]]

    assert cli.main([*base, "ls-push", *auth, "--title", "hasila cli", "snn-2015-08-02-0000", "snn-2015-08-02-0001"]) == 0
    project = int(re.search(r"project (\d+): 2 task\(s\) created", capsys.readouterr().out).group(1))
    tasks = existing_tasks(client, project)
    s, e = at(TEXT_EMOJI, "حلب")
    result = [{"id": "a", "from_name": "label", "to_name": "text", "type": "labels",
               "value": {"start": s, "end": e, "text": "حلب", "labels": ["LOC"]}},
              {"id": "k", "from_name": "kind", "to_name": "text", "type": "choices", "value": {"choices": ["hard_negative"]}}]
    client.annotations.create(id=tasks["snn-2015-08-02-0000"], result=result)

    assert cli.main([*base, "ls-pull", *auth, "--project", str(project)]) == 0
    assert "1 written, 0 unchanged, 1 task(s) without a submitted annotation" in capsys.readouterr().out
    stored = json.loads((tmp_path / "store" / "saudinewsnet" / "snn-2015-08-02-0000.json").read_text(encoding="utf-8"))
    assert stored["spans"] == [{"label": "LOC", "start": s, "end": e}]
    assert stored["source"]["zip"] == "2015-08-02.zip" and stored["meta"] == {"outlet": "madeup", "date": "2015-08-02"}
    assert stored["annotator"] == "annotator" and stored["text_sha256"] == text_sha256(TEXT_EMOJI)
