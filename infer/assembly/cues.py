"""The cue words of the assembly rules: regular expressions over ``fold_letters(norm.text)``,
each tagged with the rules (``A…``) that read it. Language data, apart from the rules' logic."""

from __future__ import annotations

import re

from hasila.infer.arabic.clitics import clitic_prefix
from hasila.infer.arabic.letters import fold_letters
from hasila.infer.arabic.words import alternation, cue, word_list, word_set
from hasila.infer.dates import MONTHS

_cue = cue  # patterns in ordinary spelling, folded like the text they are matched on
CONJ = clitic_prefix("conjunction")  # «و»/«ف» before a cue word


MONTH_WORDS = "|".join(sorted({re.escape(fold_letters(m)) for m in MONTHS}, key=len, reverse=True))
LONG_PERIOD = (
    r"(?:ال)?(?:عام|سنة|سنوات|أعوام|شهر|أشهر|شهور|أسبوع|أسابيع|أسبوعين|شهرين|عامين|سنتين|حرب|ثورة|"
    r"أزمة|نزاع|صراع|أحداث)|اندلاع|انطلاق|" + MONTH_WORDS + r"|\d{4}"
)
CUMULATIVE = _cue(
    rf"(?<!\w){CONJ}(?:منذ\s+(?:\w+\s+){{0,2}}?(?:{LONG_PERIOD})"
    r"|خلال\s+(?:ال)?(?:عام|سنة|سنوات|أعوام|شهر|أشهر|شهور|أسبوع|أسابيع|أسبوعين|شهرين|عامين|سنتين))(?!\w)"
)
QUALIFIER_WORDS = r"(?:(?:نحو|حوالي|حوالى|قرابة|زهاء|أكثر|أقل|من|ما|لا|يقل|يزيد|عن|على|الأقل|يقارب)\s+){0,4}"
UPDATE = _cue(
    r"(?<!\w)(?:و|ف|ل)?(?:ارتفع|ارتفعت|يرتفع|ترتفع|وصل|وصلت|يصل|تصل|بلغ|بلغت|يبلغ|تبلغ|رفع|ترفع|يرفع)"
    rf"(?!\w)[^.!?؟]*?(?<!\w)(?:إلى|الى)\s+{QUALIFIER_WORDS}$"
)
PART_BEFORE = _cue(
    rf"(?<!\w){CONJ}(?:من\s+)?(?:بينهم|بينهن|بينهما|بينها|منهم|منهن|منهما|ضمنهم|ضمنهن|معظمهم|معظمهن|"
    rf"أغلبهم|أغلبهن|غالبيتهم|غالبيتهن|أكثرهم)\s+{QUALIFIER_WORDS}$"
)
# A later item of a list of parts: «بينهم أربعة أطفال [وامرأة]», «بينهم نساء وأطفال [وجندي]».
PART_LIST = _cue(
    rf"(?<!\w){CONJ}(?:من\s+)?(?:بينهم|بينهن|منهم|منهن|ضمنهم|ضمنهن)\s+(?:[^\s.،,؛:!?؟]+\s+){{1,6}}$"
)
PART_AFTER = _cue(r"^\s*(?:\w+\s+)?(?:منهم|منهن|منهما|من\s+بينهم)(?!\w)")
OTHERS_AFTER = _cue(r"^\s*(?:\w+\s+)?(?:آخرين|آخرون|آخر|أخرى|أخريات)(?!\w)")
NEW_CASUALTY_VERB = _cue(
    rf"(?<!\w){CONJ}{alternation('new_casualty_verbs')}(?!\w)"
)
PLACE_WORDS = _cue(
    r"(?<!\w)(?:في|ب|قرب|بالقرب|عند|شمال|جنوب|شرق|غرب|شمالي|جنوبي|شرقي|غربي|محيط|أطراف|ريف|داخل|"
    r"مدينة|بلدة|قرية|بادية|منطقة|محافظة|حي|على\s+طريق|طريق|وسط|ضواحي|"
    r"قضاء|ناحية|ولاية|مديرية|إقليم|اقليم|مقاطعة|ضاحية|أحياء|بلدتي|قريتي|مدينتي|جبهة|جبهات|مخيم)\s*$"
)
HQ_WORDS = _cue(r"(?<!\w)(?:ومقره|مقره|ومقرها|مقرها|ومركزه|مركزه|ومقرّه)\s*$")
# «المعارك المستمرة منذ 2 آذار»: the period belongs to a noun, not to the figure.
PERIOD_OF_NOUN = _cue(
    r"(?<!\w)(?:ال)?(?:مستمر|مستمرة|دائر|دائرة|متواصل|متواصلة|التي|الذي|اندلعت|اندلع|بدأت|بدأ|تدور|يدور|"
    r"تتواصل|يتواصل|تستمر|يستمر)\s+$"
)
# A figure told as the sum of what came before it.
TOTAL_CUE = _cue(
    r"(?<!\w)(?:و|ف|ب|ل)?(?:ال)?(?:مجموع|إجمالي|اجمالي|حصيلة|عدد|يصبح|ليصبح|لتصبح|يرتفع|ليرتفع|لترتفع|ترتفع|"
    r"ليبلغ|لتبلغ|يبلغ|تبلغ|الكلي|الكلية|الإجمالية)(?!\w)"
)
SINCE_BEFORE = _cue(r"(?<!\w)منذ\s+(?:\w+\s+){0,2}$")
# A3b: counts over months, a report's statistics («خلال 10 أشهر», «في الأشهر القليلة
# الماضية», «العدد الإجمالي للقتلى», «إحصائيات», «الحصيلة الشهرية», «منذ أن … في 2013»).
CUMULATIVE_MORE = _cue(
    rf"(?<!\w){CONJ}(?:خلال|طوال|على\s+مدى|على\s+مدار)\s+(?:\w+\s+){{0,2}}?(?:ال)?(?:أشهر|شهور|أسابيع|سنوات|أعوام|فترة|الفترة)(?!\w)"
    r"|(?<!\w)(?:في|خلال)\s+(?:ال)?(?:أشهر|شهور|أسابيع|سنوات|أعوام)\s+(?:القليلة\s+)?(?:ال)?(?:ماضية|أخيرة)(?!\w)"
    r"|(?<!\w)(?:ال|وال|بال|لل)?(?:عدد|حصيلة|مجموع)\s+(?:ال)?(?:إجمالي|اجمالي|كلي|إجمالية|اجمالية|كلية|شهرية|سنوية)(?!\w)"
    r"|(?<!\w)(?:ال|وال|بال)?(?:إحصائيات|احصائيات|إحصائية|احصائية|إحصاءات|احصاءات)(?!\w)"
    r"|(?<!\w)منذ\s+(?:\S+\s+){0,6}?\d{4}(?!\d)"
)
# A report's tables, for the whole sentence: «كانت بغداد الأكثر تضررا حيث سجلت سقوط 335 قتيلا
# … تلتها ديالى ب 170 قتيلا», «شهد تموز الماضي مقتل 844 مدنيا».
STATISTICS_TABLE = _cue(
    r"(?<!\w)(?:ال)?(?:أكثر|اكثر)\s+تضررا(?!\w)"
    rf"|(?<!\w){CONJ}(?:ب|ل|لل|ال|بال)?(?:إحصائيات|احصائيات|إحصائية|احصائية|إحصاءات|احصاءات)(?!\w)"
    rf"|(?<!\w)(?:و)?شهد\s+(?:شهر\s+)?(?:{MONTH_WORDS})(?!\w)"
)
# A17: casualties of accidents, disasters and disease (G10) — a sentence
# that names one of these and no armed violence («لقوا حتفهم في حادث غرق مركب»).
ACCIDENT = _cue(
    r"(?<!\w)(?:و|ب|ف|ل)?(?:ال)?(?:حادث\s+(?:ال)?(?:مروري|سير|غرق|تصادم|انقلاب|اصطدام)|حوادث\s+(?:ال)?(?:مرور|سير|طرق)|"
    r"غرق|غرقا|اصطدام|تصادم|انقلاب|حريق|حرائق|انهيار|سيول|فيضان|فيضانات|زلزال|أمطار|امطار|صاعقة|عاصفة|"
    r"تدافع|تسمم|وباء|فيروس|كورونا|الكوليرا|كوليرا|الحمى|حمى|متلازمة|موجة\s+حر|ماس\s+كهربائي|تشخيص|مرض|أمراض|سرطان)(?!\w)"
)
ARMED = _cue(
    rf"(?<!\w)(?:و|ب|ف|ل)?(?:ال)?{alternation('armed_violence')}(?!\w)"
)
# A20: a figure in a relative clause about an earlier attack the sentence refers to
# («في أعقاب هجوم مسلح على منتجع قتل فيه عشرات», «في قضية تفجير المسجد الذي قتل فيه 30»).
REFERENCE_TO_ATTACK = _cue(
    rf"(?<!\w){CONJ}(?:في\s+)?(?:أعقاب|اعقاب|عقب|إثر|اثر|خلفية|قضية|محاكمة|ذكرى|بذكرى|التحقيق\s+في|التحقيقات\s+في"
    r"|بعد\s+(?:\w+\s+){0,3}?(?:سنوات|أعوام|سنة|عام|عامين|سنتين|أشهر|شهور|شهر|شهرين|أسابيع|أسبوعين)(?:\s+\w+)?\s+(?:على|من))(?!\w)"
    r"[^.!?؟]*?(?<!\w)(?:الذي|التي|والذي|والتي|قتل\s+فيه|قتل\s+فيها|قتلت\s+فيه)(?!\w)[^.!?؟]*$"
)
# A20: «وقتل حينها 14», «وقد قتل آنذاك خمسة»: the toll of an earlier event the article
# recalls, when the word opens its sentence (mid-sentence it can be the time of the attack just
# told: «هاجم مسلحون حاجزا وقتل حينها 4 جنود»).
BACK_THEN_REACH = 20
BACK_THEN = _cue(r"(?<!\w)(?:و)?(?:حينها|حينذاك|آنذاك|انذاك|وقتها|وقتذاك|يومها|يومذاك|في\s+حينه)(?!\w)")
# A18 (G31): bodies found — «العثور على جثتي شرطيين», «انتشال 11 جثة».
BODY_NOUN = _cue(r"(?<!\w)(?:و|ب)?(?:ال)?(?:جثة|جثث|جثتي|جثتين|جثتا|جثمان|جثامين|رفات)(?!\w)")
FOUND = _cue(rf"(?<!\w){CONJ}(?:عثر|عثرت|يعثر|العثور|عثور|انتشال|انتشلت|انتشل|اكتشاف|اكتشفت|وجدت|مرمية|ملقاة)(?!\w)")
# A22: a toll over several attacks («في سلسلة تفجيرات», «تفجيرات في أنحاء العراق أدت إلى
# مقتل 32», «تعرضت لثلاثة اعتداءات أوقعت 44»): a total, not one incident.
SEVERAL_ATTACKS = _cue(
    r"(?<!\w)(?:و|ف|ب|ل)?(?:سلسلة|موجة)\s+(?:من\s+)?(?:ال)?(?:تفجيرات|هجمات|انفجارات|اعتداءات)(?!\w)"
    r"|(?<!\w)(?:ل|ب)?(?:\d+|ثلاث|ثلاثة|أربع|أربعة|خمس|خمسة|ست|ستة|سبع|سبعة|عدة)\s+(?:ال)?(?:تفجيرات|هجمات|انفجارات|اعتداءات)(?!\w)"
    r"|(?<!\w)(?:ال)?(?:تفجيرات|هجمات|اعتداءات)\s+(?:متفرقة\s+)?(?:في|ب)\s+(?:أنحاء|انحاء|مناطق|مختلف|عدة)(?!\w)"
)
# «عدة هجمات من بينها الهجوم الذي أوقع 32 قتيلا»: one attack of them, named after the cue.
ONE_ATTACK = _cue(r"(?<!\w)(?:ال)?(?:هجوم|تفجير|انفجار|اعتداء|الهجوم|التفجير|الانفجار|الاعتداء)(?!\w)")


