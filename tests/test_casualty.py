"""The kind of a count (killed or wounded) from the words around it. Made-up sentences."""

from __future__ import annotations

import pytest
from hasila.infer.casualty import drop_non_casualties, relabel_counts
from hasila.infer.normalize import normalize
from hasila.infer.types import Entity, Span
from hypothesis import given, settings
from hypothesis import strategies as st


def counts(text: str, *specs: tuple[str, str] | tuple[str, str, int]) -> list[tuple[str, str]]:
    """Relabel counts placed by (model label, quote[, occurrence]); (label, text) pairs back."""
    norm = normalize(text).text
    ents = []
    for spec in specs:
        label, quote = spec[0], spec[1]
        i = -1
        for _ in range(spec[2] if len(spec) > 2 else 1):
            i = norm.find(quote, i + 1)
            assert i >= 0, quote
        ents.append(Entity(label, Span(i, i + len(quote), quote, 0.9)))
    out = relabel_counts(norm, ents)
    for a, b in zip(ents, out):  # only the label may change
        assert (a.start, a.end, a.text, a.span.score) == (b.start, b.end, b.text, b.span.score)
    return [(e.label, e.text) for e in out]


@pytest.mark.parametrize(
    "text, quote, kind",
    [
        ("سقط 1592 قتيلا و3329 جريحا في المعارك.", "3329", "WOUNDED"),
        ("سقط 1592 قتيلا و3329 جريحا في المعارك.", "1592", "KILLED"),
        ("قدمت المنظمة العلاج لـ 206 جرحى أصيبوا في القصف.", "206", "WOUNDED"),
        ("أعلنت المنظمة أن ما يقرب من 9 آلاف جريح نقلوا.", "9 آلاف", "WOUNDED"),
        ("أسفر الهجوم عن مقتل 4 مدنيين وإصابة اثنين وعشرين بجروح.", "اثنين وعشرين", "WOUNDED"),
        ("أسفر الهجوم عن مقتل 4 مدنيين وإصابة اثنين وعشرين بجروح.", "4", "KILLED"),
        ("قتل 3 فلسطينيين وأصيب 20 آخرون أمس.", "20", "WOUNDED"),
        ("وأضاف أن ثمانية أشخاص أصيبوا في الانفجار.", "ثمانية", "WOUNDED"),
        ("وقال إن 38 شخصا آخرين أصيبوا بجروح.", "38", "WOUNDED"),
        ("أدى القصف إلى مصرع 22 متمردا وإصابة 30 آخرين بجراح.", "22", "KILLED"),
        ("أدى القصف إلى مصرع 22 متمردا وإصابة 30 آخرين بجراح.", "30", "WOUNDED"),
        ("وجرح جنديان في الاشتباك.", "جنديان", "WOUNDED"),
        ("تعرض 7 من رجال حرس الحدود للإصابة.", "7", "WOUNDED"),
    ],
)
def test_the_words_next_to_a_count_decide_its_kind(text, quote, kind):
    other = "WOUNDED" if kind == "KILLED" else "KILLED"
    assert counts(text, (other, quote)) == [(kind, quote)]
    assert counts(text, (kind, quote)) == [(kind, quote)]


def test_the_cue_of_the_next_clause_is_not_this_counts():
    # «وإصابة» after «متمردا» belongs to 30, not to 22.
    text = "أدى القصف إلى مصرع 22 متمردا وإصابة 30 آخرين."
    assert counts(text, ("WOUNDED", "22"), ("KILLED", "30")) == [("KILLED", "22"), ("WOUNDED", "30")]


def test_a_cue_before_an_earlier_count_is_not_looked_at():
    # «وجرح 28» is 28's; «بسقوط 26 شخصا» says nothing, so the model's label stays.
    text = "سجلت نينوى 101 قتيل وجرح 28 وكركوك بسقوط 26 شخصا."
    out = counts(text, ("KILLED", "101"), ("WOUNDED", "28"), ("KILLED", "26"))
    assert out == [("KILLED", "101"), ("WOUNDED", "28"), ("KILLED", "26")]


