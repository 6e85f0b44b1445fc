"""Incident assembly: the model's spans of one article → incident records.

``assemble_incidents(norm, entities, article_date, disable=()) -> list[Incident]``;
``assemble(norm, entities, article_date, disable=(), explain=False) -> Assembly`` (with each
figure's fate when ``explain``: :mod:`hasila.infer.assembly.explain`).

``entities`` carry offsets into ``norm.text`` (the normalized text the model read); every span
of the returned incidents is in ORIGINAL offsets (``norm.original_span``), so
``span.text == norm.original[start:end]``. Only KILLED/WOUNDED spans (called *figures* below)
create incidents; other numbers never do. Cue words are matched on ``fold_letters(norm.text)``.

Every rule has a stable id, ``A1`` … ``A22`` (assembly rules), used in the code, the tests
(``pytest -m A7b`` runs one rule's tests) and ``--explain`` output; the annotation guidelines'
decision rules are a separate series, ``G1`` … ``G41`` (annotations/GUIDELINES.md). The order in
which the rules apply is stated once, by ``PASSES`` in :mod:`hasila.infer.assembly.passes`:
read (A1, A2) → roles (the cues of A3, A3b, A3c, A17, A18, A20, A21, A19, A6, A5, A22) → A22 →
A5b → A4 (with A3c) → A5 → A3d → A7 → A7d → A7c → A6 → A7e → A7b → A19 → fields (A8-A14) →
A15 → A16. The rules that drop, merge or reassign figures can be disabled one by one
(``disable={"A7b"}``, ``hasila-extract --disable-rules A7b``): A3, A3b, A3c, A3d, A4, A5, A5b,
A6, A7b, A7c, A7d, A7e, A15, A17-A22 (``DISABLEABLE``); reading figures (A1, A2), grouping them
into incidents (A7) and the fields (A8-A14, A16) cannot be.

The modules, one per family: ``figures`` (A1, A2 and the role cues), ``structure`` (A3d, A4, A5,
A5b), ``grouping`` (A6, A7, A7b-A7e, A19), ``fields`` (A8-A12), ``incident`` (A13-A16), ``cues``
(the cue words), ``state`` (sentences, figures, incidents being built), ``passes`` (the order),
``explain`` (provenance).

A1. **Page furniture.** Entities after ``content_end`` (comments, related titles, tags…) or
   inside a furniture span (ad markers, «اقرأ أيضا» lines) are ignored. Sentences come from
   ``split_sentences`` over the content, clauses from ``split_clauses``.
A2. **Figures.** Each figure is read with ``parse_quantity(span, before, after)`` with up to
   four words of its sentence on each side (so «على الأقل», «ما لا يقل عن» are seen). A figure
   that cannot be read is dropped and listed in ``extra["unread_counts"]`` of the incidents of
   its sentence.
A3. **Cumulative statistics** are not incidents: a figure whose clause has «منذ» followed
   (within two words) by a long period — a year, month name, «العام», «الشهر», «أسبوع»,
   «الحرب», «اندلاع»… («1362 قتيلاً منذ آذار 2019», «منذ بداية العام») — or «خلال» + a period of
   a week or more («خلال الشهر الماضي»). «منذ صباح اليوم», «منذ يومين», «منذ بدء الهجوم» are
   the event's own toll and stay. Subsets of a cumulative figure go with it.
   A3b. Also cumulative: a clause counting over months or a period («خلال 10 أشهر», «في الأشهر
   القليلة الماضية», «طوال الفترة»), a report's statistics («العدد الإجمالي», «الحصيلة
   الشهرية», «إحصائيات») and «منذ» with a year within six words («منذ أن … في 2013»)
   (G4, G14, G31). And any figure of 500 or more: a toll that large is a statistic
   or a war's dead, not one attack (the largest single-incident figures in the gold train and dev
   splits are 101 dead and 227 wounded). Every figure of a sentence that reads like a
   report's table («كانت بغداد الأكثر تضررا … تلتها ديالى ب 170 قتيلا», «شهد تموز الماضي مقتل
   844»), and «آخرون» told right after a cumulative figure («قتلوا خلال شهر يوليو فيما أصيب 492
   آخرون»).
   A3d. **Parts of what makes no incident**: the parts of a cumulative figure (A3, A3b) or of one
   that is no event (A17-A22) make no incident either.
   A3c. A toll over a week at most («خلال الأسبوع الماضي») whose parts are told by place and add up
   to it is its attacks (G2, G31): the parts are the incidents; by side or kind, or
   with no breakdown, it stays cumulative.
A4. **Breakdowns.** A figure T followed (in its sentence, or starting the next one) by two or
   more figures of the same label whose values add up exactly to T. When each part has its own
   place (or date), T is a total over several events («35 … 27 في ريف حمص … و8 في ريف دير
   الزور»): ACLED codes one row per event, so the parts become the incidents
   (``extra["of_total"]`` = T, each its own event) and T is not an incident — nothing is counted
   twice. When the parts split one event by kind or side («8 قتلى: 5 جنود و3 ضباط»), T is the
   incident and they are its ``parts`` (G15). Parts starting in the next sentence
   count only after a subset cue («وقتل 27 منهم …») or when T names no place of its own (else
   «10 في إدلب. و6 في حلب و4 في حماة» are three events). The same holds when the total comes
   after its parts and is told as a total («… ليرتفع عدد القتلى إلى 8», «مجموع», «حصيلة»):
   then it is neither an update nor an extra incident.
A5. **Subsets.** A figure after «بينهم», «من بينهم», «منهم», «بينهن», «معظمهم», «غالبيتهم» …
   or followed by «منهم» («3 منهم ضباط») is a part of the nearest earlier figure of the same
   label (in its sentence, or the previous sentence when it opens its sentence) that is not
   smaller: it goes to ``extra["parts"]`` of that incident and never makes its own. Figures
   that continue a list of parts («بينهم 6 ضباط و4 عناصر», joined by «و»/«،», no new casualty
   verb, no different named side) are parts too while the parts stay within the whole, and so is
   a figure that «و» joins to the list within six words of the cue («بينهم نساء وأطفال وشرطي»,
   «بينهم أربعة أطفال وامرأة»). When no
   such whole exists the figure is an ordinary one.
   A5b. **Named lists** (G16): lone titles listed with their names
   («استشهاد العريف [PER]، والجندي [PER]، والجندي [PER]»: value-1 figures of one label, one
   sentence, joined by «،»/«و», a PER between each two, no new casualty verb) are one figure
   whose value is the number named; the later titles are its ``parts``.
A6. **Updates.** A figure right after «ارتفع/ارتفعت/ليرتفع/وصل/بلغ … إلى [نحو …]» updates
   the latest earlier incident with the same label, a compatible victim and a compatible
   place (see A7b): the new figure replaces the old one, which goes to
   ``extra["superseded"]`` (ACLED overwrites a rising toll); the evidence grows to cover both.
   Without such an incident it is an ordinary figure.
A7. **Grouping.** Within a sentence, figures in text order fill incidents: a figure joins the
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
   A7b. **Repeats.** An incident whose figures equal an earlier incident's (same label, same
   value, at least one in common) from another sentence, with no conflicting victim and no
   disjoint place (place names compared without «ريف», «مدينة», «شرقي»…), is the same report
   told again — typically the headline and the lead, or a lead and the quote that repeats it.
   Figures of 10 or more merge even where the tellings name different places (a province,
   then a district of it). They become one incident at the **first** telling (its count span,
   and what its sentence says: that is what annotators code); later tellings go to
   ``extra["repeats"]`` and supply what the first does not say (a date; a place that names the
   first one's and more, «بادية السخنة شرقي حمص» after «بادية حمص»). A figure
   equal to a total that A4 split into its attacks (a headline «مقتل 35» over «27 … و8»)
   is that total told again: that is A7e.
   A7d. **Told again in one sentence.** Within one event (a run-on paragraph, a lead and the quote
   that repeats it), a later incident whose every figure has the value of an earlier one's,
   with the same victim words or none, is that toll told again: its figures go to the earlier
   incident's ``repeats``. Not when its dead are «آخرين» (others), nor for nouns that count by
   themselves and differ («ضابطان اثنان وجنديان»). Applied before A7c, which it would otherwise
   trigger (equal tolls look like sides).
   A7e. **A total told again** (A7b for totals): a figure equal to a total that A4 split into its
   attacks (a headline «مقتل 35» over «27 … و8») is that total told again: it goes to the first
   part's ``repeats``, never an incident. Applied before A7b.
   A7c. **Wounded of no side** (G23): when one event's dead are split into incidents
   by side in the wounded's own sentence, a wounded figure that names no side («وإصابة 7
   آخرين») is an incident of its own in that event (killed null, victim null), not a figure of
   the last side's incident.
A8. **Victim** (see ``actors.find_victim``): the named side after the figure (the ORG after
   «من»/«في صفوف», else the group noun phrase), else the people noun («مدنيا»), else the side
   named before it («قتلى قوات النظام»), else the count's own people word («شخصان»,
   «ضابطين»). A named victim wins over a people noun. When the figure names no side or only
   members of one («7 عناصر», «أفراد», «مقاتلين»; not «14 جنديا أفغانيا», «جنود», «شرطي», which
   say the side already; civilians and persons «أشخاص» stay what they are), the ORG attacked in
   the sentence («هجوم على قوات النظام», «نقطة لقوات النظام»; ``actors.find_targets``) — or in the attack
   an earlier sentence told, when this one refers back to it — is the victim, unless it is
   the attacker. Civilians stay civilians. The parts of a breakdown take their total's
   victim and attacker when they name none.
A9. **Location**: the figure's own LOC (after it, before the next figure, in its clause), else
   the first LOC of the sentence introduced by a place word («في», «ب…», «قرب», «شمال»…), else
   the sentence's first LOC, else the location of the nearest of the three previous sentences
   that has one. LOCs chained right after it («… بريف دير الزور الشرقي») are the context, in
   ``extra["location_context"]``: the first LOC of the chain is the most specific, and a LOC
   that only encloses the one before it («قضاء البعاج شمال غرب بغداد») is never chosen.
   Place words include administrative heads («قضاء», «ناحية», «ولاية», «بلدتي»…).
   A9b. **Two places** joined by «و» («بلدتي الفوعة وكفريا في محافظة إدلب»): the event's place
   is the smallest place named around the pair (G21), else the first of them.
   A9c. **Country first, town later**: when that place is a country or a wide region («شمال
   الكاميرون», «في العراق», «سيناء»), a specific place that one of the next three sentences says
   the attack happened at («ووقع التفجيران في مدينة مروة», «وأسفر الهجوم الذي وقع في بلدة طوز
   خورماتو») is the event's place (``inherited``); the search stops at a sentence telling another
   attack («وفي هجوم آخر»).
A10. **Date**: the DATE of the sentence nearest to the figure, else one of a sentence telling the
    figure again (A7b), else the first DATE of the nearest dated sentence among the three
    before it. Not event dates: DATEs after «منذ» (periods) and the date of the report
    («أفاد المرصد اليوم الإثنين بمقتل …»: a DATE between a reporting verb and its source, or
    right after the source; G19). Resolved with ``resolve_date`` against the
    article date.
A11. **Source**: the reporting name (``actors.find_sources``) nearest before the figure in its
    sentence, else the first one after it in the sentence, else one of a sentence that tells the
    figure again (A7b), else the nearest one before it in its paragraph; figures the article tells with no attribution have none (guideline: the outlet's
    own reporting → null). A perpetrator's claim channel («وكالة أعماق») is
    a source like any other.
A12. **Perpetrator**: the attacker named by a cue in the sentence (``actors.find_perpetrators``)
    nearest to the figure, never the victim (by ``actor_key``: «تنظيم داعش» is not the
    perpetrator of «التنظيم»'s losses) nor, unless it claims the attack, the source; when the
    sentence names none but refers back to an attack («في الهجوم», «خلال الاشتباكات»), the one
    named in the nearest of the three previous sentences. Failing that, for combatant
    casualties of a two-sided event, the other side's named victim (each side's dead were
    caused by the other; ``extra["perpetrator_is_other_side"]``). Else null.
A13. **Evidence** is the hull of the sentences the figures came from (and the figure spans).
    Fields taken from other sentences are listed in ``extra["inherited"]``.
A14. **Confidence** = s · (0.5 + 0.1 · n), times 0.8 when no figure has a value (vague «عدد
    من»): s is the mean model score of the incident's figures (1.0 for spans without a score,
    i.e. hand-made ones), n the number of the five fields victim, perpetrator, location, date,
    source that were found. A certain figure with everything found scores s; a bare figure
    half of it.
A15. **Background.** An incident whose own sentence dates it more than 14 days before the
    article (its latest possible day, for week/month/year precision) is an old event recalled
    as background, not news (G13): dropped. Inherited dates never drop one.
A16. **Disputes.** Incidents of one event with different figures from different sources (two
    outlets, or the perpetrator's claim against an observatory) stay separate, each with its
    source, and are marked ``extra["disputed"]`` (G6).
A17. **Not armed violence** (G10): a figure whose sentence names an accident, a
    disaster or a disease («حادث غرق», «حادث مروري», «حريق», «انهيار», «سيول», «وباء») and no
    armed-violence word («هجوم», «قصف», «مسلحين», «عبوة»…) makes no incident.
A18. **Bodies found** (G12, G31): a figure next to a body noun («جثة», «جثتي»,
    «جثث») in a clause that says they were found («العثور», «عثرت», «انتشال») makes no
    incident.
A19. **Early tolls**: a figure told as the first or preliminary toll («الحصيلة الأولية»,
    «وكانت الحصيلة») is an earlier figure of an event told elsewhere: it goes to
    ``extra["superseded"]`` of the nearest incident with that label (and a compatible victim),
    never its own incident; with no such incident it is an ordinary figure.
A20. **References to an earlier attack** (G13): a figure in a clause that refers
    back to an attack the sentence is not about («في أعقاب هجوم مسلح على منتجع قتل فيه عشرات»,
    «في قضية تفجير المسجد الذي قتل فيه نحو 30», «بعد ثلاث سنوات على إطلاق النار الذي قتل فيه
    12») makes no incident, unless the reference is dated (then A15 decides by the date);
    nor does a figure told «back then» («وقتل حينها 14», «قتل آنذاك خمسة»).

A21. **The state of casualties already told**: «أحد الجرحى خضع للجراحة», «أربعة من المصابين في
    حالة خطرة», «ومن بين المصابين 11 رجل إطفاء», «20 جريحا ما زالوا في حالة حرجة» — a figure of
    the wounded or dead («من الجرحى», «بين المصابين») or one that says how they are («في حالة
    حرجة», «خرجوا من المستشفى») with no casualty verb before it in its clause makes no incident.

A22. **Tolls of several attacks** (G2): a figure whose clause tells several attacks
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
from dataclasses import dataclass
from typing import Any, Collection, Sequence

from hasila.infer.assembly.passes import DISABLEABLE, PASSES, RULES, check_disable, run_passes
from hasila.infer.normalize import NormalizedText
from hasila.infer.types import Entity, Incident

__all__ = ["Assembly", "DISABLEABLE", "PASSES", "RULES", "assemble", "assemble_incidents", "check_disable"]


@dataclass(frozen=True)
class Assembly:
    """The incidents of one article; with ``explain``, each figure's fate (else None)."""

    incidents: list[Incident]
    provenance: list[dict[str, Any]] | None = None


def assemble(norm: NormalizedText, entities: Sequence[Entity], article_date: dt.date | None, *,
             disable: Collection[str] | None = None, explain: bool = False) -> Assembly:
    """Incidents of one article from the model's entities (offsets in ``norm.text``), with the
    rules in ``disable`` turned off (ids of :data:`DISABLEABLE`) and, when ``explain``, the fate
    of every KILLED/WOUNDED figure (:mod:`hasila.infer.assembly.explain`).

    Returned spans are in original offsets. Raises ``HasilaError`` when an entity does not
    lie in ``norm.text`` or its text differs from the text at its offsets, or for a rule id
    that cannot be disabled.
    """
    doc = run_passes(norm, entities, article_date, check_disable(disable))
    incidents = [inc for _, inc in doc.made]
    if not explain:
        return Assembly(incidents)
    from hasila.infer.assembly.explain import explain as explain_figures

    return Assembly(incidents, explain_figures(doc))


def assemble_incidents(norm: NormalizedText, entities: Sequence[Entity], article_date: dt.date | None, *,
                       disable: Collection[str] | None = None) -> list[Incident]:
    """The incidents of :func:`assemble`."""
    return assemble(norm, entities, article_date, disable=disable).incidents
