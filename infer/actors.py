"""Who the casualties were, who caused them and who says so, read around a casualty figure.

These are cue-word rules over the model's spans; the model finds the names (ORG/PER), the
rules only decide which name plays which part. All offsets are into the text the entities
were found in (the normalized text); words are compared after ``fold_letters`` (أ/إ/آ → ا,
ى → ي, ة → ه), which changes letters one for one, so offsets stay valid.

Victim (:func:`find_victim`), looked for right after the figure, within its clause, up to the
next figure:

- «5 من قوات النظام», «3 عناصر من التنظيم», «10 قتلى في صفوف الميليشيات», «عنصرين لقوات
  النظام»: the ORG the model tagged after «من» / «في صفوف» / a lam-prefixed ORG — else the
  noun phrase after «من» when it names a group («قوات النظام», «الميليشيات الموالية»). This is a
  *named* victim (``named=True``).
- «43 مدنيا», «ضابطان»: the casualty noun itself names a kind of people (civilians, soldiers,
  fighters…) — an *unnamed* victim. Words that only say "dead"/"wounded"/"persons" («قتيلا»,
  «جرحى», «شخصا») name no side and are skipped.
- when nothing else names them, «27 شخصا», «ثلاثة أشخاص»: the persons noun is the victim as
  the text names it, of kind ``person`` (no side: it conflicts with no other victim).
- if nothing follows the figure: «قتلى قوات النظام» / «خسائر التنظيم» before it in the clause
  («ارتفعت حصيلة قتلى قوات النظام إلى 15»).

Kinds: civilians (مدنيون، أطفال، نساء، صحفيون، عمال…), combatants (everything else, and
every named group) or persons («شخصا»: no side). Two victims conflict when their kinds differ, or when both are named
and their :func:`actor_key` differ («قوات النظام» = «قوات الأسد» = «ميليشيا أسد»; «تنظيم داعش» =
«تنظيم الدولة الإسلامية» = «التنظيم»); the assembler starts a new incident on a conflict.

Perpetrator (:func:`find_perpetrators`): an ORG/PER after «على يد», «برصاص», «بنيران»,
«بقصف لـ», «هجوم لـ» / «هجوم شنه …» / «كمين نصبه …» / «من قبل», after a claim «تبنى»,
«أعلن مسؤوليته»; the subject of an attack verb («هاجم تنظيم داعش…», «أن مقاتلي التنظيم
قتلوا…»). Where a cue has no name after it, an unnamed attacker («برصاص مسلحين مجهولين»,
«هاجم مسلحون مجهولون», «بنيران قناص»). The assembler keeps the victim's side, the target and
(unless it claims the attack) the source out of it.

Target (:func:`find_targets`): the ORG attacked — after «على»/«ضد» or a target noun
(«نقطة لقوات النظام», «مواقع التنظيم»); the assembler names the victim side after it when the
figure itself only says «عناصر».

Source (:func:`find_sources`): an ORG/PER (or «مصادر ميدانية», «ناشطون», «شبكة…» when not
tagged) after «أفاد/ذكر/قال/أعلن/أكد/وثق/نقل/نشر/بث…», «بحسب/حسب/وفقا لـ/نقلا عن»,
«المصدر:».
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from dataclasses import dataclass
from typing import NamedTuple, Sequence

from hasila.infer.arabic.clitics import clitic_prefix, readings, strip_first, strip_towards
from hasila.infer.arabic.letters import fold_letters
from hasila.infer.arabic.words import cue
from hasila.infer.tokenize import split_words
from hasila.infer.types import Entity

__all__ = [
    "Word",
    "words_in",
    "Victim",
    "find_victim",
    "victims_conflict",
    "Mention",
    "find_perpetrators",
    "find_sources",
    "find_targets",
    "has_attack_anaphora",
    "bare",
    "actor_key",
]


class Word(NamedTuple):  # a tuple, not a dataclass: an article makes ~1,000 of them, 3x cheaper
    start: int
    end: int
    key: str  # folded text

    @property
    def is_letters(self) -> bool:
        return any(ch.isalpha() for ch in self.key)


_new_word = tuple.__new__  # Word(s, e, key) without NamedTuple's Python-level __new__ (an article makes ~1,000)


@lru_cache(maxsize=8)
def _word_index(text: str, folded: str) -> tuple[list[int], list[Word]]:
    # Assembly asks for the words of many small windows of the same article: split it once,
    # and make its Word objects once (building them per window was a quarter of assembly).
    words = [_new_word(Word, (s, e, folded[s:e])) for s, e in split_words(text)]
    return [w.start for w in words], words


def words_in(text: str, folded: str, start: int, end: int) -> list[Word]:
    """Words of ``text[start:end]`` (absolute offsets) with their folded keys — exactly what
    ``split_words(text[start:end])`` gives, read from the article's words split once."""
    starts, words = _word_index(text, folded)
    i = bisect_left(starts, start)
    j = bisect_left(starts, end)
    # A word cut by either edge of the window splits differently on its own: split the window then.
    cut_before = i > 0 and words[i - 1].end > start
    cut_after = j > 0 and words[j - 1].end > end
    if cut_before or cut_after:
        return [_new_word(Word, (start + s, start + e, folded[start + s : start + e])) for s, e in split_words(text[start:end])]
    return words[i:j]




