"""Read Arabic quantity expressions: «35», «٣٥», «1,365», «خمسة وعشرين», «ضابطان», «العشرات».

Two entry points:

- ``parse_number(text) -> int``: digits in any script or number words, nothing else.
- ``parse_quantity(span_text, before="", after="") -> Quantity``: the meaning of the *minimal*
  quantity expression a model tagged KILLED/WOUNDED, with its qualifier read from the words
  just before / after it («على الأقل», «نحو», «أكثر من», «بين … و…» …).
(``find_quantities``, a rule-based scan of free text for every quantity expression, serves the
benchmarks and tests only: ``benchmarks/quantity_scan.py``.)

Input may be raw text: diacritics, tatweel, hamza/alef variants, «ى»/«ي», «ة»/«ه», Persian
«ی»/«ک», and digits in any Unicode script (Arabic-Indic «٣٥», Persian «۳۵») are handled here
(small private helpers, independent of ``hasila.infer.normalize``). Words are split with
``hasila.infer.tokenize.split_words`` so that spans found here line up with BIO words.

Conventions (the figures follow ACLED: the most conservative figure is the best one)
====================================================================================

=====================================  ==========  ========  ========  =========
expression                             value       low       high      qualifier
=====================================  ==========  ========  ========  =========
«35», «خمسة وعشرين», «ضابطان»           N           N         N         exact
«35 على الأقل», «ما لا يقل عن 35»       N           N         None      at_least
«أكثر من 35», «ما يزيد عن 35»           N+1         N+1       None      at_least
«35 أو أكثر», «35 كحد أدنى»             N           N         None      at_least
«أقل من 35», «ما يقل عن 35»             None        None      N-1       at_most
«ما لا يزيد عن 35», «35 على الأكثر»     None        None      N         at_most
«نحو/حوالي/قرابة/زهاء/ما يقارب 35»      N           None      None      approx
«بين 10 و15», «10-15», «10 إلى 15»      A (=10)     A         B         range
«عشرات», «العشرات»                      12          12        None      vague
«مئات» / «آلاف» / «ملايين»              100/1000/…  same      None      vague
«عشرات الآلاف», «مئات الآلاف»           12000/…     same      None      vague
«بضعة», «بضع»                           3           3         9         vague
«بضعة عشر» / «بضع مئات» / «بضعة آلاف»   13/300/3000 same      19/900/…  vague
«عدد (من)», «عدة», «العديد», «بعض»      None        2         None      vague
«عدة مئات» / «عدة آلاف»                 None        200/2000  None      vague
«مدنيين» alone (dual or plural?)       2           2         None      at_least
«جندي», «مدنياً», «قتيل» alone          1           1         1         exact
=====================================  ==========  ========  ========  =========

Why these choices:

- *at_most has no value.* «أقل من 10 قتلى» bounds the toll from above only; any single figure
  would be invented, and taking the bound (9) would overcount, against the conservative rule.
  ``high`` carries the bound; an aggregator that needs a figure can decide.
- *more than N is N+1* («أكثر من 35» = at least 36), the smallest figure the text allows.
- *approx keeps no bounds*: «نحو 30» gives no honest interval; value N is the report's figure.
- *ranges take the low end as value* (conservative); ``A > B`` is refused (QuantityError), ``A == B``
  is exact.
- *vague words*: ACLED codes «dozens» as 12 and «hundreds» as 100; «عشرات الآلاف» composes the
  same way (12 × 1000). «عدد من» («a number of») names a plural with no figure: value None, low 2.
- *duals*: a dual person noun («ضابطان», «جنديين») is exactly 2; with the numeral adjective
  («ضابطان اثنان») still 2, never 4. For nouns with a sound plural («مدني» → «مدنيين»), the «-ين»
  form is also the plural, so ``find_quantities`` does not return it (unless «اثنين» follows),
  and ``parse_quantity`` on such a tagged word answers *at least 2* (dual or plural: ≥ 2), not 2.
  Non-person duals («دبابتين», and any feminine «-تين»/«-تان» word) parse as exact 2 when tagged,
  and ``find_quantities`` returns them only with ``persons_only=False``.
- *a lone singular person noun* («جندي», «مدنياً», «قتيل») is one casualty: exact 1.
  A lone plural («قتلى», «مدنيين» aside) carries no figure and is refused.
- *number words*: the form is read leniently where the value is unambiguous (gender polarity,
  case, «ثلاث مئة» / «ثلاثمائة», «ألف» after 3–10); «ألفا» is read as the accusative «ألفاً»
  (1000), not the construct dual. A decimal counts only before a scale word («1.5 مليون», «7,9
  ملايين»); «,» «٬» «،» followed by groups of three digits are thousands separators («1,365»),
  otherwise «,» is a decimal comma; a single «.» is always a decimal point («1.365» is refused,
  «1.365.000» is a million and more). In a range a scale word on B applies to a bare A
  («بين 3 و4 آلاف» = 3000–4000).
- *not counts*: ordinals («الثالث»), percentages («35%», «35 في المئة»), fractions and decimals
  raise QuantityError. Years and other plain numbers are numbers; deciding what a number counts
  is the model's job.
- *qualifier words inside the span* («أكثر من 35» tagged whole) are read as if they stood
  outside it; words after the figure inside the span («35 قتيلاً») are the counted noun and are
  ignored, except qualifiers and percent signs, which are read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from hasila.infer.arabic.clitics import strip_number_clitics
from hasila.infer.arabic.letters import QUANTITY_FOLDS
from hasila.infer.tokenize import split_words
from hasila.infer.types import HasilaError, Quantity

__all__ = ["QuantityError", "parse_quantity", "parse_number"]


class QuantityError(HasilaError, ValueError):
    """A text that cannot be read as a count; the message quotes it."""


# --------------------------------------------------------------------------------------------
# Private normalization (per word; offsets are kept by working word by word).

_STRIP = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # diacritics, tatweel
_LETTERS = str.maketrans(QUANTITY_FOLDS)


@lru_cache(maxsize=65536)
def _key(word: str) -> str:
    """Matching key of one word: no diacritics/tatweel, alef/yeh/ta-marbuta unified, ASCII digits."""
    word = _STRIP.sub("", word).translate(_LETTERS)
    if any(ch.isdigit() for ch in word):
        word = "".join(str(d) if (d := unicodedata.decimal(ch, None)) is not None else ch for ch in word)
    return word


def _keys(text: str) -> list[str]:
    return [_key(text[s:e]) for s, e in split_words(text)]


# --------------------------------------------------------------------------------------------
# Lexicon of number words (keys are normalized: ا for أإآ, ي for ى, ه for ة).


class _Num(NamedTuple):
    kind: str  # unit | teen_only | ten | tens | hundred | scale | digits
    value: Fraction | int
    teen_ok: bool = False  # unit that can take «عشر» to form 11–19
    hundred_ok: bool = False  # unit 3–9 that can take «مئة» («ثلاث مئة»)
    form: str = ""  # scale: sg | dual | pl ; hundred: "bare" for «مئة» itself


def _build_numbers() -> dict[str, _Num]:
    lex: dict[str, _Num] = {}
    for w in ("واحد", "واحده", "واحدا"):
        lex[w] = _Num("unit", 1)
    for w in ("احد", "احدي"):
        lex[w] = _Num("unit", 1, teen_ok=True)
    for w in ("اثنان", "اثنين", "اثنتان", "اثنتين", "ثنتان", "ثنتين"):
        lex[w] = _Num("unit", 2)
    for w in ("اثنا", "اثني", "اثنتا", "اثنتي"):
        lex[w] = _Num("teen_only", 2, teen_ok=True)
    units = {3: ("ثلاث", "ثلاثه"), 4: ("اربع", "اربعه"), 5: ("خمس", "خمسه"), 6: ("ست", "سته"),
             7: ("سبع", "سبعه"), 8: ("ثمان", "ثماني", "ثمانيه"), 9: ("تسع", "تسعه")}
    for v, forms in units.items():
        for w in forms:
            lex[w] = _Num("unit", v, teen_ok=True, hundred_ok=True)
    for w in ("عشر", "عشره"):
        lex[w] = _Num("ten", 10)
    tens = {20: "عشر", 30: "ثلاث", 40: "اربع", 50: "خمس", 60: "ست", 70: "سبع", 80: "ثمان", 90: "تسع"}
    for v, stem in tens.items():
        for suffix in ("ون", "ين"):
            lex[stem + suffix] = _Num("tens", v)
    for w in ("مئه", "مائه"):
        lex[w] = _Num("hundred", 100, form="bare")
    for stem in ("مئت", "مائت"):
        for suffix in ("ان", "ين", "ا", "ي"):  # مئتان / مئتين / construct مئتا / مئتي
            lex[stem + suffix] = _Num("hundred", 200)
    for v, forms in units.items():
        for unit in forms[:1] + (("ثماني",) if v == 8 else ()):
            for hundred in ("مئه", "مائه"):
                lex[unit + hundred] = _Num("hundred", v * 100)
    for base, value in (("الف", 1000), ("مليون", 10**6), ("مليار", 10**9)):
        lex[base] = _Num("scale", value, form="sg")
        lex[base + "ا"] = _Num("scale", value, form="sg")  # accusative «ألفاً»
        for suffix in ("ان", "ين"):
            lex[base + suffix] = _Num("scale", value, form="dual")
    lex["الفي"] = _Num("scale", 1000, form="dual")  # construct «ألفي شخص»
    lex["مليوني"] = _Num("scale", 10**6, form="dual")
    for w, value in (("الاف", 1000), ("ملايين", 10**6), ("مليارات", 10**9)):
        lex[w] = _Num("scale", value, form="pl")
    return lex


_NUMBERS = _build_numbers()

# Vague quantity words: key -> (value, low, high).  «عشرات» = dozens (ACLED: 12).
_VAGUE: dict[str, tuple[int | None, int | None, int | None]] = {
    "عشرات": (12, 12, None),
    "مئات": (100, 100, None),
    "الاف": (1000, 1000, None),
    "الوف": (1000, 1000, None),
    "ملايين": (10**6, 10**6, None),
    "بضع": (3, 3, 9),
    "بضعه": (3, 3, 9),
    "عده": (None, 2, None),
    "عدد": (None, 2, None),
    "عددا": (None, 2, None),
    "عديد": (None, 2, None),
    "بعض": (None, 2, None),
    "اعداد": (None, 2, None),
}
_VAGUE_NEED_MIN = {"عدد", "عددا", "عديد", "اعداد"}  # in free text only «عدد من» is a quantity («عدد القتلى» is not)
_VAGUE_MULTIPLIERS = {"عشرات", "مئات", "بضع", "بضعه", "عده"}
_VAGUE_SCALES = {"مئات": 100, "الاف": 1000, "ملايين": 10**6}

_ORDINAL_STEMS = {"اول", "اولي", "ثاني", "ثالث", "رابع", "خامس", "سادس", "سابع", "ثامن", "تاسع", "عاشر", "حادي"}
_PERCENT_SIGNS = {"%", "٪", "‰"}
_PERCENT_WORDS = {("بالمئه",), ("بالمائه",), ("بالميه",), ("في", "المئه"), ("في", "المائه")}
_TWO_ADJECTIVES = {"اثنان", "اثنين", "اثنتان", "اثنتين"}
_ONE_ADJECTIVES = {"واحد", "واحده", "واحدا"}
_RANGE_LINKS = {"-", "–", "—", "الي", "حتي", "او"}  # «و» is handled on its own

# --------------------------------------------------------------------------------------------
# Counted nouns (duals carry the number): loaded from resources/counted_nouns.txt.


class _Noun(NamedTuple):
    number: int  # 1 (singular) or 2 (dual)
    person: bool
    ambiguous: bool  # «-ين» dual spelled like the sound plural


@lru_cache(maxsize=1)
def _nouns() -> dict[str, _Noun]:
    text = resources.files("hasila.infer.resources").joinpath("counted_nouns.txt").read_text("utf-8")
    return _parse_counted_nouns(text, "counted_nouns.txt")


def _parse_counted_nouns(text: str, source: str) -> dict[str, _Noun]:
    """Every singular/dual form of the nouns listed in ``text`` (the counted_nouns.txt format)."""
    lex: dict[str, _Noun] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 3 or not cols[0].strip() or cols[1] not in ("person", "thing") or cols[2] not in ("-", "ين"):
            raise HasilaError(
                f"{source} line {lineno}: expected 'singular<TAB>person|thing<TAB>-|ين', got {line!r}"
            )
        singular, person, clash = _key(cols[0]), cols[1] == "person", cols[2] == "ين"
        if singular.endswith("ه"):
            stem = singular[:-1] + "ت"
            forms = {singular: 1, stem + "ان": 2, stem + "ين": 2}
        else:
            stem = singular
            forms = {singular: 1, singular + "ا": 1, singular + "ان": 2, singular + "ين": 2}
        if not stem.endswith("ي") and singular not in _NO_PRONOUN_DUALS:
            # construct dual with his/her: «طفليه», «نجلاه», «ابنتيها»
            forms.update({stem + suffix: 2 for suffix in ("يه", "يها", "اه", "اها")})
        for form, number in forms.items():
            ambiguous = clash and number == 2 and form.endswith(("ين", "يه", "يها"))
            lex.setdefault(form, _Noun(number, person, ambiguous))
    return lex


# «ولديه» is mostly «and he has», «رجليه» mostly «his two legs»
_NO_PRONOUN_DUALS = {"ولد", "رجل"}
_BROKEN_PLURAL_EXCEPTIONS = ("ستان",)  # «باكستان», «كردستان»: not feminine duals


@lru_cache(maxsize=65536)
def _generic_dual_word(word: str) -> bool:
    return any(_generic_feminine_dual(stem) for stem, _, _ in _strip_clitics(word))


def _generic_feminine_dual(stem: str) -> bool:
    """«دبابتين», «سيارتان»: a feminine dual of a noun not in the lexicon."""
    return (stem.endswith(("تين", "تان")) and len(stem) >= 6 and not stem.endswith(_BROKEN_PLURAL_EXCEPTIONS)
            and not _num_analyses(stem))


# --------------------------------------------------------------------------------------------
# Clitics: conjunction و, prepositions ب ل ف ك, article ال.


# The readings of a word without its clitics (the Arabic word layer's number-word set).
_strip_clitics = strip_number_clitics


class _Reading(NamedTuple):
    num: _Num
    conj: bool  # a conjunction و was stripped
    article: bool
    stem: str


@lru_cache(maxsize=8192)
def _num_analyses(word: str) -> tuple[_Reading, ...]:
    """Number-word readings of a normalized word, most literal first."""
    if word[:1].isdigit():
        value = _digits_value(word)
        return () if value is None else (_Reading(_Num("digits", value), False, False, word),)
    return tuple(_Reading(_NUMBERS[s], conj, art, s) for s, conj, art in _strip_clitics(word) if s in _NUMBERS)


def _conj_number(word: str) -> bool:
    """«وعشرين»: a number word carrying the conjunction."""
    readings = _num_analyses(word)
    return bool(readings) and readings[0].conj


def _lookup(word: str, table: dict) -> tuple[object, bool, bool] | None:
    for stem, conj, art in _strip_clitics(word):
        if stem in table:
            return table[stem], conj, art
    return None


@lru_cache(maxsize=65536)
def _vague_reading(word: str) -> tuple[str, bool] | None:
    """(stem, has_article) of a vague quantity word («بالعشرات» → «عشرات», True)."""
    for stem, _conj, art in _strip_clitics(word):
        if stem in _VAGUE:
            return stem, art
    return None


@lru_cache(maxsize=65536)
def _noun_reading(word: str) -> _Noun | None:
    found = _lookup(word, _nouns())
    return None if found is None else found[0]


def _digits_value(word: str) -> Fraction | int | None:
    """«35», «1,365», «١٬٣٦٥» (already ASCII) → int; «2.5» → Fraction; anything else None."""
    if len(word) > 24:
        return None
    if re.fullmatch(r"\d{1,15}", word):
        return int(word)
    m = re.fullmatch(r"\d{1,3}(?P<sep>[,\u066c\u060c.])\d{3}(?:(?P=sep)\d{3})*", word)
    if m and (m["sep"] != "." or word.count(".") > 1) and len(word) <= 20:
        return int(re.sub(r"\D", "", word))
    m = re.fullmatch(r"(\d{1,12})[.,\u066b](\d{1,6})", word)  # «7,9 ملايين» uses a decimal comma
    if m:
        return Fraction(int(m[1] + m[2]), 10 ** len(m[2]))
    return None


# --------------------------------------------------------------------------------------------
# Number-word grammar: [sub-1000 × scale]… [hundreds] [units] [tens], parts joined by و,
# multiplicative continuations («ثلاثة عشر», «ثلاث مئة», «خمسة آلاف») without و.


@dataclass(frozen=True)
class _State:
    total: int = 0
    cur: Fraction | int = 0
    parts: str = ""  # letters in the current sub-1000 group: h u t x(10) e(teen) d(digits) p(pending teen)
    last_scale: int = 10**18
    prev_unit: _Num | None = None  # the unit just read, for «ثلاثة عشر» / «ثلاث مئة»

    def valid_end(self) -> bool:
        if "p" in self.parts or not isinstance(self.cur, int):  # «اثنا» alone; «2.5» alone
            return False
        return self.total + self.cur > 0 or self.parts == "d"  # «0» is a count; no word reads as 0


def _step(st: _State, num: _Num, conj: bool, first: bool) -> _State | None:
    """The state after reading one number word, or None where the grammar forbids it."""
    kind, parts = num.kind, st.parts
    joins = first or conj  # an additive part needs و (or to be first)
    if "p" in parts:  # «اثنا» waits for «عشر»
        if kind == "ten" and not conj:
            return replace(st, cur=st.cur + 10, parts=parts.replace("p", "e"), prev_unit=None)
        return None
    if kind == "digits":
        if st.cur == 0 and (first or (conj and st.total > 0)):
            return replace(st, cur=num.value, parts="d", prev_unit=None)
        return None
    if kind == "scale":
        if num.value >= st.last_scale:
            return None
        if not joins and st.cur:
            if num.form == "dual" or (num.form == "pl" and not 3 <= st.cur <= 10):  # «ثلاثة آلاف», «7,9 ملايين»
                return None
            product = st.cur * num.value
            if not isinstance(product, int) and product.denominator != 1:
                return None
            return _State(total=st.total + int(product), last_scale=num.value)
        if joins and st.cur == 0 and num.form in ("sg", "dual"):
            count = 2 if num.form == "dual" else 1
            return _State(total=st.total + count * num.value, last_scale=num.value)
        return None
    if "d" in parts:  # digits take nothing but a scale
        return None
    if not joins:
        unit = st.prev_unit
        if kind == "ten" and unit is not None and unit.teen_ok and parts in ("u", "hu"):
            return replace(st, cur=st.cur + 10, parts=parts.replace("u", "e"), prev_unit=None)
        if kind == "hundred" and num.form == "bare" and unit is not None and unit.hundred_ok and parts == "u":
            return replace(st, cur=unit.value * 100, parts="h", prev_unit=None)
        return None
    if kind in ("unit", "teen_only", "ten"):
        if set(parts) & set("utxedp"):
            return None
        letter = {"unit": "u", "teen_only": "p", "ten": "x"}[kind]
        return replace(st, cur=st.cur + num.value, parts=parts + letter, prev_unit=num if kind != "ten" else None)
    if kind == "tens":
        if set(parts) & set("txedp"):
            return None
        return replace(st, cur=st.cur + num.value, parts=parts + "t", prev_unit=None)
    if kind == "hundred":
        if parts:
            return None
        return replace(st, cur=num.value, parts="h", prev_unit=None)
    return None


def _number_prefixes(keys: list[str], i: int) -> list[tuple[int, int]]:
    """(value, end) for every valid number phrase ``keys[i:end]``, shortest first."""
    out: list[tuple[int, int]] = []
    st, j, first = _State(), i, True
    stop = len(keys)
    while j < stop:
        word, nxt, sep_conj = keys[j], j + 1, False
        if word == "و" and not first and j + 1 < stop:  # «و عشرين» with a space
            word, nxt, sep_conj = keys[j + 1], j + 2, True
        new = None
        for num, conj, _article, _stem in _num_analyses(word):
            if sep_conj and conj:  # «و وعشرين»
                continue
            new = _step(st, num, conj or sep_conj, first)
            if new is not None:
                break
        if new is None:
            break
        st, j, first = new, nxt, False
        if st.valid_end():
            out.append((st.total + int(st.cur), j))
    return out


def _full_number(keys: list[str]) -> int | None:
    prefixes = _number_prefixes(keys, 0)
    if prefixes and prefixes[-1][1] == len(keys):
        return prefixes[-1][0]
    return None


# --------------------------------------------------------------------------------------------
# Qualifier phrases (normalized words).

_BEFORE_PATTERNS: list[tuple[tuple[str, ...], str]] = [
    *((p, "at_least") for p in [
        ("ما", "لا", "يقل", "عن"), ("مالا", "يقل", "عن"), ("مالايقل", "عن"), ("لا", "يقل", "عن"),
        ("ما", "لا", "تقل", "عن"), ("مالا", "تقل", "عن"), ("لا", "تقل", "عن"), ("لا", "يقل", "علي"),
        ("علي", "الاقل"), ("في", "الاقل"), ("علي", "اقل", "تقدير")]),
    *((p, "more_than") for p in [
        ("اكثر", "من"), ("ازيد", "من"), ("ما", "يزيد", "عن"), ("ما", "يزيد", "علي"), ("يزيد", "عن"),
        ("يزيد", "علي"), ("ما", "تزيد", "عن"), ("ما", "تزيد", "علي"), ("ما", "يربو", "علي"),
        ("ما", "يربو", "عن"), ("يربو", "علي"), ("ما", "يفوق"), ("يفوق",), ("ما", "يتجاوز"), ("يتجاوز",)]),
    *((p, "less_than") for p in [("اقل", "من"), ("ما", "يقل", "عن"), ("يقل", "عن")]),
    *((p, "at_most") for p in [
        ("ما", "لا", "يزيد", "عن"), ("ما", "لا", "يزيد", "علي"), ("مالا", "يزيد", "عن"),
        ("مالا", "يزيد", "علي"), ("لا", "يزيد", "عن"), ("لا", "يزيد", "علي"), ("ما", "لا", "يتجاوز"),
        ("لا", "يتجاوز"), ("علي", "الاكثر")]),
    *((p, "approx") for p in [
        ("نحو",), ("حوالي",), ("قرابه",), ("زهاء",), ("ما", "يقارب"), ("يقارب",), ("ما", "يقرب", "من"),
        ("يقرب", "من"), ("ما", "يناهز"), ("يناهز",), ("تقريبا",), ("في", "حدود"), ("بحدود",)]),
    *((p, "between") for p in [("بين",), ("ما", "بين")]),
]

_AFTER_PATTERNS: list[tuple[tuple[str, ...], str]] = [
    *((p, "at_least") for p in [
        ("علي", "الاقل"), ("في", "الاقل"), ("علي", "اقل", "تقدير"), ("كحد", "ادني"), ("او", "اكثر"),
        ("واكثر",), ("فاكثر",), ("وما", "فوق"), ("فما", "فوق")]),
    *((p, "at_most") for p in [("علي", "الاكثر"), ("كحد", "اقصي"), ("او", "اقل"), ("فاقل",), ("فما", "دون")]),
    *((p, "approx") for p in [("تقريبا",)]),
]

_AFTER_SKIP = 4  # words allowed between the figure and «على الأقل» («35 عنصراً من قوات النظام على الأقل»)
_MAX_NUMBER_WORDS = 12  # longest number phrase read in the context (range ends)
CONTEXT_WORDS = 24  # parse_quantity reads at most this many words of before / after


def _word_matches(word: str, wanted: str, allow_proclitic: bool) -> bool:
    return word == wanted or (allow_proclitic and word[:1] in "وبلف" and word[1:] == wanted)


class _Patterns:
    """Qualifier phrases, longest first, with their first and last words for a quick reject."""

    def __init__(self, items: list[tuple[tuple[str, ...], str]]) -> None:
        self.items = sorted(items, key=lambda pq: -len(pq[0]))
        self.firsts = {p[0] for p, _ in items}
        self.lasts = {p[-1] for p, _ in items}

    @staticmethod
    def _bare(word: str) -> str:
        return word[1:] if word[:1] in "وبلف" else word

    def tail(self, words: list[str]) -> tuple[str, int] | None:
        """The qualifier whose pattern ends ``words``, with the pattern length."""
        if not words or (words[-1] not in self.lasts and self._bare(words[-1]) not in self.lasts):
            return None
        for pattern, qual in self.items:
            n = len(pattern)
            if n <= len(words) and all(
                _word_matches(w, p, k == 0) for k, (w, p) in enumerate(zip(words[-n:], pattern))
            ):
                return qual, n
        return None

    def at(self, words: list[str], i: int, proclitic: bool = True) -> tuple[str, int] | None:
        """The qualifier whose pattern starts at ``words[i]``, with the pattern length."""
        if i >= len(words):
            return None
        if words[i] not in self.firsts and (not proclitic or self._bare(words[i]) not in self.firsts):
            return None
        for pattern, qual in self.items:
            n = len(pattern)
            if i + n <= len(words) and all(
                _word_matches(w, p, proclitic and k == 0) for k, (w, p) in enumerate(zip(words[i:i + n], pattern))
            ):
                return qual, n
        return None


_BEFORE = _Patterns(_BEFORE_PATTERNS)
_AFTER = _Patterns(_AFTER_PATTERNS)
_BETWEEN = _Patterns([(("بين",), "between")])


def _is_punct(word: str) -> bool:
    return not any(ch.isalnum() for ch in word)


def _is_percent(words: list[str]) -> bool:
    if not words:
        return False
    return words[0] in _PERCENT_SIGNS or any(tuple(words[: len(p)]) == p for p in _PERCENT_WORDS)


def _after_qualifier(after: list[str]) -> str | None:
    """«على الأقل» / «أو أكثر» / «تقريباً» after the figure, possibly after its counted noun."""
    for at in range(min(_AFTER_SKIP + 1, len(after))):
        found = _AFTER.at(after, at, proclitic=False)
        if found:
            return found[0]
        word = after[at]
        if _is_punct(word) or word[:1].isdigit() or word.startswith("و") or _num_analyses(word):
            return None
    return None


def _range_end_after(after: list[str]) -> tuple[int, list[str]] | None:
    """B (and its words) in «A و B», «A - B», «A إلى B» when ``after`` starts with the link and B."""
    if not after:
        return None
    if after[0] in _RANGE_LINKS or after[0] == "و":
        words = after[1:_MAX_NUMBER_WORDS + 1]
    elif _conj_number(after[0]):  # «وعشرين»
        words = after[:_MAX_NUMBER_WORDS]
    else:
        return None
    prefixes = _number_prefixes(words, 0)
    return (prefixes[-1][0], words[: prefixes[-1][1]]) if prefixes else None


def _range_start_before(before: list[str], span_words: list[str], span_value: int) -> int | None:
    """A in «بين A و B» when the span is B (``before`` ends with «بين A و»)."""
    conj_in_span = _conj_number(span_words[0])
    words = before if conj_in_span else before[:-1]
    if not conj_in_span and not (before and (before[-1] in _RANGE_LINKS or before[-1] == "و")):
        return None
    for k in range(1, min(_MAX_NUMBER_WORDS, len(words) - 1) + 1):
        if _BETWEEN.tail(words[:-k]):
            value = _full_number(words[-k:])
            if value is not None:
                return _share_scale(value, words[-k:], span_value, span_words)
    return None


# --------------------------------------------------------------------------------------------
# Core of a span: the figure itself, before qualifiers.


class _Core(NamedTuple):
    kind: str  # number | range | vague | ambiguous
    value: int | None = None
    low: int | None = None
    high: int | None = None
    end: int = 0  # words of the span the core used


def _read_number_core(keys: list[str], i: int, between: bool) -> _Core | None:
    prefixes = _number_prefixes(keys, i)
    if not prefixes:
        return None
    a, j = prefixes[-1]
    # «A و B», «A - B», «A إلى B» inside the span
    if j < len(keys):
        link = keys[j]
        start = j + 1 if (link in _RANGE_LINKS or link == "و") else j
        if start < len(keys) and (start > j or _conj_number(link)):
            tail = _number_prefixes(keys, start)
            if tail:
                b, m = tail[-1]
                return _range_core(_share_scale(a, keys[i:j], b, keys[start:m]), b, m)
    # «بين خمسة وعشرين» read whole is 5–20: «بين» needs two ends
    if between and j == len(keys) and j - i <= 2 * _MAX_NUMBER_WORDS:
        for split in range(j - 1, i, -1):
            left = _number_prefixes(keys[:split], i)
            if not left or left[-1][1] != split:
                continue
            if keys[split] == "و":
                right = _number_prefixes(keys, split + 1)
            else:
                right = _number_prefixes(keys, split) if _conj_number(keys[split]) else []
            if right and right[-1][1] == len(keys):
                low = _share_scale(left[-1][0], keys[i:split], right[-1][0], keys[split:])
                if low < right[-1][0]:
                    return _Core("range", low, low, right[-1][0], len(keys))
    return _Core("number", a, end=j)


def _scale_word(word: str) -> int | None:
    readings = _num_analyses(word)
    if readings and readings[0].num.kind == "scale" and readings[0].num.form in ("sg", "pl"):
        return int(readings[0].num.value)
    return None


def _share_scale(a: int, a_words: list[str], b: int, b_words: list[str]) -> int:
    """«بين 3 و4 آلاف», «4 إلى 5 مليارات»: B's scale word applies to a bare A as well."""
    scale = _scale_word(b_words[-1]) if b_words else None
    if scale and not any(_scale_word(w) for w in a_words) and a * scale <= b:
        return a * scale
    return a


