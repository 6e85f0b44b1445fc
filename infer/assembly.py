"""Incident assembly: the model's spans of one article → incident records.

``assemble_incidents(norm, entities, article_date) -> list[Incident]``

``entities`` carry offsets into ``norm.text`` (the normalized text the model read); every span
of the returned incidents is in ORIGINAL offsets (``norm.original_span``), so
``span.text == norm.original[start:end]``. Only KILLED/WOUNDED spans (called *figures* below)
create incidents; other numbers never do. Cue words are matched on ``fold_letters(norm.text)``.

Rules, in the order they are applied (the tests in tests/test_assembly.py follow them):

1. **Page furniture.** Entities after ``content_end`` (comments, related titles, tags…) or
   inside a furniture span (ad markers, «اقرأ أيضا» lines) are ignored. Sentences come from
   ``split_sentences`` over the content, clauses from ``split_clauses``.
2. **Figures.** Each figure is read with ``parse_quantity(span, before, after)`` with up to
   four words of its sentence on each side (so «على الأقل», «ما لا يقل عن» are seen). A figure
   that cannot be read is dropped and listed in ``extra["unread_counts"]`` of the incidents of
   its sentence.
3. **Cumulative statistics** are not incidents: a figure whose clause has «منذ» followed
   (within two words) by a long period — a year, month name, «العام», «الشهر», «أسبوع»,
   «الحرب», «اندلاع»… («1362 قتيلاً منذ آذار 2019», «منذ بداية العام») — or «خلال» + a period of
   a week or more («خلال الشهر الماضي»). «منذ صباح اليوم», «منذ يومين», «منذ بدء الهجوم» are
   the event's own toll and stay. Subsets of a cumulative figure go with it.
   3b. Also cumulative: a clause counting over months or a period («خلال 10 أشهر», «في الأشهر
   القليلة الماضية», «طوال الفترة»), a report's statistics («العدد الإجمالي», «الحصيلة
   الشهرية», «إحصائيات») and «منذ» with a year within six words («منذ أن … في 2013»)
   (guideline rules 4, 14, 31). And any figure of 500 or more: a toll that large is a statistic
   or a war's dead, not one attack (the largest single-incident figures in the gold train and dev
   splits are 101 dead and 227 wounded). Every figure of a sentence that reads like a
   report's table («كانت بغداد الأكثر تضررا … تلتها ديالى ب 170 قتيلا», «شهد تموز الماضي مقتل
   844»), and «آخرون» told right after a cumulative figure («قتلوا خلال شهر يوليو فيما أصيب 492
   آخرون»).
   3c. A toll over a week at most («خلال الأسبوع الماضي») whose parts are told by place and add up
   to it is its attacks (guideline rules 2, 31): the parts are the incidents; by side or kind, or
   with no breakdown, it stays cumulative.
4. **Breakdowns.** A figure T followed (in its sentence, or starting the next one) by two or
   more figures of the same label whose values add up exactly to T. When each part has its own
   place (or date), T is a total over several events («35 … 27 في ريف حمص … و8 في ريف دير
   الزور»): ACLED codes one row per event, so the parts become the incidents
   (``extra["of_total"]`` = T, each its own event) and T is not an incident — nothing is counted
   twice. When the parts split one event by kind or side («8 قتلى: 5 جنود و3 ضباط»), T is the
   incident and they are its ``parts`` (guideline rule 15). Parts starting in the next sentence
   count only after a subset cue («وقتل 27 منهم …») or when T names no place of its own (else
   «10 في إدلب. و6 في حلب و4 في حماة» are three events). The same holds when the total comes
   after its parts and is told as a total («… ليرتفع عدد القتلى إلى 8», «مجموع», «حصيلة»):
   then it is neither an update nor an extra incident.
5. **Subsets.** A figure after «بينهم», «من بينهم», «منهم», «بينهن», «معظمهم», «غالبيتهم» …
   or followed by «منهم» («3 منهم ضباط») is a part of the nearest earlier figure of the same
   label (in its sentence, or the previous sentence when it opens its sentence) that is not
   smaller: it goes to ``extra["parts"]`` of that incident and never makes its own. Figures
   that continue a list of parts («بينهم 6 ضباط و4 عناصر», joined by «و»/«،», no new casualty
   verb, no different named side) are parts too while the parts stay within the whole, and so is
   a figure that «و» joins to the list within six words of the cue («بينهم نساء وأطفال وشرطي»,
   «بينهم أربعة أطفال وامرأة»). When no
   such whole exists the figure is an ordinary one.
   5b. **Named lists** (guideline rule 16): lone titles listed with their names
   («استشهاد العريف [PER]، والجندي [PER]، والجندي [PER]»: value-1 figures of one label, one
   sentence, joined by «،»/«و», a PER between each two, no new casualty verb) are one figure
   whose value is the number named; the later titles are its ``parts``.
6. **Updates.** A figure right after «ارتفع/ارتفعت/ليرتفع/وصل/بلغ … إلى [نحو …]» updates
   the latest earlier incident with the same label, a compatible victim and a compatible
   place (see 7b): the new figure replaces the old one, which goes to
   ``extra["superseded"]`` (ACLED overwrites a rising toll); the evidence grows to cover both.
   Without such an incident it is an ordinary figure.
7. **Grouping.** Within a sentence, figures in text order fill incidents: a figure joins the
   current incident unless that incident already has a figure of its label, or their victims
   conflict (civilians vs combatants, or two different named sides — names compared with
   ``actors.actor_key``, so «قوات النظام» = «قوات الأسد»), or both have their own and different
   places. So «مقتل 43 مدنيا وإصابة 173» is one incident, and «قتل 5 من قوات النظام و3 من
   عناصر التنظيم» is two: the schema has one killed figure per incident, so there is one
   incident per victim side, and incidents from one sentence share ``extra["event_group"]``
   (the same event: UCDP's deaths_a/deaths_b, ACLED's one row) unless they were split by
   place. A sentence whose first figure is followed by «آخرين/آخرون» («وأصيب 3 آخرون»)
   continues the previous sentence's first incident that lacks that label. A figure also joins
   an update of its sentence («ارتفعت الحصيلة إلى 15 قتيلاً، فيما أصيب نحو 30»): it goes with
   the updated incident.
   7b. **Repeats.** An incident whose figures equal an earlier incident's (same label, same
   value, at least one in common) from another sentence, with no conflicting victim and no
   disjoint place (place names compared without «ريف», «مدينة», «شرقي»…), is the same report
   told again — typically the headline and the lead, or a lead and the quote that repeats it.
   Figures of 10 or more merge even where the tellings name different places (a province,
   then a district of it). They become one incident at the **first** telling (its count span,
   and what its sentence says: that is what annotators code); later tellings go to
   ``extra["repeats"]`` and supply what the first does not say (a date; a place that names the
   first one's and more, «بادية السخنة شرقي حمص» after «بادية حمص»). A figure
   equal to a total that rule 4 split into its attacks (a headline «مقتل 35» over «27 … و8»)
   is that total told again: it goes to the first part's ``repeats``, never an incident.
   7d. **Told again in one sentence.** Within one event (a run-on paragraph, a lead and the quote
   that repeats it), a later incident whose every figure has the value of an earlier one's,
   with the same victim words or none, is that toll told again: its figures go to the earlier
   incident's ``repeats``. Not when its dead are «آخرين» (others), nor for nouns that count by
   themselves and differ («ضابطان اثنان وجنديان»). Applied before 7c, which it would otherwise
   trigger (equal tolls look like sides).
   7c. **Wounded of no side** (guideline rule 23): when one event's dead are split into incidents
   by side in the wounded's own sentence, a wounded figure that names no side («وإصابة 7
   آخرين») is an incident of its own in that event (killed null, victim null), not a figure of
   the last side's incident.
8. **Victim** (see ``actors.find_victim``): the named side after the figure (the ORG after
   «من»/«في صفوف», else the group noun phrase), else the people noun («مدنيا»), else the side
   named before it («قتلى قوات النظام»), else the count's own people word («شخصان»,
   «ضابطين»). A named victim wins over a people noun. When the figure names no side or only
   members of one («7 عناصر», «أفراد», «مقاتلين»; not «14 جنديا أفغانيا», «جنود», «شرطي», which
   say the side already; civilians and persons «أشخاص» stay what they are), the ORG attacked in
   the sentence («هجوم على قوات النظام», «نقطة لقوات النظام»; ``actors.find_targets``) — or in the attack
   an earlier sentence told, when this one refers back to it — is the victim, unless it is
   the attacker. Civilians stay civilians. The parts of a breakdown take their total's
   victim and attacker when they name none.
9. **Location**: the figure's own LOC (after it, before the next figure, in its clause), else
   the first LOC of the sentence introduced by a place word («في», «ب…», «قرب», «شمال»…), else
   the sentence's first LOC, else the location of the nearest of the three previous sentences
   that has one. LOCs chained right after it («… بريف دير الزور الشرقي») are the context, in
   ``extra["location_context"]``: the first LOC of the chain is the most specific, and a LOC
   that only encloses the one before it («قضاء البعاج شمال غرب بغداد») is never chosen.
   Place words include administrative heads («قضاء», «ناحية», «ولاية», «بلدتي»…).
   9b. **Two places** joined by «و» («بلدتي الفوعة وكفريا في محافظة إدلب»): the event's place
   is the smallest place named around the pair (guideline rule 21), else the first of them.
   9c. **Country first, town later**: when that place is a country or a wide region («شمال
   الكاميرون», «في العراق», «سيناء»), a specific place that one of the next three sentences says
   the attack happened at («ووقع التفجيران في مدينة مروة», «وأسفر الهجوم الذي وقع في بلدة طوز
   خورماتو») is the event's place (``inherited``); the search stops at a sentence telling another
   attack («وفي هجوم آخر»).
10. **Date**: the DATE of the sentence nearest to the figure, else one of a sentence telling the
    figure again (rule 7b), else the first DATE of the nearest dated sentence among the three
    before it. Not event dates: DATEs after «منذ» (periods) and the date of the report
    («أفاد المرصد اليوم الإثنين بمقتل …»: a DATE between a reporting verb and its source, or
    right after the source; guideline rule 19). Resolved with ``resolve_date`` against the
    article date.
11. **Source**: the reporting name (``actors.find_sources``) nearest before the figure in its
    sentence, else the first one after it in the sentence, else one of a sentence that tells the
    figure again (rule 7b), else the nearest one before it in its paragraph; figures the article tells with no attribution have none (guideline: the outlet's
    own reporting → null). A perpetrator's claim channel («وكالة أعماق») is
    a source like any other.
12. **Perpetrator**: the attacker named by a cue in the sentence (``actors.find_perpetrators``)
    nearest to the figure, never the victim (by ``actor_key``: «تنظيم داعش» is not the
    perpetrator of «التنظيم»'s losses) nor, unless it claims the attack, the source; when the
    sentence names none but refers back to an attack («في الهجوم», «خلال الاشتباكات»), the one
    named in the nearest of the three previous sentences. Failing that, for combatant
    casualties of a two-sided event, the other side's named victim (each side's dead were
    caused by the other; ``extra["perpetrator_is_other_side"]``). Else null.
13. **Evidence** is the hull of the sentences the figures came from (and the figure spans).
    Fields taken from other sentences are listed in ``extra["inherited"]``.
14. **Confidence** = s · (0.5 + 0.1 · n), times 0.8 when no figure has a value (vague «عدد
    من»): s is the mean model score of the incident's figures (1.0 for spans without a score,
    i.e. hand-made ones), n the number of the five fields victim, perpetrator, location, date,
    source that were found. A certain figure with everything found scores s; a bare figure
    half of it.
15. **Background.** An incident whose own sentence dates it more than 14 days before the
    article (its latest possible day, for week/month/year precision) is an old event recalled
    as background, not news (guideline rule 13): dropped. Inherited dates never drop one.
16. **Disputes.** Incidents of one event with different figures from different sources (two
    outlets, or the perpetrator's claim against an observatory) stay separate, each with its
    source, and are marked ``extra["disputed"]`` (guideline rule 6).
17. **Not armed violence** (guideline rule 10): a figure whose sentence names an accident, a
    disaster or a disease («حادث غرق», «حادث مروري», «حريق», «انهيار», «سيول», «وباء») and no
    armed-violence word («هجوم», «قصف», «مسلحين», «عبوة»…) makes no incident.
18. **Bodies found** (guideline rules 12, 31): a figure next to a body noun («جثة», «جثتي»,
    «جثث») in a clause that says they were found («العثور», «عثرت», «انتشال») makes no
    incident.
19. **Early tolls**: a figure told as the first or preliminary toll («الحصيلة الأولية»,
    «وكانت الحصيلة») is an earlier figure of an event told elsewhere: it goes to
    ``extra["superseded"]`` of the nearest incident with that label (and a compatible victim),
    never its own incident; with no such incident it is an ordinary figure.
20. **References to an earlier attack** (guideline rule 13): a figure in a clause that refers
    back to an attack the sentence is not about («في أعقاب هجوم مسلح على منتجع قتل فيه عشرات»,
    «في قضية تفجير المسجد الذي قتل فيه نحو 30», «بعد ثلاث سنوات على إطلاق النار الذي قتل فيه
    12») makes no incident, unless the reference is dated (then rule 15 decides by the date);
    nor does a figure told «back then» («وقتل حينها 14», «قتل آنذاك خمسة»).

21. **The state of casualties already told**: «أحد الجرحى خضع للجراحة», «أربعة من المصابين في
    حالة خطرة», «ومن بين المصابين 11 رجل إطفاء», «20 جريحا ما زالوا في حالة حرجة» — a figure of
    the wounded or dead («من الجرحى», «بين المصابين») or one that says how they are («في حالة
    حرجة», «خرجوا من المستشفى») with no casualty verb before it in its clause makes no incident.

22. **Tolls of several attacks** (guideline rule 2): a figure whose clause tells several attacks
    («في سلسلة تفجيرات», «تعرضت لثلاثة اعتداءات أوقعت 44», «تفجيرات في أنحاء العراق أدت إلى
    مقتل 32») makes no incident of its own when the article tells other figures of its own (the
    attacks one by one make the incidents), unless one attack is named between the cue and the
    figure («عدة هجمات من بينها الهجوم الذي أوقع 32»). When the total is all the article gives,
    it is the incident.

``Incident.extra`` keys (written next to the schema's fields by ``Incident.to_json``):
``event_group`` (int, always: equal numbers = one event), ``parts`` (subset counts),
``of_total`` (list of the totals a breakdown part belongs to), ``superseded`` (earlier tolls
an update replaced), ``repeats`` (the same figures told again elsewhere), ``location_context`` (spans
of the enclosing places), ``unread_counts`` (figures ``parse_quantity`` refused),
``inherited`` (fields taken from sentences outside the incident's evidence), ``perpetrator_is_other_side``,
``disputed``. Count entries carry their ``label``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Sequence

from .actors import (
    Mention,
    Victim,
    actor_key,
    bare,
    find_perpetrators,
    find_sources,
    find_targets,
    find_victim,
    has_attack_anaphora,
    victims_conflict,
    words_in,
)
from .dates import MONTHS, latest_day, resolve_date
from .furniture import furniture
from .labels import COUNT_LABELS
from .normalize import NormalizedText, fold_letters
from .quantity import QuantityError, parse_quantity
from .sentences import paragraph_starts, split_clauses, split_sentences
from .types import Count, DateRef, Entity, HasilaError, Incident, Quantity, Span

__all__ = ["assemble_incidents"]

log = logging.getLogger(__name__)

_CONTEXT_WORDS = 4
_NEWS_DAYS = 14  # older events told in an article are background (guideline rule 13)
_CONTEXT_CHARS = 120
_LOOKBACK_SENTENCES = 3


def _cue(pattern: str) -> re.Pattern[str]:
    return re.compile(fold_letters(pattern))


_MONTH_WORDS = "|".join(sorted({re.escape(fold_letters(m)) for m in MONTHS}, key=len, reverse=True))
_LONG_PERIOD = (
    r"(?:ال)?(?:عام|سنة|سنوات|أعوام|شهر|أشهر|شهور|أسبوع|أسابيع|أسبوعين|شهرين|عامين|سنتين|حرب|ثورة|"
    r"أزمة|نزاع|صراع|أحداث)|اندلاع|انطلاق|" + _MONTH_WORDS + r"|\d{4}"
)
_CUMULATIVE = _cue(
    rf"(?<!\w)(?:و|ف)?(?:منذ\s+(?:\w+\s+){{0,2}}?(?:{_LONG_PERIOD})"
    r"|خلال\s+(?:ال)?(?:عام|سنة|سنوات|أعوام|شهر|أشهر|شهور|أسبوع|أسابيع|أسبوعين|شهرين|عامين|سنتين))(?!\w)"
)
_QUALIFIER_WORDS = r"(?:(?:نحو|حوالي|حوالى|قرابة|زهاء|أكثر|أقل|من|ما|لا|يقل|يزيد|عن|على|الأقل|يقارب)\s+){0,4}"
_UPDATE = _cue(
    r"(?<!\w)(?:و|ف|ل)?(?:ارتفع|ارتفعت|يرتفع|ترتفع|وصل|وصلت|يصل|تصل|بلغ|بلغت|يبلغ|تبلغ|رفع|ترفع|يرفع)"
    rf"(?!\w)[^.!?؟]*?(?<!\w)(?:إلى|الى)\s+{_QUALIFIER_WORDS}$"
)
_PART_BEFORE = _cue(
    r"(?<!\w)(?:و|ف)?(?:من\s+)?(?:بينهم|بينهن|بينهما|بينها|منهم|منهن|منهما|ضمنهم|ضمنهن|معظمهم|معظمهن|"
    rf"أغلبهم|أغلبهن|غالبيتهم|غالبيتهن|أكثرهم)\s+{_QUALIFIER_WORDS}$"
)
# A later item of a list of parts: «بينهم أربعة أطفال [وامرأة]», «بينهم نساء وأطفال [وجندي]».
_PART_LIST = _cue(
    r"(?<!\w)(?:و|ف)?(?:من\s+)?(?:بينهم|بينهن|منهم|منهن|ضمنهم|ضمنهن)\s+(?:[^\s.،,؛:!?؟]+\s+){1,6}$"
)
_PART_AFTER = _cue(r"^\s*(?:\w+\s+)?(?:منهم|منهن|منهما|من\s+بينهم)(?!\w)")
_OTHERS_AFTER = _cue(r"^\s*(?:\w+\s+)?(?:آخرين|آخرون|آخر|أخرى|أخريات)(?!\w)")
_NEW_CASUALTY_VERB = _cue(
    r"(?<!\w)(?:و|ف)?(?:قتل|قتلت|مقتل|أصيب|أصيبت|إصابة|جرح|جرحت|سقوط|سقط|استشهد|لقي|لقوا|مصرع)(?!\w)"
)
_PLACE_WORDS = _cue(
    r"(?<!\w)(?:في|ب|قرب|بالقرب|عند|شمال|جنوب|شرق|غرب|شمالي|جنوبي|شرقي|غربي|محيط|أطراف|ريف|داخل|"
    r"مدينة|بلدة|قرية|بادية|منطقة|محافظة|حي|على\s+طريق|طريق|وسط|ضواحي|"
    r"قضاء|ناحية|ولاية|مديرية|إقليم|اقليم|مقاطعة|ضاحية|أحياء|بلدتي|قريتي|مدينتي|جبهة|جبهات|مخيم)\s*$"
)
_HQ_WORDS = _cue(r"(?<!\w)(?:ومقره|مقره|ومقرها|مقرها|ومركزه|مركزه|ومقرّه)\s*$")
# «المعارك المستمرة منذ 2 آذار»: the period belongs to a noun, not to the figure.
_PERIOD_OF_NOUN = _cue(
    r"(?<!\w)(?:ال)?(?:مستمر|مستمرة|دائر|دائرة|متواصل|متواصلة|التي|الذي|اندلعت|اندلع|بدأت|بدأ|تدور|يدور|"
    r"تتواصل|يتواصل|تستمر|يستمر)\s+$"
)
# A figure told as the sum of what came before it.
_TOTAL_CUE = _cue(
    r"(?<!\w)(?:و|ف|ب|ل)?(?:ال)?(?:مجموع|إجمالي|اجمالي|حصيلة|عدد|يصبح|ليصبح|لتصبح|يرتفع|ليرتفع|لترتفع|ترتفع|"
    r"ليبلغ|لتبلغ|يبلغ|تبلغ|الكلي|الكلية|الإجمالية)(?!\w)"
)
_SINCE_BEFORE = _cue(r"(?<!\w)منذ\s+(?:\w+\s+){0,2}$")
# Rule 3b: counts over months, a report's statistics («خلال 10 أشهر», «في الأشهر القليلة
# الماضية», «العدد الإجمالي للقتلى», «إحصائيات», «الحصيلة الشهرية», «منذ أن … في 2013»).
_CUMULATIVE_MORE = _cue(
    r"(?<!\w)(?:و|ف)?(?:خلال|طوال|على\s+مدى|على\s+مدار)\s+(?:\w+\s+){0,2}?(?:ال)?(?:أشهر|شهور|أسابيع|سنوات|أعوام|فترة|الفترة)(?!\w)"
    r"|(?<!\w)(?:في|خلال)\s+(?:ال)?(?:أشهر|شهور|أسابيع|سنوات|أعوام)\s+(?:القليلة\s+)?(?:ال)?(?:ماضية|أخيرة)(?!\w)"
    r"|(?<!\w)(?:ال|وال|بال|لل)?(?:عدد|حصيلة|مجموع)\s+(?:ال)?(?:إجمالي|اجمالي|كلي|إجمالية|اجمالية|كلية|شهرية|سنوية)(?!\w)"
    r"|(?<!\w)(?:ال|وال|بال)?(?:إحصائيات|احصائيات|إحصائية|احصائية|إحصاءات|احصاءات)(?!\w)"
    r"|(?<!\w)منذ\s+(?:\S+\s+){0,6}?\d{4}(?!\d)"
)
# A report's tables, for the whole sentence: «كانت بغداد الأكثر تضررا حيث سجلت سقوط 335 قتيلا
# … تلتها ديالى ب 170 قتيلا», «شهد تموز الماضي مقتل 844 مدنيا».
_STATISTICS_TABLE = _cue(
    r"(?<!\w)(?:ال)?(?:أكثر|اكثر)\s+تضررا(?!\w)"
    r"|(?<!\w)(?:و|ف)?(?:ب|ل|لل|ال|بال)?(?:إحصائيات|احصائيات|إحصائية|احصائية|إحصاءات|احصاءات)(?!\w)"
    rf"|(?<!\w)(?:و)?شهد\s+(?:شهر\s+)?(?:{_MONTH_WORDS})(?!\w)"
)
# Rule 17: casualties of accidents, disasters and disease (guideline rule 10) — a sentence
# that names one of these and no armed violence («لقوا حتفهم في حادث غرق مركب»).
_ACCIDENT = _cue(
    r"(?<!\w)(?:و|ب|ف|ل)?(?:ال)?(?:حادث\s+(?:ال)?(?:مروري|سير|غرق|تصادم|انقلاب|اصطدام)|حوادث\s+(?:ال)?(?:مرور|سير|طرق)|"
    r"غرق|غرقا|اصطدام|تصادم|انقلاب|حريق|حرائق|انهيار|سيول|فيضان|فيضانات|زلزال|أمطار|امطار|صاعقة|عاصفة|"
    r"تدافع|تسمم|وباء|فيروس|كورونا|الكوليرا|كوليرا|الحمى|حمى|متلازمة|موجة\s+حر|ماس\s+كهربائي|تشخيص|مرض|أمراض|سرطان)(?!\w)"
)
_ARMED = _cue(
    r"(?<!\w)(?:و|ب|ف|ل)?(?:ال)?(?:هجوم|هجمات|هاجم|تفجير|تفجيرات|انتحاري|انتحارية|مفخخ|مفخخة|ناسفة|ناسف|عبوة|عبوات|"
    r"قصف|غارة|غارات|اشتباك|اشتباكات|مسلح|مسلحون|مسلحين|رصاص|برصاص|إطلاق|اطلاق|قناص|صاروخ|صواريخ|قذيفة|قذائف|"
    r"هاون|معارك|معركة|كمين|اغتيال|ذبح|إعدام|اعدام|أعدم|طعن|إرهابي|ارهابي|إرهابية|ارهابية|مقاتلات|داعش|تنظيم|"
    r"ميليشيا|ميليشيات|مليشيا|مليشيات|متمردين|المتمردون|قوات|الجيش|عملية|عسكرية|اعتداء|استهداف|استهدف)(?!\w)"
)
# Rule 20: a figure in a relative clause about an earlier attack the sentence refers to
# («في أعقاب هجوم مسلح على منتجع قتل فيه عشرات», «في قضية تفجير المسجد الذي قتل فيه 30»).
_REFERENCE_TO_ATTACK = _cue(
    r"(?<!\w)(?:و|ف)?(?:في\s+)?(?:أعقاب|اعقاب|عقب|إثر|اثر|خلفية|قضية|محاكمة|ذكرى|بذكرى|التحقيق\s+في|التحقيقات\s+في"
    r"|بعد\s+(?:\w+\s+){0,3}?(?:سنوات|أعوام|سنة|عام|عامين|سنتين|أشهر|شهور|شهر|شهرين|أسابيع|أسبوعين)(?:\s+\w+)?\s+(?:على|من))(?!\w)"
    r"[^.!?؟]*?(?<!\w)(?:الذي|التي|والذي|والتي|قتل\s+فيه|قتل\s+فيها|قتلت\s+فيه)(?!\w)[^.!?؟]*$"
)
# Rule 20: «وقتل حينها 14», «وقد قتل آنذاك خمسة»: the toll of an earlier event the article
# recalls, when the word opens its sentence (mid-sentence it can be the time of the attack just
# told: «هاجم مسلحون حاجزا وقتل حينها 4 جنود»).
_BACK_THEN_REACH = 20
_BACK_THEN = _cue(r"(?<!\w)(?:و)?(?:حينها|حينذاك|آنذاك|انذاك|وقتها|وقتذاك|يومها|يومذاك|في\s+حينه)(?!\w)")
# Rule 18 (guideline rule 31): bodies found — «العثور على جثتي شرطيين», «انتشال 11 جثة».
_BODY_NOUN = _cue(r"(?<!\w)(?:و|ب)?(?:ال)?(?:جثة|جثث|جثتي|جثتين|جثتا|جثمان|جثامين|رفات)(?!\w)")
_FOUND = _cue(r"(?<!\w)(?:و|ف)?(?:عثر|عثرت|يعثر|العثور|عثور|انتشال|انتشلت|انتشل|اكتشاف|اكتشفت|وجدت|مرمية|ملقاة)(?!\w)")
# Rule 22: a toll over several attacks («في سلسلة تفجيرات», «تفجيرات في أنحاء العراق أدت إلى
# مقتل 32», «تعرضت لثلاثة اعتداءات أوقعت 44»): a total, not one incident.
_SEVERAL_ATTACKS = _cue(
    r"(?<!\w)(?:و|ف|ب|ل)?(?:سلسلة|موجة)\s+(?:من\s+)?(?:ال)?(?:تفجيرات|هجمات|انفجارات|اعتداءات)(?!\w)"
    r"|(?<!\w)(?:ل|ب)?(?:\d+|ثلاث|ثلاثة|أربع|أربعة|خمس|خمسة|ست|ستة|سبع|سبعة|عدة)\s+(?:ال)?(?:تفجيرات|هجمات|انفجارات|اعتداءات)(?!\w)"
    r"|(?<!\w)(?:ال)?(?:تفجيرات|هجمات|اعتداءات)\s+(?:متفرقة\s+)?(?:في|ب)\s+(?:أنحاء|انحاء|مناطق|مختلف|عدة)(?!\w)"
)
# «عدة هجمات من بينها الهجوم الذي أوقع 32 قتيلا»: one attack of them, named after the cue.
_ONE_ATTACK = _cue(r"(?<!\w)(?:ال)?(?:هجوم|تفجير|انفجار|اعتداء|الهجوم|التفجير|الانفجار|الاعتداء)(?!\w)")


def _drop_totals_of_attacks(all_figs: list["_Figure"]) -> None:
    """Rule 22 (guideline rule 2): a toll of several attacks is no incident when the article
    tells attacks of its own elsewhere; when it is all the article gives, it is the incident."""
    for total in [f for f in all_figs if f.several_attacks]:
        # the total's own wounded, or «وأصيب 50 آخرون» after it, are no attacks of their own
        if any(f.role == "event" and not f.several_attacks and not f.others and f.sentence is not total.sentence
               for f in all_figs):
            total.role = "not_event"


def _is_total_of_attacks(folded: str, f: "_Figure") -> bool:
    """Rule 22: the figure's clause tells a toll of several attacks, and no single attack is
    named between that cue and the figure."""
    cs, ce = f.clause
    for m in _SEVERAL_ATTACKS.finditer(folded, cs, ce):
        between = (m.end(), f.start) if m.end() <= f.start else (f.end, m.start())
        if between[0] <= between[1] and not _ONE_ATTACK.search(folded, *between):
            return True
    return False


# Rule 3c: a campaign over a week at most; broken down by place, its parts are the attacks.
_SHORT_CAMPAIGN = _cue(r"(?<!\w)(?:و|ف)?خلال\s+(?:ال)?(?:أسبوع|اسبوع|الأسبوع|الاسبوع)(?:\s+(?:ال)?(?:ماضي|الماضي|أخير|الأخير))?(?!\w)")


# Rule 21: the state of casualties already told.
_OF_THE_CASUALTIES_AFTER = _cue(
    r"^\s*(?:(?:\w+\s+)?(?:من|بين)\s+(?:ال)?|ال)(?:جرحى|مصابين|قتلى|ضحايا)(?!\w)"
)
_OF_THE_CASUALTIES_BEFORE = _cue(r"(?<!\w)(?:و)?(?:من\s+)?بين\s+(?:ال)?(?:جرحى|مصابين|مصابون|قتلى|ضحايا)\s+$")
_STATE_AFTER = _cue(
    r"^[^.!?؟،,]{0,40}?(?<!\w)(?:(?:في|ب)\s*(?:ال)?(?:حالة|حالات|وضع)\s+(?:\w+\s+)?(?:ال)?(?:حرجة|خطرة|خطيرة|حرج|خطر|مستقرة|صحية)"
    r"|(?:حالتهم|حالاتهم|حالتها|حالته|حالتهما|حالاتهما|وضعهم|وضعه)\s+(?:ال)?(?:حرجة|خطرة|خطيرة|مستقرة)"
    r"|خرجوا|غادروا|خرج|غادر|خضع|خضعوا|يخضع|يخضعون|ما\s+زالوا|مازالوا|لا\s+يزالون|ما\s+زال|لا\s+يزال|يتلقون|يتلقى)(?!\w)"
)


# «أسفر الهجوم عن 5 جرحى في حالة خطرة»: a toll told anew, with the state of its wounded.
_TOLL_VERB = _cue(r"(?<!\w)(?:و|ف|م|ما)?(?:أسفر|أسفرت|يسفر|تسفر|أدى|أدت|يؤدي|تؤدي|خلف|خلفت|أوقع|أوقعت|حصيلة)(?!\w)")


def _is_state_of_casualties(folded: str, f: "_Figure") -> bool:
    """Rule 21: «أحد الجرحى خضع للجراحة», «أربعة من المصابين في حالة خطرة»."""
    cs, ce = f.clause
    if _NEW_CASUALTY_VERB.search(folded, cs, f.start) or _TOLL_VERB.search(folded, cs, f.start):
        return False
    after = folded[f.end : ce]
    # «العديد من الجرحى», «عشرات القتلى» are how vague tolls are told, not a part of one
    return bool(
        (f.quantity.qualifier != "vague" and _OF_THE_CASUALTIES_AFTER.match(after))
        or _OF_THE_CASUALTIES_BEFORE.search(folded[cs : f.start])
        or _STATE_AFTER.match(after)
    )


# Rule 19: an early toll of the same event («وكانت الحصيلة الأولى أشارت إلى سقوط تسعة»).
_EARLY_TOLL = _cue(
    r"(?<!\w)(?:ال)?حصيلة\s+(?:\w+\s+){0,2}?(?:ال)?(?:أولية|اولية|أولى|اولى|سابقة|أولي|اولي)(?!\w)"
    r"|(?<!\w)(?:و)?كانت\s+(?:ال)?حصيلة(?!\w)"
)


@dataclass
class _Sentence:
    index: int
    start: int
    end: int
    paragraph: int
    clauses: list[tuple[int, int]]
    entities: list[Entity] = field(default_factory=list)
    figures: list["_Figure"] = field(default_factory=list)
    sources: list[Mention] = field(default_factory=list)
    perpetrators: list[Mention] = field(default_factory=list)
    targets: list[Mention] = field(default_factory=list)
    locations: list[Entity] = field(default_factory=list)
    dates: list[Entity] = field(default_factory=list)

    def clause_of(self, pos: int) -> tuple[int, int]:
        for s, e in self.clauses:
            if s <= pos < e:
                return s, e
        return self.start, self.end


# Roles of figures that are no incident of their own, whatever else holds (rules 3, 17-20).
_NO_INCIDENT_ROLES = ("cumulative", "not_event", "early")


@dataclass
class _Figure:
    entity: Entity
    sentence: _Sentence
    clause: tuple[int, int]
    quantity: Quantity
    role: str = "event"  # event | cumulative | not_event | early | part | total | update
    victim: Victim | None = None
    place: Entity | None = None  # the figure's own LOC
    own_date: Entity | None = None
    whole: "_Figure | None" = None
    parts: list["_Figure"] = field(default_factory=list)
    of_total: "_Figure | None" = None
    split_by_place: bool = False
    others: bool = False
    several_attacks: bool = False  # rule 22: the clause tells a toll of several attacks
    campaign: bool = False  # rule 3c: cumulative over a week at most («خلال الأسبوع الماضي»)

    @property
    def label(self) -> str:
        return self.entity.label

    @property
    def start(self) -> int:
        return self.entity.start

    @property
    def end(self) -> int:
        return self.entity.end

    @property
    def value(self) -> int | None:
        return self.quantity.value


@dataclass
class _Slot:
    figures: dict[str, _Figure]
    group: int
    superseded: list[_Figure] = field(default_factory=list)
    repeats: list[_Figure] = field(default_factory=list)
    sentences: set[int] = field(default_factory=set)

    @property
    def first(self) -> _Figure:
        return min(self.figures.values(), key=lambda f: f.start)

    def victim(self) -> Victim | None:
        victims = [f.victim for f in sorted(self.figures.values(), key=lambda f: f.start) if f.victim]
        named = [v for v in victims if v.named]
        return named[0] if named else (victims[0] if victims else None)

    def place(self) -> Entity | None:
        for f in sorted(self.figures.values(), key=lambda f: f.start):
            if f.place is not None:
                return f.place
        return None

    def absorb(self, other: "_Slot") -> None:
        """Take what ``other`` kept beside its figures (earlier and repeated figures, sentences)
        when ``other`` merges into this incident; the figures are the merging rule's business."""
        self.superseded.extend(other.superseded)
        self.repeats.extend(other.repeats)
        self.sentences |= other.sentences