# A3c: a campaign over a week at most; broken down by place, its parts are the attacks.
SHORT_CAMPAIGN = _cue(rf"(?<!\w){CONJ}خلال\s+(?:ال)?(?:أسبوع|اسبوع|الأسبوع|الاسبوع)(?:\s+(?:ال)?(?:ماضي|الماضي|أخير|الأخير))?(?!\w)")


# A21: the state of casualties already told.
OF_THE_CASUALTIES_AFTER = _cue(
    r"^\s*(?:(?:\w+\s+)?(?:من|بين)\s+(?:ال)?|ال)(?:جرحى|مصابين|قتلى|ضحايا)(?!\w)"
)
OF_THE_CASUALTIES_BEFORE = _cue(r"(?<!\w)(?:و)?(?:من\s+)?بين\s+(?:ال)?(?:جرحى|مصابين|مصابون|قتلى|ضحايا)\s+$")
STATE_AFTER = _cue(
    r"^[^.!?؟،,]{0,40}?(?<!\w)(?:(?:في|ب)\s*(?:ال)?(?:حالة|حالات|وضع)\s+(?:\w+\s+)?(?:ال)?(?:حرجة|خطرة|خطيرة|حرج|خطر|مستقرة|صحية)"
    r"|(?:حالتهم|حالاتهم|حالتها|حالته|حالتهما|حالاتهما|وضعهم|وضعه)\s+(?:ال)?(?:حرجة|خطرة|خطيرة|مستقرة)"
    r"|خرجوا|غادروا|خرج|غادر|خضع|خضعوا|يخضع|يخضعون|ما\s+زالوا|مازالوا|لا\s+يزالون|ما\s+زال|لا\s+يزال|يتلقون|يتلقى)(?!\w)"
)