def _range_core(a: int, b: int, end: int) -> _Core:
    if a > b:
        raise QuantityError(f"range {a}–{b} runs backwards")
    if a == b:
        return _Core("number", a, end=end)
    return _Core("range", a, a, b, end)


def _read_vague_core(keys: list[str], i: int) -> _Core | None:
    found = _vague_reading(keys[i])
    if not found:
        return None
    stem = found[0]
    value, low, high = _VAGUE[stem]
    if stem in _VAGUE_MULTIPLIERS and i + 1 < len(keys):
        nxt = keys[i + 1]
        if stem in ("بضع", "بضعه") and nxt in ("عشر", "عشره"):
            return _Core("vague", 13, 13, 19, i + 2)
        scale = _lookup(nxt, _VAGUE_SCALES)
        if scale and not scale[1] and scale[0] > (100 if stem == "مئات" else 1) and not (
            stem == "عشرات" and scale[0] == 100
        ):
            factor = scale[0]
            return _Core("vague", *(None if x is None else x * factor for x in (value, low, high)), i + 2)
    return _Core("vague", value, low, high, i + 1)


def _read_noun_core(keys: list[str], i: int) -> _Core | None:
    noun = _noun_reading(keys[i])
    if noun is None:
        if _generic_dual_word(keys[i]):
            return _Core("number", 2, end=i + 1)
        return None
    nxt = keys[i + 1] if i + 1 < len(keys) else ""
    if noun.number == 2 and nxt in _TWO_ADJECTIVES:  # «ضابطان اثنان» = 2, not 4
        return _Core("number", 2, end=i + 2)
    if noun.number == 1 and nxt in _ONE_ADJECTIVES:  # «جندي واحد»
        return _Core("number", 1, end=i + 2)
    if noun.number == 1 and not noun.person:
        return None
    if noun.ambiguous:
        return _Core("ambiguous", 2, 2, None, i + 1)
    return _Core("number", noun.number, end=i + 1)