def test_parts_and_lists_take_their_wholes_kind():
    text = "أدى الانفجار إلى إصابة تسعة أشخاص، ثلاثة منهم إصاباتهم بالغة."
    assert counts(text, ("WOUNDED", "تسعة"), ("KILLED", "ثلاثة")) == [("WOUNDED", "تسعة"), ("WOUNDED", "ثلاثة")]
    text = "ما أدى إلى إصابة خمسة أشخاص بينهم ثلاث نساء وطفلين."
    out = counts(text, ("WOUNDED", "خمسة"), ("KILLED", "ثلاث"), ("KILLED", "وطفلين"))
    assert out == [("WOUNDED", "خمسة"), ("WOUNDED", "ثلاث"), ("WOUNDED", "وطفلين")]
    # made-up: list items after a longer counted phrase, or after «إضافة إلى», before the wounded's clause
    text = "ونتج عنه استشهاد عشرة من منسوبي قوات الطوارئ الخاصة وثلاثة من العاملين، وإصابة تسعة آخرين."
    out = counts(text, ("KILLED", "عشرة"), ("WOUNDED", "وثلاثة"), ("WOUNDED", "تسعة"))
    assert out == [("KILLED", "عشرة"), ("KILLED", "وثلاثة"), ("WOUNDED", "تسعة")]
    text = "ونتج عنه استشهاد 12 من منسوبي القوات إضافة إلى ثلاثة من العاملين في الموقع وإصابة تسعة آخرين."
    out = counts(text, ("KILLED", "12"), ("WOUNDED", "ثلاثة"), ("WOUNDED", "تسعة"))
    assert out == [("KILLED", "12"), ("KILLED", "ثلاثة"), ("WOUNDED", "تسعة")]


def test_a_count_whose_words_say_nothing_keeps_the_models_label():
    text = "وأضاف أن خمسة أشخاص من سكان المنازل المجاورة نقلوا إلى المستشفى."
    assert counts(text, ("KILLED", "خمسة")) == [("KILLED", "خمسة")]
    assert counts(text, ("WOUNDED", "خمسة")) == [("WOUNDED", "خمسة")]


def test_other_labels_are_never_touched():
    text = "قتل 5 أشخاص في مدينة حلب أمس."
    assert counts(text, ("LOC", "حلب"), ("DATE", "أمس")) == [("LOC", "حلب"), ("DATE", "أمس")]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="قتلجرحأصيبمن 0123456789،. وآخرينبجروح", max_size=80), st.data())
def test_relabelling_never_moves_or_drops_a_span(text, data):
    if not text:
        return
    n = len(text)
    start = data.draw(st.integers(0, n - 1))
    end = data.draw(st.integers(start + 1, n))
    ents = [Entity(data.draw(st.sampled_from(["KILLED", "WOUNDED", "LOC"])), Span.of(text, start, end))]
    out = relabel_counts(text, ents)
    assert [(e.start, e.end, e.text) for e in out] == [(e.start, e.end, e.text) for e in ents]
    assert out[0].label in (("KILLED", "WOUNDED") if ents[0].label != "LOC" else ("LOC",))


def kept(text: str, *specs) -> list[str]:
    norm = normalize(text).text
    ents = []
    for label, quote in specs:
        i = norm.find(quote)
        assert i >= 0, quote
        ents.append(Entity(label, Span(i, i + len(quote), quote, 0.9)))
    return [e.text for e in drop_non_casualties(norm, ents)]


@pytest.mark.parametrize(
    "text, quote",
    [
        ("اعتقلت قوات الاحتلال الليلة الماضية 15 فلسطينيا في الضفة الغربية.", "15"),
        ("قتل نحو 70 حوثيا كما أسر 10 آخرون.", "10"),
        ("تم نشر نحو ألف جندي في منطقة البحيرة.", "ألف"),
        ("أسفرت المواجهات عن مقتل 38 متمردا، كما استسلم عشرات آخرون.", "عشرات"),
        ("سقط عشرات القتلى والجرحى من الحوثيين في الغارات.", "عشرات"),
        ("أسفر الانفجار عن سقوط 20 بين قتيل وجريح.", "20"),
        ("سقط أكثر من 90 مدنيا بين قتيل وجريح في أيام العيد.", "90"),
        ("ما أدى إلى سقوط عدد من القتلى والمصابين.", "عدد"),
        ("وأكد القيادي أن العشرات من الحوثيين سلموا أنفسهم في التواهي.", "العشرات"),
        ("أسفرت الغارات عن قتل 29 من عناصر داعش وتدمير 13 منزلا.", "13"),
        ("وثق المرصد تنفيذ الطائرات ما لا يقل عن 12053 غارة على المحافظات.", "12053"),
        ("وقال ضابط آخر في الشرطة إن أربعة أشخاص قتلوا في الهجوم.", "ضابط"),  # the speaker
        ("وذكر ثلاثة من الصيادين المحليين فقدوا قبالة الساحل منذ أيام.", "ثلاثة"),
        ("أعلنت الشرطة أن 40 شخصا بينهم 5 أجانب اعتقلوا في المداهمات.", "40"),
        ("وأوضح المصدر أن الجيش أسر ستة وقتل 15 من تلك المليشيات.", "ستة"),  # the next clause's verb
        ("تنظر المحكمة غدا قضية التفجير والمتهم بها 29 شخصا من بينهم سبع نساء.", "29"),
        ("لقي 20 شخصا حتفهم في تفجيرين انتحاريين نفذتهما فتاتان في السوق.", "فتاتان"),  # the attackers
        ("اندلع القتال عندما فتح خمسة عناصر من المتطرفين النار على موقع للجيش.", "خمسة"),
        ("وفتح خمسة مسلحين النار على الحاجز.", "خمسة"),
        ("ذكر مسؤول أن نحو مئة مقاتل من الحركة هاجموا مواقع أمنية في الشمال.", "مئة"),
    ],
)
def test_people_who_are_not_casualties_are_dropped(text, quote):
    assert kept(text, ("KILLED", quote)) == []
    assert kept(text, ("WOUNDED", quote)) == []


