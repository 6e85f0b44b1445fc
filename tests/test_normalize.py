"""Normalization: each step, the offset map, split-word repair and their properties.

All Arabic sentences here are made up for the tests.
"""

from __future__ import annotations

import unicodedata

import pytest
from hasila.infer.normalize import (
    NormalizedText,
    compose_hamza,
    conflict_word_forms,
    dediac,
    fold_letters,
    is_conflict_word,
    load_conflict_lexicon,
    normalize,
    normalize_digits,
    normalize_for_match,
    normalize_presentation_forms,
    remove_format_marks,
    remove_tatweel,
    repair_split_words,
)
from hasila.infer.tokenize import split_words, words_of
from hasila.infer.types import HasilaError, Span
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CORE = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ----------------------------------------------------------------------------------------------
# Invariants every result must satisfy, used by the example and the property tests.


def check_map(n: NormalizedText) -> None:
    assert len(n.starts) == len(n.ends) == len(n.text)
    for i, (s, e) in enumerate(zip(n.starts, n.ends)):
        assert 0 <= s < e <= len(n.original), (i, s, e)
    assert list(n.starts) == sorted(n.starts)
    assert list(n.ends) == sorted(n.ends)


def check_words_round_trip(n: NormalizedText) -> None:
    """Every word of the normalized text comes from an original stretch that normalizes to it."""
    for s, e in split_words(n.text):
        os_, oe = n.to_original(s, e)
        assert normalize(n.original[os_:oe]).text == n.text[s:e], (n.text[s:e], n.original[os_:oe])


def span_of(n: NormalizedText, word: str) -> Span:
    start = n.text.index(word)
    return n.original_span(start, start + len(word))


# ----------------------------------------------------------------------------------------------
# DOMAIN.md item 1: words split to dodge content filters.

SPLIT_FORMS = [
    ("قت. يلا", "قتيلا"),
    ("ق. تل", "قتل"),
    ("مق. تل", "مقتل"),
    ("القت. لى", "القتلى"),
    ("ق.ت.ل", "قتل"),
    # the same with clitics, kashida, diacritics, an NBSP and a chain of three pieces
    ("والقت. لى", "والقتلى"),
    ("بالتف. جير", "بالتفجير"),
    ("إصا. بته", "إصابته"),
    ("قـ.ـتل", "قتل"),
    ("قَتْ. لى", "قتلى"),
    ("جري.\u00a0حاً", "جريحا"),
    ("دا.ع.ش", "داعش"),
    ("الإر. ها. بيين", "الإرهابيين"),
    ("قتل. ى", "قتلى"),  # a one-letter piece cannot start a sentence
]


@pytest.mark.parametrize("split, word", SPLIT_FORMS)
def test_split_words_are_repaired_and_map_back_to_the_whole_split_form(split, word):
    original = f"أفاد المرصد بسقوط 35 {split} من عناصر التنظيم.\nوقال مصدر آخر"
    n = normalize(original)
    check_map(n)
    assert word in words_of(n.text)
    assert span_of(n, word).text == split
    assert n.text.endswith(".\nوقال مصدر آخر")  # the real sentence end and the newline stay


@pytest.mark.parametrize(
    "text",
    [
        "قتل. وقال المصدر",  # a sentence ends on a conflict word
        "سقط عشرات القتلى. ثم انسحبت القوات",
        "قال د. محمد إن",  # Dr.
        "قال م. أحمد إن",  # engineer
        "وقع الهجوم عام 2015 م. قتل فيه",  # year abbreviation before a word that would join
        "في عام 1436 هـ. قتل",
        "ارتفع بنسبة 2.5 في المئة",
        "من قتل. هم يعرفون",  # «قتلهم» is a word, but «قتل» ends the sentence
        "ق-تل",  # hyphens are not repaired: «أ- عدم» (list item) would become «أعدم»
        "أ- عدم",
        "قت.\nيلا",  # a newline is a paragraph break, never inside a word
        "قت.    يلا",  # four spaces: not a split word
        "قت .يلا",  # space before the dot
        "قت..يلا",
        "جاء. بعد",  # joined «جاءبعد» is no word
    ],
)
def test_sentence_ends_abbreviations_and_numbers_are_untouched(text):
    assert normalize(text).text == remove_tatweel(text)
    assert repair_split_words(text) == text