def _is_ordinal(word: str) -> bool:
    for stem, _, _ in _strip_clitics(word):
        if stem in _ORDINAL_STEMS or (stem[-1:] in "ها" and stem[:-1] in _ORDINAL_STEMS):
            return True
    return False


# --------------------------------------------------------------------------------------------
# Public API


def parse_number(text: str) -> int:
    """The integer written in ``text``: digits in any script («1,365», «١٬٣٦٥», «۳۵») or number
    words («خمسة وعشرين», «ثلاثمائة», «ألفين», «3 آلاف»). Raises QuantityError otherwise."""
    if not isinstance(text, str):
        raise QuantityError(f"expected text, got {type(text).__name__}: {text!r}")
    keys = [k for k in _keys(text)]
    value = _full_number(keys) if keys else None
    if value is None:
        raise QuantityError(f"«{text}» is not a number (digits or number words)")
    return value


_CONJUNCTION_KEYS = frozenset(("و", "ف"))


def parse_quantity(span_text: str, before: str = "", after: str = "") -> Quantity:
    """The quantity a tagged span means, with the qualifier read from its neighbours.

    ``span_text`` is the minimal quantity expression («35», «ضابطان», «العشرات», «10 و15»);
    ``before`` / ``after`` are the text just before / after it (only the nearest
    ``CONTEXT_WORDS`` words are read). See the module docstring for the conventions.
    """
    if not isinstance(span_text, str) or not isinstance(before, str) or not isinstance(after, str):
        raise QuantityError(f"expected text for span/before/after, got {span_text!r}, {before!r}, {after!r}")
    raw = [span_text[s:e] for s, e in split_words(span_text)]
    return _parse_words(span_text, raw, [_key(w) for w in raw], _keys(before), _keys(after))


