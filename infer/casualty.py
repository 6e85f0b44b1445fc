"""Killed or wounded? The kind of a count read from the words around it.

``read_counts(text, entities) -> entities`` (what the pipeline calls: both steps below in one
pass over the article) = ``drop_non_casualties(text, relabel_counts(text, entities))``.

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

- mixed totals «سقط عشرات القتلى والجرحى», «20 بين قتيل وجريح» (G11: no
  KILLED/WOUNDED span);
- people arrested, captured, deployed, released, present… «اعتقلت 15 فلسطينيا», «أسر 10
  آخرون», «نشر نحو ألف جندي», «استسلم عشرات», «والمتهم بها 29 شخصا»: the nearest verb before
  the number is one of these and no casualty word follows it in its clause («أسر ستة وقتل 15»
  counts six captured); or, with no cue before, the verb after the counted
  phrase is («العشرات من الحوثيين سلموا أنفسهم»);
- things: the word after the number names a thing («تدمير 13 منزلاً», «12053 غارة»);
- speakers: «وقال ضابط في الشرطة إن …»;
- unsupported counts: the model is unsure (probability under 0.6) and no casualty word is near;
- attackers: the count is the subject of an attack, right after its verb («نفذتهما فتاتان»,
  «فتح خمسة عناصر النار») or before it («نحو مئة مقاتل هاجموا»), and no casualty word follows.

``complete_count_lists(text, entities) -> entities`` adds the items of a located list the model
left untagged («27 منهم في ريف حمص الشرقي [و8] في ريف دير الزور»), with the label of the count
before them and no score (the pipeline runs it after ``read_counts``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

from hasila.infer.actors import Word, bare, words_in
from hasila.infer.arabic.clitics import CLITICS
from hasila.infer.arabic.words import word_list
from hasila.infer.labels import COUNT_LABELS
from hasila.infer.normalize import fold_letters, normalize_for_match
from hasila.infer.sentences import split_sentences
from hasila.infer.types import Entity, Span

__all__ = ["complete_count_lists", "drop_non_casualties", "read_counts", "relabel_counts"]

KILLED, WOUNDED = "KILLED", "WOUNDED"


def _keys(words: str) -> frozenset[str]:
    return frozenset(normalize_for_match(w) for w in words.split())


# Nouns and adjectives that name the casualties themselves.
_KILLED_NOUNS = _keys(" ".join(word_list("killed_nouns")))
_WOUNDED_NOUNS = _keys(" ".join(word_list("wounded_nouns")))
# Verbs and verbal nouns that say what happened to them.
_KILLED_VERBS = _keys(" ".join(word_list("killed_verbs")))
_WOUNDED_VERBS = _keys(" ".join(word_list("wounded_verbs")))
# Verbs that follow their subject («ثمانية أشخاص أصيبوا»); matched without proclitics, so the
# «وأصيب» of the next clause is not one.
_AFTER_VERBS = {KILLED: _keys("قتلوا قتلا قتلن استشهدوا استشهدا لقوا لقيا توفوا ماتوا"),
                WOUNDED: _keys("أصيبوا أصيبا أصبن جرحوا جرحا")}
# Words that may stand between the number and its casualty noun.
_BETWEEN = _keys("آخرين آخرون آخر أخرى أشخاص شخصا شخصاً شخص أشخاصا على الأقل")

_CONJUNCTIONS = CLITICS["conjunction"]
_LOOKBACK_WORDS = 8
_VERB_AFTER = 4
_INJURY_AFTER = 6
_INJURY_PHRASE = _keys("للإصابة للإصابات لإصابات لإصابة لجروح بجروح بجراح")
_SUBSET_AFTER = _keys("منهم منهن منهما")
_SUBSET_BEFORE = _keys("بينهم بينهن منهم معظمهم غالبيتهم أغلبهم")
_NOUN_AFTER = 3  # words after the span searched for the casualty noun


_CASUALTY_NOUNS = _KILLED_NOUNS | _WOUNDED_NOUNS
_ALL_CUES = _CASUALTY_NOUNS | _KILLED_VERBS | _WOUNDED_VERBS
# (kind, its nouns, its nouns and verbs): the sets _kind_of looks words up in.
_KIND_CUES = ((KILLED, _KILLED_NOUNS, _KILLED_NOUNS | _KILLED_VERBS),
              (WOUNDED, _WOUNDED_NOUNS, _WOUNDED_NOUNS | _WOUNDED_VERBS))


def _kind_of(word: Word, nouns_only: bool) -> str | None:
    for kind, nouns, cues in _KIND_CUES:
        if bare(word.key, nouns if nouns_only else cues) is not None:
            return kind
    return None


def _says_casualty(words: Sequence[Word]) -> bool:
    """Whether any of ``words`` is a casualty noun or verb («قتلى», «أصيب»…)."""
    return any(_kind_of(w, nouns_only=False) is not None for w in words)


def _opens_clause(word: Word) -> bool:
    """«وإصابة», «وقتل», «و»: a conjunction that starts the next figure's clause. «فلسطينيين»,
    «وزير» start with the same letters and are no conjunction; «وفاة» is a word of its own."""
    key = word.key
    if key in _CONJUNCTIONS:
        return True
    return key[:1] in _CONJUNCTIONS and key not in _ALL_CUES and bare(key[1:], _ALL_CUES) is not None


@dataclass(frozen=True)
class _Around:
    """The words around one count, read once: its own words, up to eight words before it (back
    to the end of the previous count of its sentence, else the sentence start) and the words
    after it in its sentence (within 80 characters)."""

    count: Entity
    sent_start: int
    sent_end: int
    previous: Entity | None  # the count before it in its sentence (relabelled), if any
    inside: list[Word]
    before: list[Word]
    after: list[Word]

    def after_within(self, chars: int) -> list[Word]:
        return [w for w in self.after if w.end <= self.count.end + chars]


def _around(text: str, folded: str, sentences: Sequence[tuple[int, int]], starts: Sequence[int], e: Entity,
            previous: Entity | None) -> _Around:
    k = bisect_right(starts, e.start) - 1
    s0, s1 = sentences[k] if k >= 0 and e.start < sentences[k][1] else (0, len(text))
    same_sentence = previous is not None and s0 < previous.end <= e.start
    floor = previous.end if same_sentence else s0
    return _Around(
        e, s0, s1, previous if same_sentence else None,
        inside=words_in(text, folded, e.start, e.end),
        before=words_in(text, folded, max(floor, e.start - 200), e.start)[-_LOOKBACK_WORDS:],
        after=words_in(text, folded, e.end, min(s1, e.end + 80)),
    )


def casualty_kind(a: _Around) -> str | None:
    """KILLED or WOUNDED as the words of the count and around it say, or None when they say
    neither."""
    for w in reversed(a.inside):
        if (kind := _kind_of(w, nouns_only=True)) is not None:
            return kind
    after = a.after
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
    for w in reversed(a.before):
        if (kind := _kind_of(w, nouns_only=False)) is not None:
            return kind
    return None


def _is_subset(text: str, folded: str, a: _Around) -> bool:
    """«ثلاثة منهم», «بينهم طفلان»: a part of the figure before it."""
    e = a.count
    after = words_in(text, folded, e.end, min(a.sent_end, e.end + 40))[:2]
    before = words_in(text, folded, max(a.sent_start, e.start - 40), e.start)[-2:]
    return any(w.key in _SUBSET_AFTER for w in after) or any(bare(w.key, _SUBSET_BEFORE) for w in before)


# «استشهاد عشرة من منسوبي القوات إضافة إلى ثلاثة من العاملين»: a list item after «in addition to».
_IN_ADDITION = {tuple(normalize_for_match(w) for w in p.split()) for p in ("إضافة إلى", "بالإضافة إلى", "إضافة الى",
                                                                           "بالإضافة الى", "فضلا عن", "علاوة على")}


def _continues_list(text: str, folded: str, previous: Entity, e: Entity) -> bool:
    """«بينهم ثلاث نساء وطفلين»: joined by «و» to the count just before it; or by «إضافة إلى»,
    «فضلا عن» after the previous count's counted phrase."""
    between = words_in(text, folded, previous.end, e.start)
    opens_with_and = folded[e.start : e.end].startswith("و") or (bool(between) and between[-1].key == "و")
    if opens_with_and and len(between) <= 6:  # «عشرة من منسوبي قوات الطوارئ الخاصة وثلاثة …»
        return True
    return len(between) <= 6 and tuple(w.key for w in between[-2:]) in _IN_ADDITION