# «أسفر الهجوم عن 5 جرحى في حالة خطرة»: a toll told anew, with the state of its wounded.
TOLL_VERB = _cue(r"(?<!\w)(?:و|ف|م|ما)?(?:أسفر|أسفرت|يسفر|تسفر|أدى|أدت|يؤدي|تؤدي|خلف|خلفت|أوقع|أوقعت|حصيلة)(?!\w)")


# A19: an early toll of the same event («وكانت الحصيلة الأولى أشارت إلى سقوط تسعة»).
EARLY_TOLL = _cue(
    r"(?<!\w)(?:ال)?حصيلة\s+(?:\w+\s+){0,2}?(?:ال)?(?:أولية|اولية|أولى|اولى|سابقة|أولي|اولي)(?!\w)"
    r"|(?<!\w)(?:و)?كانت\s+(?:ال)?حصيلة(?!\w)"
)


DOUBLING_TWO = frozenset({"اثنان", "اثنين", "اثنتان", "اثنتين", "إثنان", "إثنين"})


MULTIPLIERS = frozenset(fold_letters(w) for w in "ألف آلاف ألفا مليون ملايين مليونا".split())


GENERIC_PLACE_WORDS = word_set("generic_place_words")


# name different places («في ولاية لوغار» then «في منطقة بركي براك», a district of it).
DISTINCTIVE_FIGURE = 10