def _f(words: str) -> frozenset[str]:
    return frozenset(fold_letters(w) for w in words.split())


@lru_cache(maxsize=1 << 16)  # the same few thousand word keys are asked about all through an article
def bare(key: str, known: frozenset[str] | None = None, stems: tuple[str, ...] = ()) -> str | None:
    """``key`` without proclitics when the remainder is in ``known`` or starts with a stem."""
    for c in readings(key, "actor", 2):
        if known is not None and c in known:
            return c
        if stems and c.startswith(stems):
            return c
    return None


# People nouns that say which side/kind the casualties were.
_CIVILIAN_STEMS = tuple(fold_letters(w) for w in (
    "مدني", "طفل", "أطفال", "نساء", "امرأة", "امرأت", "سيدة", "سيدات", "مواطن", "صحفي", "صحافي",
    "مسعف", "مزارع", "راعي", "رعاة", "أهالي", "عامل", "عمال", "طالب", "طلاب", "معلم", "نازح",
    "لاجئ", "رجل", "رجال", "فتاة", "فتيات", "شاب", "شبان", "مسن",
))  # fmt: skip
_COMBATANT_STEMS = tuple(fold_letters(w) for w in (
    "عنصر", "عناصر", "جندي", "جنود", "ضابط", "ضباط", "مقاتل", "مسلح", "عسكري", "شرطي", "مجند",
    "مرتزق", "إرهابي", "ارهابي", "دواعش", "متطوع", "حارس", "حراس", "قائد", "قادة", "قيادي", "أمير",
    "شبيح", "أفراد", "فرد", "مرافق", "أسير", "أسرى", "رهين", "رهائن", "منشق", "عضو", "أعضاء",
))  # fmt: skip
# Words that say dead/wounded/persons without a side; skipped when looking for the side.
_CASUALTY_STEMS = tuple(fold_letters(w) for w in (
    "قتيل", "قتلى", "قتلا", "جريح", "جرحى", "مصاب", "ضحية", "ضحايا", "شخص", "أشخاص", "شهيد",
    "شهداء", "نفر", "هالك",
))  # fmt: skip
# Words that name the casualties only as persons (a victim with no side: kind ``person``).
_PERSON_STEMS = tuple(fold_letters(w) for w in ("شخص", "أشخاص", "اشخاص"))
_PERSONALITY_STEMS = tuple(fold_letters(w) for w in ("شخصية", "شخصيات"))  # «شخصية» is a figure, not a person
# Words between a figure and its noun that carry no side.
_FILLERS = _f("على الأقل الأقل الأكثر آخرين آخرون آخر أخرى آخريات إضافيين جدد جديدين فقط")
# Words that can open a group's name after «من».
_GROUP_HEADS = _f(
    "قوات عناصر مقاتلي مقاتلين مقاتلو جنود ضباط أفراد ميليشيا ميليشيات مليشيا مليشيات جيش تنظيم "
    "فصائل فصيل حزب هيئة حركة الشرطة الأمن الحرس مسلحي المسلحين أبناء أهالي عشيرة قبيلة لواء "
    "كتائب كتيبة فرقة وحدات قسد داعش النظام المعارضة الدفاع جماعة مجموعة مرتزقة حرس شرطة"
)
# Words that end a noun phrase (prepositions, conjunctions, time words, place nouns).
_NP_STOPS = _f(
    "في على علي خلال جراء إثر اثر بعد قبل عند قرب إلى الى منذ أثناء اليوم أمس و أو كما فيما بينما "
    "الذي التي الذين اللذين أن إن ان عن حين حيث مع من بين بينهم منهم ضمن لدى نتيجة بسبب "
    "ريف بريف مدينة بمدينة بلدة ببلدة قرية بقرية بادية ببادية محافظة بمحافظة منطقة بمنطقة حي بحي "
    "محيط بمحيط شمال جنوب شرق غرب شمالي جنوبي شرقي غربي قتلوا قتل أصيبوا جرحوا"
)
_SIDE_HEADS_BEFORE = _f("قتلى قتلي جرحى مصابي خسائر صفوف قتيل جثث قتلاهم")


