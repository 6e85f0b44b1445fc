"""A self-contained, right-to-left HTML page to check what was extracted against the text.

Each article shows its text with the entities highlighted by label (legend at the top; the
KILLED and WOUNDED counts stand out: red, solid frame / orange, dashed frame), and a table of
its incidents whose evidence links jump to the highlighted sentence in the text. Documents
that could not be read show the reason. Everything from the input is HTML-escaped, links
are kept only for http(s) URLs, and the page loads nothing from outside (no fonts, scripts
or images), so it can be opened offline and mailed around.

Used as a writer format (:class:`HtmlFormat`), so it is written article by article and can be
resumed like the other outputs.
"""

from __future__ import annotations

import bisect
from html import escape
from typing import Any, Sequence

from hasila.infer.furniture import content_end
from hasila.infer.inputs import InputDoc

LABEL_NAMES: dict[str, str] = {
    "PER": "شخص",
    "ORG": "جهة",
    "LOC": "مكان",
    "DATE": "تاريخ",
    "KILLED": "قتلى",
    "WOUNDED": "جرحى",
}
_KNOWN_LABELS = set(LABEL_NAMES)
_QUALIFIER_NAMES = {
    "exact": "",
    "at_least": "على الأقل",
    "at_most": "على الأكثر",
    "approx": "نحو",
    "range": "بين",
    "vague": "تقديري",
}

_CSS = """
:root { --ink:#1d2330; --muted:#5d6675; --line:#d8dce3; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font-family: "Noto Naskh Arabic","Noto Sans Arabic","Amiri","Scheherazade New","Segoe UI",
    "Geeza Pro","Arial","DejaVu Sans",sans-serif; font-size:17px; line-height:1.9; }
header { background:#fff; border-bottom:1px solid var(--line); padding:14px 24px; position:sticky; top:0; z-index:2; }
h1 { font-size:22px; margin:0 0 6px; }
.legend { display:flex; flex-wrap:wrap; gap:8px 14px; align-items:center; font-size:15px; }
main { max-width:1100px; margin:0 auto; padding:16px 24px; }
article { background:#fff; border:1px solid var(--line); border-radius:8px; margin:0 0 22px; padding:14px 20px; }
article h2 { font-size:16px; margin:0; direction:ltr; text-align:right; unicode-bidi:plaintext; font-family:monospace; }
.meta { color:var(--muted); font-size:14px; margin:2px 0 8px; }
.meta span + span::before { content:" · "; }
.text { white-space:pre-wrap; overflow-wrap:anywhere; unicode-bidi:plaintext; margin:8px 0 12px; }
.e { border-radius:3px; padding:0 1px; }
.e-PER { background:#dbe8ff; } .e-ORG { background:#eadcff; } .e-LOC { background:#d5f2dc; }
.e-DATE { background:#fff1c2; } .e-OTHER { background:#e6e6e6; }
.e-KILLED { background:#ffd0cc; color:#8a0d00; font-weight:700; outline:2px solid #c62a1b; outline-offset:-1px; }
.e-WOUNDED { background:#ffe4c2; color:#7a4100; font-weight:700; outline:2px dashed #d9822b; outline-offset:-1px; }
.ev { border-bottom:2px dotted #5d6675; }
.furn { color:#8a919c; background:repeating-linear-gradient(135deg,#fff 0 6px,#f3f4f6 6px 12px); }
.ev:target, .ev-hl { background-color:#fffbe0; box-shadow:0 0 0 2px #f0c419; }
table { border-collapse:collapse; width:100%; font-size:15px; }
th, td { border:1px solid var(--line); padding:3px 6px; text-align:right; vertical-align:top; }
th { background:#f0f2f5; font-weight:600; }
td.num { white-space:nowrap; }
.q { color:var(--muted); font-size:13px; }
.none { color:var(--muted); font-size:14px; }
.error { border-color:#e3a29b; background:#fff6f5; }
.error .reason { color:#8a0d00; direction:ltr; text-align:left; unicode-bidi:plaintext; font-family:monospace; font-size:14px; white-space:pre-wrap; }
footer { max-width:1100px; margin:0 auto 30px; padding:0 24px; color:var(--muted); }
footer p { margin:0; }
footer p[dir=ltr] { text-align:left; }
"""

_INCIDENT_HEADERS = (
    ("#", "#"), ("قتلى", "killed"), ("جرحى", "wounded"), ("الفاعل", "perpetrator"), ("الضحية", "victim"),
    ("المكان", "location"), ("التاريخ", "date"), ("المصدر", "source"), ("الثقة", "confidence"), ("الدليل", "evidence"),
)


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _label_class(label: str) -> str:
    return f"e-{label}" if label in _KNOWN_LABELS else "e-OTHER"


