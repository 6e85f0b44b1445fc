"""The stand-off gold store, quote import and the hasila-annotate CLI.

All texts here are made up (no corpus text in the repo); the one corpus test builds its quotes
from the article it reads at run time.
"""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest
from conftest import require_corpus
from hasila.infer.types import Entity, Span
from hasila.train.annotate import cli
from hasila.train.annotate.quotes import (
    document_from_quotes,
    dumps_quotes,
    locate,
    occurrences,
    quotes_from_document,
    sentence_bounds,
)
from hasila.train.annotate.store import (
    GoldDocument,
    StoreError,
    bio_with_stats,
    corpus_resolver,
    document_from_record,
    load_document,
    load_store,
    record_json,
    saudinewsnet_text,
    text_sha256,
    to_bio,
    write_document,
    write_documents,
)
from hasila.train.settings import REPO_ROOT

TEXT_A = (
    "أفاد المرصد السوري لحقوق الإنسان بأن 35 عنصرا من قوات النظام قتلوا وأصيب 12 آخرون "
    "في هجوم لتنظيم داعش على بادية حمص يوم السبت. وقال المرصد إن الحصيلة قد ترتفع بعد "
    "انفجار ألغام على مسافة 2.5 كيلومتر من الطريق."
)
TEXT_B = "افتتح وزير الصحة مستشفى جديدا في مدينة والرقة بحضور 300 شخص."
TEXTS = {"a": TEXT_A, "b": TEXT_B}
SCHEMA_PATH = REPO_ROOT / "infer" / "resources" / "document.schema.json"


def resolver(source):
    return TEXTS[source["doc"]]


def quotes_a() -> dict:
    return {
        "doc_id": "madeup-a",
        "kind": "incident",
        "annotator": "a1",
        "status": "gold",
        "source": {"corpus": "madeup", "doc": "a"},
        "spans": [
            ["ORG", "المرصد السوري لحقوق الإنسان", 1],
            ["KILLED", "35", 1],
            ["ORG", "قوات النظام", 1],
            ["WOUNDED", "12", 1],
            ["ORG", "تنظيم داعش", 1],
            ["LOC", "بادية حمص", 1],
            ["DATE", "يوم السبت", 1],
        ],
        "incidents": [
            {
                "killed": {"quote": ["35", 1], "value": 35, "low": 35, "high": 35, "qualifier": "exact"},
                "wounded": {"quote": ["12", 1], "value": 12, "low": 12, "high": None, "qualifier": "at_least"},
                "perpetrator": ["تنظيم داعش", 1],
                "victim": ["قوات النظام", 1],
                "location": ["بادية حمص", 1],
                "date": {"quote": ["يوم السبت", 1], "resolved": "2015-07-18", "precision": "day"},
                "source": ["المرصد السوري لحقوق الإنسان", 1],
                "notes": "made-up example",
            }
        ],
    }


def doc_a() -> GoldDocument:
    return document_from_quotes(quotes_a(), TEXT_A, {"corpus": "madeup", "doc": "a"})


def doc_b() -> GoldDocument:
    payload = {
        "doc_id": "madeup-b",
        "kind": "hard_negative",
        "annotator": "a2",
        "source": {"corpus": "madeup", "doc": "b"},
        "spans": [["ORG", "وزير الصحة"], ["LOC", "الرقة"]],
    }
    return document_from_quotes(payload, TEXT_B, payload["source"])


def span_of(text: str, quote: str, n: int = 1) -> tuple[int, int]:
    start = occurrences(text, quote)[n - 1]
    return start, start + len(quote)


# ---------------------------------------------------------------------------- round trip