# How far (characters) around a figure its side is looked for: a few words.
_WINDOW = 150


@dataclass(frozen=True)
class Victim:
    start: int
    end: int
    named: bool  # a group's name (ORG or «من» + group noun phrase), not just a kind of people
    kind: str  # "civilian", "combatant" or "person" (only «شخصا»: no side)


def _people_kind(key: str) -> str | None:
    if bare(key, stems=_CIVILIAN_STEMS):
        return "civilian"
    if bare(key, stems=_COMBATANT_STEMS):
        return "combatant"
    return None


def _entity_at(entities: Sequence[Entity], start: int, labels: tuple[str, ...]) -> Entity | None:
    for e in entities:
        if e.start == start and e.label in labels:
            return e
    return None


def _entity_covering(entities: Sequence[Entity], pos: int, labels: tuple[str, ...]) -> Entity | None:
    for e in entities:
        if e.start <= pos < e.end and e.label in labels:
            return e
    return None


def _group_phrase(words: list[Word], i: int, entities: Sequence[Entity]) -> tuple[int, int] | None:
    """The group noun phrase starting at ``words[i]`` («قوات النظام», «الميليشيات الموالية»)."""
    if i >= len(words) or not words[i].is_letters:
        return None
    first = words[i].key
    if not (bare(first, _GROUP_HEADS) or _people_kind(first) or first.startswith("ال")):
        return None
    if first in _NP_STOPS:
        return None
    j = i
    while (
        j + 1 < len(words)
        and j + 1 - i < 3
        and words[j + 1].is_letters
        and words[j + 1].key not in _NP_STOPS
        and not _is_conjoined(words[j + 1].key)
        and _entity_covering(entities, words[j + 1].start, ("LOC", "DATE", "KILLED", "WOUNDED")) is None
    ):
        j += 1
    return words[i].start, words[j].end


# Words that begin with «و» as a letter of the word, not as the conjunction.
_WAW_WORDS = _f("وحدات وزارة وزارات ولاية ولايات وكالة وكالات وادي وطني وطنية وفد وسط وجهاء")


def _is_conjoined(key: str) -> bool:
    """«والميليشيات», «وإصابة»: a conjunction starts a new phrase."""
    return key.startswith("و") and len(key) > 2 and key not in _WAW_WORDS


def _victim_from_group(words: list[Word], i: int, entities: Sequence[Entity]) -> Victim | None:
    """After «من» / «في صفوف» at ``words[i-1]``: the ORG within two words, else the phrase."""
    for k in range(i, min(i + 3, len(words))):
        if not words[k].is_letters:
            break
        org = _entity_at(entities, words[k].start, ("ORG",))
        if org is not None:
            return Victim(org.start, org.end, True, "combatant")
        if k > i and words[k].key in _NP_STOPS:
            break
    phrase = _group_phrase(words, i, entities)
    if phrase is None:
        return None
    kind = _people_kind(words[i].key) or "combatant"
    return Victim(phrase[0], phrase[1], True, kind)


