"""Tests of the Arabic quantity parser (hasila.infer.quantity).

All sentences are made up. Property tests build Arabic number words from integers with a small
generator (both genders, both cases, «مئة»/«مائة», joined/split hundreds, thousands) and check
that the parser reads them back.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hasila.infer.quantity import QuantityError, parse_number, parse_quantity
from hasila.infer.tokenize import split_words
from hasila.infer.types import HasilaError, Quantity

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from quantity_scan import find_quantities  # noqa: E402  (benchmarks and tests only)

PROPERTY = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def q(value, low, high, qualifier) -> Quantity:
    return Quantity(value, low, high, qualifier)


def exact(n: int) -> Quantity:
    return Quantity(n, n, n, "exact")


# ------------------------------------------------------------------------------------------
# A number → Arabic words generator (the test's own, independent of the module's lexicon).

_UNIT_M = {1: "واحد", 3: "ثلاثة", 4: "أربعة", 5: "خمسة", 6: "ستة", 7: "سبعة", 8: "ثمانية", 9: "تسعة", 10: "عشرة"}
_UNIT_F = {1: "واحدة", 3: "ثلاث", 4: "أربع", 5: "خمس", 6: "ست", 7: "سبع", 8: "ثماني", 9: "تسع", 10: "عشر"}
_TENS = {2: "عشر", 3: "ثلاث", 4: "أربع", 5: "خمس", 6: "ست", 7: "سبع", 8: "ثمان", 9: "تسع"}
_HUNDRED_PREFIX = {3: "ثلاث", 4: "أربع", 5: "خمس", 6: "ست", 7: "سبع", 8: "ثمان", 9: "تسع"}


class Style:
    """Random but reproducible spelling choices for one number."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.feminine = rnd.random() < 0.5
        self.accusative = rnd.random() < 0.5
        self.hundred = rnd.choice(["مئة", "مائة"])

    def pick(self, *options: str) -> str:
        return self.rnd.choice(options)

    def conj(self) -> str:
        return self.pick(" و", " و ")


def _unit(n: int, s: Style) -> str:
    if n == 2:
        if s.feminine:
            return "اثنتين" if s.accusative else "اثنتان"
        return "اثنين" if s.accusative else "اثنان"
    return (_UNIT_F if s.feminine else _UNIT_M)[n]