def _parse_words(
    span_text: str, raw: list[str], keys: list[str], before_keys: list[str], after_keys: list[str]
) -> Quantity:
    """parse_quantity on words already split and normalized (find_quantities has them)."""
    if not keys:
        raise QuantityError(f"empty quantity span {span_text!r}")
    if len(keys) > 1 and keys[0] in _CONJUNCTION_KEYS:
        # «و8 في ريف دير الزور», «و21 مسلحا»: the conjunction glued to the digits is split off as
        # a word of its own and belongs to the list, not to the figure
        raw, keys = raw[1:], keys[1:]
    before_keys = before_keys[-CONTEXT_WORDS:]
    after_keys = after_keys[:CONTEXT_WORDS]
    if before_keys and before_keys[-1] == "ال":  # «الـ 18»
        before_keys = before_keys[:-1]

    # Qualifier words the model left inside the span («أكثر من 35», «بين 10 و15»).
    i = 0
    while i < len(keys):
        found = _BEFORE.at(keys, i)
        if found is None:
            break
        i += found[1]
    context_before = before_keys + keys[:i]
    if i < len(keys) and keys[i] == "ال":
        i += 1
    if i >= len(keys):
        raise QuantityError(f"«{span_text}» has a qualifier but no figure")

    between = bool(_BETWEEN.tail(context_before))
    core = None
    word = keys[i]
    if _num_analyses(word):
        try:
            core = _read_number_core(keys, i, between and not _range_end_after(after_keys))
        except QuantityError as err:
            raise QuantityError(f"«{span_text}»: {err}") from None
    if core is None:
        core = _read_vague_core(keys, i)
    if core is None:
        core = _read_noun_core(keys, i)
    if core is None:
        if isinstance(_digits_value(word), Fraction):
            raise QuantityError(f"«{span_text}» is a decimal number, not a count")
        if _is_ordinal(word):
            raise QuantityError(f"«{span_text}» is an ordinal, not a count")
        raise QuantityError(f"cannot read a quantity in «{span_text}» (at «{raw[i]}»)")

    rest = keys[core.end:] + after_keys
    if _is_percent(rest):
        raise QuantityError(f"«{span_text}» is a percentage, not a count")

    if core.kind in ("vague", "ambiguous"):
        kind = "vague" if core.kind == "vague" else "at_least"
        return Quantity(core.value, core.low, core.high, kind)
    if core.kind == "range":
        return Quantity(core.value, core.low, core.high, "range")

    n = core.value
    assert n is not None
    qual = _BEFORE.tail(context_before)
    if qual and qual[0] == "between":
        end_b = _range_end_after(rest) if core.end == len(keys) else None
        if end_b is not None:  # the model tagged A of «بين A و B»
            low = _share_scale(n, keys[i:], *end_b)
            if low < end_b[0]:
                return Quantity(low, low, end_b[0], "range")
        qual = None
    if qual is None and i == 0:
        a = _range_start_before(before_keys, keys[:core.end], n)
        if a is not None and a < n:
            return Quantity(a, a, n, "range")
    kind = qual[0] if qual else _after_qualifier(rest)
    if kind == "at_least":
        return Quantity(n, n, None, "at_least")
    if kind == "more_than":
        return Quantity(n + 1, n + 1, None, "at_least")
    if kind == "at_most":
        return Quantity(None, None, n, "at_most")
    if kind == "less_than":
        return Quantity(None, None, n - 1, "at_most")
    if kind == "approx":
        return Quantity(n, None, None, "approx")
    return _exact(n)


def _exact(n: int) -> Quantity:
    return Quantity(n, n, n, "exact")