def find_victim(text: str, folded: str, count: Entity, clause: tuple[int, int], limit: int,
                entities: Sequence[Entity]) -> Victim | None:
    """The side of the casualties counted by ``count``; ``limit`` ends the search after it
    (the next figure or the clause end), ``clause`` bounds the search before it."""
    after = words_in(text, folded, count.end, max(count.end, min(limit, count.end + _WINDOW)))
    unnamed: Victim | None = None
    i = 0
    while i < len(after) and i < 8:
        w = after[i]
        if not w.is_letters:
            break
        if w.key in _FILLERS:
            i += 1
            continue
        org = _entity_at(entities, w.start, ("ORG",))
        if org is not None:
            return Victim(org.start, org.end, True, "combatant")
        if _entity_covering(entities, w.start, ("LOC", "DATE", "PER", "KILLED", "WOUNDED")) is not None:
            break
        if w.key in ("من", "ومن"):
            return _victim_from_group(after, i + 1, entities) or unnamed
        if w.key in ("في", "ضمن") and i + 1 < len(after) and after[i + 1].key == "صفوف":
            return _victim_from_group(after, i + 2, entities) or unnamed
        if w.key in ("بصفوف", "صفوف"):
            return _victim_from_group(after, i + 1, entities) or unnamed
        kind = _people_kind(w.key)
        if kind is not None:
            if unnamed is None:
                unnamed = Victim(w.start, w.end, False, kind)
            i += 1
            continue
        if bare(w.key, stems=_CASUALTY_STEMS):
            i += 1
            continue
        break
    if unnamed is not None:
        return unnamed
    before = _victim_before(text, folded, count, clause, entities)
    if before is not None:
        return before
    for word in reversed(folded[count.start:count.end].split()):
        person = bare(word, stems=_PERSON_STEMS) and not bare(word, stems=_PERSONALITY_STEMS)
        kind = _people_kind(word) or ("person" if person else None)
        if kind is not None:  # a count that names people: «ضابطان [اثنان]», «عنصرين», «شخصان»
            return Victim(count.start, count.end, False, kind)
    return _persons_noun(after)


def _persons_noun(after: list[Word]) -> Victim | None:
    """«27 شخصا», «ثلاثة أشخاص»: the casualties are named only as persons; that noun is the
    victim as the text names it (kind ``person``: no side, conflicts with no one)."""
    for w in after[:3]:
        if not w.is_letters:
            return None
        if w.key in _FILLERS:
            continue
        return Victim(w.start, w.end, False, "person") if bare(w.key, stems=_PERSON_STEMS) else None
    return None


def _victim_before(text: str, folded: str, count: Entity, clause: tuple[int, int],
                   entities: Sequence[Entity]) -> Victim | None:
    words = words_in(text, folded, max(clause[0], count.start - _WINDOW), count.start)
    for i in range(len(words) - 1, -1, -1):
        if bare(words[i].key, _SIDE_HEADS_BEFORE):
            found = _victim_from_group(words, i + 1, entities)
            if found is not None:
                return found
    return None


def victims_conflict(a: Victim | None, b: Victim | None, text: str) -> bool:
    """Whether two victims are clearly different sides."""
    if a is None or b is None or "person" in (a.kind, b.kind):
        return False
    if a.kind != b.kind:
        return True
    if a.named and b.named:
        return actor_key(text[a.start:a.end]) != actor_key(text[b.start:b.end])
    return False