def test_standalone_repair_keeps_the_other_characters():
    assert repair_split_words("سقط 3 قَتْ. لى") == "سقط 3 قَتْلى"
    assert repair_split_words("قـ.ـتل") == "قــتل"  # only the dot goes
    assert repair_split_words("قتلى. القت. لى") == "قتلى. القتلى"  # chains take the longest word


def test_repair_in_arabic_indic_year_context():
    # digits are normalized before the repair, so «٢٠١٥ م.» is recognized as a year too
    assert normalize("عام ٢٠١٥ م. قتل").text == "عام 2015 م. قتل"


def test_lexicon_words_with_clitics():
    for word in [
        "قتيلاً",
        "والقتلى",
        "للقتلى",
        "بالتفجير",
        "قتلوهم",
        "إصابته",
        "جرحاهم",
        "سيقتل",
        "الإرهابيين",
    ]:
        assert is_conflict_word(word), word
    for word in ["وقال", "دمحمد", "سقتل", "والقتيلا", "قتلىهم", ""]:
        assert not is_conflict_word(word), word


def test_every_listed_lexicon_word_is_a_conflict_word():
    lexicon = load_conflict_lexicon()
    assert len(lexicon.words) >= 150
    for word in lexicon.words:
        assert is_conflict_word(word), word


def test_lexicon_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "lex.txt"
    bad.write_text("# comment\nقتل\nقَتيل\n", encoding="utf-8")
    with pytest.raises(HasilaError, match=r"lex.txt:3: .*Arabic letters only"):
        load_conflict_lexicon(bad)
    bad.write_text("قتل x\n", encoding="utf-8")
    with pytest.raises(HasilaError, match=r"lex.txt:1: expected 'word' or 'word v'"):
        load_conflict_lexicon(bad)
    bad.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(HasilaError, match="no words"):
        load_conflict_lexicon(bad)


# ----------------------------------------------------------------------------------------------
# DOMAIN.md item 2: numbers in every form (digits and separators).


@pytest.mark.parametrize(
    "original, expected",
    [
        ("35", "35"),
        ("٣٥", "35"),
        ("۳۵", "35"),
        ("1,365", "1,365"),
        ("١٬٣٦٥", "1,365"),
        ("۱٬۳۶۵", "1,365"),
        ("٢٫٥", "2.5"),
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
    ],
)
def test_digit_forms(original, expected):
    assert normalize_digits(original) == expected
    n = normalize(f"مقتل {original} عنصرا")
    check_map(n)
    assert words_of(n.text) == ["مقتل", expected, "عنصرا"]
    assert span_of(n, expected).text == original


def test_digits_glued_to_letters_keep_their_offsets():
    original = "و١٥ جريحاً في الـ١٨ من نيسان"
    n = normalize(original)
    assert n.text == "و15 جريحا في ال18 من نيسان"
    assert span_of(n, "15").text == "١٥"
    assert span_of(n, "18").text == "١٨"
    assert span_of(n, "ال").text == "الـ"  # the kashida belongs to its letter


@pytest.mark.parametrize(
    "phrase", ["ثمانية", "ثماني", "ستة", "أربعة ضباط", "خمسة وعشرين", "مئة", "مائة", "ألف", "ضابطان", "عشرات"]
)
def test_number_words_are_not_rewritten(phrase):
    assert normalize(phrase).text == phrase  # only normalize_for_match folds ة/ى/أ


# ----------------------------------------------------------------------------------------------
# The other steps.


def test_format_marks():
    original = "\ufeffقتل\u200f 3\u200e من\u200cعناصر\u00ad\u202bالتنظيم\u202c\u2067x\u2069"
    assert remove_format_marks(original) == "قتل 3 منعناصرالتنظيمx"
    n = normalize("قتل\u200f 3")
    assert n.text == "قتل 3"
    assert span_of(n, "قتل").text == "قتل"  # a removed mark between words belongs to none


