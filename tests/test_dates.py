"""Date expressions resolved against the article date (DOMAIN.md §7)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hasila.infer.dates import MONTHS, WEEKDAYS, latest_day, resolve_date

SAT = dt.date(2015, 4, 25)  # a Saturday


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("السبت", ("2015-04-25", "day")),  # published on a Saturday: that same day
        ("يوم الجمعة", ("2015-04-24", "day")),
        ("فجر الأحد", ("2015-04-19", "day")),
        ("مساء الاثنين", ("2015-04-20", "day")),
        ("الإثنين", ("2015-04-20", "day")),
        ("السبت الماضي", ("2015-04-18", "day")),
        ("الثلاثاء المقبل", ("2015-04-28", "day")),
        ("ليل الجمعة السبت", ("2015-04-24", "day")),
        ("ليلة الجمعة على السبت", ("2015-04-24", "day")),
        ("أمس", ("2015-04-24", "day")),
        ("مساء أمس", ("2015-04-24", "day")),
        ("البارحة", ("2015-04-24", "day")),
        ("أول أمس", ("2015-04-23", "day")),
        ("أمس الأول", ("2015-04-23", "day")),
        ("اليوم", ("2015-04-25", "day")),
        ("صباح اليوم", ("2015-04-25", "day")),
        ("منذ ساعات", ("2015-04-25", "day")),
        ("قبل يومين", ("2015-04-23", "day")),
        ("قبل ثلاثة أيام", ("2015-04-22", "day")),
        ("قبل 5 أيام", ("2015-04-20", "day")),
        ("قبل أيام", ("2015-04-22", "week")),
        ("قبل نحو 10 أيام", ("2015-04-15", "week")),
        ("قبل أسبوع", ("2015-04-18", "week")),
        ("قبل نحو أسبوعين", ("2015-04-11", "week")),
        ("قبل شهرين", ("2015-02-25", "month")),
        ("قبل عام", ("2014-04-25", "year")),
        ("الأسبوع الماضي", ("2015-04-18", "week")),
        ("الأسبوع الجاري", ("2015-04-25", "week")),
        ("الشهر الماضي", ("2015-03-01", "month")),
        ("الشهر الجاري", ("2015-04-01", "month")),
        ("العام الماضي", ("2014-01-01", "year")),
        ("أواخر الشهر الماضي", ("2015-03-01", "month")),
        ("في الـ 18 من شهر نيسان/ أبريل الجاري", ("2015-04-18", "day")),
        ("الثامن عشر من نيسان", ("2015-04-18", "day")),
        ("الحادي والعشرين من آذار", ("2015-03-21", "day")),
        ("23 آذار", ("2015-03-23", "day")),
        ("23 مارس", ("2015-03-23", "day")),
        ("23 مارس 2015", ("2015-03-23", "day")),
        ("٢٣ آذار ٢٠١٥", ("2015-03-23", "day")),
        ("30 كانون الأول", ("2014-12-30", "day")),  # no year: the latest one before the article
        ("2 كانون الثاني 2016", ("2016-01-02", "day")),
        ("الخميس 23 نيسان", ("2015-04-23", "day")),
        ("2015/07/21", ("2015-07-21", "day")),
        ("21/07/2015", ("2015-07-21", "day")),
        ("21-7-2015", ("2015-07-21", "day")),
        ("آذار 2019", ("2019-03-01", "month")),
        ("نيسان الماضي", ("2014-04-01", "month")),
        ("شهر آب", ("2014-08-01", "month")),
        ("عام 2013", ("2013-01-01", "year")),
        ("اليوم التالي", (None, None)),
        ("في تلك الفترة", (None, None)),
    ],
)
def test_resolved_against_a_saturday(expr, expected):
    assert resolve_date(expr, SAT) == expected


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("السبت", (None, "day")),
        ("أمس", (None, "day")),
        ("قبل نحو أسبوعين", (None, "week")),
        ("الشهر الماضي", (None, "month")),
        ("23 آذار", (None, "day")),
        ("نيسان الماضي", (None, "month")),
        ("23 مارس 2015", ("2015-03-23", "day")),
        ("2015/07/21", ("2015-07-21", "day")),
        ("آذار 2019", ("2019-03-01", "month")),
        ("عام 2013", ("2013-01-01", "year")),
        ("فلان", (None, None)),
    ],
)
def test_without_article_date_only_absolute_dates_resolve(expr, expected):
    assert resolve_date(expr, None) == expected


def test_both_month_series_mean_the_same_month():
    pairs = [("كانون الثاني", "يناير"), ("شباط", "فبراير"), ("آذار", "مارس"), ("نيسان", "أبريل"), ("أيار", "مايو"),
             ("حزيران", "يونيو"), ("تموز", "يوليو"), ("آب", "أغسطس"), ("أيلول", "سبتمبر"), ("تشرين الأول", "أكتوبر"),
             ("تشرين الثاني", "نوفمبر"), ("كانون الأول", "ديسمبر")]
    for month, (levantine, egyptian) in enumerate(pairs, start=1):
        assert MONTHS[levantine] == MONTHS[egyptian] == month
        a = resolve_date(f"12 {levantine} 2016", None)
        assert a == resolve_date(f"12 {egyptian} 2016", None) == (f"2016-{month:02d}-12", "day")


def test_spelling_variants_and_diacritics():
    assert resolve_date("السَّبْتِ", SAT) == ("2015-04-25", "day")
    assert resolve_date("ابريل 2015", None) == ("2015-04-01", "month")
    assert resolve_date("الاربعاء", SAT) == ("2015-04-22", "day")


def test_current_month_day_not_yet_reached_stays_in_the_current_year():
    # «الجاري» fixes the year even if the day is after the article date.
    assert resolve_date("28 نيسان الجاري", SAT) == ("2015-04-28", "day")
    # Without it, the latest such day on or before the article is meant.
    assert resolve_date("28 نيسان", SAT) == ("2014-04-28", "day")


def test_impossible_day_keeps_the_month():
    assert resolve_date("31 شباط 2015", None) == ("2015-02-01", "month")


def test_latest_day_of_a_period():
    assert latest_day("2015-02-01", "month") == dt.date(2015, 2, 28)
    assert latest_day("2015-04-18", "week") == dt.date(2015, 4, 24)
    assert latest_day("2014-01-01", "year") == dt.date(2014, 12, 31)
    assert latest_day("2015-04-18", "day") == dt.date(2015, 4, 18)


def test_datetime_article_date_is_accepted():
    assert resolve_date("أمس", dt.datetime(2015, 4, 25, 13, 0)) == ("2015-04-24", "day")


def test_bad_input_type():
    with pytest.raises(TypeError, match="str"):
        resolve_date(None, SAT)  # type: ignore[arg-type]


@given(st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)), st.sampled_from(sorted(WEEKDAYS)))
@settings(max_examples=100, deadline=None)
def test_weekday_is_the_latest_such_day_on_or_before_the_article(article, weekday):
    iso, precision = resolve_date(weekday, article)
    day = dt.date.fromisoformat(iso)
    assert precision == "day"
    assert day.weekday() == WEEKDAYS[weekday]
    assert 0 <= (article - day).days <= 6


@given(st.text(max_size=40), st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31))))
@settings(max_examples=200, deadline=None)
def test_any_text_never_crashes(expr, article):
    iso, precision = resolve_date(expr, article)
    assert precision in (None, "day", "week", "month", "year")
    if iso is not None:
        dt.date.fromisoformat(iso)
        assert precision is not None
