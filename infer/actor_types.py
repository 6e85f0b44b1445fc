"""Canonical actors, their ACLED actor types, and event types, by rules.

- :func:`canonical_actor` — an actor phrase as the article writes it («لتنظيم الدولة الإسلامية»,
  «وجنديان», «قوات الأسد») → its canonical name: the curated alias table below where one of its
  names matches (after :func:`hasila.infer.actors.actor_key`: clitics off, letters folded,
  generic words such as «قوات»/«عناصر» dropped; «داعش» = «تنظيم الدولة الإسلامية» = «التنظيم»),
  else the phrase without its proclitic.
- :func:`actor_type` — ACLED's inter code of an actor: 1 state forces, 2 rebel groups, 3 political
  militias, 4 identity militias, 5 rioters, 6 protesters, 7 civilians, 8 external/other forces
  (a state's forces acting in another country, e.g. the Russian air force in Syria). 0 when not known.
- :func:`event_type` — ACLED's event type and sub-event type of an incident from the words of its
  evidence and its victim: explosive and aerial means first (air/drone strike, shelling/artillery/
  missile attack, remote explosive/landmine/IED, suicide bomb → *Explosions/Remote violence*), then
  abduction or an attack on civilians (*Violence against civilians*), then fighting between armed
  sides (*Battles / Armed clash*). Unknown stays empty.

Measured on a labelled sample of gold incidents (README, "Events").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .actors import actor_key
from .geocode import fold

__all__ = ["Actor", "canonical_actor", "actor_type", "event_type", "INTER_NAMES", "EVENT_TYPES"]

INTER_NAMES = {0: "", 1: "State forces", 2: "Rebel group", 3: "Political militia", 4: "Identity militia",
               5: "Rioters", 6: "Protesters", 7: "Civilians", 8: "External/Other forces"}
EVENT_TYPES = {
    "Battles": ("Armed clash", "Government regains territory", "Non-state actor overtakes territory"),
    "Explosions/Remote violence": ("Air/drone strike", "Shelling/artillery/missile attack", "Remote explosive/landmine/IED",
                                   "Suicide bomb", "Grenade", "Chemical weapon"),
    "Violence against civilians": ("Attack", "Abduction/forced disappearance", "Sexual violence"),
}

# canonical name, ACLED inter code, home country (ISO2; a state's forces outside it are type 8), folded keys
_TABLE: list[tuple[str, int, str | None, tuple[str, ...]]] = [
    ("Islamic State (IS)", 2, None, ("داعش", "دوله اسلاميه", "دوله", "دواعش", "دوله اسلاميه في عراق وشام", "ولايه")),
    ("Military Forces of Syria", 1, "SY", ("نظام", "جيش", "جيش سوري", "جيش عربي سوري", "نظام سوري", "اسد", "جيش نظام",
                                           "حكومه سوريه", "دفاع سوريه", "جيش سوريه")),
    ("Syrian Democratic Forces (SDF)", 2, None, ("قسد", "سوريا ديمقراطيه", "سوريه ديمقراطيه")),
    ("People's Protection Units (YPG)", 2, None, ("وحدات حمايه شعب", "وحدات حمايه كرديه", "حمايه شعب")),
    ("Hay'at Tahrir al-Sham / Jabhat al-Nusra", 2, None, ("نصره", "جبهه نصره", "هيئه تحرير شام", "تحرير شام", "فتح شام")),
    ("Free Syrian Army / opposition factions", 2, None, ("جيش حر", "جيش سوري حر", "فصائل", "فصائل معارضه", "معارضه",
                                                         "معارضه مسلحه", "ثوار", "فصائل مقاتله", "كتائب", "جيش وطني")),
    ("Hezbollah", 3, None, ("حزب الله", "حزب", "حزب لبناني")),
    ("Popular Mobilization Forces", 3, None, ("حشد", "حشد شعبي")),
    ("Pro-government militia", 3, None, ("دفاع وطني", "شبيحه", "موالين", "مواليه", "ميليشيات مواليه", "لجان شعبيه")),
    ("Houthis (Ansar Allah)", 2, None, ("حوثي", "حوثيين", "حوثيون", "انصار الله", "جماعه حوثي", "حوثيه")),
    ("Al-Qaeda", 2, None, ("قاعده", "تنظيم قاعده", "قاعده في جزيره عربيه")),
    ("Al-Shabaab", 2, None, ("شباب", "حركه شباب", "شباب مجاهدين", "حركه شباب مجاهدين")),
    ("Taliban", 2, None, ("طالبان", "حركه طالبان")),
    ("Boko Haram", 2, None, ("بوكو حرام",)),
    ("Hamas / al-Qassam Brigades", 2, None, ("حماس", "حركه حماس", "قسام", "كتائب قسام", "كتائب عز دين قسام")),
    ("Palestinian Islamic Jihad", 2, None, ("جهاد اسلامي", "سرايا قدس")),
    ("PKK", 2, None, ("عمال كردستاني", "حزب عمال كردستاني", "بي كا كا")),
    ("Rapid Support Forces", 2, None, ("دعم سريع", "دعم السريع")),
    ("Military Forces of Sudan", 1, "SD", ("جيش سوداني",)),
    ("Military Forces of Iraq", 1, "IQ", ("جيش عراقي", "قوات عراقيه", "امن عراقيه", "شرطه عراقيه", "حكومه عراقيه")),
    ("Military Forces of Israel", 1, "IL", ("جيش اسرائيلي", "احتلال", "اسرائيل", "اسرائيلي", "جيش احتلال",
                                            "طيران اسرائيلي", "طائرات اسرائيليه", "طيران حربي اسرائيلي")),
    ("Military Forces of Russia", 1, "RU", ("روس", "روسي", "روسيه", "طيران روسي", "طائرات روسيه", "جيش روسي")),
    ("Military Forces of the United States / Coalition", 1, "US", ("تحالف", "تحالف دولي", "امريكي", "امريكيه",
                                                                 "امريكيه", "تحالف بقياده واشنطن", "طيران تحالف")),
    ("Military Forces of Saudi Arabia / Arab Coalition", 1, "SA", ("تحالف عربي", "سعودي", "تحالف بقياده سعوديه")),
    ("Military Forces of Turkey", 1, "TR", ("جيش تركي", "تركي", "تركيه")),
    ("Military Forces of Egypt", 1, "EG", ("جيش مصري", "قوات مسلحه", "شرطه مصريه")),
    ("Police Forces", 1, None, ("شرطه", "امن", "شرطي", "شرطيين", "رجال امن", "رجال شرطه")),
    ("Military Forces", 1, None, ("جيش", "جنود", "جندي", "جنديا", "جنديان", "جنديين", "ضابطان", "ضابطين", "عسكريا", "عسكريين", "عسكري", "ضابط", "ضباط", "حرس", "حرس حدود")),
    ("Unidentified Armed Group", 3, None, ("مسلحين مجهولين", "مجهولين", "مسلحون مجهولون", "مسلحين", "مسلحون",
                                           "مجهولون", "ملثمين", "عصابه")),
    ("Tribal militia", 4, None, ("عشائر", "عشيره", "قبيله", "قبائل", "عشائري", "ابناء عشائر")),
    ("Civilians", 7, None, ("مدنيين", "مدنيا", "مدنيون", "مدني", "اطفال", "طفل", "طفلا", "نساء", "امراه", "صحفي",
                            "صحفيين", "عمال", "مصلين", "طلاب", "مواطنين", "مواطنا", "سكان", "اهالي", "نازحين",
                            "لاجئين", "مزارعين", "اسره", "عائله", "مدنيه", "اطفالا", "اشخاص", "شخصا", "شخص")),
]
_BY_KEY: dict[str, tuple[str, int, str | None]] = {}
for _name, _inter, _home, _keys in _TABLE:
    for _k in _keys:
        _BY_KEY.setdefault(fold(_k), (_name, _inter, _home))

_PROCLITIC = re.compile(r"^(?:وبال|وال|فال|بال|لل|و|ف|ب|ل)(?=\S{3,})")


@dataclass(frozen=True)
class Actor:
    name: str  # canonical name
    inter: int  # ACLED inter code (0 unknown)
    raw: str  # as written
    home: str | None = None  # ISO2 country of a state's forces


def _keys(phrase: str) -> list[str]:
    key = fold(actor_key(phrase))
    words = [w[1:] if w[:1] in ("و", "ف", "ب", "ل") and fold(w[1:]) in _BY_KEY else w for w in key.split()]
    key = " ".join(words)
    out = [key]
    for n in range(len(words) - 1, 0, -1):  # leading runs: «قوات النظام السوري» → «نظام سوري», «نظام»
        out.append(" ".join(words[:n]))
    out += words
    bare = []
    for k in out:
        b = " ".join(w[2:] if w.startswith("ال") and len(w) > 4 else w for w in k.split())
        bare.append(b)
    return [k for k in dict.fromkeys(out + bare) if k]


def canonical_actor(phrase: str | None, country: str | None = None) -> Actor | None:
    """The canonical actor a phrase names (None for an empty phrase). ``country``: the ISO2 code
    where the event took place; a state's forces outside their home are type 8 (external)."""
    if not phrase or not phrase.strip():
        return None
    for key in _keys(phrase):
        hit = _BY_KEY.get(key)
        if hit:
            name, inter, home = hit
            if inter == 1 and home and country and home != country:
                inter = 8
            if name in ("Military Forces", "Police Forces") and country:
                from .geocode import gazetteer

                c = gazetteer().countries.get(country)
                if c:
                    name, home = f"{name} of {c['name']}", country
            return Actor(name, inter, phrase, home)
    raw = " ".join(phrase.split())
    return Actor(_PROCLITIC.sub("", raw), 0, phrase)