def _below_100(n: int, s: Style) -> str:
    if n <= 10:
        return _unit(n, s)
    if n < 20:
        if n == 11:
            return "إحدى عشرة" if s.feminine else s.pick("أحد عشر", "احد عشر")
        if n == 12:
            first = ("اثنتي" if s.accusative else "اثنتا") if s.feminine else ("اثني" if s.accusative else "اثنا")
            return first + (" عشرة" if s.feminine else " عشر")
        return _unit(n - 10, s) + (" عشرة" if s.feminine else " عشر")
    tens = _TENS[n // 10] + ("ين" if s.accusative else "ون")
    if n % 10 == 0:
        return tens
    return _unit(n % 10, s) + s.conj() + tens


def _below_1000(n: int, s: Style) -> str:
    h, rest = divmod(n, 100)
    if h == 0:
        return _below_100(rest, s)
    if h == 1:
        head = s.hundred
    elif h == 2:
        head = s.hundred[:-1] + ("تين" if s.accusative else "تان")
    else:
        head = _HUNDRED_PREFIX[h] + s.pick("", " ") + s.hundred
    return head if rest == 0 else head + s.conj() + _below_100(rest, s)


def arabic_words(n: int, s: Style) -> str:
    """Arabic number words for 1 ≤ n ≤ 999,999."""
    th, rest = divmod(n, 1000)
    if th == 0:
        return _below_1000(rest, s)
    alf = s.pick("ألف", "الف")
    if th == 1:
        head = alf
    elif th == 2:
        head = alf + ("ين" if s.accusative else "ان")
    elif th <= 10:
        masc = Style(s.rnd)
        masc.feminine = False  # «ثلاثة آلاف»: ألف is masculine
        head = _below_1000(th, masc) + " " + s.pick("آلاف", "الاف")
    elif th < 100:
        head = _below_1000(th, s) + " " + s.pick(alf + "اً", alf + "ا", alf)
    else:
        head = _below_1000(th, s) + " " + alf
    return head if rest == 0 else head + s.conj() + _below_1000(rest, s)


def test_generator_spells_known_numbers():
    # The generator itself must be right, or the property tests prove nothing.
    s = Style(random.Random(0))
    s.feminine, s.accusative, s.hundred = False, False, "مئة"
    s.pick = lambda *o: o[0]
    s.conj = lambda: " و"
    assert arabic_words(25, s) == "خمسة وعشرون"
    assert arabic_words(13, s) == "ثلاثة عشر"
    assert arabic_words(300, s) == "ثلاثمئة"
    assert arabic_words(1365, s) == "ألف وثلاثمئة وخمسة وستون"
    assert arabic_words(3000, s) == "ثلاثة آلاف"
    assert arabic_words(25000, s) == "خمسة وعشرون ألفاً"
    assert arabic_words(200, s) == "مئتان"
    assert arabic_words(2002, s) == "ألفان واثنان"


# ------------------------------------------------------------------------------------------
# parse_number


@pytest.mark.parametrize(
    "text,value",
    [
        ("35", 35), ("٣٥", 35), ("۳۵", 35), ("1,365", 1365), ("١٬٣٦٥", 1365), ("١٣٦٥", 1365),
        ("1.365.000", 1365000), ("2019", 2019),
        ("واحد", 1), ("واحدة", 1), ("أحد", 1), ("إحدى", 1),
        ("اثنان", 2), ("اثنين", 2), ("إثنين", 2), ("اثنتان", 2), ("اثنتين", 2),
        ("ثلاث", 3), ("ثلاثة", 3), ("ثلاثه", 3), ("أربعة", 4), ("اربعة", 4), ("ثماني", 8), ("ثمانى", 8),
        ("ثمانية", 8), ("عشر", 10), ("عشرة", 10),
        ("أحد عشر", 11), ("إحدى عشرة", 11), ("اثنا عشر", 12), ("اثني عشر", 12), ("اثنتا عشرة", 12),
        ("ثلاثة عشر", 13), ("ثلاث عشرة", 13), ("تسعة عشر", 19),
        ("عشرون", 20), ("عشرين", 20), ("تسعين", 90), ("خمسة وعشرين", 25), ("خمسة و عشرين", 25),
        ("واحد وعشرون", 21), ("اثنتان وثلاثون", 32),
        ("مئة", 100), ("مائة", 100), ("مئتان", 200), ("مئتين", 200), ("مائتين", 200), ("مئتا", 200),
        ("ثلاثمئة", 300), ("ثلاثمائة", 300), ("ثلاث مئة", 300), ("ثمانمائة", 800), ("ثمانيمئة", 800),
        ("مئة وخمسين", 150), ("مئة وخمسة وعشرون", 125), ("مائة وواحد", 101), ("مئة وثلاثة عشر", 113),
        ("ألف", 1000), ("الف", 1000), ("ألفاً", 1000), ("ألفان", 2000), ("ألفين", 2000),
        ("ثلاثة آلاف", 3000), ("عشرة آلاف", 10000), ("أحد عشر ألفاً", 11000), ("مئة ألف", 100000),
        ("ألف وخمسمئة", 1500), ("ثلاثة آلاف ومئتان", 3200), ("مليون", 10**6), ("مليونين", 2 * 10**6),
        ("3 آلاف", 3000), ("20 ألفاً", 20000), ("1.5 مليون", 1_500_000), ("ألف و15", 1015),
        ("خَمْسَةٌ وَعِشْرُونَ", 25), ("خمســة", 5), ("والخمسة", 5), ("بخمسة", 5), ("وعشرين", 20),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "قتلى", "الثالث", "2.5", "10,15", "خمسة عشرين", "عشرين وخمسة", "آلاف", "عشرات", "اثنا",
     "10 و15", "لست", "ثلاثة مئة مئة", "²", "1" * 30, "ألف ألف"],
)
def test_parse_number_rejects(text):
    with pytest.raises(QuantityError) as err:
        parse_number(text)
    assert isinstance(err.value, HasilaError) and isinstance(err.value, ValueError)
    assert text in str(err.value)


@PROPERTY
@given(n=st.integers(1, 999_999), seed=st.integers(0, 2**32 - 1))
def test_words_round_trip(n, seed):
    words = arabic_words(n, Style(random.Random(seed)))
    assert parse_number(words) == n, words


_DIGIT_SCRIPTS = {"ascii": "0123456789", "indic": "٠١٢٣٤٥٦٧٨٩", "persian": "۰۱۲۳۴۵۶۷۸۹"}


@PROPERTY
@given(n=st.integers(0, 10**12), script=st.sampled_from(sorted(_DIGIT_SCRIPTS)), sep=st.sampled_from(["", ",", "٬"]))
def test_digits_round_trip(n, script, sep):
    text = f"{n:,}".replace(",", sep) if sep else str(n)
    text = text.translate(str.maketrans("0123456789", _DIGIT_SCRIPTS[script]))
    assert parse_number(text) == n


# ------------------------------------------------------------------------------------------
# parse_quantity: every form


@pytest.mark.parametrize(
    "span,before,after,expected",
    [
        # plain figures
        ("35", "قتل", " عنصراً", exact(35)),
        ("٣٥", "", "", exact(35)),
        ("1,365", "", " قتيلاً منذ", exact(1365)),
        ("ثمانية", "", "", exact(8)),
        ("خمسة وعشرين", "", "", exact(25)),
        ("مئة وخمسين", "", "", exact(150)),
        ("ثلاثمائة", "", "", exact(300)),
        ("ألفين", "", "", exact(2000)),
        ("الخمسة", "مقتل", "", exact(5)),
        ("35 قتيلاً", "", "", exact(35)),  # the counted noun inside the span is ignored
        ("أربعة ضباط", "", "", exact(4)),
        # duals
        ("ضابطان", "قتل", "", exact(2)),
        ("ضابطين", "", "", exact(2)),
        ("عنصرين", "", "", exact(2)),
        ("جنديين", "", "", exact(2)),
        ("جنديان", "", "", exact(2)),
        ("امرأتين", "", "", exact(2)),
        ("طفلتين", "", "", exact(2)),
        ("الجنديين", "", "", exact(2)),
        ("وعنصرين", "", "", exact(2)),
        ("ضابطان اثنان", "", "", exact(2)),
        ("ضابطين اثنين", "", "", exact(2)),
        ("مدنيان", "", "", exact(2)),
        ("مدنيين", "", "", q(2, 2, None, "at_least")),  # dual or plural: at least 2
        ("مدنيين اثنين", "", "", exact(2)),
        ("دبابتين", "تدمير", "", exact(2)),
        ("سيارتين", "", "", exact(2)),  # generic feminine dual
        ("صاروخين", "", "", exact(2)),
        ("جنديين", "", " على الأقل", q(2, 2, None, "at_least")),
        # lone singular person noun
        ("جندي", "قتل", "", exact(1)),
        ("مدنياً", "", "", exact(1)),
        ("قتيل", "سقط", "", exact(1)),
        ("امرأة", "", "", exact(1)),
        ("جندي واحد", "", "", exact(1)),
        # at least
        ("35", "قتل", " على الأقل", q(35, 35, None, "at_least")),
        ("35", "قتل", " عنصراً من قوات النظام على الأقل", q(35, 35, None, "at_least")),
        ("35", "قتل على الأقل", "", q(35, 35, None, "at_least")),
        ("20", "مقتل ما لا يقل عن", "", q(20, 20, None, "at_least")),
        ("20", "مقتل مالا يقل عن", "", q(20, 20, None, "at_least")),
        ("20", "مقتل مالايقل عن", "", q(20, 20, None, "at_least")),
        ("20", "مقتل لا يقل عن", "", q(20, 20, None, "at_least")),
        ("عشرين", "ما لا يقل عن", "", q(20, 20, None, "at_least")),
        ("10", "", " جنود أو أكثر", q(10, 10, None, "at_least")),
        ("10", "", " فأكثر", q(10, 10, None, "at_least")),
        ("ما لا يقل عن 20", "", "", q(20, 20, None, "at_least")),
        # more than = at least N+1
        ("35", "أكثر من", "", q(36, 36, None, "at_least")),
        ("35", "لأكثر من", "", q(36, 36, None, "at_least")),
        ("35", "ما يزيد عن", "", q(36, 36, None, "at_least")),
        ("35", "ما يزيد على", "", q(36, 36, None, "at_least")),
        ("مئة", "أكثر من", "", q(101, 101, None, "at_least")),
        ("أكثر من 35", "", "", q(36, 36, None, "at_least")),
        # at most
        ("10", "أقل من", "", q(None, None, 9, "at_most")),
        ("10", "ما لا يزيد عن", "", q(None, None, 10, "at_most")),
        ("10", "", " على الأكثر", q(None, None, 10, "at_most")),
        # approx
        ("30", "نحو", "", q(30, None, None, "approx")),
        ("30", "قتل حوالي", "", q(30, None, None, "approx")),
        ("30", "حوالى", "", q(30, None, None, "approx")),
        ("30", "قرابة", "", q(30, None, None, "approx")),
        ("30", "زهاء", "", q(30, None, None, "approx")),
        ("30", "ما يقارب", "", q(30, None, None, "approx")),
        ("30", "ما يقارب الـ", "", q(30, None, None, "approx")),
        ("30", "بنحو", "", q(30, None, None, "approx")),
        ("30", "", " قتيلاً تقريباً", q(30, None, None, "approx")),
        ("عشرين", "نحو", "", q(20, None, None, "approx")),
        # ranges: value is the low end
        ("10 و15", "بين", "", q(10, 10, 15, "range")),
        ("10 و15", "", "", q(10, 10, 15, "range")),
        ("10-15", "", "", q(10, 10, 15, "range")),
        ("10 - 15", "", "", q(10, 10, 15, "range")),
        ("10 إلى 15", "ما بين", "", q(10, 10, 15, "range")),
        ("10 الى 15", "", "", q(10, 10, 15, "range")),
        ("3 أو 4", "", "", q(3, 3, 4, "range")),
        ("عشرة وعشرين", "بين", "", q(10, 10, 20, "range")),
        ("عشرين وثلاثين", "", "", q(20, 20, 30, "range")),
        ("خمسة وعشرين", "ما بين", " قتيلاً", q(5, 5, 20, "range")),  # «بين» needs two ends
        ("خمسة وعشرين", "بين", " وثلاثين", q(25, 25, 30, "range")),  # the model tagged only A
        ("عشرين وخمسة وعشرين", "بين", "", q(20, 20, 25, "range")),
        ("بين 10 و15", "", "", q(10, 10, 15, "range")),
        ("10", "بين", " و15 قتيلاً", q(10, 10, 15, "range")),
        ("15", "بين 10 و", "", q(10, 10, 15, "range")),
        ("وعشرين", "بين عشرة", "", q(10, 10, 20, "range")),
        ("10 و10", "", "", exact(10)),
        ("3 و4 آلاف", "ما بين", " دولار", q(3000, 3000, 4000, "range")),  # B's scale applies to A
        ("4 إلى 5 مليارات", "", "", q(4 * 10**9, 4 * 10**9, 5 * 10**9, "range")),
        ("ثلاثة وأربعة آلاف", "بين", "", q(3000, 3000, 4000, "range")),
        ("7,9 ملايين", "", "", exact(7_900_000)),  # decimal comma before a scale word
        # vague (ACLED): dozens 12, hundreds 100, thousands 1000
        ("عشرات", "", " القتلى", q(12, 12, None, "vague")),
        ("العشرات", "", "", q(12, 12, None, "vague")),
        ("بالعشرات", "", "", q(12, 12, None, "vague")),
        ("عشرات القتلى", "", "", q(12, 12, None, "vague")),
        ("مئات", "", "", q(100, 100, None, "vague")),
        ("المئات", "", "", q(100, 100, None, "vague")),
        ("آلاف", "", "", q(1000, 1000, None, "vague")),
        ("الآلاف", "", "", q(1000, 1000, None, "vague")),
        ("عشرات الآلاف", "", "", q(12000, 12000, None, "vague")),
        ("مئات الآلاف", "", "", q(100000, 100000, None, "vague")),
        ("عدد", "", " من المدنيين", q(None, 2, None, "vague")),
        ("عدد من", "", "", q(None, 2, None, "vague")),
        ("عدداً", "", " من", q(None, 2, None, "vague")),
        ("عدة", "", "", q(None, 2, None, "vague")),
        ("العديد", "", " من", q(None, 2, None, "vague")),
        ("بعض", "", "", q(None, 2, None, "vague")),
        ("بضعة", "", "", q(3, 3, 9, "vague")),
        ("بضع", "", "", q(3, 3, 9, "vague")),
        ("بضعة عشر", "", "", q(13, 13, 19, "vague")),
        ("بضع مئات", "", "", q(300, 300, 900, "vague")),
        ("بضعة آلاف", "", "", q(3000, 3000, 9000, "vague")),
        ("عدة مئات", "", "", q(None, 200, None, "vague")),
        ("عشرات", "أكثر من", "", q(12, 12, None, "vague")),  # a qualifier does not sharpen a vague word
        # raw text
        ("٣٥", "قُتِلَ", " شَخْصاً", exact(35)),
        ("ثلاثـــة", "", "", exact(3)),
    ],
)
def test_parse_quantity(span, before, after, expected):
    assert parse_quantity(span, before, after) == expected


@pytest.mark.parametrize(
    "span,before,after,why",
    [
        ("الثالث", "الهجوم", "", "ordinal"),
        ("الخامسة", "", "", "ordinal"),
        ("أول", "", "", "ordinal"),
        ("35", "", "%", "percentage"),
        ("35", "", "٪ من", "percentage"),
        ("35", "", " في المئة", "percentage"),
        ("35", "", " بالمائة", "percentage"),
        ("35%", "", "", "percentage"),
        ("2.5", "", " كيلومتر", "decimal"),
        ("10,15", "", "", "decimal"),
        ("نصف", "", " العناصر", "cannot read"),
        ("قتلى", "", " وجرحى", "cannot read"),  # no figure at all
        ("دبابة", "", "", "cannot read"),  # a lone singular thing is not a casualty count
        ("", "", "", "empty"),
        ("أكثر من", "", "", "no figure"),
        ("15 و10", "", "", "backwards"),
    ],
)
def test_parse_quantity_rejects(span, before, after, why):
    with pytest.raises(QuantityError) as err:
        parse_quantity(span, before, after)
    assert why in str(err.value)
    assert span in str(err.value)


def test_parse_quantity_reads_only_nearby_context():
    far = " ".join(["كلمة"] * 40)
    assert parse_quantity("35", "أكثر من " + far) == exact(35)
    assert parse_quantity("35", far + " أكثر من") == q(36, 36, None, "at_least")
    # «على الأقل» after another clause belongs to that clause
    assert parse_quantity("5", "قتل", " جنود وأصيب 10 على الأقل") == exact(5)


def test_counted_nouns_resource_errors_name_the_line():
    from hasila.infer.quantity import _parse_counted_nouns

    lex = _parse_counted_nouns("# comment\nضابط\tperson\t-\nمدني\tperson\tين\n", "x.txt")
    assert lex["ضابطين"].number == 2 and not lex["ضابطين"].ambiguous
    assert lex["مدنيين"].ambiguous and not lex["مدنيان"].ambiguous and lex["مدني"].number == 1
    with pytest.raises(HasilaError, match="x.txt line 2"):
        _parse_counted_nouns("ضابط\tperson\t-\nجندي person -\n", "x.txt")


def test_bad_types_are_errors():
    with pytest.raises(QuantityError):
        parse_quantity(35)  # type: ignore[arg-type]
    with pytest.raises(QuantityError):
        parse_number(None)  # type: ignore[arg-type]
    with pytest.raises(QuantityError):
        find_quantities(b"35")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# find_quantities


def _found(text: str, persons_only: bool = True) -> list[tuple[str, Quantity]]:
    return [(text[s:e], qty) for s, e, qty in find_quantities(text, persons_only=persons_only)]


def test_find_quantities_sentence():
    text = ("قتل 35 عنصراً على الأقل من قوات النظام بينهم ضابطان اثنان، وأصيب نحو عشرين آخرين "
            "في هجوم شنه التنظيم في بادية حمص، ودمرت دبابتين.")
    assert _found(text) == [
        ("35", q(35, 35, None, "at_least")),
        ("ضابطان اثنان", exact(2)),
        ("عشرين", q(20, None, None, "approx")),
    ]
    assert _found(text, persons_only=False)[-1] == ("دبابتين", exact(2))


@pytest.mark.parametrize(
    "text,expected",
    [
        ("أفاد المرصد بمقتل ٢٧ مسلحاً", [("٢٧", exact(27))]),
        ("ارتفع عدد القتلى إلى 1,365 شخصاً", [("1,365", exact(1365))]),
        ("قتل خمسة وعشرون جندياً", [("خمسة وعشرون", exact(25))]),
        ("قتل مئة و خمسون شخصاً", [("مئة و خمسون", exact(150))]),
        ("قتل ثلاثة آلاف شخص", [("ثلاثة آلاف", exact(3000))]),
        ("قتل بين 10 و15 مدنياً", [("10 و15", q(10, 10, 15, "range"))]),
        ("قتل ما بين عشرة وعشرين", [("عشرة وعشرين", q(10, 10, 20, "range"))]),
        ("قتل 10-15 شخصاً", [("10-15", q(10, 10, 15, "range"))]),
        ("قتل 3 أو 4 أشخاص", [("3 أو 4", q(3, 3, 4, "range"))]),
        ("ارتفعت الحصيلة من 10 إلى 15", [("10", exact(10)), ("15", exact(15))]),  # an update
        ("وقع الهجوم في 23-3-2019", [("23", exact(23)), ("3", exact(3)), ("2019", exact(2019))]),
        ("قتل العشرات من المدنيين", [("العشرات", q(12, 12, None, "vague"))]),
        ("قتل عشرات الآلاف", [("عشرات الآلاف", q(12000, 12000, None, "vague"))]),
        ("أصيب عدد من المدنيين", [("عدد", q(None, 2, None, "vague"))]),
        ("ارتفع عدد القتلى", []),  # «the number of the dead» is not a quantity
        ("قتل عنصرين وجنديين", [("عنصرين", exact(2)), ("وجنديين", exact(2))]),
        ("قتل مدنيين في القصف", []),  # plural, not a dual
        ("قتل مدنيين اثنين", [("مدنيين اثنين", exact(2))]),
        ("قتل مدنيان", [("مدنيان", exact(2))]),
        ("قتل جندي في الهجوم", []),  # a lone singular is not returned by the scan
        ("قتل جندي واحد", [("جندي واحد", exact(1))]),
        ("قتل أحد العناصر", [("أحد", exact(1))]),
        ("قتل أحد عناصر الأمن", [("أحد", exact(1))]),
        ("لم يصب أحد.", []),
        ("لم يقتل أحد من الجنود", []),
        ("ارتفعت النسبة إلى 50 في المائة", []),
        ("في القرن العشرين", []),
        ("اعتبر البعض أن الهجوم", []),
        ("بلغت قيمتها بين 3 و4 آلاف دولار", [("3 و4 آلاف", q(3000, 3000, 4000, "range"))]),
        ("يوم الأحد وقع الهجوم يوم الاثنين", []),
        ("قتل اثنين من العناصر", [("اثنين", exact(2))]),
        ("قتل ما لا يقل عن ثمانية", [("ثمانية", q(8, 8, None, "at_least"))]),
        ("قتل أكثر من 35", [("35", q(36, 36, None, "at_least"))]),
        ("نسبة 35% من السكان", []),
        ("قطع مسافة 2.5 كيلومتر", []),
        ("قتل الثالث", []),
        ("قت. يلا 5", [("5", exact(5))]),
        ("قتل رجل وطفليه", [("وطفليه", exact(2))]),  # construct dual with a pronoun
        ("ولديه سيارة", []),  # «and he has», not «his two sons»
    ],
)
def test_find_quantities_examples(text, expected):
    assert _found(text) == expected


def test_find_quantities_offsets_into_raw_text():
    text = "قُتِلَ ٣٥ شَخْصاً وَأُصِيبَ خَمْسَةٌ وَعِشْرُونَ"
    found = find_quantities(text)
    assert [(text[s:e], qty.value) for s, e, qty in found] == [("٣٥", 35), ("خَمْسَةٌ وَعِشْرُونَ", 25)]


def test_find_quantities_spans_are_whole_words():
    text = "قتل 12 وجرح 20 في ريف ديرالزور وقتل والعشرات"
    starts = {s for s, _ in split_words(text)}
    ends = {e for _, e in split_words(text)}
    for s, e, _ in find_quantities(text):
        assert s in starts and e in ends


# ------------------------------------------------------------------------------------------
# Properties of the scan

_VOCAB = [
    "قتل", "أصيب", "مقتل", "عنصراً", "جندياً", "ضابطان", "ضابطين", "اثنان", "اثنين", "جنديين", "مدنيين",
    "مدنيان", "دبابتين", "واحد", "أحد", "إحدى", "الأحد", "الاثنين", "عشر", "عشرة", "ثلاثة", "خمسة",
    "وعشرين", "و", "مئة", "مائتين", "ثلاثمائة", "ألف", "آلاف", "ألفين", "عشرات", "العشرات", "الآلاف",
    "مئات", "بضعة", "عدد", "من", "عدة", "بعض", "على", "الأقل", "ما", "لا", "يقل", "عن", "أكثر", "أقل",
    "نحو", "حوالي", "قرابة", "بين", "إلى", "أو", "-", "،", ".", "%", "في", "المئة", "الثالث", "35",
    "٣٥", "۱۲", "1,365", "١٬٣٦٥", "2.5", "10", "15", "ال", "الـ", "قت.", "يلا", "تقريباً", "فأكثر",
]

_texts = st.one_of(
    st.text(
        alphabet=st.sampled_from(list("ابتثجحخدذرزسشصضطظعغفقكلمنهوىيةءأإآئؤ ٠١٢٣٤٥٦٧٨٩0123456789۰۵,.٬٫،-%ًٌٍَُِّْـ\u200f")),
        max_size=80,
    ),
    st.lists(st.sampled_from(_VOCAB), max_size=25).map(" ".join),
    st.lists(st.sampled_from(_VOCAB), max_size=25).map("".join),
    st.text(max_size=40),
)


@PROPERTY
@given(text=_texts, persons_only=st.booleans())
def test_find_quantities_is_total_and_round_trips(text, persons_only):
    found = find_quantities(text, persons_only=persons_only)
    last_end = 0
    for start, end, qty in found:
        assert last_end <= start < end <= len(text)  # sorted, non-overlapping, inside the text
        last_end = end
        assert isinstance(qty, Quantity)
        # the span read alone with its full context gives the same quantity
        assert parse_quantity(text[start:end], text[:start], text[end:]) == qty
        assert parse_quantity(text[start:end]) is not None  # readable without context too


@PROPERTY
@given(n=st.integers(1, 999_999), seed=st.integers(0, 2**32 - 1))
def test_find_quantities_finds_spelled_numbers(n, seed):
    words = arabic_words(n, Style(random.Random(seed)))
    text = f"وقتل {words} شخصاً في الهجوم، وفق المرصد."
    found = find_quantities(text)
    assert [(text[s:e], qty) for s, e, qty in found] == [(words, exact(n))]


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 99_999), seed=st.integers(0, 2**32 - 1), at_least=st.booleans())
def test_qualifiers_on_spelled_numbers(n, seed, at_least):
    words = arabic_words(n, Style(random.Random(seed)))
    if at_least:
        assert parse_quantity(words, "مقتل ما لا يقل عن") == q(n, n, None, "at_least")
    else:
        assert parse_quantity(words, "مقتل نحو") == q(n, None, None, "approx")


def test_a_conjunction_glued_to_digits_belongs_to_the_list():
    # «27 منهم في ريف حمص و8 في ريف دير الزور»: the word is «و8», the figure 8
    assert parse_quantity("و8").value == 8
    assert parse_quantity("و21", "", "مسلحا آخرين").value == 21
    assert parse_quantity("10 و15", "بين", "").high == 15  # inside a range «و» still joins its ends