# Words that say what kind of body a name is, not whose: dropped from actor keys.
_GENERIC_ACTOR_WORDS = _f(
    "تنظيم قوات عناصر عنصر مقاتلي مقاتلو مقاتلين ميليشيا ميليشيات مليشيا مليشيات مسلحي مرتزقة "
    "تابعة تابعين تابع"
)
# The same actor's names in the reports Hasila reads (DOMAIN.md §4); keys after stripping.
_ALIASES: dict[str, str] = {
    fold_letters(k): v
    for k, v in {
        "داعش": "داعش", "دولة إسلامية": "داعش", "دولة": "داعش", "دواعش": "داعش",
        "نظام": "نظام", "أسد": "نظام", "نظام سوري": "نظام", "جيش سوري": "نظام",
        "جيش عربي سوري": "نظام", "نظام أسد": "نظام", "جيش نظام": "نظام",
        "قسد": "قسد", "سوريا ديمقراطية": "قسد", "سورية ديمقراطية": "قسد",
    }.items()
}  # fmt: skip


def actor_key(name: str) -> str:
    """A key under which the names of one actor meet: «تنظيم داعش», «تنظيم الدولة الإسلامية»
    and «التنظيم» → «داعش»; «قوات النظام», «قوات الأسد», «ميليشيا أسد» → «نظام». Other
    names → their folded words without «ال»/proclitics and generic words («قوات», «عناصر»)."""
    known = set(_ALIASES) | _GENERIC_ACTOR_WORDS
    words = []
    raw = fold_letters(name).split()
    for w in raw:
        rest = strip_first(w, "actor_name_article", 2)
        # else a one-letter proclitic, only when what is left is a word we know («لقوات», «لداعش»)
        w = rest if rest is not None else (strip_towards(w, "actor_name_letter", known) or w)
        if w not in _GENERIC_ACTOR_WORDS:
            words.append(w)
    key = " ".join(words)
    if not key:
        # «التنظيم» alone is IS in these reports; other generic names stay as written.
        return "داعش" if any(w.endswith("تنظيم") for w in raw) else " ".join(raw)
    return _ALIASES.get(key, key)


# ----------------------------------------------------------------------------------------
# Perpetrators and sources.


@dataclass(frozen=True)
class Mention:
    """A name found after a cue: ``cue`` is where the cue starts, [start, end) the name."""

    cue: int
    start: int
    end: int
    claim: bool = False


_cue = cue  # the Arabic word layer's: patterns folded like the text