def legend_html() -> str:
    chips = [f'<span class="e {_label_class(lab)}">{_e(name)} {lab}</span>' for lab, name in LABEL_NAMES.items()]
    chips.append('<span class="ev">جملة الدليل · evidence</span>')
    chips.append('<span class="furn">ملحقات الصفحة · page furniture</span>')
    return '<div class="legend">' + "".join(chips) + "</div>"


def highlight_text(text: str, entities: Sequence[dict[str, Any]], evidence: Sequence[tuple[int, int]],
                   anchor: str, furniture_from: int | None = None) -> str:
    """``text`` as escaped HTML with entity and evidence spans marked.

    The text is cut at every span boundary; each piece carries the classes of the entity and
    evidence spans covering it, so overlapping or nested spans never produce broken tags. The
    first piece of each evidence span gets ``id="{anchor}-at{start}"`` (shared by incidents
    whose evidence starts at the same character). Text from ``furniture_from`` on (comments,
    related titles: not read for incidents) is greyed out.
    """
    cuts = {0, len(text)}
    if furniture_from is not None:
        cuts.add(furniture_from)
    for ent in entities:
        cuts.update((ent["start"], ent["end"]))
    for start, end in evidence:
        cuts.update((start, end))
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    ents = sorted(entities, key=lambda e: (e["start"], e["end"]))
    ent_starts = [e["start"] for e in ents]
    first_piece = {start for start, end in evidence if start < end}
    out = []
    for a, b in zip(points, points[1:]):
        if a == b:
            continue
        piece = _e(text[a:b])
        classes, attrs = [], []
        k = bisect.bisect_right(ent_starts, a) - 1
        if k >= 0 and ents[k]["start"] <= a and b <= ents[k]["end"]:
            ent = ents[k]
            classes += ["e", _label_class(ent["label"])]
            score = f" {ent['score']:.2f}" if ent.get("score") is not None else ""
            attrs.append(f'title="{_e(ent["label"] + score)}"')
        if any(s <= a and b <= e for s, e in evidence):
            classes.append("ev")
        if furniture_from is not None and a >= furniture_from:
            classes.append("furn")
            if a == furniture_from:
                attrs.append('title="page furniture: not read for incidents"')
        if a in first_piece:
            attrs.append(f'id="{anchor}-at{a}"')
        if classes or attrs:
            cls = f' class="{" ".join(classes)}"' if classes else ""
            out.append(f"<span{cls}{(' ' + ' '.join(attrs)) if attrs else ''}>{piece}</span>")
        else:
            out.append(piece)
    return "".join(out)


def _count_cell(count: dict[str, Any] | None) -> str:
    if not count:
        return '<span class="none">—</span>'
    value = count.get("value")
    shown = "؟" if value is None else str(value)
    if count.get("qualifier") == "range" and count.get("low") is not None and count.get("high") is not None:
        shown = f"{count['low']}–{count['high']}"
    qual = _QUALIFIER_NAMES.get(count.get("qualifier"), count.get("qualifier") or "")
    qual_html = f' <span class="q">{_e(qual)}</span>' if qual else ""
    return f"<b>{_e(shown)}</b>{qual_html}<br><span class=\"q\">«{_e(count['text'])}»</span>"


def _span_cell(span: dict[str, Any] | None) -> str:
    return _e(span["text"]) if span else '<span class="none">—</span>'


def _date_cell(date: dict[str, Any] | None) -> str:
    if not date:
        return '<span class="none">—</span>'
    resolved = f'<br><bdi class="q" dir="ltr">{_e(date["resolved"])}</bdi>' if date.get("resolved") else ""
    return _e(date["text"]) + resolved