@pytest.mark.parametrize(
    "text, quote",
    [
        ("قتل نحو 70 حوثيا كما أسر 10 آخرون.", "70"),
        ("اعتقلت الشرطة المهاجم بعد أن قتل 5 أشخاص.", "5"),
        ("أسفر الهجوم عن مقتل 12 شخصا وإصابة 30.", "30"),
        ("استسلم المسلحون بعد أن قتل منهم 4 في الاشتباك.", "4"),
        ("أسر المسلحون جنديين ثم قتلوا 3 جنود.", "3"),
        ("أسفرت الغارات عن قتل 29 من عناصر داعش وتدمير 13 منزلا.", "29"),
        ("قتل 12 شخصا في 3 هجمات منفصلة.", "12"),
        ("هاجم مسلحون القرية وقتلوا 6 مدنيين.", "6"),
        ("وأوضح المصدر أن الجيش أسر ستة وقتل 15 من تلك المليشيات.", "15"),
        ("قتل 4 جنود هاجموا موقعا للمسلحين.", "4"),  # a casualty word before: the attackers died
    ],
)
def test_casualties_near_other_verbs_are_kept(text, quote):
    assert kept(text, ("KILLED", quote)) == [quote]


def test_a_casualty_noun_after_a_speech_verb_is_kept_when_it_counts():
    # «قتل ضابط» is a toll; only «وقال ضابط …» is a speaker
    assert kept("قتل ضابط في هجوم على حاجز أمس.", ("KILLED", "ضابط")) == ["ضابط"]
    assert kept("وقال المصدر إن ضابطا قتل في الهجوم.", ("KILLED", "ضابطا")) == ["ضابطا"]


def test_other_entities_are_never_dropped():
    text = "اعتقلت الشرطة 15 شخصا في مدينة حلب."
    assert kept(text, ("KILLED", "15"), ("LOC", "حلب")) == ["حلب"]


def test_words_that_merely_start_like_a_conjunction_do_not_end_the_phrase():
    # «فلسطينيا» starts with «ف», «وزارة»… with «و»: the casualty noun after them still counts.
    assert counts("أعلنت الوزارة سقوط 20 فلسطينيا جرحى في المواجهات.", ("KILLED", "20")) == [("WOUNDED", "20")]
    assert counts("قتل 3 فلسطينيين وأصيب 20 آخرون.", ("WOUNDED", "3"), ("KILLED", "20")) == \
        [("KILLED", "3"), ("WOUNDED", "20")]


def _with_score(text: str, quote: str, score: float) -> list[str]:
    norm = normalize(text).text
    i = norm.find(quote)
    return [e.text for e in drop_non_casualties(norm, [Entity("KILLED", Span(i, i + len(quote), quote, score))])]


def test_an_unsure_count_with_no_casualty_word_near_is_dropped():
    text = "بقي عشرون مقاتلا متحصنين في الفندق، وخمسة آخرين في بناية سكنية في المدينة."
    assert _with_score(text, "وخمسة", 0.5) == []
    assert _with_score(text, "وخمسة", 0.9) == ["وخمسة"]  # the model is sure: its word stands
    assert _with_score("قتل خمسة أشخاص في الهجوم.", "خمسة", 0.5) == ["خمسة"]  # a casualty word is near


def test_an_untagged_item_of_a_located_list_gets_its_lists_label():
    from hasila.infer.casualty import complete_count_lists

    text = normalize("قتل 35 عنصرا، 27 منهم في ريف حمص الشرقي و8 في ريف دير الزور.").text
    i = text.index("27")
    ents = [Entity("KILLED", Span(i, i + 2, "27", 0.9))]
    out = complete_count_lists(text, ents)
    assert [(e.label, e.text, e.span.score) for e in out] == [("KILLED", "27", 0.9), ("KILLED", "8", None)]
    assert complete_count_lists(text, out) == out  # nothing twice
    plain = normalize("قتل 27 في ريف حمص وأصيب 8 آخرون.").text  # no place after the second figure
    j = plain.index("27")
    assert len(complete_count_lists(plain, [Entity("KILLED", Span(j, j + 2, "27", 0.9))])) == 1