# «وفي هجوم آخر», «في حادث منفصل»: a sentence that says it tells another attack.
ANOTHER_ATTACK = _cue(
    r"(?<!\w)(?:ال)?(?:هجوم|هجمات|تفجير|انفجار|حادث|حادثة|اعتداء|غارة|قصف|عملية|هجومين|سياق)\s+(?:ال)?"
    r"(?:آخر|أخرى|اخر|منفصل|منفصلة|مماثل|مماثلة|ثان|ثاني|ثانية|جديد|جديدة)(?!\w)"
)


# A9c: countries and wide regions — a place this coarse gives way to a specific one that a
# following sentence names for the same attack («شمال الكاميرون» … «ووقع الهجوم في بلدة مروة»).
COARSE_PLACES = word_set("coarse_places")
DIRECTIONS = word_set("directions")
FOLLOWING_SENTENCES = 3
# The attack told before, said to have happened somewhere: «ووقع التفجيران في مدينة مروة»,
# «وأسفر الهجوم الذي وقع في بلدة طوز خورماتو»; the place follows within a few words.
THE_ATTACKS = (
    r"(?:ال)(?:هجوم|هجومين|هجومان|هجمات|تفجير|تفجيران|تفجيرين|تفجيرات|انفجار|انفجاران|انفجارين|غارة|غارات|قصف|حادث|"
    r"حادثة|اعتداء|كمين|اشتباكات|معارك|عملية)"
)
THE_ATTACK_HAPPENED = _cue(
    rf"(?<!\w){CONJ}(?:وقع|وقعت|حصل|حصلت|جرى|جرت)\s+{THE_ATTACKS}(?!\w)"
    rf"|(?<!\w){CONJ}(?:ب|ل)?{THE_ATTACKS}\s+(?:\w+\s+){{0,2}}?(?:الذي|التي)?\s*(?:وقع|وقعت|حصل|حصلت|جرى|جرت|استهدف|استهدفت)(?!\w)"
)
PLACE_AFTER_ATTACK = 60  # characters between that and the place


# «عناصر», «أفراد», «مقاتلين»: members of some side, which the attacked side names better;
# «جنود», «ضباط», «شرطي» say which side already.
MEMBER_STEMS = tuple(fold_letters(w) for w in word_list("member_nouns"))

