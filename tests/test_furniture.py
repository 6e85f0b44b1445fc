"""Page furniture (DOMAIN.md §8): where the report ends, and what inside it is not report."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hasila.infer.furniture import content_end, furniture_spans

BODY = (
    "أفاد المرصد السوري لحقوق الإنسان بمقتل 5 عناصر من قوات النظام في هجوم لتنظيم داعش على مواقعهم في بادية حمص.\n"
    "وأضاف المرصد أن الهجوم استمر عدة ساعات وأسفر عن إصابة 7 آخرين بجروح متفاوتة الخطورة.\n"
)


@pytest.mark.parametrize(
    "tail",
    [
        "التعليقات\nأبو علي: قتل منهم 100 والله",
        "تعليقات القراء\nتعليق: الأرقام أكبر بكثير",
        "3 تعليقات\nزائر: قتل 50",
        "أضف تعليقاً\nالاسم",
        "اترك تعليقك\n",
        "مواضيع ذات صلة\nمقتل 20 مدنيا في غارات على إدلب\nانفجار في الرقة",
        "أخبار متعلقة\nمقتل 3 جنود",
        "الأكثر قراءة\nمقتل قيادي",
        "اقرأ المزيد\nمقتل 12 عنصرا في درعا",
        "اقرأ أيضا: مقتل 20 مدنيا في غارات على إدلب",
        "إقرأ أيضاً:\nمقتل 20 مدنيا في غارات على إدلب",
        "شارك\nفيسبوك تويتر واتساب",
        "شارك هذا المقال",
        "الوسوم: داعش، حمص، المرصد",
        "كلمات مفتاحية: سوريا",
        "جميع الحقوق محفوظة © 2019",
        "© موقع الأخبار 2019",
    ],
)
def test_closing_furniture_is_cut(tail):
    text = BODY + tail
    assert content_end(text) == len(BODY)


def test_short_report_still_ends_at_the_comments():
    text = "قتل 5 عناصر في حمص.\nالتعليقات\nقتل 100"
    assert content_end(text) == text.index("التعليقات")


def test_plain_article_has_no_furniture():
    assert content_end(BODY) == len(BODY)
    assert furniture_spans(BODY) == []


def test_words_inside_a_sentence_are_not_markers():
    text = BODY + "وشارك في الهجوم 50 مسلحا بحسب التعليقات المنشورة على الصفحة الرسمية للتنظيم.\n"
    assert content_end(text) == len(text)


def test_long_sentence_starting_with_a_marker_word_is_report():
    text = BODY + "التعليقات التي نشرها التنظيم على حساباته تتحدث عن مقتل 30 عنصرا من قوات النظام في الهجوم.\n"
    assert content_end(text) == len(text)


def test_share_bar_under_the_headline_is_not_the_end():
    text = "مقتل 5 عناصر من قوات النظام\nشارك\n" + BODY
    assert content_end(text) == len(text)
    s, e = furniture_spans(text)[0]
    assert text[s:e] == "شارك"


def test_read_also_link_inside_the_article_is_skipped_not_cut():
    link = "اقرأ أيضا: مقتل 20 مدنيا في غارات على إدلب\n"
    more = "وفي سياق متصل قالت مصادر محلية إن 3 مدنيين أصيبوا بقصف مدفعي على بلدة كفرنبل جنوب إدلب صباح اليوم.\n"
    text = BODY + link + more
    assert content_end(text) == len(text)
    spans = furniture_spans(text)
    assert [text[s:e] for s, e in spans] == [link.strip()]


def test_read_also_with_titles_on_following_lines():
    text = BODY + "اقرأ أيضا\nمقتل 20 مدنيا في إدلب\nانفجار في الرقة\n" + BODY
    spans = furniture_spans(text)
    assert [text[s:e] for s, e in spans] == ["اقرأ أيضا\nمقتل 20 مدنيا في إدلب\nانفجار في الرقة"]
    assert content_end(text) == len(text)


@pytest.mark.parametrize("marker", ["[ads3]", "[ads1]", "[ad]", "[/ads]", "(adsbygoogle = window.adsbygoogle || []).push({});"])
def test_ad_markers_inside_the_body(marker):
    text = "قتل 5 عناصر من قوات النظام " + marker + " في هجوم على بادية حمص الشرقية يوم السبت الماضي.\n" + BODY
    [(s, e)] = furniture_spans(text)
    assert text[s:e] == marker
    assert content_end(text) == len(text)


def test_ad_line_and_urls():
    text = BODY + "إعلان\n" + "المصدر: https://example.org/news/2019/5 \n" + BODY
    got = [text[s:e] for s, e in furniture_spans(text)]
    assert got == ["إعلان", "https://example.org/news/2019/5"]


def test_offsets_are_in_the_given_text_with_diacritics():
    body = "قُتِلَ 5 عناصرَ من قوات النظام في هجوم لتنظيم داعش على مواقعهم في بادية حمص الشرقية يوم السبت.\n"
    text = body + "التَّعْلِيقَات\nقتل 100"
    assert content_end(text) == len(body)


_PIECES = list("قتل 5.\nالتعليقاتشارك[ads3]©َ") + ["اقرأ أيضا", "التعليقات\n", " مقتل 5 عناصر من قوات النظام في هجوم على بادية حمص"]


@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join))
@settings(max_examples=150, deadline=None)
def test_any_text_gives_valid_offsets(text):
    end = content_end(text)
    assert 0 <= end <= len(text)
    for s, e in furniture_spans(text):
        assert 0 <= s < e <= len(text)


def test_share_link_footer_inside_the_last_paragraph_ends_the_report():
    text = ("قتل 5 أشخاص في انفجار سيارة مفخخة وسط المدينة أمس بحسب مصادر أمنية. "
            "رابط الخبر بصحيفة الوئام: مقتل 5 أشخاص في انفجار سيارة مفخخة")
    assert content_end(text) == text.index("رابط")
    # the words alone, at the top of a page, are no end
    assert content_end("رابط الخبر: مقتل 5") == len("رابط الخبر: مقتل 5")
