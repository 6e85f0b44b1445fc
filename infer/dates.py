"""Resolve Arabic date expressions against the article's date.

``resolve_date(expr, article_date) -> (iso_date | None, precision | None)``

The expression is matched after ``normalize_for_match`` (digits to ASCII, no diacritics or
tatweel, أ/إ/آ → ا, ى → ي, ة → ه), so every spelling of a word is the same key. The first rule
that applies, in this order, decides:

1. a full numeric date «2015/07/21», «2015-7-21» (year first) or «21/07/2015» (day first, the
   Arab convention) → that day;
2. a day (digits or ordinal words «الثامن عشر») with a month name of either series
   (كانون الثاني = يناير … نيسان = أبريل …, and the Maghrebi جانفي, أفريل …), optionally a
   year «23 مارس 2015» → that day. Without a year: «الجاري»/«الحالي»/«هذا» → the article's
   year; otherwise the most recent such day on or before the article date;
3. a month name without a day: «آذار 2019» → month; «نيسان الماضي» → the most recent April
   before the article's month; «الشهر الجاري» style words after it → the article's month;
4. a year alone «عام 2015» → year;
5. a relative day word: «اليوم», «الليلة», «صباح اليوم» → the article date; «أمس»,
   «البارحة» → the day before; «أول أمس», «أمس الأول», «أول من أمس» → two days before;
   «غدا» → the day after. («اليوم التالي», «نفس اليوم» refer to another event: unresolved.)
6. «قبل|منذ [نحو|حوالي|قرابة|أكثر من…] [N] يوم/أسبوع/شهر/عام» → the article date minus that
   much. Precision: days → day, or week when approximate («قبل نحو 10 أيام», «قبل أيام»);
   weeks → week; months → month; years → year; hours → the article date, day;
7. «الأسبوع/الشهر/العام الماضي» (also المنصرم, الفائت, السابق) and «الأسبوع/الشهر/العام الجاري»
   (الحالي, هذا …) → that period;
8. a weekday «السبت», «يوم الجمعة», «فجر الأحد» → the most recent such day ON OR BEFORE the
   article date (an article published on a Saturday that says «السبت» means that same day);
   «السبت الماضي» → strictly before; «السبت المقبل» → strictly after. Two weekdays
   «ليل الجمعة السبت», «ليلة الجمعة على السبت» → the first one (the evening the night began,
   resolved as above).

Dates with month/year precision resolve to the first day of the period (the annotation
guidelines, G18: «أواخر الشهر الماضي» → YYYY-MM-01, precision month); a relative
week («الأسبوع الماضي», «قبل أسبوعين») is the article date minus 7·N days, precision week.
``latest_day(resolved, precision)`` gives the last day such a date may stand for.

Without an article date, only rules 1, 2 with a year, 3 with a year and 4 give a date; the others
give ``(None, precision)`` so the caller keeps the text. An expression no rule reads gives
``(None, None)``. Hijri months are not converted (``(None, None)`` unless a rule above applies).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from hasila.infer.normalize import fold_letters, normalize_for_match
from hasila.infer.types import Precision

__all__ = ["resolve_date", "latest_day", "MONTHS", "WEEKDAYS"]


def _k(word: str) -> str:
    return fold_letters(word)


# Month names (both series, and the Maghrebi one), folded. Two-word names come first.
MONTHS: dict[str, int] = {
    "كانون الثاني": 1, "كانون ثاني": 1, "شباط": 2, "آذار": 3, "نيسان": 4, "أيار": 5, "حزيران": 6,
    "تموز": 7, "آب": 8, "أيلول": 9, "تشرين الأول": 10, "تشرين أول": 10, "تشرين الثاني": 11,
    "تشرين ثاني": 11, "كانون الأول": 12, "كانون أول": 12,
    "يناير": 1, "فبراير": 2, "مارس": 3, "أبريل": 4, "إبريل": 4, "ابريل": 4, "مايو": 5, "يونيو": 6,
    "يونيه": 6, "يوليو": 7, "يوليه": 7, "أغسطس": 8, "اغسطس": 8, "سبتمبر": 9, "أكتوبر": 10,
    "نوفمبر": 11, "ديسمبر": 12,
    "جانفي": 1, "فيفري": 2, "أفريل": 4, "ماي": 5, "جوان": 6, "جويلية": 7, "أوت": 8,
}  # fmt: skip

# Python weekday numbers: Monday = 0 … Sunday = 6.
WEEKDAYS: dict[str, int] = {
    "الاثنين": 0, "الإثنين": 0, "الاتنين": 0, "الثلاثاء": 1, "الأربعاء": 2, "الاربعاء": 2,
    "الخميس": 3, "الجمعة": 4, "السبت": 5, "الأحد": 6,
}  # fmt: skip

_ORDINAL_UNITS = ["الأول", "الثاني", "الثالث", "الرابع", "الخامس", "السادس", "السابع", "الثامن", "التاسع"]
_ORDINAL_UNITS_COMPOUND = ["الحادي", "الثاني", "الثالث", "الرابع", "الخامس", "السادس", "السابع", "الثامن", "التاسع"]


def _ordinal_days() -> dict[str, int]:
    table = {w: i + 1 for i, w in enumerate(_ORDINAL_UNITS)}
    table["العاشر"] = 10
    for i, w in enumerate(_ORDINAL_UNITS_COMPOUND):
        table[f"{w} عشر"] = 11 + i
        table[f"{w} والعشرين"] = 21 + i
    table["العشرين"] = 20
    table["الثلاثين"] = 30
    table["الحادي والثلاثين"] = 31
    return {_k(w): d for w, d in table.items()}


_ORDINALS = _ordinal_days()

_NUMBER_WORDS = {
    _k(w): n
    for n, ws in {
        1: ("واحد", "واحدة"), 2: ("اثنين", "اثنان", "اثنتين", "اثنتان"), 3: ("ثلاث", "ثلاثة"),
        4: ("أربع", "أربعة"), 5: ("خمس", "خمسة"), 6: ("ست", "ستة"), 7: ("سبع", "سبعة"),
        8: ("ثمان", "ثماني", "ثمانية"), 9: ("تسع", "تسعة"), 10: ("عشر", "عشرة"),
    }.items()
    for w in ws
}  # fmt: skip
_FEW_WORDS = {_k(w) for w in ("بضع", "بضعة", "عدة")}
_FEW = 3  # «قبل بضعة أيام», «قبل أيام»: a few


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _month_re() -> re.Pattern[str]:
    keys = {_k(m) for m in MONTHS}
    # A month name may carry a proclitic («بنيسان», «لشهر آذار» is handled by «شهر»).
    return re.compile(rf"(?<!\w)[وبل]?({_alt(keys)})(?!\w)")


_MONTH_KEYS = {_k(m): n for m, n in MONTHS.items()}
_MONTH_RE = _month_re()
_WEEKDAY_KEYS = {_k(w): n for w, n in WEEKDAYS.items()}
_WEEKDAY_RE = re.compile(rf"(?<!\w)[وبل]?({_alt(_WEEKDAY_KEYS)})(?!\w)")
_ORDINAL_RE = re.compile(rf"(?<!\w)({_alt(_ORDINALS)})(?!\w)")

_YEAR_FIRST = re.compile(r"(?<!\d)(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})(?!\d)")
_DAY_FIRST = re.compile(r"(?<!\d)(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4})(?!\d)")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_DAY_NUMBER = re.compile(r"(?<!\d)(\d{1,2})(?!\d)")
_BETWEEN_DAY_AND_MONTH = re.compile(r"^\s*(?:-\s*)?(?:من\s+)?(?:شهر\s+)?$")

_PAST = re.compile(r"(?<!\w)(?:الماضي|الماضيه|المنصرم|المنصرمه|الفائت|الفائته|السابق|السابقه)(?!\w)")
_CURRENT = re.compile(r"(?<!\w)(?:الجاري|الجاريه|الحالي|الحاليه|هذا|هذه)(?!\w)")
_NEXT = re.compile(r"(?<!\w)(?:المقبل|المقبله|القادم|القادمه)(?!\w)")

_OTHER_DAY = re.compile(r"(?<!\w)(?:اليوم|الليله)\s+(?:التالي|التاليه|نفسه|ذاته|السابق)|(?:نفس|ذات)\s+اليوم")
_DAY_OFFSETS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"(?<!\w)(?:اول\s+(?:من\s+)?امس|امس\s+الاول|قبل\s+امس)(?!\w)"), -2),
    (re.compile(r"(?<!\w)(?:[وبل]?امس|البارحه)(?!\w)"), -1),
    (re.compile(r"(?<!\w)(?:اليوم|الليله|هذا\s+الصباح|هذه\s+الليله)(?!\w)"), 0),
    (re.compile(r"(?<!\w)(?:غدا|الغد)(?!\w)"), 1),
]

_UNITS = {
    # unit key → (kind, count implied by the word: 1 singular, 2 dual, None plural)
    "ساعه": ("hour", 1), "ساعات": ("hour", None), "ساعتين": ("hour", 2), "ساعتان": ("hour", 2),
    "يوم": ("day", 1), "ايام": ("day", None), "يومين": ("day", 2), "يومان": ("day", 2),
    "اسبوع": ("week", 1), "اسابيع": ("week", None), "اسبوعين": ("week", 2), "اسبوعان": ("week", 2),
    "شهر": ("month", 1), "اشهر": ("month", None), "شهور": ("month", None), "شهرين": ("month", 2),
    "شهران": ("month", 2), "عام": ("year", 1), "اعوام": ("year", None), "عامين": ("year", 2),
    "عامان": ("year", 2), "سنه": ("year", 1), "سنوات": ("year", None), "سنين": ("year", None),
    "سنتين": ("year", 2), "سنتان": ("year", 2),
}  # fmt: skip
_APPROX = r"نحو|حوالي|حوالى|قرابه|زهاء|ما\s+يقارب|ما\s+يقرب\s+من|اكثر\s+من|اقل\s+من|ما\s+لا\s+يقل\s+عن"
_AGO = re.compile(
    rf"(?<!\w)(?:قبل|منذ)\s+(?:({_APPROX})\s+)?(?:(\d+|{_alt(_NUMBER_WORDS | dict.fromkeys(_FEW_WORDS))})\s+)?"
    rf"({_alt(_UNITS)})(?!\w)"
)
_PERIOD = re.compile(r"(?<!\w)(?:ال)?(اسبوع|شهر|عام|سنه)(?!\w)")


def _shift_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _month_start(year: int, month: int) -> dt.date:
    return dt.date(year, month, 1)


def _year_start(year: int) -> dt.date:
    return dt.date(year, 1, 1)


def latest_day(resolved: str, precision: str | None) -> dt.date:
    """The last day a resolved date may stand for: the day itself, the end of its week
    (6 days on), month or year."""
    day = dt.date.fromisoformat(resolved)
    if precision == "week":
        return day + dt.timedelta(days=6)
    if precision == "month":
        return dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
    if precision == "year":
        return dt.date(day.year, 12, 31)
    return day


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _numeric_date(f: str) -> tuple[str | None, Precision | None] | None:
    m = _YEAR_FIRST.search(f)
    if m:
        day = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    else:
        m = _DAY_FIRST.search(f)
        day = _safe_date(int(m.group(3)), int(m.group(2)), int(m.group(1))) if m else None
    if day is None:
        return None
    return day.isoformat(), "day"


def _day_before_month(f: str, month_start: int) -> int | None:
    """The day number written just before the month name («23 آذار», «الـ 18 من شهر نيسان»)."""
    head = f[:month_start]
    best: int | None = None
    for m in _DAY_NUMBER.finditer(head):
        if _BETWEEN_DAY_AND_MONTH.match(head[m.end():]):
            best = int(m.group(1))
    for m in _ORDINAL_RE.finditer(head):
        if _BETWEEN_DAY_AND_MONTH.match(head[m.end():]):
            best = _ORDINALS[m.group(1)]
    return best if best is not None and 1 <= best <= 31 else None


def _month_year(f: str, month: int, after: str, article: dt.date | None) -> tuple[int | None, str]:
    """The year of a month mention, and how it was found: 'explicit', 'current', 'past',
    'next' or 'latest' (most recent on or before the article date)."""
    ym = _YEAR.search(f)
    if ym:
        return int(ym.group(1)), "explicit"
    if article is None:
        return None, "unknown"
    if _CURRENT.search(after):
        return article.year, "current"
    if _PAST.search(after):
        return (article.year if month < article.month else article.year - 1), "past"
    if _NEXT.search(after):
        return (article.year if month > article.month else article.year + 1), "next"
    return None, "latest"


def _month_rule(f: str, article: dt.date | None) -> tuple[str | None, Precision | None] | None:
    m = _MONTH_RE.search(f)
    if not m:
        return None
    month = _MONTH_KEYS[m.group(1)]
    day = _day_before_month(f, m.start())
    year, how = _month_year(f, month, f[m.end():], article)
    if day is not None:
        if year is None and how == "latest" and article is not None:
            year = article.year
            candidate = _safe_date(year, month, day)
            if candidate is not None and candidate > article:
                year -= 1
        if year is None:
            return None, "day"
        resolved = _safe_date(year, month, day)
        if resolved is not None:
            return resolved.isoformat(), "day"
        # An impossible day («31 شباط»): the month is still known.
    if year is None and how == "latest" and article is not None:
        year = article.year if month <= article.month else article.year - 1
    if year is None:
        return None, "month"
    return _month_start(year, month).isoformat(), "month"


def _ago_rule(f: str, article: dt.date | None) -> tuple[str | None, Precision | None] | None:
    m = _AGO.search(f)
    if not m:
        return None
    approx_word, number, unit = m.group(1), m.group(2), m.group(3)
    kind, implied = _UNITS[unit]
    approx = approx_word is not None
    if number is None:
        n = implied
        if n is None:  # «قبل أيام»: a few
            n, approx = _FEW, True
    elif number.isdigit():
        n = int(number)
    elif number in _FEW_WORDS:
        n, approx = _FEW, True
    else:
        n = _NUMBER_WORDS[number]
    precision: Precision
    if kind == "hour":
        precision, delta_days = "day", 0
    elif kind == "day":
        precision, delta_days = ("week" if approx else "day"), n
    elif kind == "week":
        precision, delta_days = "week", 7 * n
    else:
        precision, delta_days = ("month" if kind == "month" else "year"), 0
    if article is None:
        return None, precision
    if kind == "month":
        resolved = _shift_months(article, -n)
    elif kind == "year":
        resolved = _shift_months(article, -12 * n)
    else:
        resolved = article - dt.timedelta(days=delta_days)
    return resolved.isoformat(), precision


def _period_rule(f: str, article: dt.date | None) -> tuple[str | None, Precision | None] | None:
    for m in _PERIOD.finditer(f):
        after = f[m.end():]
        past = re.match(r"\s+(?:الماضي|الماضيه|المنصرم|المنصرمه|الفائت|الفائته|السابق|السابقه)(?!\w)", after)
        before = f[: m.start()]
        current = re.match(r"\s+(?:الجاري|الجاريه|الحالي|الحاليه)(?!\w)", after) or re.search(
            r"(?:هذا|هذه)\s+$", before
        )
        if not (past or current):
            continue
        kind = m.group(1)
        precision: Precision = {"اسبوع": "week", "شهر": "month", "عام": "year", "سنه": "year"}[kind]
        if article is None:
            return None, precision
        if kind == "اسبوع":
            resolved = article - dt.timedelta(days=7) if past else article
        elif kind == "شهر":
            base = _shift_months(article, -1) if past else article
            resolved = _month_start(base.year, base.month)
        else:
            year = article.year - 1 if past else article.year
            resolved = _year_start(year)
        return resolved.isoformat(), precision
    return None


def _weekday_rule(f: str, article: dt.date | None) -> tuple[str | None, Precision | None] | None:
    matches = list(_WEEKDAY_RE.finditer(f))
    if not matches:
        return None
    first = matches[0]
    if article is None:
        return None, "day"
    target = _WEEKDAY_KEYS[first.group(1)]
    # Only the words right after the FIRST weekday qualify it («السبت الماضي»); in
    # «ليل الجمعة السبت» the second weekday is the end of the night.
    after = f[first.end():]
    nxt = matches[1].start() - first.end() if len(matches) > 1 else len(after)
    qualifier = after[:nxt]
    back = (article.weekday() - target) % 7
    if _NEXT.match(qualifier.strip()) or _NEXT.search(qualifier[:12]):
        forward = (target - article.weekday()) % 7 or 7
        return (article + dt.timedelta(days=forward)).isoformat(), "day"
    if _PAST.search(qualifier[:12]) and back == 0:
        back = 7
    return (article - dt.timedelta(days=back)).isoformat(), "day"


def _relative_day_rule(f: str, article: dt.date | None) -> tuple[str | None, Precision | None] | None:
    if _OTHER_DAY.search(f):
        return None, None
    for pattern, offset in _DAY_OFFSETS:
        if pattern.search(f):
            if article is None:
                return None, "day"
            return (article + dt.timedelta(days=offset)).isoformat(), "day"
    return None


def resolve_date(expr: str, article_date: dt.date | None) -> tuple[str | None, Precision | None]:
    """ISO date and precision of a date expression, resolved against ``article_date``.

    Returns ``(None, precision)`` when the expression is relative and there is no article
    date, and ``(None, None)`` when no rule reads it. See the module docstring for the rules.
    """
    if not isinstance(expr, str):
        raise TypeError(f"resolve_date expects a str expression, got {type(expr).__name__}")
    if article_date is not None and isinstance(article_date, dt.datetime):
        article_date = article_date.date()
    f = normalize_for_match(expr)
    numeric = _numeric_date(f)
    if numeric is not None:
        return numeric
    for rule in (_month_rule,):
        out = rule(f, article_date)
        if out is not None:
            return out
    ym = _YEAR.search(f)
    if ym and not _AGO.search(f):
        return _year_start(int(ym.group(1))).isoformat(), "year"
    for rule in (_relative_day_rule, _ago_rule, _period_rule, _weekday_rule):
        out = rule(f, article_date)
        if out is not None:
            return out
    return None, None