CONJ = clitic_prefix("conjunction")  # «و»/«ف» before a cue word
_PRE = rf"(?<!\w){CONJ}"
_ATTACK_NOUNS = (
    r"هجوم|هجوما|هجمات|الهجوم|الهجمات|كمين|كمينا|الكمين|تفجير|التفجير|عملية|العملية|اعتداء|"
    r"غارة|غارات|الغارة|الغارات|قصف|القصف|ضربة|ضربات|اشتباكات|الاشتباكات|مواجهات|هجومين"
)
_LINKS = (
    r"شنه|شنها|شنته|شنتها|شنوه|نفذه|نفذها|نفذته|نفذتها|نفذوه|نصبه|نصبها|نصبته|نصبتها|تبناه|تبنته|"
    r"تبناها|من\s+قبل|من\s+طرف|يتبع|تتبع|لـ|ل"
)
_FILLER_ADJ = r"(?:\w+\s+){0,2}?"
_PERP_CUES: list[tuple[re.Pattern[str], bool]] = [
    # «هجوم شنه تنظيم داعش», «كمين نصبه عناصر من التنظيم», «هجوم مباغت من قبل …»
    (_cue(_PRE + rf"(?:{_ATTACK_NOUNS})\s+{_FILLER_ADJ}(?:{_LINKS})(?!\w)"), False),
    # «على يد», «برصاص», «بنيران», «بقصف لـ …», «بغارات»
    (_cue(_PRE + r"(?:على\s+(?:يد|أيدي)|برصاص|بنيران|بقذائف|بصواريخ|بطائرات|بطائرة|بطيران|بقصف|بغارات|بغارة|بهجوم|بهجمات|بكمين|بتفجير|من\s+قبل|من\s+طرف)(?!\w)"), False),
    # claims
    (_cue(_PRE + r"(?:تبنى|تبنت|يتبنى|تتبنى|تبنيه|أعلن\s+مسؤوليته|أعلنت\s+مسؤوليتها|أعلن\s+مسؤوليتها)(?!\w)"), True),
    # «سيارة مفخخة يقودها انتحاري»
    (_cue(_PRE + r"(?:يقودها|يقوده|قادها|قاده|فجرها|فجره|يستقلها|يستقله)(?!\w)"), False),
    # the attack attributed: «الهجوم الذي نسب إلى تنظيم داعش», «نسبته الحكومة إلى …»
    (_cue(_PRE + r"(?:(?:نسب|نسبت|نسبته|نسبتها|ينسب|تنسب|منسوب|المنسوب)(?:\s+\w+){0,4}?\s+(?:إلى|الى)"
               r"|(?:ألقي|القي|ألقت|وألقي)\s+(?:\w+\s+)?باللوم(?:\s+فيه|\s+فيها)?\s+على)(?!\w)"), False),
    # an attack noun directly followed by a lam-prefixed name: «هجوم لتنظيم داعش»
    (_cue(_PRE + rf"(?:{_ATTACK_NOUNS})(?!\w)"), False),
]
_ATTACK_VERBS = _cue(
    _PRE + r"(?:قتل|قتلت|هاجم|هاجمت|استهدف|استهدفت|شن|شنت|فجر|فجرت|أعدم|أعدمت|اغتال|اغتالت|قصف|"
    r"قصفت|اقتحم|اقتحمت|نفذ|نفذت|نصب|نصبت|تمكن|تمكنت|قتلوا|هاجموا|استهدفوا|شنوا|فجروا|أعدموا|"
    r"اغتالوا|قصفوا|اقتحموا|نفذوا|يقتل|تقتل|يستهدف|تستهدف|يهاجم|تهاجم|يشن|تشن|ارتكب|ارتكبت|ارتكبوا|"
    r"قام|قامت|قاموا|أطلق|أطلقت|أطلقوا|هاجمتا|هاجما|قتلته|قتلتهم|قتلتها|قتلوه|قتلوهم|استهدفته|استهدفتهم|"
    r"استهدفها|استهدفتها)(?!\w)"
)
# Between a verb and its subject: «هاجم عناصر تنظيم داعش», «قصف طيران النظام».
_SUBJECT_FILLERS = _f("عناصر مقاتلو مقاتلون مسلحو مسلحون طيران طائرات مدفعية عناصرُ انتحاري انتحاريون")

_SOURCE_CUES = _cue(
    _PRE + r"(?:أفاد|أفادت|ذكر|ذكرت|قال|قالت|أعلن|أعلنت|أكد|أكدت|نقل|نقلت|أوضح|أوضحت|أشار|أشارت|وثق|"
    r"وثقت|رصد|رصدت|بث|بثت|نشر|نشرت|زعم|زعمت|ادعى|ادعت|أورد|أوردت|كشف|كشفت|يفيد|تفيد|يقول|تقول|"
    r"اعترف|اعترفت|نعى|نعت|أحصى|أحصت|بحسب\s+ما|حسبما|وفق\s+ما|بحسب|حسب|وفقا|وفق|طبقا|نقلا\s+عن|"
    r"استنادا\s+إلى|المصدر\s*:|مصدر\s+الخبر\s*:)(?!\w)"
)
_SOURCE_NOUNS = _f(
    "مصادر مصدر ناشطون ناشطين ناشط شبكة مراسل مراسلنا مراسلو وسائل وكالة مسؤول مسؤولون شهود مواقع "
    "صفحات حسابات المرصد إعلام الإعلام معرفات قناة صحيفة موقع ناطق المتحدث متحدث"
)
_SOURCE_NP_STOPS = _NP_STOPS | _f("إن أن ان بأن")
# A definite attack noun refers back to an attack told before («في الهجوم», «خلال الاشتباكات»).
_ANAPHORA = _cue(
    rf"(?<!\w){CONJ}(?:ب|ل)?(?:ال|لل)(?:هجوم|هجمات|كمين|اشتباكات|اشتباك|معارك|غارة|غارات|قصف|تفجير|انفجار|"
    r"عملية|هجومين|حادثة|حادث|استهداف)(?!\w)"
)