def actor_type(phrase: str | None, country: str | None = None) -> int:
    actor = canonical_actor(phrase, country)
    return actor.inter if actor else 0


_CUES: list[tuple[str, str, tuple[str, ...]]] = [
    ("Explosions/Remote violence", "Suicide bomb", ("انتحاري", "انتحاريه", "انتحاريا", "انتحاريين", "حزام ناسف", "احزمه ناسفه",
                                                    "فجر نفسه", "فجرت نفسها", "تفجير انتحاري", "هجوم انتحاري")),
    ("Explosions/Remote violence", "Air/drone strike", ("غاره", "غارات", "طيران", "طائره", "طائرات", "مسيره", "مسيرات",
                                                        "قصف جوي", "براميل متفجره", "برميل متفجر", "الحربي", "مروحي")),
    ("Explosions/Remote violence", "Shelling/artillery/missile attack", ("قصف", "قذيفه", "قذائف", "صاروخ", "صواريخ",
                                                                         "هاون", "مدفعي", "مدفعيه", "راجمات", "بالصواريخ")),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED", ("عبوه ناسفه", "عبوات ناسفه", "لغم", "الغام",
                                                                     "مفخخه", "مفخخ", "سياره ملغومه", "تفجير", "انفجار",
                                                                     "ناسفه", "متفجره", "عبوه", "تفجيرين", "تفجيرات")),
    ("Explosions/Remote violence", "Grenade", ("قنبله يدويه", "قنابل يدويه")),
    ("Violence against civilians", "Abduction/forced disappearance", ("خطف", "اختطاف", "اختطفوا", "خطفوا", "مخطوفين")),
    ("Battles", "Armed clash", ("اشتباك", "اشتباكات", "معارك", "معركه", "مواجهات", "اشتبك", "تبادل اطلاق", "هجوم على مواقع",
                                "كمين", "اقتحام", "صد هجوم", "هجوما على")),
    ("Violence against civilians", "Attack", ("اعدام", "اعدم", "ذبح", "طعن", "برصاص", "اطلاق نار", "اطلاق النار", "مجزره",
                                              "اغتيال", "رميا بالرصاص", "دهس", "قتل")),
]