def _kind(text: str, folded: str, a: _Around) -> str | None:
    """The count's kind from its words; a part or list item without words of its own takes the
    kind of the count before it."""
    kind = casualty_kind(a)
    if kind is None and a.previous is not None and (
        _is_subset(text, folded, a) or _continues_list(text, folded, a.previous, a.count)
    ):
        kind = a.previous.label  # a part has the kind of its whole, a list item its list's
    return kind


# Verbs and nouns that count people who are not casualties (G8).
_NOT_CASUALTY = _keys(
    "اعتقل اعتقلت اعتقلوا اعتقال باعتقال إيقاف توقيف أوقفت أوقف القبض أسر أسرت أسروا وأسر "
    "استسلم استسلمت استسلام نشر نشرت بنشر انتشار تمتلك يمتلك تملك متنها إطلاق سراح الإفراج أفرج أفرجت "
    "يضم تضم تتكون يتكون حضور سيحضرون يحضر شارك شاركت يشارك مشاركة تجنيد جندت إرسال أرسلت أرسل "
    "تخريج تخرج اختطاف اختطف اختطفت خطف خطفت إجلاء أجلت ترحيل رحلت تدمير دمرت دمر إحراق أحرقت "
    "إسقاط أسقطت إطلاق أطلقت المتهم المتهمين متهم متهمين"
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
_NOT_CASUALTY_AFTER = _keys(
    "سلموا استسلموا فقدوا بقوا عادوا فروا نزحوا انشقوا وصلوا غادروا اعتقلوا سيحضرون يحضرون حضروا "
    "سيشاركون يشاركون شاركوا"
)
_MIXED_AFTER = _keys("والجرحى وجرحى والمصابين ومصابين وجريح والجريح")
_BETWEEN_WORD = normalize_for_match("بين")
_FROM_WORD = normalize_for_match("من")


def is_mixed_total(a: _Around) -> bool:
    """«عشرات القتلى والجرحى», «عدد من القتلى والمصابين», «90 مدنياً بين قتيل وجريح»: dead and
    wounded in one figure."""
    keys = [w.key for w in a.after_within(60)[:4]]
    if _BETWEEN_WORD in keys[:2]:
        return True
    if keys[:1] == [_FROM_WORD]:
        keys = keys[1:]
    return len(keys) >= 2 and bare(keys[0], _CASUALTY_NOUNS) is not None and keys[1] in _MIXED_AFTER


def counts_things(a: _Around) -> bool:
    """The word right after the number is a thing («13 منزلاً», «12053 غارة»)."""
    after = a.after_within(40)[:1]
    return bool(after) and bare(after[0].key, _THING_NOUNS) is not None


_SPEECH_VERBS = _keys("قال وقال يقول ويقول أضاف وأضاف أوضح وأوضح ذكر وذكر أكد وأكد صرح وصرح أفاد وأفاد")
# People nouns that name a speaker as often as a casualty («وقال ضابط في الشرطة إن …»).
_SPEAKER_NOUNS = _keys("ضابط مسؤول قائد قيادي عسكري شرطي جندي عنصر طبيب مسعف شاهد مصدر متحدث ناشط مقاتل")


def is_speaker(a: _Around) -> bool:
    """A one-person count right after a speech verb («وقال ضابط [آخر] في الشرطة إن …»): the
    speaker, not a toll."""
    return (bool(a.before) and a.before[-1].key in _SPEECH_VERBS and len(a.inside) == 1
            and a.inside[0].key in _SPEAKER_NOUNS)


# The count right after one of these verbs is who attacked (VSO: «هجومين نفذتهما فتاتان»).
_ATTACK_BEFORE = _keys(
    "نفذ نفذه نفذها نفذته نفذتها نفذهما نفذتهما شن شنه شنها شنته شنتها هاجم هاجمت فتح فتحت اقتحم "
    "اقتحمت يقودها يقوده فجر فجرها فجره"
)
# … or right after the counted phrase (SVO: «نحو مئة مقاتل من طالبان هاجموا»).
_ATTACK_AFTER = _keys("هاجموا هاجما هاجمتا فتحوا اقتحموا شنوا نفذوا فجروا يهاجمون تسللوا")


def is_attacker(a: _Around) -> bool:
    """The count is the attackers, not casualties: right after an attack verb, or followed within
    five words by one with no casualty word before it; never with a casualty word right after."""
    if _says_casualty(a.after[:_VERB_AFTER]):
        return False
    if a.before and bare(a.before[-1].key, _ATTACK_BEFORE) is not None:  # «وفتح خمسة مسلحين النار»
        return True
    # «قتل 4 جنود هاجموا موقعا»: attackers who were killed are casualties
    return not _says_casualty(a.before) and any(w.key in _ATTACK_AFTER for w in a.after[:5])


def is_not_casualty(a: _Around) -> bool:
    """The nearest cue before the number (back to the floor) counts people arrested, captured,
    deployed…, and no casualty word follows the number (before the next clause: «أسر ستة وقتل
    15» counts six captured)."""
    after = []
    for w in a.after[:_VERB_AFTER]:
        if _opens_clause(w):
            break
        after.append(w)
    if _says_casualty(after):
        return False
    for w in reversed(a.before):
        if bare(w.key, _NOT_CASUALTY) is not None:
            return True
        if _kind_of(w, nouns_only=False) is not None:
            return False
    # no cue before: a verb after the counted phrase may still say it («العشرات منهم سلموا أنفسهم»,
    # «ثلاثة من الصيادين المحليين فقدوا», «40 شخصا بينهم 5 أجانب اعتقلوا»)
    return any(w.key in _NOT_CASUALTY_AFTER for w in a.after[:5])


def _read(text: str, entities: Sequence[Entity], relabel: bool, drop: bool) -> list[Entity]:
    if not any(e.label in COUNT_LABELS for e in entities):
        return list(entities)
    folded = fold_letters(text)
    sentences = split_sentences(text)
    starts = [s for s, _ in sentences]
    out: list[Entity] = []
    previous: Entity | None = None  # the previous count (relabelled), in text order
    for e in sorted(entities, key=lambda x: (x.start, x.end)):
        if e.label in (KILLED, WOUNDED):
            a = _around(text, folded, sentences, starts, e, previous)
            if relabel and (kind := _kind(text, folded, a)) is not None and kind != e.label:
                e = replace(e, label=kind)
            previous = e
            if drop and (is_mixed_total(a) or counts_things(a) or is_not_casualty(a) or is_speaker(a)
                         or is_attacker(a) or is_unsupported(a)):
                continue
        out.append(e)
    return out


# Below this probability the model's own word for a count is weak evidence (measured on the gold
# train and dev splits: unsure counts with no casualty word near them are rarely tolls).
_UNSURE_SCORE = 0.6


def is_unsupported(a: _Around) -> bool:
    """A count the model is unsure of (probability under 0.6) with no casualty word in its
    context (up to eight words before it, its own words, the next 80 characters of its sentence):
    «…، وخمسة آخرين في بناية سكنية» after people holed up, not hurt."""
    score = a.count.span.score
    if score is None or score >= _UNSURE_SCORE:
        return False
    return not _says_casualty(a.before + a.inside + a.after)


def relabel_counts(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """``entities`` with each KILLED/WOUNDED count relabelled as its words say (see the module
    docstring); offsets into ``text`` (the normalized text), order and scores are kept."""
    return _read(text, entities, relabel=True, drop=False)


def drop_non_casualties(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """``entities`` without the KILLED/WOUNDED counts that are not casualty figures (mixed
    totals, people arrested or deployed…; see the module docstring). Other entities stay."""
    return _read(text, entities, relabel=False, drop=True)


def read_counts(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """Both steps in one pass: counts relabelled by their words, then those that are no
    casualties dropped (equal to ``drop_non_casualties(text, relabel_counts(text, entities))``)."""
    return _read(text, entities, relabel=True, drop=True)


# «27 منهم في ريف حمص الشرقي و8 في ريف دير الزور»: a located count, then «و» + digits + a place.
_NEXT_LOCATED_PART = re.compile(r"\s*(?:منهم\s+|منهن\s+)?(?:في|ب)\S*(?:\s+[^\s.،,؛:!?؟]+){0,5}?\s+و\s?(\d+)\s+(?:في|ب)")


def complete_count_lists(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """``entities`` plus the list items the model left untagged after a located count: in
    «27 منهم في ريف حمص الشرقي و8 في ريف دير الزور» with «27» tagged, «8» gets its label (the
    parts of a breakdown by place). Added counts carry no score; nothing is removed or moved."""
    counts = sorted((e for e in entities if e.label in COUNT_LABELS), key=lambda e: e.start)
    if not counts:
        return list(entities)
    taken = [(e.start, e.end) for e in entities]
    added: list[Entity] = []
    for e in counts:
        m = _NEXT_LOCATED_PART.match(text, e.end)
        if m is None:
            continue
        s0, s1 = m.span(1)
        if any(a < s1 and s0 < b for a, b in taken):
            continue
        new = Entity(e.label, Span(s0, s1, text[s0:s1]))
        added.append(new)
        taken.append((s0, s1))
    return sorted([*entities, *added], key=lambda x: (x.start, x.end)) if added else list(entities)