# ----------------------------------------------------------------------------------------


def _check_entities(norm: NormalizedText, entities: Sequence[Entity]) -> None:
    n = len(norm.text)
    for k, e in enumerate(entities):
        if not isinstance(e, Entity):
            raise HasilaError(f"entity #{k} is a {type(e).__name__}, not an Entity")
        if not 0 <= e.start <= e.end <= n:
            raise HasilaError(
                f"entity #{k} {e.label} [{e.start}, {e.end}) lies outside the normalized text (length {n})"
            )
        if norm.text[e.start : e.end] != e.text:
            raise HasilaError(
                f"entity #{k} {e.label} [{e.start}, {e.end}) says {e.text!r} but the normalized text there is "
                f"{norm.text[e.start:e.end]!r} (entities must carry offsets into norm.text)"
            )


def _overlaps(s: int, e: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(s < fe and fs < e for fs, fe in spans)


def _usable_entities(entities: Sequence[Entity], cut: int, furniture_spans: Sequence[tuple[int, int]]) -> list[Entity]:
    """Entities of the report in text order: non-empty, before the cut, outside furniture,
    without duplicates; a figure overlapping an earlier figure is dropped (one count per text)."""
    out: list[Entity] = []
    seen: set[tuple[str, int, int]] = set()
    figure_ends: list[tuple[int, int]] = []
    for e in sorted(entities, key=lambda e: (e.start, e.end, e.label)):
        if e.start >= e.end or e.end > cut or _overlaps(e.start, e.end, furniture_spans):
            continue
        if (e.label, e.start, e.end) in seen:
            continue
        if e.label in COUNT_LABELS:
            if _overlaps(e.start, e.end, figure_ends):
                continue
            figure_ends.append((e.start, e.end))
        seen.add((e.label, e.start, e.end))
        out.append(e)
    return out


_DOUBLING_TWO = frozenset({"اثنان", "اثنين", "اثنتان", "اثنتين", "إثنان", "إثنين"})


_MULTIPLIERS = frozenset(fold_letters(w) for w in "ألف آلاف ألفا مليون ملايين مليونا".split())


def _join_doubled_duals(entities: list[Entity], text: str) -> list[Entity]:
    """«ضابطان اثنان»: a dual doubled by «اثنان» is ONE figure of 2 (DOMAIN.md), even when the model
    tagged the two words as two counts; left apart they would be read as 2 + 2. Likewise a number
    and its multiplier tagged apart («25» «ألف», «وخمسة» «آلاف»): one figure, 25,000 — not 25 and 1,000."""
    out: list[Entity] = []
    for e in entities:
        prev = out[-1] if out else None
        if (prev is not None and prev.label == e.label and e.label in COUNT_LABELS
                and not text[prev.end:e.start].strip()
                and (e.text in _DOUBLING_TWO or fold_letters(e.text) in _MULTIPLIERS)):
            try:
                one = parse_quantity(prev.text).value
                if e.text in _DOUBLING_TWO:
                    joins = one == 2
                else:  # joined, the multiplier must multiply: «25 ألف» reads 25,000
                    joins = one is not None and (parse_quantity(text[prev.start:e.end]).value or 0) > one * 10
            except QuantityError:
                joins = False
            if joins:
                scores = [x.span.score for x in (prev, e) if x.span.score is not None]
                score = sum(scores) / len(scores) if scores else None
                out[-1] = Entity(e.label, Span.of(text, prev.start, e.end, score))
                continue
        out.append(e)
    return out


def _context(text: str, folded: str, sent: _Sentence, ent: Entity) -> tuple[str, str]:
    # A window of characters first: a few words are never longer than this, and long
    # sentences (scraped text without punctuation) stay linear.
    lo = max(sent.start, ent.start - _CONTEXT_CHARS)
    before = words_in(text, folded, lo, ent.start)
    if lo > sent.start and before:
        before = before[1:]  # possibly cut by the window
    before = before[-_CONTEXT_WORDS:]
    after = words_in(text, folded, ent.end, min(sent.end, ent.end + _CONTEXT_CHARS))[:_CONTEXT_WORDS]
    b = text[before[0].start : ent.start] if before else ""
    a = text[ent.end : after[-1].end] if after else ""
    return b, a


def _build_sentences(text: str, cut: int, entities: Sequence[Entity]) -> list[_Sentence]:
    paras = paragraph_starts(text)
    sentences = [
        _Sentence(i, s, e, bisect_right(paras, s) - 1, split_clauses(text, s, e))
        for i, (s, e) in enumerate(split_sentences(text[:cut]))
    ]
    starts = [s.start for s in sentences]
    for ent in entities:
        k = bisect_right(starts, ent.start) - 1
        if k >= 0 and ent.start < sentences[k].end:
            sentences[k].entities.append(ent)
    return sentences


def _read_figures(text: str, folded: str, sent: _Sentence, unread: dict[int, list[Entity]]) -> None:
    figs = sorted((e for e in sent.entities if e.label in COUNT_LABELS), key=lambda e: (e.start, e.end))
    for ent in figs:
        if ent.start == ent.end:
            continue
        before, after = _context(text, folded, sent, ent)
        try:
            quantity = parse_quantity(ent.text, before, after)
        except QuantityError as exc:
            log.debug("figure %r at %d not read: %s", ent.text, ent.start, exc)
            unread.setdefault(sent.index, []).append(ent)
            continue
        sent.figures.append(_Figure(ent, sent, sent.clause_of(ent.start), quantity))


# Rule 3b: a figure this large is a toll over many events (monthly statistics, a war's dead),
# not one attack. On the gold train and dev splits the largest figures of single incidents are
# 101 dead and 227 wounded; statistics in the hard negatives run from 844 to 25,000.
_STATISTIC_FLOOR = 500


def _is_cumulative(folded: str, start: int, end: int) -> bool:
    """Rule 3: the clause counts over a long period («منذ آذار 2019», «خلال الشهر الماضي»)."""
    for m in _CUMULATIVE.finditer(folded, start, end):
        if not _PERIOD_OF_NOUN.search(folded[max(start, m.start() - 30) : m.start()]):
            return True
    return bool(_CUMULATIVE_MORE.search(folded, start, end))


def _is_not_armed(folded: str, sent: _Sentence) -> bool:
    """Rule 17: the sentence tells an accident, a disaster or a disease and no armed violence."""
    return bool(_ACCIDENT.search(folded, sent.start, sent.end)) and not _ARMED.search(folded, sent.start, sent.end)


def _is_body_count(folded: str, f: "_Figure", cs: int, ce: int) -> bool:
    """Rule 18: a figure of bodies found («العثور على جثتي [شرطيين]», «انتشال [11] جثة»)."""
    near = folded[max(cs, f.start - 25) : min(ce, f.end + 12)]
    return bool(_BODY_NOUN.search(near)) and bool(_FOUND.search(folded, cs, ce))


def _is_reference(folded: str, sent: _Sentence, f: "_Figure") -> bool:
    """Rule 20: the figure tells the toll of an earlier attack the sentence refers to. A dated
    reference («على خلفية الاعتداء الذي أوقع الثلاثاء 32 قتيلاً») is left to the date rules."""
    if _BACK_THEN.search(folded, sent.start, min(sent.end, sent.start + _BACK_THEN_REACH)):
        return True  # told at the head of its sentence: the time of an event told before
    m = _REFERENCE_TO_ATTACK.search(folded, sent.start, f.start)
    if m is None:
        return False
    return not any(e.label == "DATE" and m.start() <= e.start < f.end + 40 for e in sent.entities)


def _first_entity(entities: Sequence[Entity], label: str, start: int, end: int) -> Entity | None:
    for e in entities:
        if e.label == label and start <= e.start < end:
            return e
    return None


def _describe_figures(text: str, folded: str, sent: _Sentence) -> None:
    """Role cues, victim and own place/date of each figure of the sentence."""
    figs = sent.figures
    table = bool(figs) and _STATISTICS_TABLE.search(folded, sent.start, sent.end) is not None
    for k, f in enumerate(figs):
        cs, ce = f.clause
        nxt = figs[k + 1].start if k + 1 < len(figs) else sent.end
        limit = min(nxt, ce) if nxt > f.end else ce
        head = folded[cs : f.start]
        if table or _is_cumulative(folded, cs, ce) or (f.quantity.value or 0) >= _STATISTIC_FLOOR:
            f.role = "cumulative"
            f.campaign = (not table and (f.quantity.value or 0) < _STATISTIC_FLOOR
                          and _SHORT_CAMPAIGN.search(folded, cs, ce) is not None
                          and not _CUMULATIVE_MORE.search(folded, cs, ce))
        elif (_is_not_armed(folded, sent) or _is_body_count(folded, f, cs, ce) or _is_reference(folded, sent, f)
              or _is_state_of_casualties(folded, f)):
            f.role = "not_event"
        elif _EARLY_TOLL.search(head):
            f.role = "early"
        elif _UPDATE.search(head):
            f.role = "update"
        elif (_PART_BEFORE.search(folded[sent.start : f.start]) or _PART_AFTER.match(folded[f.end : sent.end])
              or _is_listed_part(folded, sent, f)):
            f.role = "part"
        f.several_attacks = f.role == "event" and _is_total_of_attacks(folded, f)
        f.others = bool(_OTHERS_AFTER.match(folded[f.end : sent.end]))
        if f.others and k > 0 and figs[k - 1].role == "cumulative":
            f.role = "cumulative"  # «قتلوا خلال شهر يوليو فيما أصيب 492 آخرون»
        f.victim = find_victim(text, folded, f.entity, (cs, ce), limit, sent.entities)
        f.place = _first_entity(sent.entities, "LOC", f.end, max(f.end, limit))
        f.own_date = _first_entity(sent.entities, "DATE", f.end, max(f.end, limit))


def _is_listed_part(folded: str, sent: _Sentence, f: "_Figure") -> bool:
    """A figure joined by «و» to a list that a part cue opened, with no new casualty verb between."""
    if not folded[f.start : f.end].startswith("و"):
        return False
    m = _PART_LIST.search(folded[sent.start : f.start])
    return m is not None and not _NEW_CASUALTY_VERB.search(folded, sent.start + m.start(), f.start)


def _same_text(folded: str, a: Entity | None, b: Entity | None) -> bool:
    return a is not None and b is not None and folded[a.start : a.end] == folded[b.start : b.end]


def _split_parts(total: _Figure, parts: list[_Figure], folded: str) -> None:
    """Rule 4: ``parts`` add up to ``total``. Parts with places (or dates) of their own are
    separate events and become the incidents; parts by kind or side («5 قتلى: شرطيان و3
    مدنيين») are one event and stay inside the total (guideline rule 15)."""
    across = parts[0].sentence is not total.sentence
    cued = parts[0].role == "part"
    if across and not cued and total.place is not None:
        return  # «قتل 10 في إدلب. وقتل 6 في حلب و4 في حماة»: three events that happen to add up
    keys = {
        folded[p.place.start : p.place.end] if p.place else folded[p.own_date.start : p.own_date.end]
        for p in parts
        if p.place is not None or p.own_date is not None
    }
    if len(keys) == len(parts):
        total.role = "total"
        for p in parts:
            p.role = "event"
            p.of_total = total
            p.split_by_place = True
        return
    if across and not cued:
        return
    for p in parts:
        p.role = "part"
        p.whole = total
        total.parts.append(p)


def _find_totals_after_parts(all_figs: list[_Figure], folded: str) -> None:
    """Rule 4, told the other way: «5 في إدلب و3 في حلب … ليرتفع عدد القتلى إلى 8»."""
    for j, total in enumerate(all_figs):
        if total.role in (*_NO_INCIDENT_ROLES, "total") or total.whole is not None or total.value is None:
            continue
        if not _TOTAL_CUE.search(folded[total.clause[0] : total.start]):
            continue
        parts: list[_Figure] = []
        running = 0
        for f in reversed(all_figs[:j]):
            if f.sentence.index < total.sentence.index - 1:
                break
            if f.label != total.label:
                continue
            if f.role in (*_NO_INCIDENT_ROLES, "total", "part") or f.of_total or f.whole or f.value is None:
                break
            running += f.value
            parts.insert(0, f)
            if running >= total.value:
                break
        if len(parts) >= 2 and running == total.value:
            if total.campaign and not all(p.place is not None for p in parts):
                continue  # a campaign's toll by side or kind stays cumulative
            _split_parts(total, parts, folded)


def _find_breakdowns(all_figs: list[_Figure], folded: str) -> None:
    """Rule 4: a total followed by located/sided parts that add up to it exactly."""
    _find_totals_after_parts(all_figs, folded)
    for i, total in enumerate(all_figs):
        if total.of_total or total.whole or total.value is None:
            continue
        # rule 3c: a week's toll (cumulative) broken down by place is its attacks (guideline rule 2)
        if total.role in (*_NO_INCIDENT_ROLES, "update", "total") and not total.campaign:
            continue
        parts: list[_Figure] = []
        running = 0
        for f in all_figs[i + 1 :]:
            if f.sentence.index > total.sentence.index + 1:
                break
            if f.label != total.label:
                continue
            if f.role in (*_NO_INCIDENT_ROLES, "update", "total") or f.of_total or f.whole or f.value is None:
                break
            running += f.value
            parts.append(f)
            if running >= total.value:
                break
        if len(parts) >= 2 and running == total.value:
            _split_parts(total, parts, folded)


def _count_named_lists(all_figs: list[_Figure], folded: str) -> None:
    """Rule 5b (guideline rule 16): named casualties listed one by one, each a lone title with
    its name («استشهاد العريف [PER]، والجندي [PER]، والجندي [PER]»), are one figure whose
    value is the number of people named; the later titles become its parts. Items follow each
    other in one sentence, joined by «،» or «و», with a name between them and no new casualty
    verb."""
    i = 0
    while i < len(all_figs):
        head = all_figs[i]
        run = [head]
        for g in all_figs[i + 1 :]:
            prev = run[-1]
            if not (_lone(head) and _lone(g) and g.sentence is head.sentence and g.label == head.label):
                break
            gap = folded[prev.end : g.start]
            names = [e for e in head.sentence.entities if e.label == "PER" and prev.end <= e.start < g.start]
            if not names or _NEW_CASUALTY_VERB.search(gap) or len(gap) > 80 or \
                    not (folded[g.start] == "و" or re.search(r"(?:[،,]|(?:^|\s)و)\s*$", gap)):
                break
            run.append(g)
        if len(run) >= 2:
            n = len(run)
            head.quantity = Quantity(n, n, n, "exact")
            for g in run[1:]:
                g.role = "part"
                g.whole = head
                head.parts.append(g)
        i += len(run)


def _lone(f: _Figure) -> bool:
    return f.role == "event" and f.value == 1 and f.quantity.qualifier == "exact"


def _attach_parts(all_figs: list[_Figure], text: str, folded: str) -> None:
    """Rule 5: subsets stay inside their whole; part lists continue while they fit."""
    for i, f in enumerate(all_figs):
        if f.role != "part" or f.whole is not None:
            continue
        whole = None
        for g in reversed(all_figs[:i]):
            same_sentence = g.sentence is f.sentence
            opens_sentence = f.sentence.index == g.sentence.index + 1 and f.sentence.figures[0] is f
            if not (same_sentence or opens_sentence):
                break
            if g.label != f.label or g.role == "part" or g.of_total is not None:
                continue
            if g.value is not None and f.value is not None and f.value > g.value:
                continue
            whole = g
            break
        if whole is None:
            f.role = "event"
            continue
        f.whole = whole
        whole.parts.append(f)
        # Continuations: «بينهم 6 ضباط و4 عناصر».
        used = sum(p.value or 0 for p in whole.parts)
        prev = f
        for g in all_figs[i + 1 :]:
            if g.sentence is not f.sentence or g.label != f.label or g.role != "event" or g.of_total:
                break
            gap = folded[prev.end : g.start]
            if _NEW_CASUALTY_VERB.search(gap) or not re.search(r"(?:^|\s)و\s*$|[،,]\s*$", gap):
                break
            if victims_conflict(whole.victim, g.victim, text):
                break
            if whole.value is not None and (g.value is None or used + g.value > whole.value):
                break
            g.role = "part"
            g.whole = whole
            whole.parts.append(g)
            used += g.value or 0
            prev = g


def _drop_parts_of_cumulative(all_figs: list[_Figure]) -> None:
    for f in all_figs:
        if f.role == "part" and f.whole is not None and f.whole.role in ("cumulative", "not_event"):
            f.role = f.whole.role


def _build_slots(sentences: list[_Sentence], text: str, folded: str) -> list[_Slot]:
    """Rule 7: figures → incidents, in text order."""
    slots: list[_Slot] = []
    group = -1
    previous: list[_Slot] = []  # the incidents of the last sentence that had figures
    for sent in sentences:
        figs = [f for f in sent.figures if f.role in ("event", "update")]
        current: _Slot | None = None
        here: list[_Slot] = []
        for k, f in enumerate(figs):
            if k == 0 and f.others and f.role == "event" and previous and \
                    sent.index - max(previous[-1].sentences) <= 2:
                # «وأصيب 3 آخرون»: the figure continues the previous sentence's event.
                target = next((p for p in previous if f.label not in p.figures
                               and not victims_conflict(p.victim(), f.victim, text)), None)
                if target is not None:
                    target.figures[f.label] = f
                    target.sentences.add(sent.index)
                    current = target
                else:
                    current = _Slot({f.label: f}, previous[0].group, sentences={sent.index})
                    slots.append(current)
                here.append(current)
                continue
            split_place = (
                current is not None
                and f.place is not None
                and current.place() is not None
                and not _same_text(folded, f.place, current.place())
            )
            joins = (
                current is not None
                and f.role == "event"
                # «ارتفعت الحصيلة إلى 15 قتيلاً، فيما أصيب نحو 30»: the wounded go with the update
                and all(g.role in ("event", "update") for g in current.figures.values())
                and f.label not in current.figures
                and not victims_conflict(current.victim(), f.victim, text)
                and not split_place
                and f.of_total is None
                and all(g.of_total is None for g in current.figures.values())
            )
            if joins:
                current.figures[f.label] = f
                continue
            new_event = current is None or split_place or (f.of_total is not None and f.split_by_place)
            if new_event:
                group += 1
            current = _Slot({f.label: f}, group, sentences={sent.index})
            slots.append(current)
            here.append(current)
        if here:
            previous = here
    return slots


def _told_again(a: "_Figure", b: "_Figure", folded: str) -> bool:
    """Whether ``b`` can be ``a``'s toll told again: the same value, the same victim words (or
    one names none), and not two nouns that count by themselves and differ («ضابطان اثنان
    وجنديان»: different people)."""
    if a.value is None or a.value != b.value:
        return False
    if a.victim is not None and b.victim is not None and \
            folded[a.victim.start:a.victim.end].split()[:1] != folded[b.victim.start:b.victim.end].split()[:1]:
        return False
    ta, tb = folded[a.start:a.end], folded[b.start:b.end]
    if any(ch.isdigit() for ch in ta + tb) or _outside_victim(a) or _outside_victim(b):
        return True
    return ta.removeprefix("و").removeprefix("ال") == tb.removeprefix("و").removeprefix("ال")


def _outside_victim(f: "_Figure") -> bool:
    """The figure names its victims in words of their own («18 شخصًا»), not in the count itself («وجنديان»)."""
    v = f.victim
    return v is not None and (v.end <= f.start or v.start >= f.end)


def _merge_restatements(slots: list[_Slot], folded: str) -> list[_Slot]:
    """Rule 7d: within one event, the same figures told again in the same sentence («قتل 12 شخصا
    وأصيب العشرات …، وقال مسؤول محلي: «… ما أدى إلى مقتل 12 شخصا بينهم امرأة، وإصابة عشرات
    آخرين»») are one incident, not two sides with equal tolls: a later slot whose every figure has
    the value and the victim words of one of an earlier slot of its event."""
    out: list[_Slot] = []
    for slot in slots:
        target = None
        # «أربعة جنود آخرين قتلوا»: other dead, not the same ones told again.
        others = any(f.others for f in slot.figures.values() if f.label == "KILLED")
        if not others and not any(f.of_total for f in slot.figures.values()):
            for cand in out:
                if (
                    cand.group != slot.group
                    or set(slot.figures) - set(cand.figures)
                    or any(f.of_total for f in cand.figures.values())
                ):
                    continue
                if all(_told_again(cand.figures[k], f, folded) for k, f in slot.figures.items()):
                    target = cand
                    break
        if target is None:
            out.append(slot)
            continue
        target.repeats.extend(slot.figures.values())
        target.absorb(slot)
    return out


def _split_sideless_wounded(slots: list[_Slot]) -> list[_Slot]:
    """Rule 7c (guideline rule 23): when an event's dead are split by side («مقتل 12 من الأمن و3
    عمال وإصابة 7 آخرين»), wounded that name no side belong to neither: they become an incident
    of their own in the same event, not a figure of the last side's."""
    # The dead split by side in the wounded's own sentence: an event group can also gather
    # later sentences («و21 مسلحا آخرين» continuing it), which split nothing here.
    killed_slots: dict[tuple[int, int], int] = {}
    for slot in slots:
        if "KILLED" in slot.figures:
            key = (slot.group, slot.figures["KILLED"].sentence.index)
            killed_slots[key] = killed_slots.get(key, 0) + 1
    out: list[_Slot] = []
    for slot in slots:
        out.append(slot)
        wounded = slot.figures.get("WOUNDED")
        if (wounded is None or "KILLED" not in slot.figures
                or killed_slots.get((slot.group, wounded.sentence.index), 0) < 2
                or wounded.victim is not None or wounded.role != "event"):
            continue
        del slot.figures["WOUNDED"]
        out.append(_Slot({"WOUNDED": wounded}, slot.group, sentences={wounded.sentence.index}))
    return out


def _merge_updates(slots: list[_Slot], sentences: list[_Sentence], text: str, folded: str) -> list[_Slot]:
    """Rule 6: an update replaces the figure of the latest compatible earlier incident."""
    out: list[_Slot] = []
    for slot in slots:
        update = next((f for f in slot.figures.values() if f.role == "update"), None)
        target = None
        if update is not None:
            mine = _place_words(slot, sentences, text, folded)
            for cand in reversed(out):
                old = cand.figures.get(update.label)
                if old is None or victims_conflict(cand.victim(), update.victim, text):
                    continue
                theirs = _place_words(cand, sentences, text, folded)
                if mine and theirs and not mine & theirs:
                    continue
                target = cand
                break
        if target is None:
            out.append(slot)
            continue
        for label, f in slot.figures.items():
            old = target.figures.get(label)
            if old is not None and f.role == "update":
                target.superseded.append(old)
                target.figures[label] = f
            elif old is None:
                target.figures[label] = f
        target.absorb(slot)  # with its repeats: rule 7d, applied before, may have given it some
        _join_groups(slots, slot.group, target.group)
    return out


def _join_groups(slots: list[_Slot], old: int, new: int) -> None:
    """The event ``old`` is ``new``: its other incidents join it."""
    for other in slots:
        if other.group == old:
            other.group = new


_GENERIC_PLACE_WORDS = frozenset(
    fold_letters(w)
    for w in "ريف بادية مدينة بلدة قرية منطقة محافظة حي محيط أطراف شرق غرب شمال جنوب شرقي غربي شمالي جنوبي "
    "الشرقي الغربي الشمالي الجنوبي الشرقية الغربية الشمالية الجنوبية وسط قرب".split()
)


def _place_words(slot: _Slot, sentences: list[_Sentence], text: str, folded: str) -> set[str]:
    # the places the tellings themselves name (rule 9c's look-ahead would make every telling of
    # an attack in a country meet its later, specific place)
    loc, loc_sent, _ = _choose_location(slot, sentences, text, folded, look_ahead=False)
    if loc is None or loc_sent is None:
        return set()
    return _location_words(loc, loc_sent, text, folded)


def _location_words(loc: Entity, loc_sent: _Sentence, text: str, folded: str) -> set[str]:
    """The place's words and its context's, without «ال»/«ريف»/«مدينة»…: what two tellings compare."""
    out = set()
    for e in [loc] + _location_chain(loc, loc_sent, text, folded):
        for w in words_in(text, folded, e.start, e.end):
            key = w.key
            for p in ("بال", "وال", "ال", "ب", "و"):
                if key.startswith(p) and len(key) - len(p) >= 3:
                    key = key[len(p):]
                    break
            if w.is_letters and key not in _GENERIC_PLACE_WORDS and w.key not in _GENERIC_PLACE_WORDS:
                out.add(key)
    return out


def _drop_repeated_totals(slots: list[_Slot], all_figs: list[_Figure], text: str) -> list[_Slot]:
    """Rule 7b for totals: a headline «مقتل 35» over a body that splits its 35 into attacks is
    the total told again, not one more incident; it goes to the first part's ``repeats``."""
    totals = [f for f in all_figs if f.role == "total"]
    if not totals:
        return slots
    first_part: dict[int, _Slot] = {}
    for slot in slots:
        for f in slot.figures.values():
            if f.of_total is not None:
                first_part.setdefault(id(f.of_total), slot)
    out: list[_Slot] = []
    for slot in slots:
        for label, f in list(slot.figures.items()):
            if f.of_total is not None or f.role != "event":
                continue
            for t in totals:
                if (t.label == label and t.value == f.value and t.sentence is not f.sentence
                        and id(t) in first_part and not victims_conflict(t.victim, f.victim, text)):
                    first_part[id(t)].repeats.append(f)
                    first_part[id(t)].sentences.add(f.sentence.index)
                    del slot.figures[label]
                    break
        if slot.figures:
            out.append(slot)
    return out


# Rule 7b: figures this large, told again exactly, are the same toll even where the two tellings
# name different places («في ولاية لوغار» then «في منطقة بركي براك», a district of it).
_DISTINCTIVE_FIGURE = 10


# «وفي هجوم آخر», «في حادث منفصل»: a sentence that says it tells another attack.
_ANOTHER_ATTACK = _cue(
    r"(?<!\w)(?:ال)?(?:هجوم|هجمات|تفجير|انفجار|حادث|حادثة|اعتداء|غارة|قصف|عملية|هجومين|سياق)\s+(?:ال)?"
    r"(?:آخر|أخرى|اخر|منفصل|منفصلة|مماثل|مماثلة|ثان|ثاني|ثانية|جديد|جديدة)(?!\w)"
)


def _tells_another_attack(folded: str, slot: _Slot) -> bool:
    sent = slot.first.sentence
    return _ANOTHER_ATTACK.search(folded, sent.start, sent.end) is not None


def _distinctive(a: _Slot, common: set[str]) -> bool:
    return all(a.figures[k].value is not None and a.figures[k].value >= _DISTINCTIVE_FIGURE for k in common)


def _merge_repeats(slots: list[_Slot], sentences: list[_Sentence], text: str, folded: str) -> list[_Slot]:
    """Rule 7b: the same figures told again (a headline and its lead, a quote) are one incident,
    anchored at the first telling."""
    out: list[_Slot] = []
    places = {id(slot): _place_words(slot, sentences, text, folded) for slot in slots}
    for slot in slots:
        target = None
        if not any(f.of_total for f in slot.figures.values()):
            mine = places[id(slot)]
            for cand in out:
                common = set(cand.figures) & set(slot.figures)
                if (
                    not common
                    or cand.group == slot.group
                    or any(f.of_total for f in cand.figures.values())
                    or any(cand.figures[k].value is None or cand.figures[k].value != slot.figures[k].value for k in common)
                    or victims_conflict(cand.victim(), slot.victim(), text)
                ):
                    continue
                theirs = places[id(cand)]
                if mine and theirs and not mine & theirs and (
                        not _distinctive(cand, common) or _tells_another_attack(folded, slot)):
                    continue
                target = cand
                places[id(cand)] = theirs | mine
                break
        if target is None:
            out.append(slot)
            continue
        for label, f in slot.figures.items():
            # The incident stays at the figure's first telling (where readers and annotators meet
            # it, and what its own sentence says is what the gold incidents take); the later
            # tellings are its repeats and fill in what the first does not say (_retold_sentences).
            if label in target.figures:
                target.repeats.append(f)
            else:
                target.figures[label] = f
        target.absorb(slot)
        _join_groups(slots, slot.group, target.group)
    return out


def _attach_early_tolls(slots: list[_Slot], all_figs: list[_Figure], text: str) -> list[_Slot]:
    """Rule 19: an early toll («الحصيلة الأولية», «وكانت الحصيلة») is an earlier figure of an
    event told elsewhere in the article: it goes to the ``superseded`` of the nearest incident
    with a figure of its label and a compatible victim; with none, it is an incident itself."""
    for f in all_figs:
        if f.role != "early":
            continue
        cands = [s for s in slots if f.label in s.figures and not victims_conflict(s.victim(), f.victim, text)]
        if cands:
            min(cands, key=lambda s: abs(s.figures[f.label].start - f.start)).superseded.append(f)
        else:
            f.role = "event"
            slots.append(_Slot({f.label: f}, max((s.group for s in slots), default=-1) + 1, sentences={f.sentence.index}))
    return slots


# ----------------------------------------------------------------------------------------
# Fields of an incident.


def _sentence_locations(sent: _Sentence, folded: str) -> list[Entity]:
    out = []
    for e in sent.entities:
        if e.label != "LOC":
            continue
        head = folded[max(sent.start, e.start - 30) : e.start]
        if _HQ_WORDS.search(head):
            continue  # «ومقره بريطانيا»: where the source sits, not the event
        out.append(e)
    return sorted(out, key=lambda e: e.start)


def _event_location(sent: _Sentence, text: str, folded: str) -> Entity | None:
    """Rule 9: the first place introduced by a place word that does not merely enclose the
    place named just before it («في قضاء البعاج شمال غرب بغداد» → «البعاج», never «بغداد»)."""
    heads = [e for e in sent.locations if not any(_continues(p, e, text, folded) for p in sent.locations if p.end <= e.start)]
    for e in heads:
        head = folded[max(sent.start, e.start - 20) : e.start]
        key = folded[e.start : e.end]
        if _PLACE_WORDS.search(head) or key.startswith("ب"):
            return _pair_cover(e, sent, text, folded)
    return _pair_cover(heads[0], sent, text, folded) if heads else None


def _continues(prev: Entity, e: Entity, text: str, folded: str) -> bool:
    """``e`` encloses ``prev``: it follows within three words («بريف دير الزور», «شمال غرب
    بغداد», «(جنوب الموصل)»), with no comma, full stop or «و» between them."""
    if e.start < prev.end:
        return False
    gap_words = words_in(text, folded, prev.end, e.start)
    gap = folded[prev.end : e.start]
    return not (
        len(gap_words) > 3
        or re.search(r"[.،,؛;:!?؟\)\]]", gap)
        or any(w.key in ("و", "او", "أو") for w in gap_words)
        or folded[e.start] == "و"
    )


def _location_chain(loc: Entity, sent: _Sentence, text: str, folded: str) -> list[Entity]:
    chain: list[Entity] = []
    prev = loc
    for e in sent.locations:
        if e.start < prev.end:
            continue
        if not _continues(prev, e, text, folded):
            break
        chain.append(e)
        prev = e
    return chain


def _pair_cover(loc: Entity, sent: _Sentence, text: str, folded: str) -> Entity:
    """Rule 9b (guideline rule 21): two places joined by «و» («بلدتي الفوعة وكفريا في محافظة
    إدلب», «قضاء المقدادية وناحية كنعان في بعقوبة»): the event covers both, so its place is the
    smallest place named around the pair — the first that encloses the second. Without one,
    the first place stays."""
    nxt = next((e for e in sent.locations if e.start >= loc.end), None)
    if nxt is None:
        return loc
    gap = words_in(text, folded, loc.end, nxt.start)
    joined = folded[nxt.start] == "و" and not gap or (
        len(gap) <= 1 and (not gap or gap[0].key == "و" or gap[0].key.startswith("و") and not gap[0].key.startswith("وفي"))
        and not re.search(r"[.،,؛;:!?؟()]", folded[loc.end : nxt.start])
    )
    if not joined:
        return loc
    for e in sent.locations:
        if e.start >= nxt.end:
            gap_words = words_in(text, folded, nxt.end, e.start)
            if len(gap_words) <= 3 and not re.search(r"[.،,؛;:!?؟]", folded[nxt.end : e.start]) and \
                    any(_PLACE_WORDS.search(folded[w.start : w.end + 1]) for w in gap_words[-2:]):
                return e
            break
    return loc


def _is_report_date(e: Entity, sent: _Sentence, text: str, folded: str) -> bool:
    """«أفاد المرصد اليوم الإثنين بمقتل …»: the date of the report, not of the event."""
    for m in sent.sources:
        if m.cue <= e.start < m.start:
            return True
        if m.end <= e.start <= m.end + 30 and len(words_in(text, folded, m.end, e.start)) <= 1:
            return True
    return False


def _sentence_dates(sent: _Sentence, text: str, folded: str) -> list[Entity]:
    out = []
    for e in sent.entities:
        if e.label != "DATE":
            continue
        if _SINCE_BEFORE.search(folded[max(sent.start, e.start - 30) : e.start]) or folded[e.start : e.end].startswith("منذ"):
            continue  # a period («منذ 2 آذار»), not the event's date
        if _is_report_date(e, sent, text, folded):
            continue
        out.append(e)
    return sorted(out, key=lambda e: e.start)


def _nearest(items: Sequence[Any], pos: int) -> Any:
    return min(items, key=lambda x: abs(x.start - pos)) if items else None


def _choose_source(slot: _Slot, sentences: list[_Sentence]) -> tuple[Mention | None, bool]:
    first = slot.first
    sent = first.sentence
    before = [m for m in sent.sources if m.cue < first.start]
    if before:
        return before[-1], False
    if sent.sources:
        return sent.sources[0], False
    for later in _retold_sentences(slot, sent):  # the lead that tells a headline's toll again
        if later.sources:
            return later.sources[0], False
    # Else the nearest attribution before it in its paragraph: a report's later sentences go on
    # in its voice, while an attribution further on, or another paragraph's, is someone else's
    # (on the gold train split, source F1 40.6 → 46.6 against taking the paragraph's or the
    # article's first attribution).
    earlier = [m for s in sentences[: sent.index] if s.paragraph == sent.paragraph for m in s.sources]
    return (earlier[-1], True) if earlier else (None, False)


def _choose_perpetrator(slot: _Slot, victim: Victim | None, source: Mention | None, sentences: list[_Sentence],
                        text: str, folded: str) -> tuple[Mention | None, bool]:
    first = slot.first
    sent = first.sentence
    vkey = actor_key(text[victim.start : victim.end]) if victim else None

    targets = [t for s in sentences[max(0, sent.index - _LOOKBACK_SENTENCES) : sent.index + 1] for t in s.targets]

    def ok(m: Mention) -> bool:
        if victim is not None and (m.start < victim.end and victim.start < m.end or actor_key(text[m.start : m.end]) == vkey):
            return False
        if any(t.start == m.start and t.end == m.end for t in targets):
            return False  # the side attacked («حاجزا للشرطة وقتلوا …») is not the attacker
        if source is not None and not m.claim and m.start == source.start and m.end == source.end:
            return False
        return True

    here = [m for m in sent.perpetrators if ok(m)]
    if here:
        return _nearest(here, first.start), False
    earlier: list[_Sentence] = []
    total = _total_of(slot)
    if total is not None and total.sentence is not sent:
        earlier.append(total.sentence)  # the parts of a total share its attacker
    if has_attack_anaphora(folded, sent.start, sent.end):
        earlier += reversed(sentences[max(0, sent.index - _LOOKBACK_SENTENCES) : sent.index])
    for prev in earlier:
        cands = [m for m in prev.perpetrators if ok(m)]
        if cands:
            return cands[0], True
    return None, False


# Rule 9c: countries and wide regions — a place this coarse gives way to a specific one that a
# following sentence names for the same attack («شمال الكاميرون» … «ووقع الهجوم في بلدة مروة»).
_COARSE_PLACES = frozenset(fold_letters(w) for w in (
    "العراق سوريا سورية اليمن أفغانستان الكاميرون نيجيريا تركيا مصر ليبيا الصومال لبنان باكستان "
    "الهند تونس الجزائر المغرب السودان فلسطين إسرائيل الأردن السعودية إيران مالي تشاد النيجر كينيا "
    "أمريكا أميركا روسيا أوكرانيا فرنسا سيناء البلاد"
).split()) | frozenset(fold_letters(w) for w in ("الولايات المتحدة", "الضفة الغربية", "قطاع غزة"))
_DIRECTIONS = frozenset(fold_letters(w) for w in "شمال جنوب شرق غرب وسط شمالي جنوبي شرقي غربي أقصى".split())
_FOLLOWING_SENTENCES = 3
# The attack told before, said to have happened somewhere: «ووقع التفجيران في مدينة مروة»,
# «وأسفر الهجوم الذي وقع في بلدة طوز خورماتو»; the place follows within a few words.
_THE_ATTACKS = (
    r"(?:ال)(?:هجوم|هجومين|هجومان|هجمات|تفجير|تفجيران|تفجيرين|تفجيرات|انفجار|انفجاران|انفجارين|غارة|غارات|قصف|حادث|"
    r"حادثة|اعتداء|كمين|اشتباكات|معارك|عملية)"
)
_THE_ATTACK_HAPPENED = _cue(
    rf"(?<!\w)(?:و|ف)?(?:وقع|وقعت|حصل|حصلت|جرى|جرت)\s+{_THE_ATTACKS}(?!\w)"
    rf"|(?<!\w)(?:و|ف)?(?:ب|ل)?{_THE_ATTACKS}\s+(?:\w+\s+){{0,2}}?(?:الذي|التي)?\s*(?:وقع|وقعت|حصل|حصلت|جرى|جرت|استهدف|استهدفت)(?!\w)"
)
_PLACE_AFTER_ATTACK = 60  # characters between that and the place


def _is_coarse(loc: Entity, folded: str) -> bool:
    words = []
    for w in folded[loc.start : loc.end].split():
        for p in ("وب", "ب", "و", "ل"):
            if w.startswith(p) and (w[len(p):] in _COARSE_PLACES or w[len(p):] in _DIRECTIONS):
                w = w[len(p):]
                break
        if w not in _DIRECTIONS:
            words.append(w)
    key = " ".join(words)
    return key in _COARSE_PLACES or ("ال" + key) in _COARSE_PLACES or key.removeprefix("ال") in _COARSE_PLACES


def _specific_place_after(sent: _Sentence, sentences: list[_Sentence], text: str, folded: str) -> tuple[Entity, _Sentence] | None:
    """Rule 9c: the first specific place of a following sentence that refers back to the attack."""
    for later in sentences[sent.index + 1 : sent.index + 1 + _FOLLOWING_SENTENCES]:
        if _ANOTHER_ATTACK.search(folded, later.start, later.end):
            return None  # the next attack's sentences
        m = _THE_ATTACK_HAPPENED.search(folded, later.start, later.end)
        if m is None:
            continue
        places = [e for e in later.locations if e.start >= m.end() and e.start - m.end() <= _PLACE_AFTER_ATTACK]
        for loc in places:
            if not _is_coarse(loc, folded):
                return _pair_cover(loc, later, text, folded), later
    return None


def _retold_sentences(slot: _Slot, first: _Sentence) -> list[_Sentence]:
    """Sentences other than ``first`` that tell the slot's figures again (rule 7b), in text order."""
    out: list[_Sentence] = []
    for f in sorted(slot.repeats, key=lambda f: f.start):
        if f.sentence is not first and f.sentence not in out:
            out.append(f.sentence)
    return out


def _choose_location(slot: _Slot, sentences: list[_Sentence], text: str, folded: str,
                     look_ahead: bool = True) -> tuple[Entity | None, _Sentence | None, bool]:
    own = slot.place()
    first = slot.first
    retold = _retold_sentences(slot, first.sentence)
    if own is not None:
        owner = next(f.sentence for f in slot.figures.values() if f.place is own)
        loc, sent = _pair_cover(own, owner, text, folded), owner
    else:
        loc, sent = _event_location(first.sentence, text, folded), first.sentence
    if loc is not None:
        # A later telling that names this place and more («في بادية السخنة شرقي حمص» after
        # «في بادية حمص») has the most specific place.
        mine = _location_words(loc, sent, text, folded) if retold else set()
        for later in retold:
            other = _event_location(later, text, folded)
            if other is not None and mine < _location_words(other, later, text, folded):
                return other, later, False
        if look_ahead and _is_coarse(loc, folded):
            found = _specific_place_after(sent, sentences, text, folded)
            if found is not None:
                return found[0], found[1], True  # from outside the incident's evidence
        return loc, sent, False
    for later in retold:
        loc = _event_location(later, text, folded)
        if loc is not None:
            return loc, later, False
    for prev in reversed(sentences[max(0, first.sentence.index - _LOOKBACK_SENTENCES) : first.sentence.index]):
        loc = _event_location(prev, text, folded)
        if loc is not None:
            return loc, prev, True
    return None, None, False


def _choose_date(slot: _Slot, sentences: list[_Sentence]) -> tuple[Entity | None, bool]:
    first = slot.first
    for f in sorted(slot.figures.values(), key=lambda f: f.start):
        if f.own_date is not None and f.own_date in first.sentence.dates + f.sentence.dates:
            return f.own_date, False
    if first.sentence.dates:
        return _nearest(first.sentence.dates, first.start), False
    for sent in _retold_sentences(slot, first.sentence):
        if sent.dates:
            return _nearest(sent.dates, sent.start), False
    # Else the first date of the nearest dated sentence among the three before it: an event's
    # date comes early in its sentence (later ones date reports and reactions), and an article's
    # opening date does not reach its far paragraphs (train date F1 52.1 → 53.7, dev 55.0 → 61.0).
    for prev in reversed(sentences[max(0, first.sentence.index - _LOOKBACK_SENTENCES) : first.sentence.index]):
        if prev.dates:
            return prev.dates[0], True
    return None, False


def _count(norm: NormalizedText, f: _Figure) -> Count:
    return Count(norm.original_span(f.start, f.end, score=f.entity.span.score), f.quantity)


def _span(norm: NormalizedText, start: int, end: int, score: float | None = None) -> Span:
    return norm.original_span(start, end, score=score)


def _count_json(norm: NormalizedText, f: _Figure) -> dict[str, Any]:
    return {**_count(norm, f).to_json(), "label": f.label}


def _total_of(slot: _Slot) -> _Figure | None:
    return next((f.of_total for f in slot.figures.values() if f.of_total is not None), None)


# «عناصر», «أفراد», «مقاتلين»: members of some side, which the attacked side names better;
# «جنود», «ضباط», «شرطي» say which side already.
_MEMBER_STEMS = tuple(fold_letters(w) for w in ("عنصر", "عناصر", "أفراد", "فرد", "مقاتل", "مسلح", "عضو", "أعضاء"))


def _says_only_members(text: str, folded: str, victim: Victim) -> bool:
    return any(bare(w.key, stems=_MEMBER_STEMS) for w in words_in(text, folded, victim.start, victim.end))


def _choose_victim(slot: _Slot, sentences: list[_Sentence], text: str, folded: str) -> tuple[Victim | None, bool]:
    """Rule 8: the figures' own victim; when that names no side (nothing, or members only:
    «عناصر», «أفراد»), the side attacked in the sentence («هجوم على قوات النظام»), or in the
    attack an earlier sentence told when this one refers back to it."""
    victim = slot.victim()
    members_only = victim is not None and victim.kind == "combatant" and _says_only_members(text, folded, victim)
    if victim is not None and (victim.named or not members_only):
        return victim, False
    total = _total_of(slot)
    if total is not None and total.victim is not None and (total.victim.named or victim is None):
        return total.victim, True  # «وقتل 27 منهم في …»: the total's side
    sent = slot.first.sentence
    pools = [(sent, False)]
    if has_attack_anaphora(folded, sent.start, sent.end):
        pools += [(prev, True) for prev in reversed(sentences[max(0, sent.index - _LOOKBACK_SENTENCES) : sent.index])]
    for pool, inherited in pools:
        attackers = {actor_key(text[m.start : m.end]) for m in sent.perpetrators + pool.perpetrators}
        for m in pool.targets:
            if actor_key(text[m.start : m.end]) not in attackers:
                return Victim(m.start, m.end, True, "combatant"), inherited
    return victim, False


def _other_side(victim: Victim | None, group: Sequence[_Slot], text: str) -> Mention | None:
    """In a two-sided event, one side's casualties were caused by the other side."""
    if victim is None or not victim.named:
        return None
    key = actor_key(text[victim.start : victim.end])
    for other in group:
        v = other.victim()
        if v is not None and v.named and v.kind == "combatant" and actor_key(text[v.start : v.end]) != key:
            return Mention(v.start, v.start, v.end)
    return None


def _make_incident(slot: _Slot, norm: NormalizedText, folded: str, sentences: list[_Sentence],
                   article_date: dt.date | None, unread: dict[int, list[Entity]],
                   group: Sequence[_Slot]) -> Incident:
    text = norm.text
    figs = sorted(slot.figures.values(), key=lambda f: f.start)
    inherited: list[str] = []
    victim, victim_inh = _choose_victim(slot, sentences, text, folded)
    source, src_inh = _choose_source(slot, sentences)
    perp, perp_inh = _choose_perpetrator(slot, victim, source, sentences, text, folded)
    perp_from_other_side = False
    if perp is None and victim is not None and victim.kind == "combatant":
        perp = _other_side(victim, [g for g in group if g is not slot], text)
        perp_from_other_side = perp is not None
    loc, loc_sent, loc_inh = _choose_location(slot, sentences, text, folded)
    date_ent, date_inh = _choose_date(slot, sentences)
    for name, flag in (("victim", victim_inh), ("source", src_inh), ("perpetrator", perp_inh), ("location", loc_inh), ("date", date_inh)):
        if flag:
            inherited.append(name)

    ev_sents = [sentences[i] for i in sorted(slot.sentences | {f.sentence.index for f in figs})]
    ev_start = min([s.start for s in ev_sents] + [f.start for f in figs])
    ev_end = max([s.end for s in ev_sents] + [f.end for f in figs])

    date_ref = None
    if date_ent is not None:
        resolved, precision = resolve_date(date_ent.text, article_date)
        date_ref = DateRef(_span(norm, date_ent.start, date_ent.end, date_ent.span.score), resolved, precision)

    found = sum(x is not None for x in (victim, perp, loc, date_ent, source))
    scores = [f.entity.span.score if f.entity.span.score is not None else 1.0 for f in figs]
    confidence = (sum(scores) / len(scores)) * (0.5 + 0.1 * found)
    if all(f.value is None for f in figs):
        confidence *= 0.8

    extra: dict[str, Any] = {"event_group": slot.group}
    parts = [p for f in figs for p in f.parts]
    if parts:
        extra["parts"] = [_count_json(norm, p) for p in sorted(parts, key=lambda p: p.start)]
    totals = {id(f.of_total): f.of_total for f in figs if f.of_total is not None}
    if totals:
        extra["of_total"] = [_count_json(norm, t) for t in totals.values()]
    if slot.superseded:
        extra["superseded"] = [_count_json(norm, f) for f in slot.superseded]
    if slot.repeats:
        extra["repeats"] = [_count_json(norm, f) for f in sorted(slot.repeats, key=lambda f: f.start)]
    if loc is not None and loc_sent is not None:
        chain = _location_chain(loc, loc_sent, text, folded)
        if chain:
            extra["location_context"] = [_span(norm, e.start, e.end, e.span.score).to_json() for e in chain]
    lost = [e for s in ev_sents for e in unread.get(s.index, [])]
    if lost:
        extra["unread_counts"] = [{**_span(norm, e.start, e.end, e.span.score).to_json(), "label": e.label} for e in lost]
    if inherited:
        extra["inherited"] = inherited
    if perp_from_other_side:
        extra["perpetrator_is_other_side"] = True

    killed = slot.figures.get("KILLED")
    wounded = slot.figures.get("WOUNDED")
    return Incident(
        evidence=_span(norm, ev_start, ev_end),
        killed=_count(norm, killed) if killed else None,
        wounded=_count(norm, wounded) if wounded else None,
        perpetrator=_span(norm, perp.start, perp.end) if perp else None,
        victim=_span(norm, victim.start, victim.end) if victim else None,
        location=_span(norm, loc.start, loc.end, loc.span.score) if loc else None,
        date=date_ref,
        source=_span(norm, source.start, source.end) if source else None,
        confidence=max(0.0, min(1.0, confidence)),
        extra=extra,
    )


def assemble_incidents(norm: NormalizedText, entities: Sequence[Entity],
                       article_date: dt.date | None) -> list[Incident]:
    """Incidents of one article from the model's entities (offsets in ``norm.text``).

    Returned spans are in original offsets. Raises ``HasilaError`` when an entity does not
    lie in ``norm.text`` or its text differs from the text at its offsets.
    """
    _check_entities(norm, entities)
    text = norm.text
    folded = fold_letters(text)
    cut, furniture_spans = furniture(norm)
    kept = _join_doubled_duals(_usable_entities(entities, cut, furniture_spans), text)
    if not any(e.label in COUNT_LABELS for e in kept):
        return []  # incidents are built from figures only (rule 7); most news has none
    sentences = _build_sentences(text, cut, kept)
    unread: dict[int, list[Entity]] = {}
    for sent in sentences:
        _read_figures(text, folded, sent, unread)
    if not any(sent.figures for sent in sentences):
        return []
    for sent in sentences:
        _describe_figures(text, folded, sent)
        sent.sources = find_sources(text, folded, sent.start, sent.end, sent.entities)
        sent.perpetrators = find_perpetrators(text, folded, sent.start, sent.end, sent.entities)
        sent.targets = find_targets(text, folded, sent.start, sent.end, sent.entities)
        sent.locations = _sentence_locations(sent, folded)
        sent.dates = _sentence_dates(sent, text, folded)
    all_figs = [f for s in sentences for f in s.figures]
    _drop_totals_of_attacks(all_figs)
    _count_named_lists(all_figs, folded)
    _find_breakdowns(all_figs, folded)
    _attach_parts(all_figs, text, folded)
    _drop_parts_of_cumulative(all_figs)
    slots = _split_sideless_wounded(_merge_restatements(_build_slots(sentences, text, folded), folded))
    slots = _merge_updates(slots, sentences, text, folded)
    slots = _drop_repeated_totals(slots, all_figs, text)
    slots = _merge_repeats(slots, sentences, text, folded)
    slots = _attach_early_tolls(slots, all_figs, text)
    slots.sort(key=lambda slot: (min(slot.sentences), slot.first.start))
    groups: dict[int, list[_Slot]] = {}
    for slot in slots:
        groups.setdefault(slot.group, []).append(slot)
    incidents = [_make_incident(slot, norm, folded, sentences, article_date, unread, groups[slot.group])
                 for slot in slots]
    incidents = [inc for inc in incidents if not _is_background(inc, article_date)]
    _mark_disputes(incidents, text)
    # Event groups numbered 0, 1, … in text order.
    renumber: dict[int, int] = {}
    for inc in incidents:
        inc.extra["event_group"] = renumber.setdefault(inc.extra["event_group"], len(renumber))
    return incidents


def _is_background(inc: Incident, article_date: dt.date | None) -> bool:
    """Rule 15: an event dated, in its own sentence, more than two weeks before the article."""
    if article_date is None or inc.date is None or inc.date.resolved is None:
        return False
    if "date" in inc.extra.get("inherited", []):
        return False
    return latest_day(inc.date.resolved, inc.date.precision) < article_date - dt.timedelta(days=_NEWS_DAYS)


def _mark_disputes(incidents: list[Incident], text: str) -> None:
    """Rule 16: one event, different figures from different sources → ``extra["disputed"]``."""
    by_group: dict[int, list[Incident]] = {}
    for inc in incidents:
        by_group.setdefault(inc.extra["event_group"], []).append(inc)
    for members in by_group.values():
        for a in members:
            for b in members:
                if a is b or a.source is None or b.source is None:
                    continue
                if actor_key(a.source.text) == actor_key(b.source.text):
                    continue
                differ = any(
                    x is not None and y is not None and x.value != y.value
                    for x, y in ((a.killed, b.killed), (a.wounded, b.wounded))
                )
                if differ:
                    a.extra["disputed"] = True