def _names_after(pos: int, words: list[Word], entities: Sequence[Entity], max_words: int,
                 lam_only: bool = False) -> Entity | None:
    """The first ORG/PER starting within ``max_words`` words after ``pos``."""
    seen = 0
    for w in words:
        if w.start < pos:
            continue
        if not w.is_letters:
            return None
        ent = _entity_at(entities, w.start, ("ORG", "PER"))
        if ent is not None:
            if lam_only and not w.key.startswith("ل"):
                return None
            return ent
        if w.key in ("على", "علي", "ضد", "استهدف", "استهدفت") or _entity_covering(
            entities, w.start, ("LOC", "DATE", "KILLED", "WOUNDED")
        ):
            return None  # the target follows, not the attacker
        seen += 1
        if seen >= max_words:
            return None
    return None


# Unnamed attackers («مسلحون مجهولون», «قناص», «طائرات حربية»): not ORG, still perpetrators.
_ATTACKER_NOUNS = _f(
    "مسلحين مسلحون مسلح مجهولين مجهولون مجهول ملثمين ملثمون قناص قناصة انتحاري انتحاريون انتحارية "
    "طائرات طائرة طيران مسيرة مسيرات مدفعية مهاجم مهاجمون مهاجمين مقاتلون مقاتلين متمردون متمردين "
    "انفصاليون انفصاليين متشددون متشددين إرهابيون إرهابيين مروحيتين مروحيتان مروحيات"
)
_ATTACKER_ADJECTIVES = _f(
    "مجهولين مجهولون مجهول مجهولة مسلحين مسلحون مسلحة ملثمين ملثمون انتحاري انتحارية حربية مسيرة مسيرات "
    "إسلاميون إسلاميين متشددون متشددين أمريكيتين أمريكيتان اميركيتين أميركيتين"
)


def _attacker_phrase(words: list[Word], pos: int, entities: Sequence[Entity]) -> tuple[int, int] | None:
    """«مسلحون مجهولون», «قناص» starting at the first word at or after ``pos``."""
    after = [w for w in words if w.start >= pos][:2]
    if not after or not bare(after[0].key, _ATTACKER_NOUNS):
        return None
    if _entity_covering(entities, after[0].start, ("ORG", "PER", "LOC", "DATE", "KILLED", "WOUNDED")):
        return None
    end = after[0].end
    if len(after) > 1 and after[1].key in _ATTACKER_ADJECTIVES:
        end = after[1].end
    return after[0].start, end


def find_perpetrators(text: str, folded: str, start: int, end: int, entities: Sequence[Entity]) -> list[Mention]:
    """Attackers in ``[start, end)`` (a sentence), in text order: names (ORG/PER) and, where a
    cue has no name after it, unnamed attackers («برصاص مسلحين مجهولين»)."""
    words = words_in(text, folded, start, end)
    found: dict[int, Mention] = {}
    for pattern, claim in _PERP_CUES:
        lam_only = pattern is _PERP_CUES[-1][0]
        for m in pattern.finditer(folded, start, end):
            ent = _names_after(m.end(), words, entities, 2 if lam_only else 3, lam_only=lam_only)
            if ent is not None:
                if ent.start not in found:
                    found[ent.start] = Mention(m.start(), ent.start, ent.end, claim)
            elif not lam_only:
                phrase = _attacker_phrase(words, m.end(), entities)
                if phrase is not None and phrase[0] not in found:
                    found[phrase[0]] = Mention(m.start(), phrase[0], phrase[1], claim)
    for m in _ATTACK_VERBS.finditer(folded, start, end):
        # VSO: the verb's subject right after it («هاجم تنظيم داعش»), not after «من».
        after = [w for w in words if w.start >= m.end()][:3]
        for k, w in enumerate(after):
            ent = _entity_at(entities, w.start, ("ORG", "PER"))
            if ent is not None:
                if ent.start not in found:
                    found[ent.start] = Mention(m.start(), ent.start, ent.end)
                break
            if k == 0:
                phrase = _attacker_phrase(words, w.start, entities)
                if phrase is not None:
                    found.setdefault(phrase[0], Mention(m.start(), phrase[0], phrase[1]))
                    break
            if k >= 1 or w.key not in _SUBJECT_FILLERS:
                break
        # SVO: «أن مقاتلي التنظيم قتلوا», «داعش يتبنى»: a name ending right before the verb.
        before = [w for w in words if w.end <= m.start()]
        if before:
            ent = _entity_covering(entities, before[-1].start, ("ORG", "PER"))
            if ent is not None and ent.end == before[-1].end and ent.start not in found:
                found[ent.start] = Mention(m.start(), ent.start, ent.end)
    return sorted(found.values(), key=lambda x: x.start)