def test_presentation_forms():
    assert normalize_presentation_forms("ﻻ ﷲ ﺍﻟﻘﺘﻠﻰ") == "لا الله القتلى"
    n = normalize("xﻻy")
    assert n.text == "xلاy"
    assert n.starts[1:3] == (1, 1) and n.ends[1:3] == (2, 2)  # both letters map to the one char
    assert n.to_original(1, 2) == (1, 2)
    assert normalize("النبي ﷺ").text == "النبي ﷺ"  # phrase ligatures stay one symbol
    assert normalize_presentation_forms("\ufe70") == "\u064b"  # isolated fathatan: no space
    assert normalize("ب\ufe70 ").text == "ب "


def test_dediac_and_tatweel():
    assert dediac("قُتِلَ خَمْسَةٌ وَأُصِيبَ آخَرُونَ") == "قتل خمسة وأصيب آخرون"
    assert dediac("هٰذا") == "هذا"  # superscript alef
    assert dediac("أإآؤئ") == "أإآؤئ"  # hamza letters are letters
    assert remove_tatweel("قـــتيل") == "قتيل"
    n = normalize("قَتِيلاً و")
    assert n.text == "قتيلا و"
    assert n.original_span(0, 5).text == "قَتِيلاً"  # trailing tanween belongs to its letter


def test_compose_hamza():
    assert compose_hamza("ا\u0654ب") == "أب"
    n = normalize("ا\u064e\u0654ب")  # a fatha between the alef and its hamza
    assert n.text == "أب"
    assert n.to_original(0, 1) == (0, 3)


def test_normalize_for_match():
    assert normalize_for_match("أحمد إبراهيم آل ٱلرقة") == "احمد ابراهيم ال الرقه"
    assert normalize_for_match("مُستشفى") == "مستشفي"
    assert normalize_for_match("مسؤول رئيس") == "مسؤول رئيس"  # hamza seats are kept
    assert normalize_for_match("ديـــرالزور") == "ديرالزور"
    assert normalize_for_match("ﻻ") == "لا"
    assert fold_letters("یک") == "يك"


def test_whitespace_is_kept():
    original = "سطر أول.\n\nسطر  ثان\tثالث\r\n"
    assert normalize(original).text == original


def test_to_original_edges():
    n = normalize("ق. تل\u200f")
    assert n.text == "قتل"
    assert n.to_original(0, 3) == (0, 5)
    assert n.to_original(1, 1) == (3, 3)
    assert n.to_original(3, 3) == (5, 5)  # the end point, not past the trailing mark
    assert normalize("").to_original(0, 0) == (0, 0)
    assert normalize("\u200f").to_original(0, 0) == (0, 0)
    with pytest.raises(ValueError, match=r"span \[2, 4\) outside a normalized text of length 3"):
        n.to_original(2, 4)
    with pytest.raises(ValueError):
        n.to_original(2, 1)
    with pytest.raises(TypeError, match="expects a str"):
        normalize(b"x")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# Properties.

_LETTERS = [chr(c) for c in range(0x0621, 0x063B)] + [chr(c) for c in range(0x0641, 0x064B)]
_DIACS = [chr(c) for c in range(0x064B, 0x0653)] + ["\u0670", "\u0654", "\u06d6", "\u0615"]
_MARKS = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202b",
    "\u202c",
    "\u2066",
    "\u2069",
    "\ufeff",
    "\u00ad",
    "\u061c",
]
_DIGITS = list("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹0123456789٬٫,")
_PUNCT = [".", ". ", ".  ", ". \u00a0", " ", "\n", "،", "-", ":", "«", "»", "\u0640"]
_PRESENTATION = ["ﻻ", "ﷲ", "ﷺ", "\ufe70", "\ufe71", "ﺍ", "ﻟ", "ﻘ", "ﺘ", "ﻠ", "ﻰ", "\ufc5e", "ﳲ"]
_FORMS = sorted(conflict_word_forms())


@st.composite
def split_word(draw) -> str:
    """A lexicon form with dots (and spaces, kashida) inserted at random places."""
    word = draw(st.sampled_from(_FORMS))
    cuts = sorted(draw(st.sets(st.integers(1, len(word) - 1), max_size=3)))
    out, prev = [], 0
    for c in cuts:
        out.append(word[prev:c])
        prev = c
    out.append(word[prev:])
    seps = st.sampled_from([".", ". ", ".  ", "ـ.ـ", ".ـ"])
    return "".join(piece + (draw(seps) if i < len(out) - 1 else "") for i, piece in enumerate(out))


