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
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from hasila.infer.types import Entity, Quantity, Span
from hasila.train.annotate.label_studio import (
    LabelStudioError,
    cp_to_utf16,
    create_project,
    document_from_annotation,
    document_results,
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
    record_json,
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
    # a project made with the old config (incidents typed as JSON in a TextArea) is named as such
    with pytest.raises(LabelStudioError, match=r"task 5 \(madeup-end\) region 'i': unexpected result 'incidents' of type 'textarea' \(is the project using annotations/label_config.xml"):
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


# ---------------------------------------------------------------------------- roles and incidents as LS regions

TEXT_INC = "قتل 12 شخصا وأصيب 7 آخرون في قصف نفذه الطيران على حلب يوم السبت، وكان هجوم مماثل قد قتل 20 العام الماضي."


def incident_doc() -> GoldDocument:
    """A document using every part of the converter: roles, both counts, plain parts that are no
    spans (ARG), a resolved date, notes, a non-default confidence, two incidents on one evidence."""
    return document_from_quotes(
        {"doc_id": "madeup-inc", "kind": "incident", "annotator": "lead", "status": "silver",
         "spans": [["KILLED", "12", "incident"], ["WOUNDED", "7", "incident"], ["ORG", "الطيران"], ["LOC", "حلب"],
                   ["DATE", "يوم السبت"], ["KILLED", "20", "background"]],
         "incidents": [
             {"killed": {"quote": "12", "value": 12, "low": 12, "high": 15, "qualifier": "range"},
              "perpetrator": "الطيران", "victim": "شخصا", "location": "حلب",
              "date": {"quote": "يوم السبت", "resolved": "2015-08-01", "precision": "day"},
              "evidence": ["قتل 12", "يوم السبت،"], "notes": "air strike; victims «شخصا» are no span", "confidence": 0.75},
             {"wounded": {"quote": "7", "value": 7, "low": None, "high": None, "qualifier": "at_least"},
              "victim": "آخرون", "evidence": ["قتل 12", "يوم السبت،"]},
         ]},
        TEXT_INC, {"corpus": "madeup", "doc": "inc"})


def _data(text: str, doc_id: str) -> dict:
    return {"text": text, "doc_id": doc_id, "text_sha256": text_sha256(text)}


def _back(doc: GoldDocument, result: list, fixes: list | None = None) -> GoldDocument:
    return document_from_annotation(task_id=1, data=_data(doc.text, doc.doc_id), result=result, text=doc.text,
                                    source=doc.source, meta=doc.meta, annotator=doc.annotator,
                                    fixes=[] if fixes is None else fixes, status=doc.status)


def test_roles_and_incidents_become_regions_relations_and_attributes():
    doc = incident_doc()
    result = document_results(doc)
    by_type = Counter(r["type"] for r in result)
    # 6 spans + INCIDENT ×2 + ARG «شخصا» and «آخرون»; relations: 5 parts + 2 parts
    assert by_type["labels"] == 10 and by_type["relation"] == 7
    regions = {r["id"]: r for r in result if r["type"] == "labels"}
    assert [r["value"]["text"] for r in regions.values() if r["value"]["labels"] == ["ARG"]] == ["شخصا", "آخرون"]
    roles = {regions[r["id"]]["value"]["text"]: r["value"]["choices"] for r in result if r.get("from_name") == "role"}
    assert roles == {"12": ["incident"], "7": ["incident"], "20": ["background"]}
    nums = {(regions[r["id"]]["value"]["text"], r["from_name"]): r["value"]["number"] for r in result if r["type"] == "number"}
    assert nums == {("12", "value"): 12, ("12", "low"): 12, ("12", "high"): 15, ("7", "value"): 7, (TEXT_INC[:TEXT_INC.index("،") + 1], "confidence"): 0.75}
    rel = {(r["from_id"], regions[r["to_id"]]["value"]["text"], r["labels"][0]) for r in result if r["type"] == "relation"}
    assert ("i0", "الطيران", "perpetrator") in rel and ("i1", "7", "wounded") in rel and ("i0", "شخصا", "victim") in rel
    notes = [r for r in result if r.get("from_name") == "notes"]
    assert notes[0]["value"]["text"] == ["air strike; victims «شخصا» are no span"] and notes[0]["id"] == "i0"
    assert [r["value"]["datetime"] for r in result if r["type"] == "datetime"] == ["2015-08-01"]
    json.dumps(result)  # what the API sends

    # back, in any order of the results (LS keeps no order): the very same record
    for seed in range(5):
        shuffled = list(result)
        random.Random(seed).shuffle(shuffled)
        assert record_json(_back(doc, shuffled)) == record_json(doc)


def test_incidents_drawn_in_the_ui_come_back():
    """What a person does in LS: new region ids, an unnamed link to the figure, a count without attributes."""
    text = TEXT_INC
    doc = incident_doc()

    def lab(rid, quote, label, control="label", n=1):
        s, e = at(text, quote, n)
        return {"id": rid, "from_name": control, "to_name": "text", "type": "labels", "value": {"start": s, "end": e, "text": quote, "labels": [label]}}

    ev_end = text.index("،") + 1
    result = [
        lab("Xk", "12", "KILLED"), lab("Xw", "7", "WOUNDED"), lab("Xl", "حلب", "LOC"), lab("Xb", "20", "KILLED"),
        {"id": "Xk", "from_name": "role", "to_name": "text", "type": "choices", "value": {"start": 4, "end": 6, "choices": ["incident"]}},
        {"id": "Xb", "from_name": "role", "to_name": "text", "type": "choices", "value": {"choices": ["background"]}},
        {"id": "Xi", "from_name": "incident", "to_name": "text", "type": "labels", "value": {"start": 0, "end": ev_end, "text": text[:ev_end], "labels": ["INCIDENT"]}},
        {"id": "Xi", "from_name": "notes", "to_name": "text", "type": "textarea", "value": {"start": 0, "end": ev_end, "text": ["غارة جوية"]}},
        {"type": "relation", "from_id": "Xi", "to_id": "Xk", "direction": "right", "labels": []},
        {"type": "relation", "from_id": "Xl", "to_id": "Xi", "direction": "left", "labels": ["location"]},
        {"id": "k", "from_name": "kind", "to_name": "text", "type": "choices", "value": {"choices": ["incident"]}},
    ]
    fixes: list[str] = []
    got = _back(doc, result, fixes)
    (inc,) = got.incidents
    assert (inc.killed.span.text, inc.killed.value, inc.killed.quantity.qualifier, inc.location.text, inc.extra) == ("12", 12, "exact", "حلب", {"notes": "غارة جوية"})
    assert got.roles == {at(text, "12"): "incident", at(text, "20"): "background"}
    assert any("unnamed relation" in f and "read as killed" in f for f in fixes)
    assert any("no count attributes; parsed: value 12" in f for f in fixes)


@pytest.mark.parametrize("change, message", [
    (lambda r: r.append({"type": "relation", "from_id": "s0", "to_id": "s3", "labels": ["victim"]}), "links one INCIDENT region to one of its parts"),
    (lambda r: r.append({"type": "relation", "from_id": "i0", "to_id": "s3", "labels": ["killer"]}), "unknown relation label 'killer'"),
    (lambda r: r.append({"type": "relation", "from_id": "i0", "to_id": "s3", "labels": []}), "name the relation"),
    (lambda r: r.append({"type": "relation", "from_id": "i0", "to_id": "s3", "labels": ["location"]}), "already has a location"),
    (lambda r: r.append({"type": "relation", "from_id": "i1", "to_id": "s3", "labels": ["killed"]}), "killed must link a KILLED span"),
    (lambda r: r.append({"type": "relation", "from_id": "i1", "to_id": "nope", "labels": ["victim"]}), "links a region that is not in the annotation"),
    (lambda r: [x for x in r if x.get("from_name") == "qualifier" and x["id"] == "s1"][0]["value"].update(choices=[]), "has a value but no qualifier"),
    (lambda r: r.append({"id": "s3", "from_name": "role", "to_name": "text", "type": "choices", "value": {"choices": ["incident"]}}), "only KILLED/WOUNDED take one"),
    (lambda r: r.append({"id": "s1", "from_name": "notes", "to_name": "text", "type": "textarea", "value": {"text": ["x"]}}), "incident attributes (notes) on a span"),
    (lambda r: r.append({"id": "zz", "from_name": "role", "to_name": "text", "type": "choices", "value": {"choices": ["total"]}}), "region without a label"),
    (lambda r: [x for x in r if x.get("from_name") == "value" and x["id"] == "s1"][0]["value"].update(number=2.5), "must be a whole number"),
    (lambda r: [x for x in r if x.get("from_name") == "role" and x["id"] == "s5"][0]["value"].update(choices=["incident"]), "has role 'incident' but no incident uses it"),
])
def test_bad_regions_and_relations_name_the_task_and_region(change, message):
    doc = incident_doc()
    result = document_results(doc)
    change(result)
    with pytest.raises(LabelStudioError, match=re.escape(message)) as exc:
        _back(doc, result)
    assert "task 1 (madeup-inc)" in str(exc.value)


def _stored_sample(per_corpus: int = 6) -> list[Path]:
    """Stored documents that use the converter most: most incidents, shared evidence, parts that
    are no spans, resolved dates, ranges; plus a hard negative per corpus (chosen from the records)."""
    root = REPO_ROOT / "annotations" / "store"
    picked = []
    for corpus in sorted(p.name for p in root.iterdir() if p.is_dir()):
        scored = []
        for path in sorted((root / corpus).glob("*.json")):
            rec = json.loads(path.read_text(encoding="utf-8"))
            spans = {(s["start"], s["end"]) for s in rec["spans"]}
            incs = rec["incidents"]
            evidence = Counter((i["evidence"]["start"], i["evidence"]["end"]) for i in incs)
            score = (len(incs) + 3 * sum(v > 1 for v in evidence.values())
                     + sum(1 for i in incs for k in ("perpetrator", "victim", "location", "source") if i[k] and (i[k]["start"], i[k]["end"]) not in spans)
                     + sum(2 for i in incs if i["date"] and i["date"]["resolved"])
                     + sum(3 for i in incs for k in ("killed", "wounded") if i[k] and i[k]["qualifier"] in ("range", "vague", "at_most")))
            scored.append((score, path))
        scored.sort(key=lambda x: (-x[0], x[1].name))
        picked += [p for _, p in scored[:per_corpus]]
        picked += [p for s, p in scored if s == 0][:1]
    return picked


@pytest.mark.parametrize("corpus", ["saudinewsnet", "webnews"])
def test_stored_documents_round_trip_losslessly(corpus):
    """Stored gold → LS regions/relations/attributes → store record: byte-identical."""
    from hasila.train.annotate.store import corpus_resolver, load_document

    from conftest import require_corpus

    require_corpus(corpus)
    paths = [p for p in _stored_sample() if p.parent.name == corpus]
    assert len(paths) >= 5
    resolve = corpus_resolver()
    features = Counter()
    for path in paths:
        doc = load_document(path, resolve)
        result = document_results(doc)
        features.update(r["labels"][0] if r["type"] == "relation" else r["from_name"] for r in result)
        json.loads(json.dumps(result))
        shuffled = list(result)
        random.Random(path.name).shuffle(shuffled)
        back = _back(doc, shuffled)
        assert record_json(back) == path.read_text(encoding="utf-8"), path.name
    # the sample exercised the converter: roles, counts, ARG parts, dates, notes
    assert all(features[k] > 0 for k in ("role", "qualifier", "value", "incident", "notes", "date_precision", "victim", "location"))


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
    roles = {"madeup-emoji": {"12": "incident", "7": "incident"}, "madeup-end": {"4": "incident"},
             "madeup-diac": {"خَمْسَةُ": "incident", "ثَلَاثَةٌ": "incident"}}
    for doc_id, regions in want.items():
        text = TEXTS[doc_id.split("-")[1]]
        # the correction as LS holds it: span regions (with figure roles), INCIDENT regions over the
        # evidence, relations to the parts, count and date attributes
        quoted = {"doc_id": doc_id, "kind": "incident", "annotator": "a2",
                  "spans": [[label, text[s:e], *([roles[doc_id][text[s:e]]] if text[s:e] in roles[doc_id] else [])]
                            for label, s, e in regions],
                  "incidents": incidents[doc_id]}
        result = document_results(document_from_quotes(quoted, text, {"corpus": "madeup"}))
        for r in result:
            if r.get("from_name") != "label":
                continue
            value, label, (s, e) = r["value"], r["value"]["labels"][0], (r["value"]["start"], r["value"]["end"])
            if doc_id == "madeup-emoji" and label in ("LOC", "WOUNDED", "DATE"):
                value.update(start=cp_to_utf16(text, s), end=cp_to_utf16(text, e))  # after the emoji: UTF-16 ≠ code points
            if doc_id == "madeup-end" and label == "LOC":
                value.update(start=s + 1, end=e + 1)  # one past the end of the text
        assert any(r["type"] == "relation" for r in result) and any(r.get("from_name") == "role" for r in result)
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
    assert (inc.date.span.text, inc.date.precision, inc.source.text) == ("صباح اليوم", "day", "المرصد")
    for doc_id, want_roles in roles.items():
        d = pulled[doc_id]
        assert {d.text[s:e]: r for (s, e), r in d.roles.items()} == want_roles
    assert pulled["madeup-end"].incidents[0].victim.text == "الشرطة"

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
    """A person's work in the real UI (Chromium) comes back exactly: selections as spans, figure
    roles and counts set with the per-region controls, incidents drawn as INCIDENT regions with
    relations (named in the Relations panel, or left unnamed to a figure or a date), the date and
    notes of an incident. Saves a screenshot of the labelling screen ($HASILA_LS_SCREENSHOT)."""
    chromium = os.environ.get("HASILA_CHROMIUM", "/usr/bin/chromium")
    py = ls_server["venv"] / "bin" / "python"
    has_pw = subprocess.run([str(py), "-c", "import playwright"], capture_output=True).returncode == 0
    if not (Path(chromium).exists() and has_pw):
        _missing(f"browser test needs Chromium at {chromium} and playwright in {ls_server['venv']}")
    store = tmp_path / "store"
    made_up_store(store)
    project = create_project(client, "hasila browser")
    # Bare doc ids: tasks without a pushed annotation, so the person starts from an empty one.
    pushed = push(client, project, ["madeup-end", "madeup-emoji", "madeup-diac"], resolver=resolver,
                  source_of=lambda doc_id: {"corpus": "madeup", "doc": doc_id.split("-")[1]})
    actions = {
        "madeup-end": [("LOC", *at(TEXT_END, "دير الزور"), "mouse"), ("ORG", *at(TEXT_END, "الشرطة"), "dblclick"),
                       ("KILLED", *at(TEXT_END, "4"), "range"), ("INCIDENT", 0, len(TEXT_END), "range")],
        "madeup-emoji": [("KILLED", *at(TEXT_EMOJI, "12"), "range"), ("LOC", *at(TEXT_EMOJI, "حلب"), "mouse"),
                         ("ORG", *at(TEXT_EMOJI, "المرصد"), "dblclick")],
        "madeup-diac": [("KILLED", *at(TEXT_DIAC, "خَمْسَةُ"), "mouse"), ("DATE", *at(TEXT_DIAC, "الْأَحَدِ"), "dblclick"),
                        ("INCIDENT", 0, len(TEXT_DIAC), "range")],
    }
    kinds = {"madeup-end": "incident", "madeup-emoji": "hard_negative", "madeup-diac": "incident"}
    attributes = {
        "madeup-end": [{"region": ["KILLED", "4"], "choices": ["incident", "exact"], "numbers": {"value": 4}},
                       {"region": ["INCIDENT", ""], "notes": "هجوم على دورية للشرطة"}],
        "madeup-emoji": [{"region": ["KILLED", "12"], "choices": ["cumulative"]}],
        "madeup-diac": [{"region": ["KILLED", "خَمْسَةُ"], "choices": ["incident", "at_least"], "numbers": {"value": 5, "low": 5}},
                        {"region": ["INCIDENT", ""], "date": "2015-08-02", "choices": ["day"]}],
    }
    relations = {
        "madeup-end": [{"from": ["INCIDENT", ""], "to": ["KILLED", "4"], "label": None},
                       {"from": ["INCIDENT", ""], "to": ["LOC", "دير الزور"], "label": "location"},
                       {"from": ["INCIDENT", ""], "to": ["ORG", "الشرطة"], "label": "victim"}],
        "madeup-diac": [{"from": ["INCIDENT", ""], "to": ["KILLED", "خَمْسَةُ"], "label": "killed"},
                        {"from": ["INCIDENT", ""], "to": ["DATE", "الْأَحَدِ"], "label": None}],
    }
    screenshot = Path(os.environ.get("HASILA_LS_SCREENSHOT") or tmp_path / "labeling.png")
    job = {
        "url": ls_server["url"], "email": LS_USER, "password": LS_PASSWORD, "project": project, "chromium": chromium,
        "screenshot": str(screenshot),
        "tasks": [
            {"task": pushed[doc_id], "kind": kinds[doc_id],
             "actions": [{"label": lab, "start": s, "end": e, "how": how} for lab, s, e, how in acts],
             "attributes": attributes.get(doc_id, []), "relations": relations.get(doc_id, [])}
            for doc_id, acts in actions.items()
        ],
    }
    run = subprocess.run([str(py), str(Path(__file__).parent / "ls_browser.py")], input=json.dumps(job),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert screenshot.stat().st_size > 10_000
    for shown, (doc_id, acts) in zip(json.loads(run.stdout), actions.items()):
        assert sorted(shown) == sorted(TEXTS[doc_id.split("-")[1]][s:e] for _, s, e, _ in acts)
    report = pull(client, project, resolver=resolver, store_root=store)
    # the real UI gives exact code-point offsets, also at the end of RTL text: the only notes are
    # the two relations left unnamed on purpose
    assert len(report.fixes) == 2 and all("unnamed relation" in f for f in report.fixes), report.fixes
    assert any("«4» read as killed" in f for f in report.fixes) and any("«الْأَحَدِ» read as date" in f for f in report.fixes)
    pulled = {d.doc_id: d for d in load_store(store, resolver)}
    for doc_id, acts in actions.items():
        assert sorted((e.label, e.start, e.end) for e in pulled[doc_id].spans) == sorted(
            (lab, s, e) for lab, s, e, _ in acts if lab != "INCIDENT")
        assert pulled[doc_id].annotator == "annotator"  # the LS user (e-mail local part: no username set)
        assert pulled[doc_id].kind == kinds[doc_id]
    end, emoji, diac = pulled["madeup-end"], pulled["madeup-emoji"], pulled["madeup-diac"]
    assert end.roles == {at(TEXT_END, "4"): "incident"} and emoji.roles == {at(TEXT_EMOJI, "12"): "cumulative"}
    (inc,) = end.incidents
    assert (inc.killed.span.text, inc.killed.quantity) == ("4", Quantity(4, None, None, "exact"))
    assert (inc.location.text, inc.victim.text, inc.evidence.text, inc.extra) == ("دير الزور", "الشرطة", TEXT_END, {"notes": "هجوم على دورية للشرطة"})
    (inc,) = diac.incidents
    assert (inc.killed.span.text, inc.killed.quantity) == ("خَمْسَةُ", Quantity(5, 5, None, "at_least"))
    assert (inc.date.span.text, inc.date.resolved, inc.date.precision) == ("الْأَحَدِ", "2015-08-02", "day")
    assert emoji.incidents == [] and inc.perpetrator is None


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
    assert f"1 written to {tmp_path / 'store'}, 0 unchanged, 1 task(s) without a submitted annotation" in capsys.readouterr().out
    stored = json.loads((tmp_path / "store" / "saudinewsnet" / "snn-2015-08-02-0000.json").read_text(encoding="utf-8"))
    assert stored["spans"] == [{"label": "LOC", "start": s, "end": e}]
    assert stored["source"]["zip"] == "2015-08-02.zip" and stored["meta"] == {"outlet": "madeup", "date": "2015-08-02"}
    assert stored["annotator"] == "annotator" and stored["text_sha256"] == text_sha256(TEXT_EMOJI)


@pytest.mark.labelstudio
@pytest.mark.slow
def test_stored_gold_through_the_server_and_ls_pull_out(ls_server, client, tmp_path, capsys):
    """Stored gold (roles, incidents) pushed as annotations and pulled back through the real server:
    the store sees no change, and ``ls-pull --out`` writes the very same records elsewhere."""
    from hasila.train.annotate import cli

    from conftest import require_corpus

    require_corpus("saudinewsnet")
    require_corpus("webnews")
    store = REPO_ROOT / "annotations" / "store"
    sample = _stored_sample(per_corpus=3)
    before = {p: p.read_bytes() for p in sample}
    auth = ["--url", ls_server["url"], "--api-key", ls_server["token"]]
    assert cli.main(["ls-push", *auth, "--store", str(store), "--title", "hasila stored", *[p.stem for p in sample]]) == 0
    project = int(re.search(r"project (\d+): (\d+) task\(s\) created", capsys.readouterr().out).group(1))
    out = tmp_path / "pulled"
    assert cli.main(["ls-pull", *auth, "--store", str(store), "--project", str(project), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"{len(sample)} written to {out}, {len(sample)} unchanged, 0 task(s)" in said and "fixed:" not in said
    for path in sample:
        assert path.read_bytes() == before[path]  # the store is only read
        got = json.loads((out / path.parent.name / path.name).read_text(encoding="utf-8"))
        want = json.loads(before[path])
        assert got.pop("annotator") == "annotator"  # the LS user who holds the imported annotation
        want.pop("annotator")
        assert got == want, path.name
    # --out naming a file is an error, and the file is left alone
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me", encoding="utf-8")
    assert cli.main(["ls-pull", *auth, "--store", str(store), "--project", str(project), "--out", str(blocker)]) == 1
    assert "is not a folder" in capsys.readouterr().err and blocker.read_text(encoding="utf-8") == "keep me"


@pytest.mark.labelstudio
@pytest.mark.slow
def test_ls_push_model_sends_spans_roles_and_incidents_as_predictions(ls_server, client, tmp_path, capsys):
    from hasila.train.annotate import cli
    from hasila.train.annotate.label_studio import existing_tasks
    from test_heads import _with_heads
    from tiny_model import TINY_SENTENCES, build_tiny_model, parse_markup

    tiny = build_tiny_model(tmp_path / "tiny", train_steps=30)
    model = _with_heads(tiny, tmp_path, "repeat", drop=1.01)  # every figure: role «repeat», none kept out
    texts = [" ".join(parse_markup(s)[0] for s in TINY_SENTENCES[:3]), parse_markup(TINY_SENTENCES[4])[0]]
    data = tmp_path / "data"
    (data / "saudinewsnet").mkdir(parents=True)
    articles = [{"source": "madeup", "url": "", "date_extracted": "2015-08-03 10:00:00", "title": "", "author": "", "content": t}
                for t in texts]
    with zipfile.ZipFile(data / "saudinewsnet" / "2015-08-03.zip", "w") as zf:
        zf.writestr("2015-08-03.json", json.dumps(articles, ensure_ascii=False))
    auth = ["--url", ls_server["url"], "--api-key", ls_server["token"]]
    ids = ["snn-2015-08-03-0000", "snn-2015-08-03-0001"]

    assert cli.main(["ls-push", *auth, "--store", str(tmp_path / "store"), "--data", str(data), "--model", str(tmp_path / "nope"), *ids]) == 1
    err = capsys.readouterr().err
    assert "--model" in err and "no such model folder" in err

    assert cli.main(["ls-push", *auth, "--store", str(tmp_path / "store"), "--data", str(data), "--model", str(model), "--title", "pre", *ids]) == 0
    said = capsys.readouterr().out
    assert "2 task(s) created, 2 with the model's pre-annotation (hasila:with-heads:" in said
    project = int(re.search(r"project (\d+)", said).group(1))
    n_spans = n_roles = n_incidents = 0
    for doc_id, task_id in existing_tasks(client, project).items():
        task = client.tasks.get(id=task_id)
        assert task.annotations == [] and len(task.predictions) == 1
        pred = task.predictions[0]
        text = task.data["text"]
        regions = {r["id"]: r for r in pred.result if r["type"] == "labels"}
        for r in regions.values():
            assert text[r["value"]["start"]:r["value"]["end"]] == r["value"]["text"]
        spans = [r for r in regions.values() if r["from_name"] == "label"]
        roles = [r for r in pred.result if r.get("from_name") == "role"]
        figures = [r for r in spans if r["value"]["labels"][0] in ("KILLED", "WOUNDED")]
        assert sorted(r["id"] for r in roles) == sorted(r["id"] for r in figures)
        assert all(r["value"]["choices"] == ["repeat"] and 0 < r["score"] <= 1 for r in roles)
        n_spans += len(spans)
        n_roles += len(roles)
        n_incidents += sum(r["value"]["labels"] == ["INCIDENT"] for r in regions.values())
    assert n_spans > 0 and n_roles > 0
    print(f"pre-annotation: {n_spans} spans, {n_roles} figure roles, {n_incidents} incidents", file=sys.stderr)


def test_model_prediction_results_leave_out_what_cannot_be_linked(caplog):
    """A model incident whose figure is none of the model's spans is left out (the others stay);
    a plain span list gives spans only (no kind, no incidents)."""
    from hasila.infer.types import Count, Incident
    from hasila.train.annotate.label_studio import Prediction, prediction_results

    text = TEXT_INC
    k12, w7, k20 = (Span.of(text, *at(text, q)) for q in ("12", "7", "20"))
    ents = [Entity("KILLED", k12), Entity("WOUNDED", w7)]
    ev = Span.of(text, 0, len(text))
    good = Incident(evidence=ev, killed=Count(k12, Quantity(12, 12, 12, "exact")), wounded=Count(w7, Quantity(7, 7, 7, "exact")))
    stray = Incident(evidence=ev, killed=Count(k20, Quantity(20, 20, 20, "exact")))
    pred = Prediction(ents, {(k12.start, k12.end): "incident", (w7.start, w7.end): "repeat"}, {(k12.start, k12.end): 0.9}, [good, stray])
    res = prediction_results("madeup-inc", text, pred)
    assert sum(r.get("value", {}).get("labels") == ["INCIDENT"] for r in res) == 1
    assert {r["labels"][0] for r in res if r["type"] == "relation"} == {"killed", "wounded"}
    assert [(r["value"]["choices"], r.get("score")) for r in res if r.get("from_name") == "role"] == [(["incident"], 0.9), (["repeat"], None)]
    assert "incident 1 is left out" in caplog.text and "«20»" in caplog.text
    plain = prediction_results("madeup-inc", text, ents)
    assert [r["type"] for r in plain] == ["labels", "labels"]
    with pytest.raises(LabelStudioError, match="figure role 'incident' at .* is not on one of its KILLED/WOUNDED spans"):
        prediction_results("madeup-inc", text, Prediction(ents, {(k20.start, k20.end): "incident"}))