def incidents_table(incidents: Sequence[dict[str, Any]], anchor: str) -> str:
    if not incidents:
        return '<p class="none">لا حوادث · no incident found</p>'
    head = "".join(f'<th>{_e(ar)}<br><span class="q">{_e(en)}</span></th>' for ar, en in _INCIDENT_HEADERS)
    rows = []
    for j, inc in enumerate(incidents):
        evidence = inc["evidence"]
        cells = [
            f"<td>{j + 1}</td>",
            f'<td class="num">{_count_cell(inc.get("killed"))}</td>',
            f'<td class="num">{_count_cell(inc.get("wounded"))}</td>',
            f"<td>{_span_cell(inc.get('perpetrator'))}</td>",
            f"<td>{_span_cell(inc.get('victim'))}</td>",
            f"<td>{_span_cell(inc.get('location'))}</td>",
            f"<td>{_date_cell(inc.get('date'))}</td>",
            f"<td>{_span_cell(inc.get('source'))}</td>",
            f'<td class="num">{float(inc.get("confidence", 0.0)):.2f}</td>',
            f'<td><a href="#{anchor}-at{evidence["start"]}">↖ <bdi dir="ltr">{evidence["start"]}–{evidence["end"]}</bdi></a></td>',
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _meta(doc: InputDoc, record: dict[str, Any]) -> str:
    parts = []
    if record.get("date"):
        parts.append(f'<span>التاريخ <bdi dir="ltr">{_e(record["date"])}</bdi></span>')
    if record.get("source"):
        parts.append(f"<span><bdi>{_e(record['source'])}</bdi></span>")
    url = record.get("url")
    if url:
        if url.lower().startswith(("http://", "https://")):
            parts.append(f'<span><bdi><a href="{_e(url)}" rel="noopener noreferrer">{_e(url)}</a></bdi></span>')
        else:
            parts.append(f"<span><bdi>{_e(url)}</bdi></span>")
    if record["status"] == "ok":
        parts.append(f"<span>الكيانات: {len(record['entities'])}</span><span>الحوادث: {len(record['incidents'])}</span>")
    return f'<p class="meta">{"".join(parts)}</p>' if parts else ""


def article_html(doc: InputDoc, record: dict[str, Any], n: int) -> str:
    """The section of one document (``n``: its position in the batch, for anchors)."""
    anchor = f"d{n}"
    title = f'<h2 dir="auto">{_e(record["doc_id"])}</h2>'
    if record["status"] != "ok":
        error = record.get("error") or {}
        return (f'<article class="error" id="{anchor}">{title}{_meta(doc, record)}'
                f'<p class="reason">{_e(error.get("type"))}: {_e(error.get("message"))}</p></article>\n')
    evidence = [(inc["evidence"]["start"], inc["evidence"]["end"]) for inc in record["incidents"]]
    text = doc.text or ""
    cut = content_end(text)
    body = highlight_text(text, record["entities"], evidence, anchor, cut if cut < len(text) else None)
    return (f'<article id="{anchor}">{title}{_meta(doc, record)}<div class="text">{body}</div>'
            f"{incidents_table(record['incidents'], anchor)}</article>\n")


class HtmlFormat:
    """Writer format for the report page (header, one section per document, footer)."""

    def __init__(self, title: str = "حصيلة — تقرير الاستخراج") -> None:
        self.title = title
        self.counts = {"docs": 0, "errors": 0, "incidents": 0}

    def header(self) -> str:
        return (
            '<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>{_e(self.title)}</h1>{legend_html()}</header>\n<main>\n"
        )

    def rows(self, doc: InputDoc, record: dict[str, Any]) -> str:
        self.counts["docs"] += 1
        self.counts["errors"] += record["status"] != "ok"
        self.counts["incidents"] += len(record["incidents"])
        return article_html(doc, record, self.counts["docs"])

    def footer(self) -> str:
        c = self.counts
        return (f"</main>\n<footer><p>الوثائق: {c['docs']} · الحوادث: {c['incidents']} · الأخطاء: {c['errors']}</p>"
                f'<p dir="ltr">documents: {c["docs"]} · incidents: {c["incidents"]} · errors: {c["errors"]}</p>'
                "</footer>\n</body>\n</html>\n")

    def state(self) -> dict[str, Any]:
        return dict(self.counts)

    def restore(self, state: dict[str, Any]) -> None:
        self.counts.update(state)


# ---------------------------------------------------------------------------------------------
# The events page (``hasila-events --html``): incidents grouped by event, filters by country and
# confidence (a few lines of inline script; the page still loads nothing from outside).

_EVENTS_CSS = """
.filters { display:flex; gap:18px; align-items:center; flex-wrap:wrap; font-size:15px; margin-top:6px; }
.event { background:#fff; border:1px solid var(--line); border-radius:8px; margin:0 0 18px; padding:10px 16px; }
.event h2 { font-size:17px; margin:0 0 4px; }
.event .facts { color:var(--muted); font-size:14px; }
.event .facts b { color:var(--ink); }
.ev-text { font-size:15px; background:#fbf7e9; border-radius:4px; padding:2px 6px; }
"""


def _event_rows(event: Any, records: dict[str, dict[str, Any]]) -> str:
    rows = []
    for m in event.members:
        rec = records.get(m.doc_id, {})
        for k in m.incidents:
            inc = rec.get("incidents", [])[k] if k < len(rec.get("incidents", [])) else None
            if inc is None:
                continue
            rows.append(
                "<tr>"
                f'<td><bdi dir="ltr">{_e(m.doc_id)}</bdi><br><span class="q">{_e(m.outlet)}</span></td>'
                f'<td class="num">{_count_cell(inc.get("killed"))}</td>'
                f'<td class="num">{_count_cell(inc.get("wounded"))}</td>'
                f"<td>{_span_cell(inc.get('perpetrator'))}</td><td>{_span_cell(inc.get('victim'))}</td>"
                f"<td>{_span_cell(inc.get('location'))}</td><td>{_date_cell(inc.get('date'))}</td>"
                f"<td>{_span_cell(inc.get('source'))}</td>"
                f'<td class="num">{float(inc.get("confidence", 0.0)):.2f}</td>'
                f'<td><span class="ev-text">{_e(" ".join(inc["evidence"]["text"].split())[:220])}</span></td>'
                "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("المقال", "قتلى", "جرحى", "الفاعل", "الضحايا", "المكان", "التاريخ",
                                             "المصدر", "الثقة", "الدليل"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def events_page(events: Sequence[Any], records: Sequence[dict[str, Any]], title: str = "حصيلة — الأحداث") -> str:
    """One section per event (across articles) with its reports' incidents; a country menu and a
    minimum-confidence slider hide the events that do not pass (``data-country``, ``data-conf``)."""
    by_id = {r["doc_id"]: r for r in records}
    countries = sorted({(e.lead().place.country if e.lead().place else "") for e in events})
    options = '<option value="*">كل البلدان · all</option>' + "".join(
        f'<option value="{_e(c)}">{_e(c or "غير معروف · unknown")}</option>' for c in countries)
    parts = []
    for e in events:
        lead = e.lead()
        low, best, high = e.figures()
        place = lead.place
        country = place.country if place else ""
        where = " / ".join(x for x in (place.country, place.admin1, place.location) if x) if place else (lead.location_text or "—")
        conf = max(m.confidence for m in e.members)
        figures = "—" if low is None else (f"{low}" if low == high else f"{low}–{high} (best {best})")
        parts.append(
            f'<section class="event" data-country="{_e(country)}" data-conf="{conf:.4f}">'
            f'<h2><bdi dir="ltr">{_e(e.id)}</bdi> · {_e(lead.event_type or "?")} / {_e(lead.sub_event_type or "?")}</h2>'
            f'<p class="facts" dir="ltr">killed <b>{_e(figures)}</b> · {_e(where)} (precision '
            f'{_e(place.geo_precision if place else "—")}) · {_e(lead.date or "—")} ({_e(lead.date_precision or "")})'
            f' · {_e(lead.perpetrator or "?")} → {_e(", ".join(dict.fromkeys(v[0] for v in lead.victims)) or "?")}'
            f' · articles: {len(e.doc_ids)} · confidence {conf:.2f}</p>'
            f"{_event_rows(e, by_id)}</section>\n")
    script = (
        "<script>(function(){var c=document.getElementById('fc'),s=document.getElementById('fs'),"
        "o=document.getElementById('fo'),n=document.getElementById('fn');function f(){var k=0,v=parseFloat(s.value);"
        "o.textContent=v.toFixed(2);document.querySelectorAll('section.event').forEach(function(e){"
        "var ok=(c.value==='*'||e.dataset.country===c.value)&&parseFloat(e.dataset.conf)>=v;"
        "e.style.display=ok?'':'none';if(ok)k++;});n.textContent=k;}c.onchange=f;s.oninput=f;f();})();</script>")
    return (
        '<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}{_EVENTS_CSS}</style>\n</head>\n<body>\n"
        f'<header><h1>{_e(title)}</h1><div class="filters">'
        f'<label>البلد · country <select id="fc">{options}</select></label>'
        '<label>أدنى ثقة · min confidence <input id="fs" type="range" min="0" max="1" step="0.05" value="0">'
        ' <output id="fo">0.00</output></label>'
        f'<span>الأحداث المعروضة · events shown: <b id="fn">{len(events)}</b> / {len(events)}</span></div></header>\n'
        f"<main>\n{''.join(parts)}</main>\n{script}\n</body>\n</html>\n")