arabicish = st.lists(
    st.one_of(
        st.sampled_from(_LETTERS),
        st.sampled_from(_LETTERS),
        st.sampled_from(_DIACS),
        st.sampled_from(_MARKS),
        st.sampled_from(_DIGITS),
        st.sampled_from(_PUNCT),
        st.sampled_from(_PRESENTATION),
        split_word(),
        st.sampled_from(["د. ", "2015 م. ", "هـ. ", "قتل. ", " هم"]),
    ),
    max_size=30,
).map("".join)

any_text = st.one_of(st.text(max_size=40), arabicish)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_offset_map_idempotence_and_word_round_trip(text):
    # One test for the three core properties: generating the examples costs more than checking.
    n = normalize(text)
    check_map(n)
    assert normalize(n.text).text == n.text, "normalize is not idempotent"
    check_words_round_trip(n)


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_pipeline_equals_the_plain_functions_in_order(text):
    steps = [
        remove_format_marks,
        normalize_presentation_forms,
        normalize_digits,
        remove_tatweel,
        dediac,
        compose_hamza,
        repair_split_words,
    ]
    out = text
    for step in steps:
        out = step(out)
    assert normalize(text).text == out


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_match_folding_keeps_offsets_of_normalized_text(text):
    n = normalize(text)
    folded = normalize_for_match(n.text)
    assert len(folded) == len(n.text)
    assert folded == fold_letters(n.text)


_CONTEXT = st.lists(st.sampled_from(_LETTERS), min_size=1, max_size=6).map("".join)


@st.composite
def two_pieces(draw) -> tuple[str, str]:
    """A word cut in two: a lexicon form (or a near miss of one) or random letters."""
    kind = draw(st.sampled_from(["form", "near", "random"]))
    if kind == "random":
        word = draw(st.lists(st.sampled_from(_LETTERS), min_size=2, max_size=8).map("".join))
    else:
        word = draw(st.sampled_from(_FORMS))
        if kind == "near":  # change one letter: usually not a word any more
            i = draw(st.integers(0, len(word) - 1))
            word = word[:i] + draw(st.sampled_from(_LETTERS)) + word[i + 1 :]
    cut = draw(st.integers(1, len(word) - 1))
    return word[:cut], word[cut:]


@CORE
@given(_CONTEXT, two_pieces(), st.sampled_from([".", ". ", ".  ", ".\u00a0"]), _CONTEXT)
def test_repair_happens_exactly_when_the_join_is_a_lexicon_word(before, pieces, sep, after):
    left, right = pieces
    text = f"{before} {left}{sep}{right} {after}"
    forms = conflict_word_forms()
    key = fold_letters(left + right)
    # The documented exception: a conflict word, a spaced dot, then a word of two letters or
    # more is a sentence end («قتل. هم»). Pieces that are year abbreviations need a number before.
    sentence_end = fold_letters(left) in forms and sep != "." and len(right) >= 2
    joined = f"{before} {left}{right} {after}"
    result = normalize(text)
    if key in forms and not sentence_end:
        assert result.text == joined
        start = len(before) + 1
        assert result.original_span(start, start + len(left + right)).text == f"{left}{sep}{right}"
    else:
        assert result.text == text


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(load_conflict_lexicon().words)))
def test_every_split_of_every_lexicon_word_is_repaired(word):
    for cut in range(1, len(word)):
        for sep in (".", ". "):
            text = f"سقط {word[:cut]}{sep}{word[cut:]} أمس"
            left_is_word = is_conflict_word(word[:cut]) and sep == ". " and len(word) - cut >= 2
            expected = text if left_is_word else f"سقط {word} أمس"
            assert normalize(text).text == expected, (word, cut, sep)


def test_plain_functions_keep_unrelated_text():
    text = "Hello ½ ² ｆｕｌｌ ﬁ 😀 x.y"
    n = normalize(text)
    assert n.text == text  # NFKC applies to Arabic presentation forms only
    assert unicodedata.is_normalized("NFC", normalize("قَتيل").text)