def find_sources(text: str, folded: str, start: int, end: int, entities: Sequence[Entity]) -> list[Mention]:
    """Who reports the figures in ``[start, end)``: names after reporting cues, in text order."""
    words = words_in(text, folded, start, end)
    out: list[Mention] = []
    for m in _SOURCE_CUES.finditer(folded, start, end):
        after = [w for w in words if w.start >= m.end()][:4]
        mention: Mention | None = None
        for k, w in enumerate(after):
            if not w.is_letters:
                break
            ent = _entity_at(entities, w.start, ("ORG", "PER"))
            if ent is not None:
                mention = Mention(m.start(), ent.start, ent.end)
                break
            if bare(w.key, _SOURCE_NOUNS):
                last = k
                while (
                    last + 1 < len(after)
                    and last + 1 - k < 3
                    and after[last + 1].is_letters
                    and after[last + 1].key not in _SOURCE_NP_STOPS
                    and _entity_covering(entities, after[last + 1].start, ("LOC", "DATE", "KILLED", "WOUNDED")) is None
                ):
                    last += 1
                mention = Mention(m.start(), w.start, after[last].end)
                break
            if w.key not in ("ما", "لما", "ل", "عن", "إلى", "الى", "أيضا", "ايضا", "كذلك"):
                break
        if mention is not None and all(o.start != mention.start for o in out):
            out.append(mention)
    return out


_TARGET_NOUNS = _f(
    "مواقع موقع نقطة نقاط حاجز حواجز رتل رتلا دورية دوريات مقر مقرات تجمع تجمعات ثكنة معسكر قافلة "
    "عربة آلية آليات سيارة مركز مراكز"
)
# Between a target cue and the name: «هجوم على عناصر قوات النظام».
_TARGET_FILLERS = _TARGET_NOUNS | _f("عناصر جنود مقاتلي أفراد")
_AGAINST = _f("على علي ضد")


@lru_cache(maxsize=1 << 16)
def _in_set_any_case(key: str, known: frozenset[str]) -> bool:
    """``key`` (with proclitics) in ``known``, also in the accusative «حاجزاً» → «حاجز»."""
    return bool(bare(key, known) or (key.endswith("ا") and bare(key[:-1], known)))


def find_targets(text: str, folded: str, start: int, end: int, entities: Sequence[Entity]) -> list[Mention]:
    """Who was attacked in ``[start, end)``: an ORG after «على»/«ضد» («هجوم على قوات النظام»)
    or after a target noun («نقطة لقوات النظام», «مواقع قوات النظام», «رتلا للتنظيم»)."""
    words = words_in(text, folded, start, end)
    out: list[Mention] = []
    for k, w in enumerate(words):
        if not (w.key in _AGAINST or _in_set_any_case(w.key, _TARGET_NOUNS)):
            continue
        for j in range(k + 1, min(k + 4, len(words))):
            nxt = words[j]
            ent = _entity_at(entities, nxt.start, ("ORG",))
            if ent is not None:
                if all(o.start != ent.start for o in out):
                    out.append(Mention(w.start, ent.start, ent.end))
                break
            if not nxt.is_letters or not (_in_set_any_case(nxt.key, _TARGET_FILLERS) or nxt.key in _AGAINST):
                break
    return out


def has_attack_anaphora(folded: str, start: int, end: int) -> bool:
    """Whether ``[start, end)`` refers back to an attack («في الهجوم», «خلال الاشتباكات»)."""
    return _ANAPHORA.search(folded, start, end) is not None