def test_write_load_round_trip(tmp_path):
    a, b = doc_a(), doc_b()
    paths = write_documents([a, b], tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == ["madeup/madeup-a.json", "madeup/madeup-b.json"]
    raw = paths[0].read_text(encoding="utf-8")
    assert TEXT_A[:20] not in raw and "35 عنصرا" not in raw  # stand-off: no text stored
    record = json.loads(raw)
    assert record["text_sha256"] == text_sha256(TEXT_A) and record["text_length"] == len(TEXT_A)
    assert raw == json.dumps(record, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
    assert not list(tmp_path.rglob("*.tmp"))

    loaded = load_store(tmp_path, resolver)
    assert [d.doc_id for d in loaded] == ["madeup-a", "madeup-b"]
    assert loaded[0].to_record() == a.to_record() and loaded[1].to_record() == b.to_record()
    killed = loaded[0].incidents[0].killed
    assert (killed.span.text, killed.value) == ("35", 35)
    assert loaded[0].incidents[0].evidence.text.endswith("يوم السبت.")


def test_to_json_matches_output_schema():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for doc in (doc_a(), doc_b()):
        out = doc.to_json()
        jsonschema.validate(out, schema)
        for ent in out["entities"]:
            assert doc.text[ent["start"] : ent["end"]] == ent["text"]
    inc = doc_a().to_json()["incidents"][0]
    assert inc["killed"]["qualifier"] == "exact" and inc["date"]["resolved"] == "2015-07-18"
    assert inc["confidence"] == 1.0 and inc["notes"] == "made-up example"


def _extends(ours, theirs, where="schema"):
    """``ours`` keeps everything of ``theirs`` (the contract) unchanged and may only add: new
    properties and definitions; a list of required fields may not grow where it existed."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{where}: no longer an object"
        for key, value in theirs.items():
            assert key in ours, f"{where}.{key}: removed"
            if key == "required":
                assert list(ours[key]) == list(value), f"{where}.required changed: {value} -> {ours[key]}"
            else:
                _extends(ours[key], value, f"{where}.{key}")
    else:
        assert ours == theirs, f"{where}: {theirs!r} -> {ours!r}"


def test_schema_copy_extends_the_shared_contract():
    # "Extend it, never break it": the project's copy may add fields and definitions, nothing else.
    shared = REPO_ROOT.parent / "shared" / "schema" / "document.schema.json"
    if not shared.exists():
        pytest.skip(f"{shared} not present (only beside the development checkout)")
    _extends(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")), json.loads(shared.read_text(encoding="utf-8")))


# ---------------------------------------------------------------------------- bad stored input


def stored_record() -> dict:
    return json.loads(record_json(doc_a()))


def test_hash_mismatch_names_doc_and_both_hashes():
    changed = TEXT_A.replace("35", "36")
    with pytest.raises(StoreError) as exc:
        document_from_record(stored_record(), changed)
    msg = str(exc.value)
    assert "madeup-a" in msg and text_sha256(TEXT_A) in msg and text_sha256(changed) in msg


def test_length_mismatch_with_same_prefix():
    with pytest.raises(StoreError, match=r"madeup-a.*length"):
        document_from_record(stored_record(), TEXT_A + " ")


def test_overlapping_same_label_spans_name_both():
    rec = stored_record()
    s, e = span_of(TEXT_A, "المرصد السوري")
    rec["spans"].append({"label": "ORG", "start": s, "end": e})
    with pytest.raises(StoreError) as exc:
        document_from_record(rec, TEXT_A)
    msg = str(exc.value)
    assert "madeup-a" in msg and "two ORG spans overlap" in msg
    assert "«المرصد السوري»" in msg and "«المرصد السوري لحقوق الإنسان»" in msg


def test_spans_of_different_labels_do_not_nest_either():
    rec = stored_record()
    s, e = span_of(TEXT_A, "حمص")
    rec["spans"].append({"label": "PER", "start": s, "end": e})  # inside LOC «بادية حمص»
    with pytest.raises(StoreError, match=r"madeup-a: spans overlap: LOC \[\d+, \d+\) «بادية حمص» and PER \[\d+, \d+\) «حمص»"):
        document_from_record(rec, TEXT_A)


def test_bio_drops_a_second_span_in_the_same_word():
    text = "قصف على حمصوحماة أمس"  # a missing space: two places in one word
    s = text.index("حمص")
    doc = GoldDocument(
        "madeup-d", text, {"corpus": "madeup"}, "gold", "hard_negative", "a1",
        [Entity("LOC", Span.of(text, s, s + 3)), Entity("LOC", Span.of(text, s + 4, s + 8))], [],
    )
    (words, tags, _, _), stats = bio_with_stats(doc)
    assert tags == ["O", "O", "B-LOC", "O"]
    assert (stats.spans, stats.snapped, stats.dropped) == (2, 1, 1)


@pytest.mark.parametrize(
    "span, expected",
    [
        ({"label": "LOC", "start": 5, "end": 10_000}, r"span #\d+ LOC \[5, 10000\): outside the text"),
        ({"label": "LOC", "start": 7, "end": 7}, r"\[7, 7\): outside the text .*or empty"),
        ({"label": "LOC", "start": -1, "end": 3}, r"outside the text"),
        ({"label": "GPE", "start": 5, "end": 11}, r"madeup-a: span #7 \[5, 11\) «المرصد»: unknown label 'GPE'"),
        ({"label": "LOC", "start": "5", "end": 11}, r"start: expected an integer"),
        ({"label": "LOC", "start": 4, "end": 11}, r"whitespace at the span's edge"),
        ({"label": "LOC", "start": 5, "end": 11, "score": 0.5}, r"unknown field\(s\) score"),
    ],
)
def test_bad_spans_are_named(span, expected):
    rec = stored_record()
    rec["spans"].append(span)
    with pytest.raises(StoreError, match=expected) as exc:
        document_from_record(rec, TEXT_A)
    assert "madeup-a" in str(exc.value)


def test_empty_text_is_an_error():
    with pytest.raises(StoreError, match="madeup-a: the corpus text is empty"):
        document_from_record(stored_record(), "")


@pytest.mark.parametrize(
    "killed, expected",
    [
        ({"value": 35, "low": 30, "high": 35, "qualifier": "exact"}, "'exact' 35 with low 30"),
        ({"value": 35, "low": 36, "high": None, "qualifier": "at_least"}, "value 35 outside"),
        ({"value": 35, "low": 35, "high": 30, "qualifier": "approx"}, "low 35 > high 30"),
        ({"value": None, "low": None, "high": None, "qualifier": "at_least"}, "'at_least' needs a value"),
        ({"value": 12, "low": 10, "high": None, "qualifier": "range"}, "'range' needs both low and high"),
        ({"value": 35, "low": 35, "high": 35, "qualifier": "many"}, "unknown qualifier"),
        ({"value": -3, "low": None, "high": None, "qualifier": "exact"}, "non-negative integer"),
        ({"value": 35, "low": 34, "high": None, "qualifier": "at_least"}, "low must equal the value"),
    ],
)
def test_inconsistent_counts(killed, expected):
    rec = stored_record()
    rec["incidents"][0]["killed"].update(killed)
    with pytest.raises(StoreError, match=expected) as exc:
        document_from_record(rec, TEXT_A)
    assert "madeup-a: incidents[0].killed" in str(exc.value)


def test_count_must_be_a_span_and_inside_the_evidence():
    rec = stored_record()
    rec["spans"] = [s for s in rec["spans"] if s["label"] != "KILLED"]
    with pytest.raises(StoreError, match=r"incidents\[0\]\.killed \[\d+, \d+\) «35»: no KILLED span"):
        document_from_record(rec, TEXT_A)
    rec = stored_record()
    s, e = span_of(TEXT_A, "وقال المرصد")
    rec["incidents"][0]["evidence"] = {"start": s, "end": e}
    with pytest.raises(StoreError, match=r"«35»: not inside the evidence"):
        document_from_record(rec, TEXT_A)


def test_kind_must_agree_with_incidents():
    rec = stored_record()
    rec["kind"] = "hard_negative"
    with pytest.raises(StoreError, match="kind 'hard_negative' but 1 incident"):
        document_from_record(rec, TEXT_A)
    rec = stored_record()
    rec["incidents"] = []
    with pytest.raises(StoreError, match="kind 'incident' but no incidents"):
        document_from_record(rec, TEXT_A)


def test_bad_files_name_the_file(tmp_path):
    folder = tmp_path / "madeup"
    folder.mkdir()
    bad_json = folder / "madeup-a.json"
    bad_json.write_text('{"doc_id": "madeup-a",\n "spans": [}', encoding="utf-8")
    with pytest.raises(StoreError, match=r"madeup-a\.json: malformed JSON at line 2, column 12"):
        load_document(bad_json, resolver)
    bad_json.write_bytes(record_json(doc_a()).encode("utf-8").replace(b'"a1"', b'"a\xff1"'))
    with pytest.raises(StoreError, match=r"madeup-a\.json: not UTF-8 \(byte \d+"):
        load_document(bad_json, resolver)
    renamed = folder / "other.json"
    renamed.write_text(record_json(doc_a()), encoding="utf-8")
    with pytest.raises(StoreError, match="does not match the file name"):
        load_document(renamed, resolver)


def test_failed_write_leaves_the_store_untouched(tmp_path):
    path = write_document(doc_a(), tmp_path)
    before = path.read_bytes()
    broken = doc_a()
    broken.spans.append(Entity("LOC", Span.of(TEXT_A, 0, 4)))  # overlaps nothing, fine
    broken.spans.append(Entity("LOC", Span.of(TEXT_A, 2, 6)))  # overlaps the one above
    with pytest.raises(StoreError, match="two LOC spans overlap"):
        write_documents([doc_b(), broken], tmp_path)
    assert path.read_bytes() == before
    assert not (tmp_path / "madeup" / "madeup-b.json").exists()
    assert not list(tmp_path.rglob("*.tmp"))


# ---------------------------------------------------------------------------- BIO


def test_bio_tags_and_snapping():
    doc = doc_b()  # LOC «الرقة» sits inside the word «والرقة»
    words, tags, starts, ends = to_bio(doc)
    assert len(words) == len(tags) == len(starts) == len(ends)
    assert all(TEXT_B[s:e] == w for w, s, e in zip(words, starts, ends))
    assert [(w, t) for w, t in zip(words, tags) if t != "O"] == [
        ("وزير", "B-ORG"),
        ("الصحة", "I-ORG"),
        ("والرقة", "B-LOC"),
    ]
    stats = bio_with_stats(doc)[1]
    assert (stats.spans, stats.snapped, stats.dropped) == (2, 1, 0)


def test_bio_adjacent_spans_of_one_label_start_anew():
    text = "قتل 3 5 أشخاص"
    doc = GoldDocument(
        "madeup-c", text, {"corpus": "madeup"}, "gold", "hard_negative", "a1",
        [Entity("KILLED", Span.of(text, 4, 5)), Entity("KILLED", Span.of(text, 6, 7))], [],
    )
    assert to_bio(doc)[1] == ["O", "B-KILLED", "B-KILLED", "O"]


# ---------------------------------------------------------------------------- quotes


def test_quote_errors_name_doc_field_and_quote():
    payload = quotes_a()
    payload["incidents"][0]["source"] = ["المرصد", 3]
    with pytest.raises(StoreError) as exc:
        document_from_quotes(payload, TEXT_A, payload["source"])
    assert str(exc.value) == "madeup-a: incidents[0].source: «المرصد» occurrence 3: only 2 in the text"

    payload = quotes_a()
    payload["spans"].append(["ORG", "المرصد"])
    with pytest.raises(StoreError, match=r"madeup-a: spans\[7\] ORG: «المرصد» occurs 2 times: give \[text, occurrence\]"):
        document_from_quotes(payload, TEXT_A, payload["source"])

    payload = quotes_a()
    payload["spans"].append(["LOC", "دمشق", 1])
    with pytest.raises(StoreError, match=r"spans\[7\] LOC: «دمشق» is not in the text"):
        document_from_quotes(payload, TEXT_A, payload["source"])

    payload = quotes_a()
    payload["spans"].append(["GPE", "حمص", 1])
    with pytest.raises(StoreError, match=r"spans\[7\] .*unknown label 'GPE'"):
        document_from_quotes(payload, TEXT_A, payload["source"])

    payload = quotes_a()
    payload["incidents"][0]["killerd"] = None
    with pytest.raises(StoreError, match=r"incidents\[0\]: unknown field\(s\) killerd"):
        document_from_quotes(payload, TEXT_A, payload["source"])


def test_occurrences_count_overlapping_matches():
    assert occurrences("ااا", "اا") == [0, 1]
    assert locate("ااا", ["اا", 2], "x") == Span(1, 3, "اا")


def test_sentences_do_not_break_inside_numbers():
    sents = [TEXT_A[s:e] for s, e in sentence_bounds(TEXT_A)]
    assert len(sents) == 2 and sents[1].endswith("2.5 كيلومتر من الطريق.")
    small = "أ؟ ب!\n\nج"
    assert [small[s:e] for s, e in sentence_bounds(small)] == ["أ؟", "ب!", "ج"]


def test_explicit_evidence_is_taken_around_the_count():
    payload = quotes_a()
    # «وقال» has no occurrence before the count: the evidence must start at or before it.
    payload["incidents"][0]["evidence"] = ["وقال المرصد", "الطريق."]
    with pytest.raises(StoreError, match=r"evidence\[0\]: «وقال المرصد» does not occur at or before the count «35»"):
        document_from_quotes(payload, TEXT_A, payload["source"])
    payload["incidents"][0]["evidence"] = ["المرصد السوري", "الطريق."]
    ev = document_from_quotes(payload, TEXT_A, payload["source"]).incidents[0].evidence
    assert ev.start == TEXT_A.index("المرصد السوري") and ev.end == len(TEXT_A)


def test_evidence_needs_a_count_or_quotes():
    payload = quotes_a()
    inc = payload["incidents"][0]
    inc["killed"] = inc["wounded"] = None
    payload["spans"] = [s for s in payload["spans"] if s[0] not in ("KILLED", "WOUNDED")]
    with pytest.raises(StoreError, match=r"incidents\[0\]\.evidence: give the evidence"):
        document_from_quotes(payload, TEXT_A, payload["source"])


def test_export_quotes_round_trips_exactly():
    for doc in (doc_a(), doc_b()):
        quotes = quotes_from_document(doc)
        assert json.loads(dumps_quotes(quotes)) == quotes
        assert json.loads(dumps_quotes(quotes["incidents"])) == quotes["incidents"]
        again = document_from_quotes(quotes, doc.text, doc.source)
        assert again.to_record() == doc.to_record()


# ---------------------------------------------------------------------------- CLI over a fake corpus


ARTICLES = [
    {"source": "madeup", "url": "http://example.org/1", "date_extracted": "2015-07-21 08:00:00", "title": "خبر",
     "author": "", "content": TEXT_B},
    {"source": "okaz", "url": "http://example.org/2", "date_extracted": "2015-07-21 09:30:00", "title": "خبر",
     "author": "", "content": TEXT_A},
]


@pytest.fixture
def fake_corpus(tmp_path) -> Path:
    data = tmp_path / "data"
    (data / "saudinewsnet").mkdir(parents=True)
    with zipfile.ZipFile(data / "saudinewsnet" / "2015-07-21.zip", "w") as zf:
        zf.writestr("2015-07-21.json", json.dumps(ARTICLES, ensure_ascii=False))
    return data


def snn_quotes() -> dict:
    payload = quotes_a()
    payload["doc_id"] = "snn-2015-07-21-0001"
    del payload["source"]
    return payload


def run_cli(tmp_path, data, *args) -> int:
    return cli.main(["--store", str(tmp_path / "store"), "--data", str(data), *args])


def test_cli_text_import_check_export(tmp_path, fake_corpus, capsys):
    assert run_cli(tmp_path, fake_corpus, "text", "snn-2015-07-21-0001") == 0
    assert capsys.readouterr().out == TEXT_A + "\n"
    assert saudinewsnet_text("snn-2015-07-21-0001", fake_corpus) == TEXT_A

    quote_file = tmp_path / "q.json"
    quote_file.write_text(json.dumps(snn_quotes(), ensure_ascii=False), encoding="utf-8")
    assert run_cli(tmp_path, fake_corpus, "import", str(quote_file)) == 0
    stored = json.loads((tmp_path / "store" / "saudinewsnet" / "snn-2015-07-21-0001.json").read_text(encoding="utf-8"))
    assert stored["source"] == {"corpus": "saudinewsnet", "zip": "2015-07-21.zip", "index": 1, "field": "content"}
    assert stored["meta"] == {"outlet": "okaz", "date": "2015-07-21"}

    capsys.readouterr()
    assert run_cli(tmp_path, fake_corpus, "check") == 0
    out = capsys.readouterr().out
    assert "1 documents" in out and "KILLED 1" in out and "incidents: 1" in out

    assert run_cli(tmp_path, fake_corpus, "export-quotes", "snn-2015-07-21-0001") == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["spans"] == sorted(exported["spans"], key=lambda s: TEXT_A.index(s[1]))
    again = document_from_quotes(exported, TEXT_A, exported["source"])
    docs = load_store(tmp_path / "store", corpus_resolver(fake_corpus))
    assert again.to_record() == docs[0].to_record()


def test_cli_import_is_all_or_nothing(tmp_path, fake_corpus, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(snn_quotes(), ensure_ascii=False), encoding="utf-8")
    bad = copy.deepcopy(snn_quotes())
    bad["doc_id"] = "snn-2015-07-21-0000"
    bad["kind"] = "hard_negative"
    bad["incidents"] = []
    bad["spans"] = [["ORG", "وزير الصحة", 1], ["ORG", "وزير", 1]]
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    not_utf8 = tmp_path / "latin1.json"
    not_utf8.write_bytes(json.dumps(snn_quotes(), ensure_ascii=False).encode("utf-8").replace("a1".encode(), b"\xe9"))

    assert run_cli(tmp_path, fake_corpus, "import", str(good), str(bad_file), str(not_utf8)) == 1
    err = capsys.readouterr().err
    assert "nothing written" in err
    assert "bad.json: snn-2015-07-21-0000: two ORG spans overlap: [6, 10) «وزير» and [6, 16) «وزير الصحة»" in err
    assert "latin1.json: not UTF-8" in err
    assert not (tmp_path / "store").exists()

    assert run_cli(tmp_path, fake_corpus, "import", str(good)) == 0
    changed = snn_quotes()
    changed["incidents"][0]["notes"] = "second thoughts"
    good.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    assert run_cli(tmp_path, fake_corpus, "import", str(good)) == 1
    assert "use --replace" in capsys.readouterr().err
    assert run_cli(tmp_path, fake_corpus, "import", "--replace", str(good)) == 0


def test_cli_names_a_missing_corpus(tmp_path, capsys):
    assert run_cli(tmp_path, tmp_path / "nowhere", "text", "snn-2015-07-21-0001") == 1
    assert "SaudiNewsNet zip not found" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the real corpus


def test_saudinewsnet_doc_ids_resolve_to_the_content_exactly():
    folder = require_corpus("saudinewsnet")
    zip_path = folder / "2015-07-21.zip"
    with zipfile.ZipFile(zip_path) as zf:
        articles = json.loads(zf.read("2015-07-21.json"))
    index = next(i for i, a in enumerate(articles) if any(ch.isdigit() for ch in a["content"]))
    doc_id = f"snn-2015-07-21-{index:04d}"
    text = saudinewsnet_text(doc_id)
    assert text == articles[index]["content"]
    # A quote built from the article itself (no corpus text in this file) imports and reloads.
    digits = next(w for w in text.split() if w.isdigit())
    payload = {"doc_id": doc_id, "kind": "hard_negative", "annotator": "t", "spans": [["DATE", digits, 1]]}
    doc = document_from_quotes(payload, text, {"corpus": "saudinewsnet", "zip": "2015-07-21.zip", "index": index, "field": "content"})
    assert document_from_record(doc.to_record(), corpus_resolver()(doc.source)).to_record() == doc.to_record()
