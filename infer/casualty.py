"""Killed or wounded? The kind of a count read from the words around it.

``casualty_kind(text, folded, start, end, limit_start, limit_end) -> "KILLED" | "WOUNDED" | None``
``relabel_counts(text, entities) -> entities``

The model finds count spans well but, trained on few articles, often calls a wounded figure
KILLED (on the gold dev split 41 of 78 WOUNDED words were tagged KILLED). Arabic news says the
kind in the words next to the number, so these decide whenever they are present:

1. a casualty noun inside the span or right after it («3 قتلى», «9 آلاف جريح», «جريحين»),
   skipping the counted noun and «آخرين» («20 شخصاً مصاباً», «5 أشخاص جرحى»);
2. else a casualty verb right after the counted phrase («ثمانية أشخاص أصيبوا», «… قتلوا»);
3. else the nearest casualty verb or verbal noun before it in its sentence, not farther than
   eight words («مقتل 4 وإصابة اثنين وعشرين», «قتل 3 وأصيب 20 آخرون», «ثلاثة منهم …» after
   «إصابة تسعة آخرين»).

A count whose words say nothing keeps the model's label. ``relabel_counts`` only swaps KILLED
and WOUNDED.

``drop_non_casualties(text, entities) -> entities`` then removes the counts that are not
casualty figures although the model tagged them (on the gold dev split most false incidents
came from such numbers):

- mixed totals «سقط عشرات القتلى والجرحى», «20 بين قتيل وجريح» (guideline rule 11: no
  KILLED/WOUNDED span);
- people arrested, captured, deployed, released, present… «اعتقلت 15 فلسطينيا», «أسر 10
  آخرون», «نشر نحو ألف جندي», «استسلم عشرات»: the nearest verb before the number is one of
  these and no casualty word follows it; or, with no cue before, the verb after the counted
  phrase is («العشرات من الحوثيين سلموا أنفسهم»);
- things: the word after the number names a thing («تدمير 13 منزلاً», «12053 غارة»).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .actors import Word, bare, words_in
from .labels import COUNT_LABELS
from .normalize import fold_letters, normalize_for_match
from .sentences import split_sentences
from .types import Entity

__all__ = ["casualty_kind", "counts_things", "drop_non_casualties", "is_mixed_total", "is_not_casualty", "relabel_counts"]

KILLED, WOUNDED = "KILLED", "WOUNDED"


def _keys(words: str) -> frozenset[str]:
    return frozenset(normalize_for_match(w) for w in words.split())


# Nouns and adjectives that name the casualties themselves.
_KILLED_NOUNS = _keys(
    "قتيل قتيلا قتيلاً قتلى قتيلان قتيلين قتيلة شهيد شهيدا شهيداً شهداء شهيدان شهيدين شهيدة "
    "ضحية ضحايا ضحيتين ضحيتان وفاة وفيات قتيلًا شهيدًا جثة جثث جثتي جثتين جثمان جثامين"
)
_WOUNDED_NOUNS = _keys(
    "جريح جريحا جريحاً جرحى جريحان جريحين جريحة مصاب مصابا مصاباً مصابين مصابون مصابان مصابة "
    "مصابات إصابة إصابات إصابتين اصابات بجروح بجراح جريحًا مصابًا"
)
# Verbs and verbal nouns that say what happened to them.
_KILLED_VERBS = _keys(
    "قتل قتلت قتلوا يقتل تقتل مقتل قتلهم مقتلهم استشهد استشهدت استشهدوا استشهاد يستشهد مصرع "
    "لقي لقيت لقوا حتفه حتفهم حتفهما توفي توفيت توفوا وفاة أعدم أعدمت إعدام اغتيال اغتيل ذبح ذبحت "
    "أردى أردت"
)
_WOUNDED_VERBS = _keys(
    "أصيب أصيبت أصيبوا يصاب تصاب إصابة اصابة جرح جرحت جرحوا يجرح جراح بجروح بجراح إصابات أصاب "
    "أصابت"
)
# Verbs that follow their subject («ثمانية أشخاص أصيبوا»); matched without proclitics, so the
# «وأصيب» of the next clause is not one.
_AFTER_VERBS = {KILLED: _keys("قتلوا قتلا قتلن استشهدوا استشهدا لقوا لقيا توفوا ماتوا"),
                WOUNDED: _keys("أصيبوا أصيبا أصبن جرحوا جرحا")}
# Words that may stand between the number and its casualty noun.
_BETWEEN = _keys("آخرين آخرون آخر أخرى أشخاص شخصا شخصاً شخص أشخاصا على الأقل")

_CONJUNCTIONS = ("و", "ف")
_LOOKBACK_WORDS = 8
_VERB_AFTER = 4
_INJURY_AFTER = 6
_INJURY_PHRASE = _keys("للإصابة للإصابات لإصابات لإصابة لجروح بجروح بجراح")
_SUBSET_AFTER = _keys("منهم منهن منهما")
_SUBSET_BEFORE = _keys("بينهم بينهن منهم معظمهم غالبيتهم أغلبهم")
_NOUN_AFTER = 3  # words after the span searched for the casualty noun


def _kind_of(word: Word, nouns_only: bool) -> str | None:
    key = word.key
    for kind, nouns, verbs in ((KILLED, _KILLED_NOUNS, _KILLED_VERBS), (WOUNDED, _WOUNDED_NOUNS, _WOUNDED_VERBS)):
        known = nouns if nouns_only else nouns | verbs
        if bare(key, known) is not None:
            return kind
    return None


_ALL_CUES = _KILLED_NOUNS | _WOUNDED_NOUNS | _KILLED_VERBS | _WOUNDED_VERBS


def _opens_clause(word: Word) -> bool:
    """«وإصابة», «وقتل», «و»: a conjunction that starts the next figure's clause. «فلسطينيين»,
    «وزير» start with the same letters and are no conjunction; «وفاة» is a word of its own."""
    key = word.key
    if key in _CONJUNCTIONS:
        return True
    return key[:1] in _CONJUNCTIONS and key not in _ALL_CUES and bare(key[1:], _ALL_CUES) is not None


def casualty_kind(text: str, folded: str, start: int, end: int, floor: int, sent_end: int) -> str | None:
    """KILLED or WOUNDED as the words of ``text[start:end]`` and around it say, or None when they
    say neither. Words before ``floor`` (the sentence start, or the end of the previous count)
    and after ``sent_end`` are not looked at. ``folded`` is ``fold_letters(text)``."""
    inside = words_in(text, folded, start, end)
    for w in reversed(inside):
        if (kind := _kind_of(w, nouns_only=True)) is not None:
            return kind
    after = words_in(text, folded, end, min(sent_end, end + 80))
    # 1. the casualty noun after the number, past the counted noun / «آخرين»
    for k, w in enumerate(after[:_NOUN_AFTER]):
        if _opens_clause(w):
            break  # «22 متمرداً وإصابة 30»: «و…» opens the next figure's clause
        if (kind := _kind_of(w, nouns_only=True)) is not None:
            return kind
        if w.key in _BETWEEN or k == 0:
            continue  # «5 أشخاص جرحى», «3 مدنيين قتلى»: one counted noun may come first
        break
    # 2. a verb after the counted phrase («ثمانية أشخاص أصيبوا», «38 شخصاً آخرين أصيبوا»)
    for w in after[:_VERB_AFTER]:
        if _opens_clause(w) or not w.is_letters:
            break
        for kind, verbs in _AFTER_VERBS.items():
            if w.key in verbs:
                return kind
    # 2b. «تعرض 7 من رجال حرس الحدود للإصابة»
    for w in after[:_INJURY_AFTER]:
        if _opens_clause(w):
            break
        if w.key in _INJURY_PHRASE:
            return WOUNDED
    # 3. the nearest cue before the number, back to the floor
    before = words_in(text, folded, max(floor, start - 200), start)[-_LOOKBACK_WORDS:]
    for w in reversed(before):
        if (kind := _kind_of(w, nouns_only=False)) is not None:
            return kind
    return None


def _is_subset(text: str, folded: str, start: int, end: int, sent_start: int, sent_end: int) -> bool:
    """«ثلاثة منهم», «بينهم طفلان»: a part of the figure before it."""
    after = words_in(text, folded, end, min(sent_end, end + 40))[:2]
    before = words_in(text, folded, max(sent_start, start - 40), start)[-2:]
    return any(w.key in _SUBSET_AFTER for w in after) or any(bare(w.key, _SUBSET_BEFORE) for w in before)


# Verbs and nouns that count people who are not casualties (guideline rule 8).
_NOT_CASUALTY = _keys(
    "اعتقل اعتقلت اعتقلوا اعتقال باعتقال إيقاف توقيف أوقفت أوقف القبض أسر أسرت أسروا وأسر "
    "استسلم استسلمت استسلام نشر نشرت بنشر انتشار تمتلك يمتلك تملك متنها إطلاق سراح الإفراج أفرج أفرجت "
    "يضم تضم تتكون يتكون حضور سيحضرون يحضر شارك شاركت يشارك مشاركة تجنيد جندت إرسال أرسلت أرسل "
    "تخريج تخرج اختطاف اختطف اختطفت خطف خطفت إجلاء أجلت ترحيل رحلت تدمير دمرت دمر إحراق أحرقت "
    "إسقاط أسقطت إطلاق أطلقت"
)
# The counted word after the number is a thing, not people («تدمير 13 منزلاً», «12053 غارة»).
_THING_NOUNS = _keys(
    "منزل منزلا منازل بيت بيوت مبنى مباني مبان سيارة سيارات مركبة مركبات آلية آليات دبابة دبابات "
    "صاروخ صواريخ قذيفة قذائف هاون هاونات برميل براميل برميلا غارة غارات طلعة طلعات مروحية مروحيات "
    "طائرة طائرات عبوة عبوات لغم ألغام موقع مواقع مخبأ مخابئ مخزن مخازن قرية قرى بلدة بلدات تنظيم "
    "تنظيما تنظيمات تغريدة تغريدات كيلومتر كيلومترا كم متر مترا ساعة ساعات يوم يوما أيام شهر أشهر "
    "سنة سنوات عام أعوام دولار ريال طن أطنان هجوم هجمات هجوما عملية عمليات تفجير تفجيرات انفجار "
    "مدرسة مدارس مستشفى مستشفيات"
)
# Verbs after the counted phrase that say the people are not casualties («سلموا أنفسهم»).
_NOT_CASUALTY_AFTER = _keys("سلموا استسلموا فقدوا بقوا عادوا فروا نزحوا انشقوا وصلوا غادروا اعتقلوا")
_MIXED_AFTER = _keys("والجرحى وجرحى والمصابين ومصابين وجريح والجريح")
_BETWEEN_WORD = normalize_for_match("بين")
_FROM_WORD = normalize_for_match("من")


def is_mixed_total(text: str, folded: str, start: int, end: int, sent_end: int) -> bool:
    """«عشرات القتلى والجرحى», «عدد من القتلى والمصابين», «90 مدنياً بين قتيل وجريح»: dead and
    wounded in one figure."""
    keys = [w.key for w in words_in(text, folded, end, min(sent_end, end + 60))[:4]]
    if _BETWEEN_WORD in keys[:2]:
        return True
    if keys[:1] == [_FROM_WORD]:
        keys = keys[1:]
    return len(keys) >= 2 and bare(keys[0], _KILLED_NOUNS | _WOUNDED_NOUNS) is not None and keys[1] in _MIXED_AFTER


def counts_things(text: str, folded: str, end: int, sent_end: int) -> bool:
    """The word right after the number is a thing («13 منزلاً», «12053 غارة»)."""
    after = words_in(text, folded, end, min(sent_end, end + 40))[:1]
    return bool(after) and bare(after[0].key, _THING_NOUNS) is not None


def is_not_casualty(text: str, folded: str, start: int, end: int, floor: int, sent_end: int) -> bool:
    """The nearest cue before the number (back to ``floor``) counts people arrested, captured,
    deployed…, and no casualty word follows the number."""
    before = words_in(text, folded, max(floor, start - 200), start)[-_LOOKBACK_WORDS:]
    after = words_in(text, folded, end, min(sent_end, end + 80))[:_VERB_AFTER]
    if any(_kind_of(w, nouns_only=False) is not None for w in after):
        return False
    for w in reversed(before):
        if bare(w.key, _NOT_CASUALTY) is not None:
            return True
        if _kind_of(w, nouns_only=False) is not None:
            return False
    # no cue before: a verb after the counted phrase may still say it («العشرات منهم سلموا أنفسهم»)
    return any(w.key in _NOT_CASUALTY_AFTER for w in after[:3])


def drop_non_casualties(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """``entities`` without the KILLED/WOUNDED counts that are not casualty figures (mixed
    totals, people arrested or deployed…; see the module docstring). Other entities stay."""
    if not any(e.label in COUNT_LABELS for e in entities):
        return list(entities)
    folded = fold_letters(text)
    sentences = split_sentences(text)
    out: list[Entity] = []
    previous_end: int | None = None
    for e in sorted(entities, key=lambda x: (x.start, x.end)):
        if e.label in (KILLED, WOUNDED):
            s0, s1 = next(((s, t) for s, t in sentences if s <= e.start < t), (0, len(text)))
            floor = previous_end if previous_end is not None and s0 < previous_end <= e.start else s0
            previous_end = e.end
            if (is_mixed_total(text, folded, e.start, e.end, s1) or counts_things(text, folded, e.end, s1)
                    or is_not_casualty(text, folded, e.start, e.end, floor, s1)):
                continue
        out.append(e)
    return out


def _continues_list(text: str, folded: str, previous: Entity, e: Entity) -> bool:
    """«بينهم ثلاث نساء وطفلين»: joined by «و» to the count just before it."""
    between = words_in(text, folded, previous.end, e.start)
    opens_with_and = folded[e.start : e.end].startswith("و") or (bool(between) and between[-1].key == "و")
    return opens_with_and and len(between) <= 2


def relabel_counts(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """``entities`` with each KILLED/WOUNDED count relabelled as its words say (see the module
    docstring); offsets into ``text`` (the normalized text), order and scores are kept."""
    if not any(e.label in COUNT_LABELS for e in entities):
        return list(entities)
    folded = fold_letters(text)
    sentences = split_sentences(text)
    out: list[Entity] = []
    previous: Entity | None = None  # the previous count, relabelled, in text order
    for e in sorted(entities, key=lambda x: (x.start, x.end)):
        if e.label in (KILLED, WOUNDED):
            s0, s1 = next(((s, t) for s, t in sentences if s <= e.start < t), (0, len(text)))
            same_sentence = previous is not None and previous.end > s0 and previous.end <= e.start
            floor = previous.end if same_sentence else s0
            kind = casualty_kind(text, folded, e.start, e.end, floor, s1)
            if kind is None and same_sentence and (
                _is_subset(text, folded, e.start, e.end, s0, s1) or _continues_list(text, folded, previous, e)
            ):
                kind = previous.label  # a part has the kind of its whole, a list item its list's
            if kind is not None and kind != e.label:
                e = replace(e, label=kind)
            previous = e
        out.append(e)
    return out
