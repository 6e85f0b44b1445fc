"""Events: geocoding, actors and event types, events within and across articles, ACLED/UCDP exports,
``hasila-events``, per-file dates. No model needed: records are built by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from hasila.infer.actor_types import canonical_actor, event_type
from hasila.infer.events import article_events, build_events, cluster_events
from hasila.infer.events_cli import main as events_main
from hasila.infer.exports import ACLED_COLUMNS, UCDP_COLUMNS, acled_rows, render, ucdp_rows
from hasila.infer.filedates import SidecarError, date_from_name, read_sidecar
from hasila.infer.geocode import context_countries, gazetteer, geocode, locate
from hasila.infer.inputs import InputReader

# The published column sets (ACLED export as in its codebook; UCDP GED as in its codebook), written
# out here independently of the module so that a change to either is caught.
ACLED_PUBLISHED = (
    "event_id_cnty event_date year time_precision disorder_type event_type sub_event_type actor1 assoc_actor_1 "
    "inter1 actor2 assoc_actor_2 inter2 interaction civilian_targeting iso region country admin1 admin2 admin3 "
    "location latitude longitude geo_precision source source_scale notes fatalities tags timestamp").split()
UCDP_PUBLISHED = (
    "id relid year active_year code_status type_of_violence conflict_dset_id conflict_new_id conflict_name "
    "dyad_dset_id dyad_new_id dyad_name side_a_dset_id side_a_new_id side_a side_b_dset_id side_b_new_id side_b "
    "number_of_sources source_article source_office source_date source_headline source_original where_prec "
    "where_coordinates where_description adm_1 adm_2 latitude longitude geom_wkt priogrid_gid country country_id "
    "region event_clarity date_prec date_start date_end deaths_a deaths_b deaths_civilians deaths_unknown best "
    "high low gwnoa gwnob").split()


# -- geocoding ------------------------------------------------------------------------------------


def test_gazetteer_is_small_and_attributed():
    from importlib import resources

    ref = resources.files("hasila.infer.resources") / "gazetteer.json.gz"
    assert len(ref.read_bytes()) < 3 * 1024 * 1024
    text = " ".join(gazetteer().attribution)
    assert "OpenSyria" in text and "OCHA" in text and "HDX" in text and "GeoNames" in text


@pytest.mark.parametrize("phrase, country, admin1, precision, kind", [
    ("حلب", "Syria", "Aleppo", 1, "town"),
    ("ريف حلب الشمالي", "Syria", "Aleppo", 2, "town"),
    ("محافظة حلب", "Syria", "Aleppo", 3, "admin1"),
    ("وبالرقة", "Syria", "Raqqa", 1, "town"),
    ("محافظة الأنبار", "Iraq", "Al Anbar", 3, "admin1"),
    ("مدينة الموصل", "Iraq", "Nineveh", 1, "town"),
    ("مقديشو", "Somalia", "Banaadir", 1, "town"),
    ("العراق", "Iraq", None, 3, "country"),
    ("بالضفة الغربية", "Palestine", "West Bank", 3, "admin1"),
])  # fmt: skip
def test_geocode_known_places(phrase, country, admin1, precision, kind):
    place = geocode(phrase)
    assert place is not None, phrase
    assert (place.country, place.admin1, place.geo_precision, place.kind) == (country, admin1, precision, kind)


def test_geocode_syrian_town_gets_admin2_and_admin3():
    place = geocode("تدمر")
    assert place.admin1 == "Homs" and place.admin2 and place.admin3
    assert place.latitude and place.longitude


@pytest.mark.parametrize("phrase", ["لغم", "بوارج", "", "   ", "معسكر", "xyz"])
def test_geocode_non_places_give_nothing(phrase):
    assert geocode(phrase) is None


def test_geocode_context_decides_and_rejects_namesakes_abroad():
    # «صيدا» alone is Sidon (Lebanon); in an article about Daraa (Syria) it is not Sidon
    assert geocode("صيدا").country == "Lebanon"
    assert geocode("صيدا", ["SY"]) is None
    assert locate(["صيدا"], ["SY"]).country == "Syria"
    assert locate(["صيدا"], ["SY"]).geo_precision == 3
    assert locate(["لغم"], []) is None


def test_context_countries_counts_countries_and_unambiguous_places():
    assert context_countries(["سوريا", "حلب", "دمشق"])[0] == "SY"
    assert context_countries([]) == []


# -- actors and event types -------------------------------------------------------------------


@pytest.mark.parametrize("phrase, name, inter", [
    ("لتنظيم الدولة الإسلامية", "Islamic State (IS)", 2),
    ("داعش", "Islamic State (IS)", 2),
    ("التنظيم", "Islamic State (IS)", 2),
    ("قوات الأسد", "Military Forces of Syria", 1),
    ("قوات النظام السوري", "Military Forces of Syria", 1),
    ("مسلحون مجهولون", "Unidentified Armed Group", 3),
    ("43 مدنيا", "Civilians", 7),
    ("حزب الله", "Hezbollah", 3),
])  # fmt: skip
def test_canonical_actor_aliases_and_types(phrase, name, inter):
    actor = canonical_actor(phrase, "SY")
    assert (actor.name, actor.inter) == (name, inter)


def test_state_forces_abroad_are_external_and_soldiers_take_the_country():
    assert canonical_actor("الطيران الروسي", "SY").inter == 8
    assert canonical_actor("الطيران الروسي", "RU").inter == 1
    assert canonical_actor("وجنديان", "IQ").name == "Military Forces of Iraq"
    assert canonical_actor("", "SY") is None
    unknown = canonical_actor("ولجنة التنسيق", "SY")
    assert unknown.inter == 0 and not unknown.name.startswith("و")


@pytest.mark.parametrize("text, victim, expected", [
    ("قتل 5 مدنيين في غارة جوية على البلدة", 7, ("Explosions/Remote violence", "Air/drone strike")),
    ("فجر انتحاري نفسه بحزام ناسف وسط السوق", 7, ("Explosions/Remote violence", "Suicide bomb")),
    ("انفجار عبوة ناسفة بدورية للجيش", 1, ("Explosions/Remote violence", "Remote explosive/landmine/IED")),
    ("سقوط قذائف هاون على الحي", 7, ("Explosions/Remote violence", "Shelling/artillery/missile attack")),
    ("اشتباكات عنيفة بين الجيش والمسلحين", 1, ("Battles", "Armed clash")),
    ("أقدم مسلحون على خطف ثلاثة مواطنين", 7, ("Violence against civilians", "Abduction/forced disappearance")),
    ("قتل مدنيان برصاص مسلحين مجهولين", 7, ("Violence against civilians", "Attack")),
    ("أعلن المكتب بيانا", 0, ("", "")),
])  # fmt: skip
def test_event_type_rules(text, victim, expected):
    assert event_type(text, victim) == expected


# -- events ---------------------------------------------------------------------------------------


def _span(text, needle, start_at=0):
    i = text.index(needle, start_at)
    return {"text": needle, "start": i, "end": i + len(needle)}


def _count(text, needle, value, qualifier="exact", low=None, high=None):
    return {**_span(text, needle), "value": value, "low": low if low is not None else value,
            "high": high if high is not None else value, "qualifier": qualifier}


def _record(doc_id, text, incidents, date="2015-07-21", source="outlet", entities=()):
    return {"doc_id": doc_id, "status": "ok", "error": None, "model": {}, "date": date, "text_sha256": "x",
            "source": source, "entities": list(entities), "incidents": incidents}


TEXT_A = ("أعلنت وكالة أعماق أن مقاتلي التنظيم قتلوا 40 جندياً عراقياً في هجوم على قرية قرب تكريت، فيما قال مصدر أمني "
          "عراقي إن الهجوم أسفر عن مقتل 6 جنود.")


def _claims_record():
    t = TEXT_A
    inc = lambda killed, source, victim: {  # noqa: E731
        "killed": killed, "wounded": None, "perpetrator": _span(t, "مقاتلي التنظيم"), "victim": victim,
        "location": _span(t, "تكريت"), "date": None, "source": source, "evidence": {"text": t, "start": 0, "end": len(t)},
        "confidence": 0.8, "event_group": 0, "disputed": True}
    return _record("a", t, [inc(_count(t, "40", 40), _span(t, "وكالة أعماق"), _span(t, "جندياً عراقياً")),
                            inc(_count(t, "6", 6), _span(t, "مصدر أمني عراقي"), _span(t, "جنود"))])


def test_article_event_claims_and_figures():
    (ev,) = article_events(_claims_record())
    assert len(ev.claims) == 2 and {c["killed"] for c in ev.claims} == {40, 6}
    assert (ev.low, ev.high) == (6, 40)
    assert ev.place.country == "Iraq" and ev.place.location and "Tikr" in ev.place.location
    assert ev.perpetrator == "Islamic State (IS)" and ev.side_a[1] == 1  # the state's side first
    assert ev.deaths["deaths_a"] == 6 and ev.deaths["deaths_unknown"] == 0
    assert ev.date == "2015-07-21" and ev.date_precision == "week" and ev.date_from_article
    (row,) = acled_rows(build_events([_claims_record()]))
    assert row["fatalities"] == "6"  # the most conservative claim
    (urow,) = ucdp_rows(build_events([_claims_record()]))
    assert (urow["low"], urow["best"], urow["high"]) == ("6", "6", "40")
    assert urow["type_of_violence"] == "1" and urow["date_prec"] == "3"
    assert urow["date_start"] == "2015-07-15" and urow["date_end"] == "2015-07-21"


def test_sides_add_up_within_one_event():
    t = "قتل ضابطان وجنديان في كمين نصبه مسلحون مجهولون قرب تدمر أمس."
    incs = []
    for victim, value in (("ضابطان", 2), ("جنديان", 2)):
        incs.append({"killed": _count(t, victim, value), "wounded": None, "perpetrator": _span(t, "مسلحون مجهولون"),
                     "victim": _span(t, victim), "location": _span(t, "تدمر"),
                     "date": {**_span(t, "أمس"), "resolved": "2015-07-20", "precision": "day"}, "source": None,
                     "evidence": {"text": t, "start": 0, "end": len(t)}, "confidence": 0.9, "event_group": 0})
    (ev,) = article_events(_record("b", t, incs))
    assert ev.low == ev.best == ev.high == 4
    assert ev.date == "2015-07-20" and ev.date_precision == "day"
    assert ev.deaths["deaths_a"] + ev.deaths["deaths_b"] == 4
    assert ev.event_type == "Battles"


def _simple(doc_id, text, place, killed, date, perp=None, source="outlet"):
    inc = {"killed": _count(text, str(killed), killed), "wounded": None, "perpetrator": _span(text, perp) if perp else None,
           "victim": None, "location": _span(text, place), "date": None, "source": None,
           "evidence": {"text": text, "start": 0, "end": len(text)}, "confidence": 0.7, "event_group": 0}
    return _record(doc_id, text, [inc], date=date, source=source)


def test_reports_of_one_event_across_articles_join():
    r1 = _simple("r1", "انفجار في مدينة الرمادي أسفر عن مقتل 27 شخصا.", "الرمادي", 27, "2015-07-20")
    r2 = _simple("r2", "ارتفعت حصيلة تفجير الرمادي إلى 32 قتيلا.", "الرمادي", 32, "2015-07-22")
    r3 = _simple("r3", "قتل 5 أشخاص في انفجار في حلب.", "حلب", 5, "2015-07-21")
    r4 = _simple("r4", "انفجار في مدينة الرمادي أسفر عن مقتل 27 شخصا.", "الرمادي", 27, "2015-09-20")  # two months later
    events = build_events([r1, r2, r3, r4])
    docs = sorted(sorted(e.doc_ids) for e in events)
    assert docs == [["r1", "r2"], ["r3"], ["r4"]]
    joined = next(e for e in events if len(e.doc_ids) == 2)
    assert joined.figures() == (27, 27, 32)  # best: a tie between one report each → the lower
    assert len(build_events([r1, r2], across=False)) == 2


def test_incompatible_figures_or_perpetrators_stay_apart():
    a = _simple("a", "قتل 3 أشخاص في هجوم لتنظيم داعش في حلب.", "حلب", 3, "2015-07-20", perp="تنظيم داعش")
    b = _simple("b", "قتل 40 شخصا في هجوم في حلب.", "حلب", 40, "2015-07-20")
    c = _simple("c", "قتل 3 أشخاص في قصف لقوات النظام في حلب.", "حلب", 3, "2015-07-20", perp="قوات النظام")
    assert len(cluster_events([e for r in (a, b, c) for e in article_events(r)])) == 3


def test_error_records_and_records_without_incidents_have_no_events():
    assert article_events({"doc_id": "x", "status": "error", "incidents": []}) == []
    assert article_events(_record("y", "نص", [])) == []


# -- exports --------------------------------------------------------------------------------------


def test_column_sets_are_the_published_ones():
    assert list(ACLED_COLUMNS) == ACLED_PUBLISHED and len(ACLED_COLUMNS) == 31
    assert list(UCDP_COLUMNS) == UCDP_PUBLISHED and len(UCDP_COLUMNS) == 49


@pytest.mark.parametrize("fmt, columns", [("acled", ACLED_PUBLISHED), ("ucdp", UCDP_PUBLISHED)])
def test_csv_exports_have_every_column_and_leave_unknowns_empty(fmt, columns):
    records = [_claims_record(), _simple("r3", "قتل 5 أشخاص في انفجار في حلب.", "حلب", 5, "2015-07-21")]
    rows = list(csv.DictReader(io.StringIO(render(build_events(records), fmt))))
    assert len(rows) == 2
    for row in rows:
        assert list(row) == columns
    unknown = ("region", "tags", "timestamp", "source_scale") if fmt == "acled" else (
        "conflict_dset_id", "dyad_new_id", "side_a_dset_id", "gwnoa", "gwnob", "priogrid_gid", "country_id")
    for row in rows:
        for col in unknown:
            assert row[col] == ""
    if fmt == "acled":
        aleppo = rows[1]
        assert aleppo["actor1"] == "" and aleppo["inter1"] == "" and aleppo["interaction"] == ""
        assert aleppo["country"] == "Syria" and aleppo["iso"] == "760" and aleppo["geo_precision"] == "1"
        assert aleppo["event_id_cnty"].startswith("SYR")


def test_jsonl_export_lists_reports_claims_and_sources():
    (line,) = render(build_events([_claims_record()]), "jsonl").splitlines()
    ev = json.loads(line)
    assert ev["documents"] == ["a"] and ev["fatalities_low"] == 6 and ev["fatalities_high"] == 40
    (report,) = ev["reports"]
    assert {c["source"] for c in report["claims"]} == {"وكالة أعماق", "مصدر أمني عراقي"}


def test_events_page_groups_and_filters():
    from hasila.infer.report_html import events_page

    records = [_claims_record(), _simple("r3", "قتل 5 أشخاص في انفجار في حلب.", "حلب", 5, "2015-07-21")]
    page = events_page(build_events(records), records)
    assert page.count('<section class="event"') == 2
    assert 'data-country="Iraq"' in page and 'data-country="Syria"' in page
    assert 'id="fc"' in page and 'id="fs"' in page and "<script" in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "src=" not in page


# -- the command ----------------------------------------------------------------------------------


def test_hasila_events_command(tmp_path, capsys):
    src = tmp_path / "records.jsonl"
    lines = [json.dumps(_claims_record(), ensure_ascii=False), "{not json", json.dumps({"x": 1}),
             json.dumps(_simple("r3", "قتل 5 أشخاص في انفجار في حلب.", "حلب", 5, "2015-07-21"), ensure_ascii=False)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, html = tmp_path / "events.csv", tmp_path / "events.html"
    assert events_main([str(src), "-o", str(out), "--html", str(html)]) == 0
    err = capsys.readouterr().err
    assert f"{src}:2: not JSON" in err and f"{src}:3: not a hasila-extract record" in err
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == ACLED_PUBLISHED and len(rows) == 2
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert events_main([str(src), "--format", "ucdp", "-o", str(tmp_path / "g.csv")]) == 0
    assert (tmp_path / "g.csv").read_text(encoding="utf-8").splitlines()[0].split(",") == UCDP_PUBLISHED
    before = src.read_bytes()
    assert events_main([str(src), "-o", str(src)]) == 2  # never overwrite the input
    assert src.read_bytes() == before
    assert events_main([str(tmp_path / "missing.jsonl")]) == 2


# -- per-file dates ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, expected", [
    ("news/2015-08-10-aleppo.txt", dt.date(2015, 8, 10)),
    ("a_20150810.txt", dt.date(2015, 8, 10)),
    ("https://x.org/2024/12/02/syria554322/amp", dt.date(2024, 12, 2)),
    ("2015_02_30.txt", None),  # no such day
    ("article-123456789.txt", None),
    ("1885-01-01.txt", None),
])  # fmt: skip
def test_date_from_name(name, expected):
    assert date_from_name(name) == expected


def test_folder_dates_from_sidecar_and_names(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    text = "قتل خمسة أشخاص في انفجار سيارة مفخخة في بغداد أمس بحسب مصادر أمنية."
    for name in ("a.txt", "2015-08-10-b.txt", "c.txt"):
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "dates.csv").write_text("file,date\na.txt,2015-07-01\n", encoding="utf-8")
    docs = list(InputReader(file_dates=True, default_date=dt.date(2020, 1, 1)).read([str(folder)]))
    dates = {d.doc_id.rsplit("/", 1)[-1]: d.date for d in docs}
    assert dates == {"a.txt": dt.date(2015, 7, 1), "2015-08-10-b.txt": dt.date(2015, 8, 10), "c.txt": dt.date(2020, 1, 1)}
    plain = list(InputReader(default_date=dt.date(2020, 1, 1)).read([str(folder)]))
    assert {d.date for d in plain} == {dt.date(2020, 1, 1)}  # off unless asked


def test_bad_sidecar_names_file_and_line(tmp_path):
    bad = tmp_path / "dates.csv"
    bad.write_text("file,date\na.txt,2015-07-01\nb.txt,yesterday\n", encoding="utf-8")
    with pytest.raises(SidecarError, match=r"dates.csv, line 3: 'yesterday'"):
        read_sidecar(bad)
    with pytest.raises(SidecarError, match="cannot be read"):
        read_sidecar(tmp_path / "none.csv")


def test_places_missing_from_the_gazetteer_join_by_name_as_written():
    a = _simple("a", "انفجار في بلدة سروج أسفر عن مقتل 27 شخصا.", "بلدة سروج", 27, "2015-07-20")
    b = _simple("b", "ارتفعت حصيلة تفجير بسروج إلى 32 قتيلا.", "بسروج", 32, "2015-07-21")
    c = _simple("c", "انفجار في بلدة كوباني أسفر عن مقتل 25 شخصا.", "كوباني", 25, "2015-07-20")
    assert geocode("سروج") is None  # not in the gazetteer: the test relies on it
    docs = sorted(sorted(e.doc_ids) for e in build_events([a, b, c]))
    assert docs == [["a", "b"], ["c"]]


def test_a_distinctive_toll_joins_reports_whose_place_is_unknown_or_spelt_otherwise():
    a = _simple("a", "انفجار في بلدة سروج أسفر عن مقتل 32 شخصا.", "بلدة سروج", 32, "2015-07-20")
    b = _simple("b", "قتل 32 شخصا في هجوم على مدينة سوروتش.", "سوروتش", 32, "2015-07-22")
    c = _simple("c", "قتل 32 شخصا في هجوم على مدينة سوروتش.", "سوروتش", 32, "2015-08-05")  # two weeks later
    assert sorted(sorted(e.doc_ids) for e in build_events([a, b, c])) == [["a", "b"], ["c"]]
