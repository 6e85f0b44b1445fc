"""Page furniture in scraped articles: where the report ends, and what inside it is not report.

Scraped pages end with readers' comments, «اقرأ المزيد» / «اقرأ أيضا» links, related-article
titles, share buttons, tags and a copyright line. Comments contain numbers and violent words
and must never yield incidents, so everything from the first *closing marker* on is cut
(:func:`content_end`). Markers are recognised only at the start of a line (after bullets or
punctuation), written with any diacritics/alef/yeh/teh-marbuta spelling, because the same
words inside a sentence are ordinary text («شارك 50 مسلحا في الهجوم»).

Closing markers, always the end of the report once the report has begun:
comments («التعليقات», «تعليقات القراء», «أضف تعليقا», «اترك تعليقك», «3 تعليقات»),
related lists («مواضيع ذات صلة», «أخبار متعلقة», «الأكثر قراءة», «قد يعجبك أيضا»,
«المزيد من الأخبار»), tags («الوسوم», «كلمات مفتاحية»), copyright («جميع الحقوق محفوظة», «©»).

Also a closing marker wherever it stands: the share-link footer «رابط الخبر بصحيفة …:» that some
outlets append to the last paragraph (the headline repeated after it).

Link and button lines — «اقرأ أيضا» / «اقرأ المزيد» (with the titles on the next short lines),
share and follow buttons («شارك», «شارك على فيسبوك», «تابعونا على»), «طباعة» — are the end
of the report only when no report paragraph follows them; a report paragraph further down
(a line of 12 words or more ending with a sentence terminator) means they sat inside the
article, and they are then furniture spans to skip.

A closing marker counts when its line is short (8 words at most), lists after a colon, or
carries «©»: a long sentence that merely begins with «التعليقات» is report.

"The report has begun" at its first line of 8 words or more, or of 3 words or more ending
with a sentence terminator: markers above it (a share bar under the headline) are furniture
spans, not the end.

:func:`furniture_spans` also returns ad markers anywhere in the text («[ads3]», «[ad]»,
«(adsbygoogle = window.adsbygoogle || []).push({});», a line that is only «إعلان»/
«Advertisement») and URLs.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hasila.infer.arabic.words import cue
from hasila.infer.normalize import NormalizedText, fold_letters, normalize
from hasila.infer.tokenize import letter_word_count

__all__ = ["content_end", "furniture_spans", "furniture"]

_BODY_MIN_WORDS = 8
_SHORT_BODY_MIN_WORDS = 3
_REPORT_PARAGRAPH_MIN_WORDS = 12
_BUTTON_LINE_MAX_WORDS = 8


def _cue(pattern: str) -> re.Pattern[str]:
    # Patterns are written in ordinary spelling and folded like the text they are matched on.
    return cue(pattern, re.IGNORECASE)


_LINE_LEAD = r"^[\s\-–—•·*#>|:»«\"'\[\(\u200f\u200e]*"

_CLOSING = _cue(
    _LINE_LEAD
    + r"(?:"
    r"(?:ال)?تعليقات(?:\s+القراء|\s+الزوار|\s+فيسبوك)?(?!\w)"
    r"|\d+\s+(?:تعليق|تعليقات|تعليقا)(?!\w)"
    r"|(?:أضف|اضف|اترك|اكتب|أرسل|ارسل|شاركنا)\s+(?:تعليق|تعليقا|تعليقك|رأيك|رايك)(?!\w)"
    r"|لا\s+توجد\s+تعليقات|عدد\s+التعليقات"
    r"|(?:مواضيع|أخبار|مقالات|موضوعات|تقارير|قصص|روابط)\s+(?:ذات\s+صلة|متعلقة|مشابهة|مرتبطة|أخرى)(?!\w)"
    r"|ذات\s+صلة\s*$"
    r"|الأكثر\s+(?:قراءة|مشاهدة|تداولا|تعليقا)(?!\w)"
    r"|قد\s+يعجبك|قد\s+يهمك|المزيد\s+من\s+(?:الأخبار|المقالات|المواضيع)|آخر\s+الأخبار\s*$"
    r"|(?:ال)?وسوم(?!\w)|الكلمات\s+المفتاحية|كلمات\s+مفتاحية|tags\s*:"
    r"|(?:جميع|كل)\s+الحقوق\s+محفوظة|حقوق\s+(?:النشر|الطبع)|©|copyright"
    r")"
)

_LINK_OR_BUTTON = _cue(
    _LINE_LEAD
    + r"(?:"
    r"(?:إقرأ|اقرأ|إقرا|اقرا)\s+(?:أيضا|أيضاً|ايضا|المزيد|كذلك)(?!\w)"
    r"|شارك(?:\s+(?:هذا|هذه|المقال|الخبر|الموضوع|على|عبر|الآن))?(?:\s|:|$)"
    r"|مشاركة\s*(?::|$)|share(?!\w)"
    r"|(?:تابعونا|تابعنا)\s+(?:على|عبر)(?!\w)"
    r"|طباعة(?:\s+|$)|إرسال\s*$"
    r"|(?:facebook|twitter|whatsapp|telegram|فيسبوك|فيس\s+بوك|تويتر|واتساب|تلغرام|تيليغرام)(?:\s|$)"
    r")"
)
# Link lines may be long (a title after «اقرأ أيضا:»); button lines are short.
_LINK = _cue(_LINE_LEAD + r"(?:إقرأ|اقرأ|إقرا|اقرا)\s+(?:أيضا|أيضاً|ايضا|المزيد|كذلك)(?!\w)")

_AD_MARKERS = re.compile(
    r"\[\s*/?\s*ads?\d*(?:\s[^\]\n]{0,40})?\]"
    r"|\{\s*ads?\d*\s*\}"
    r"|\(\s*adsbygoogle[^\n]{0,80}?\.push\(\s*\{\s*\}\s*\)\s*;?"
    r"|https?://\S+|www\.\S+",
    re.IGNORECASE,
)
_AD_LINE = _cue(r"^[\s\-–—•·*]*(?:إعلان|إعلانات|advertisement|sponsored|ads?)[\s\-–—•·*]*$")

# «رابط الخبر بصحيفة الوئام: <the headline again>»: a share-link footer some outlets append to
# the last paragraph, not at a line start; what follows it is the title repeated, not report.
_INLINE_CLOSING = _cue(r"(?<!\w)رابط\s+(?:الخبر|المقال|الموضوع)(?:\s+(?:ب|في\s+)?(?:صحيفة|جريدة|موقع)\s+\S+)?\s*:")

_TERMINATOR_AT_END = re.compile(r"[.!?؟…»\"”)]\s*$")


def _lines(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"\n", text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return out


def _is_closing(line: str) -> bool:
    # A header line is short, or a list after a colon («الوسوم: …»), or a copyright line; a
    # long sentence that merely starts with «التعليقات» is report.
    return bool(_CLOSING.match(line)) and (
        letter_word_count(line) <= _BUTTON_LINE_MAX_WORDS or ":" in line[:40] or "©" in line
    )


def _is_report_paragraph(line: str) -> bool:
    return letter_word_count(line) >= _REPORT_PARAGRAPH_MIN_WORDS and bool(_TERMINATOR_AT_END.search(line))


@lru_cache(maxsize=32)
def _scan(text: str) -> tuple[int, tuple[tuple[int, int], ...]]:
    """(content end, furniture spans) in offsets of ``text`` (the folded normalized text)."""
    lines = _lines(text)
    spans: list[tuple[int, int]] = []
    body_started = False
    end = len(text)
    k = 0
    while k < len(lines):
        s, e = lines[k]
        line = text[s:e]
        if not line.strip():
            k += 1
            continue
        if _AD_LINE.match(line):
            spans.append((s, e))
            k += 1
            continue
        if body_started and _is_closing(line):
            end = s
            break
        is_link = bool(_LINK.match(line))
        if is_link or (_LINK_OR_BUTTON.match(line) and letter_word_count(line) <= _BUTTON_LINE_MAX_WORDS):
            if not body_started:
                spans.append((s, e))
                k += 1
                continue
            # Inside the article only if a report paragraph follows; the titles after a link
            # marker (short lines) go with it.
            j = k + 1
            while j < len(lines) and not _is_report_paragraph(text[lines[j][0]:lines[j][1]]):
                j += 1
            if j >= len(lines):
                end = s
                break
            last = k
            if is_link:
                while last + 1 < j and letter_word_count(text[lines[last + 1][0]:lines[last + 1][1]]) < _REPORT_PARAGRAPH_MIN_WORDS:
                    last += 1
            spans.append((s, lines[last][1]))
            k = last + 1
            continue
        if not body_started and _is_closing(line):
            spans.append((s, e))
            k += 1
            continue
        words = letter_word_count(line)
        if words >= _BODY_MIN_WORDS or (words >= _SHORT_BODY_MIN_WORDS and _TERMINATOR_AT_END.search(line)):
            body_started = True
        k += 1
    inline = _INLINE_CLOSING.search(text, 0, end)
    if inline is not None and letter_word_count(text[: inline.start()]) >= _BODY_MIN_WORDS:
        end = inline.start()
    for m in _AD_MARKERS.finditer(text, 0, end):
        spans.append((m.start(), m.end()))
    return end, tuple(_merge(spans))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def furniture(norm: NormalizedText) -> tuple[int, list[tuple[int, int]]]:
    """(content end, furniture spans) in offsets of ``norm.text`` (the normalized text)."""
    end, spans = _scan(fold_letters(norm.text))
    return end, list(spans)


def _to_text_offsets(text: str) -> tuple[NormalizedText, int, list[tuple[int, int]]]:
    norm = normalize(text)
    end, spans = furniture(norm)
    return norm, end, spans


def _point(norm: NormalizedText, i: int) -> int:
    return norm.to_original(i, i)[0] if i < len(norm.text) else len(norm.original)


def content_end(text: str) -> int:
    """Offset in ``text`` where page furniture starts (comments, related lists…), or ``len(text)``."""
    norm, end, _ = _to_text_offsets(text)
    return _point(norm, end)


def furniture_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets in ``text`` of furniture inside the report (ad markers, link and
    button lines, URLs) and above it; entities there are ignored."""
    norm, _, spans = _to_text_offsets(text)
    return [norm.to_original(s, e) for s, e in spans]
