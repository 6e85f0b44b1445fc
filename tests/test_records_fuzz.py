"""Fuzzing the record builder: any text and any spans give schema-valid records whose spans
are true slices of the original text; the writers and the HTML report keep the text intact."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hasila.infer.decode import bio_word_spans, decode_entities, entity_to_original
from hasila.infer.inputs import InputDoc
from hasila.infer.labels import BIO_TAGS, LABELS
from hasila.infer.normalize import normalize
from hasila.infer.records import check_record, dumps, error_record, load_schema, ok_record
from hasila.infer.report_html import HtmlFormat, highlight_text
from hasila.infer.tokenize import split_words
from hasila.infer.types import Count, DateRef, Entity, Incident, Quantity, Span
from hasila.infer.writers import CSV_COLUMNS, CsvFormat, safe_cell

VALIDATOR = jsonschema.Draft202012Validator(load_schema())
MODEL = {"name": "fuzz", "sha256": "0" * 64}

# Text pieces that exercise normalization: split words, digits of three scripts, diacritics,
# tatweel, format marks, presentation forms, markup characters, newlines.
PIECES = st.sampled_from([
    "قتل", "ق. تل", "قت. يلا", "مق.تل", "القت. لى", "35", "٣٥", "۳۵", "1,365", "١٬٣٦٥", "قُتِلَ", "قـتـل",
    "\u200f", "\u200c", "ﻻ", " ", "  ", "\n", ".", "،", "<b>", "&amp;", "\"", "'", "=1+1", "عنصرا", "من",
    "قوات النظام", "في", "بادية حمص", "أمس", "ab", "\t",
])
TEXTS = st.lists(PIECES, min_size=1, max_size=25).map("".join)
LABEL = st.sampled_from(LABELS)
SCORE = st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0, allow_nan=False))


def span_in(draw, text: str) -> tuple[int, int]:
    a = draw(st.integers(0, len(text)))
    b = draw(st.integers(0, len(text)))
    return min(a, b), max(a, b)


@st.composite
def text_and_normalized_entities(draw):
    text = draw(TEXTS)
    norm = normalize(text)
    entities = []
    for _ in range(draw(st.integers(0, 6))):
        s, e = span_in(draw, norm.text)
        entities.append(Entity(draw(LABEL), Span(s, e, norm.text[s:e], draw(SCORE))))
    return norm, entities


def quantity(draw) -> Quantity:
    low = draw(st.one_of(st.none(), st.integers(0, 10_000)))
    high = draw(st.one_of(st.none(), st.integers(low or 0, 20_000)))
    value = draw(st.one_of(st.none(), st.integers(0, 20_000)))
    qualifier = draw(st.sampled_from(["exact", "at_least", "at_most", "approx", "range", "vague"]))
    return Quantity(value, low, high, qualifier)


@st.composite
def incidents_of(draw, text: str):
    def opt_span():
        if draw(st.booleans()):
            return None
        return Span.of(text, *span_in(draw, text), score=draw(SCORE))

    out = []
    for _ in range(draw(st.integers(0, 3))):
        killed = opt_span()
        date = opt_span()
        out.append(Incident(
            evidence=Span.of(text, *span_in(draw, text)),
            killed=Count(killed, quantity(draw)) if killed else None,
            wounded=None,
            perpetrator=opt_span(), victim=opt_span(), location=opt_span(), source=opt_span(),
            date=DateRef(date, draw(st.one_of(st.none(), st.just("2019-04-20"))),
                         draw(st.sampled_from([None, "day", "week", "month", "year"]))) if date else None,
            confidence=draw(st.floats(0.0, 1.0, allow_nan=False)),
        ))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_records_are_valid_and_spans_are_slices_of_the_original(data):
    norm, entities = data.draw(text_and_normalized_entities())
    text = norm.original
    original_entities = [entity_to_original(norm, e) for e in entities]
    incidents = data.draw(incidents_of(text))
    record = ok_record("doc", text, entities=original_entities, incidents=incidents, model=MODEL)
    VALIDATOR.validate(record)
    check_record(record, text)
    for ent in record["entities"]:
        assert text[ent["start"]:ent["end"]] == ent["text"]
    # JSONL round trip keeps every character (also format marks and markup).
    assert json.loads(dumps(record)) == record


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, data=st.data())
def test_decoded_model_output_gives_valid_records(text, data):
    norm = normalize(text)
    words = split_words(norm.text)
    preds = data.draw(st.lists(st.tuples(st.sampled_from(BIO_TAGS), st.floats(0.0, 1.0, allow_nan=False)),
                               min_size=len(words), max_size=len(words)))
    entities = decode_entities(norm.text, words, preds)
    assert len(entities) == len(bio_word_spans([t for t, _ in preds]))
    assert all(a.end <= b.start for a, b in zip(entities, entities[1:]))  # ordered, no overlap
    record = ok_record("d", text, entities=[entity_to_original(norm, e) for e in entities], incidents=[], model=MODEL)
    VALIDATOR.validate(record)
    check_record(record, text)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_html_highlighting_shows_exactly_the_text(data):
    norm, entities = data.draw(text_and_normalized_entities())
    text = norm.original
    ents = [entity_to_original(norm, e).to_json() for e in entities]
    # Non-overlapping entities, as decoding gives.
    kept, end = [], -1
    for ent in sorted(ents, key=lambda e: (e["start"], e["end"])):
        if ent["start"] >= end:
            kept.append(ent)
            end = ent["end"]
    evidence = [span_in(data.draw, text) for _ in range(data.draw(st.integers(0, 3)))]
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(text))))
    html = highlight_text(text, kept, evidence, "d1", cut)
    parser = _Text()
    parser.feed("<div>" + html + "</div>")
    parser.close()
    assert "".join(parser.parts) == text
    assert "<b>" not in html and "<script" not in html


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_csv_rows_have_every_column(data):
    text = data.draw(TEXTS)
    incidents = data.draw(incidents_of(text))
    record = ok_record("=cmd", text, entities=[], incidents=incidents, model=MODEL, source="=src")
    out = CsvFormat().rows(InputDoc("=cmd", text=text), record)
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert len(rows) == len(incidents)
    for row, inc in zip(rows, record["incidents"]):
        assert len(row) == len(CSV_COLUMNS)
        assert row[0] == "'=cmd"  # a formula-looking id is neutralized
        assert row[CSV_COLUMNS.index("notes")] == safe_cell(inc["evidence"]["text"])
        assert row[CSV_COLUMNS.index("outlet")] == "'=src"
    # Error records have no incident row.
    err = error_record("x", "empty_text", "x: empty", model=MODEL)
    VALIDATOR.validate(err)
    assert CsvFormat().rows(InputDoc("x"), err) == ""
    html = HtmlFormat().rows(InputDoc("x"), err)
    assert "empty_text" in html


def test_check_record_catches_spans_off_the_text_also_in_extras():
    import pytest

    from hasila.infer.records import RecordError

    text = "قتل 35 عنصرا في بادية حمص"
    good = Span.of(text, 4, 6)
    incident = Incident(evidence=Span.of(text, 0, len(text)), killed=Count(good, Quantity(35, 35, 35, "exact")),
                        extra={"location_context": [Span(0, 3, "حمص").to_json()]})  # offsets of another text
    record = ok_record("d", text, entities=[], incidents=[incident], model=MODEL)
    VALIDATOR.validate(record)
    with pytest.raises(RecordError, match=r"incidents\[0\]\.location_context\[0\]"):
        check_record(record, text)
    record["incidents"][0]["location_context"] = [Span.of(text, 16, 25).to_json()]
    check_record(record, text)
    with pytest.raises(RecordError, match="outside the text"):
        check_record({**record, "entities": [{"label": "LOC", "text": "x", "start": 99, "end": 100}]}, text)