def _has(text: str, cue: str) -> bool:
    return re.search(rf"(?<!\S)(?:\S{{0,3}}){re.escape(cue)}", text) is not None


def event_type(evidence: str, victim_inter: int = 0, perpetrator_inter: int = 0) -> tuple[str, str]:
    """(event_type, sub_event_type) from the evidence text; ("", "") when nothing says.

    Explosive/aerial means decide first whoever the victims were (ACLED codes an air strike that
    kills civilians as Explosions/Remote violence with civilian targeting). An armed clash needs
    armed victims; a shooting or killing of civilians is Violence against civilians / Attack."""
    text = fold(evidence)
    hits = [(t, s) for t, s, cues in _CUES if any(_has(text, c) for c in cues)]
    for t, s in hits:
        if t == "Explosions/Remote violence":
            return t, s
    civilians = victim_inter == 7
    for t, s in hits:
        if s == "Abduction/forced disappearance":
            return t, s
        if t == "Battles" and not civilians:
            return t, s
        if t == "Violence against civilians" and s == "Attack":
            if civilians or victim_inter == 0 and perpetrator_inter in (0, 2, 3, 4):
                return t, s
            return "Battles", "Armed clash"
    if hits and civilians:
        return "Violence against civilians", "Attack"
    if hits:
        return "Battles", "Armed clash"
    if victim_inter == 7:
        return "Violence against civilians", "Attack"
    if victim_inter in (1, 2, 3, 4, 8):
        return "Battles", "Armed clash"
    return "", ""
