"""Event exports: ACLED and UCDP GED column sets, one row per event (across articles), and JSONL.

Columns are the published sets (ACLED's export as documented in its Codebook, 31 columns; UCDP
GED's, 49 columns, as in its codebook). A value Hasila does not know is empty — never invented:
UCDP's dataset ids (conflict, dyad, side ids, Gleditsch-Ward numbers, PRIO-GRID cells) and
ACLED's region, tags and timestamp are always empty; ``source_scale`` is empty too (Hasila does not
know whether an outlet is local or national).

Mapping (see also the README):

=================  ===================================================================================
ACLED              from
=================  ===================================================================================
event_id_cnty      ISO3 of the country (or XXX) + the event's number: ``SYR00001``
event_date         the lead report's date (incident date; else the article's date, precision widened)
year               of event_date
time_precision     1 day, 2 week (article date only, or a week), 3 month or year
disorder_type      "Political violence" for the three event types Hasila codes
event_type         rules on the evidence words (:mod:`actor_types`)
sub_event_type     same
actor1/actor2      canonical perpetrator / victim side (ACLED: actor1 the initiator)
assoc_actor_1/2    other names of that side reported in the event's articles (``;``-joined)
inter1/inter2      ACLED actor type codes (1-8) of actor1/actor2; empty when unknown
interaction        the two codes, lower first («12»); empty when either is unknown
civilian_targeting "Civilian targeting" when actor2 is civilians
iso                ISO 3166 numeric code
country            English name; admin1-3, location: the gazetteer's (admin3 in Syria only)
latitude/longitude of the place found (empty for a province or a country outside Syria)
geo_precision      1 town, 2 near a town or part of a region, 3 province or wider
source             every source the articles name (``;``)
notes              the lead report's evidence (300 characters) and the claims with their sources
fatalities         the low figure: the most conservative claim
=================  ===================================================================================

UCDP: ``side_a``/``side_b`` (the state's side first), ``deaths_a/b/civilians/unknown`` (the lead
report's low claim by side), ``low/best/high`` (module :mod:`events`), ``type_of_violence`` 1
state-based (a side of type 1 or 8 against an organised armed side), 2 non-state (two organised
non-state sides), 3 one-sided (an organised actor against civilians), empty when unknown;
``where_prec`` 1 town, 2 near a town, 3 admin2, 4 admin1, 6 country; ``date_prec`` 1 day, 3 week,
4 month, 5 year; ``number_of_sources`` the articles; ``source_article`` their ids and URLs.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterable, Sequence

from .events import Event

__all__ = ["ACLED_COLUMNS", "UCDP_COLUMNS", "acled_rows", "ucdp_rows", "to_csv", "event_json", "EVENT_FORMATS"]

ACLED_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
    "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
    "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
)  # fmt: skip
UCDP_COLUMNS: tuple[str, ...] = (
    "id", "relid", "year", "active_year", "code_status", "type_of_violence", "conflict_dset_id", "conflict_new_id",
    "conflict_name", "dyad_dset_id", "dyad_new_id", "dyad_name", "side_a_dset_id", "side_a_new_id", "side_a",
    "side_b_dset_id", "side_b_new_id", "side_b", "number_of_sources", "source_article", "source_office",
    "source_date", "source_headline", "source_original", "where_prec", "where_coordinates", "where_description",
    "adm_1", "adm_2", "latitude", "longitude", "geom_wkt", "priogrid_gid", "country", "country_id", "region",
    "event_clarity", "date_prec", "date_start", "date_end", "deaths_a", "deaths_b", "deaths_civilians",
    "deaths_unknown", "best", "high", "low", "gwnoa", "gwnob",
)  # fmt: skip
EVENT_FORMATS = ("acled", "ucdp", "jsonl")

_TIME_PREC = {"day": 1, "week": 2, "month": 3, "year": 3}
_DATE_PREC = {"day": 1, "week": 3, "month": 4, "year": 5}
_STATE = (1, 8)


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _sides(event: Event) -> tuple[tuple[str, int] | None, tuple[str, int] | None, list[str], list[str]]:
    """actor1 (initiator), actor2 (the other side), and the other names of each in the articles."""
    lead = event.lead()
    a1 = (lead.perpetrator, lead.perpetrator_inter) if lead.perpetrator else None
    a2 = next((v for v in lead.victims if not a1 or v[0] != a1[0]), None)
    if a1 is None:
        a1 = next((m.perpetrator and (m.perpetrator, m.perpetrator_inter) for m in event.members if m.perpetrator), None)
    raw1 = sorted({m.perpetrator_raw.strip() for m in event.members if m.perpetrator_raw and a1 and m.perpetrator == a1[0]})
    assoc1 = [r for r in raw1 if a1 and r != a1[0]]
    others = sorted({v[0] for m in event.members for v in m.victims if a2 and v[0] != a2[0] and (not a1 or v[0] != a1[0])})
    return a1, a2, assoc1, others


def _sources(event: Event) -> list[str]:
    out: list[str] = []
    for m in event.members:
        for c in m.claims:
            for s in (c["source"] or "").split("; "):
                if s and s not in out:
                    out.append(s)
    return out


def _claims_note(event: Event) -> str:
    parts = []
    for m in event.members:
        for c in m.claims:
            if c["killed"] is not None:
                parts.append(f"{m.doc_id}: {c['killed']} killed" + (f" ({c['source']})" if c["source"] else ""))
    return "; ".join(parts)


def _event_id(event: Event, iso3: str | None) -> str:
    return f"{iso3 or 'XXX'}{event.id[1:]}"


def acled_row(event: Event) -> dict[str, str]:
    lead = event.lead()
    place = lead.place
    a1, a2, assoc1, assoc2 = _sides(event)
    low, _best, _high = event.figures()
    inter1 = a1[1] if a1 and a1[1] else None
    inter2 = a2[1] if a2 and a2[1] else None
    interaction = "".join(str(x) for x in sorted((inter1, inter2))) if inter1 and inter2 else (f"{inter1}0" if inter1 and not a2 else "")
    notes = lead.notes
    claims = _claims_note(event)
    if claims:
        notes = f"{notes} [claims: {claims}]"
    row = {
        "event_id_cnty": _event_id(event, place.iso3 if place else None),
        "event_date": lead.date,
        "year": lead.date[:4] if lead.date else None,
        "time_precision": _TIME_PREC.get(lead.date_precision or ""),
        "disorder_type": "Political violence" if lead.event_type else None,
        "event_type": lead.event_type or None,
        "sub_event_type": lead.sub_event_type or None,
        "actor1": a1[0] if a1 else None,
        "assoc_actor_1": "; ".join(assoc1) or None,
        "inter1": inter1,
        "actor2": a2[0] if a2 else None,
        "assoc_actor_2": "; ".join(assoc2) or None,
        "inter2": inter2,
        "interaction": interaction or None,
        "civilian_targeting": "Civilian targeting" if a2 and a2[1] == 7 else None,
        "iso": place.iso if place else None,
        "region": None,
        "country": place.country if place else None,
        "admin1": place.admin1 if place else None,
        "admin2": place.admin2 if place else None,
        "admin3": place.admin3 if place else None,
        "location": (place.location if place and place.kind != "country" else None),
        "latitude": place.latitude if place else None,
        "longitude": place.longitude if place else None,
        "geo_precision": place.geo_precision if place else None,
        "source": "; ".join(_sources(event)) or None,
        "source_scale": None,
        "notes": notes,
        "fatalities": low if low is not None else None,
        "tags": None,
        "timestamp": None,
    }
    return {k: _s(row[k]) for k in ACLED_COLUMNS}


def _type_of_violence(a: tuple[str, int] | None, b: tuple[str, int] | None) -> int | None:
    if not a or not b or not a[1] or not b[1]:
        return None
    if 7 in (a[1], b[1]):
        return 3
    if a[1] in _STATE or b[1] in _STATE:
        return 1
    return 2


def _where_prec(event: Event) -> int | None:
    place = event.lead().place
    if place is None:
        return None
    if place.kind == "country":
        return 6
    if place.kind == "admin1":
        return 4
    if place.kind in ("admin2", "admin3"):
        return 3
    return 1 if place.geo_precision == 1 else 2


def ucdp_row(event: Event, number: int) -> dict[str, str]:
    lead = event.lead()
    place = lead.place
    low, best, high = event.figures()
    side_a, side_b = lead.side_a, lead.side_b
    if side_a and side_b and side_b[1] in _STATE and side_a[1] not in _STATE:
        side_a, side_b = side_b, side_a
    deaths = lead.deaths
    dates = sorted(m.date for m in event.members if m.date)
    dprec = _DATE_PREC.get(lead.date_precision or "")
    start = lead.date
    if lead.date_from_article and lead.date:
        import datetime as dt

        start = (dt.date.fromisoformat(lead.date) - dt.timedelta(days=6)).isoformat()
    row = {
        "id": number,
        "relid": event.id,
        "year": lead.date[:4] if lead.date else None,
        "active_year": None, "code_status": None,
        "type_of_violence": _type_of_violence(side_a, side_b),
        "conflict_dset_id": None, "conflict_new_id": None, "conflict_name": None,
        "dyad_dset_id": None, "dyad_new_id": None,
        "dyad_name": f"{side_a[0]} - {side_b[0]}" if side_a and side_b else None,
        "side_a_dset_id": None, "side_a_new_id": None, "side_a": side_a[0] if side_a else None,
        "side_b_dset_id": None, "side_b_new_id": None, "side_b": side_b[0] if side_b else None,
        "number_of_sources": len(event.doc_ids),
        "source_article": "; ".join(f"{m.doc_id}" + (f" {m.url}" if m.url else "") for m in event.members),
        "source_office": "; ".join(dict.fromkeys(m.outlet for m in event.members if m.outlet)) or None,
        "source_date": "; ".join(dict.fromkeys(m.article_date for m in event.members if m.article_date)) or None,
        "source_headline": None,
        "source_original": "; ".join(_sources(event)) or None,
        "where_prec": _where_prec(event),
        "where_coordinates": (f"{place.location} town" if place and place.kind == "town" else (place.location if place else None)),
        "where_description": lead.location_text,
        "adm_1": place.admin1 if place else None,
        "adm_2": place.admin2 if place else None,
        "latitude": place.latitude if place else None,
        "longitude": place.longitude if place else None,
        "geom_wkt": f"POINT ({place.longitude} {place.latitude})" if place and place.latitude is not None else None,
        "priogrid_gid": None,
        "country": place.country if place else None,
        "country_id": None, "region": None,
        "event_clarity": None,
        "date_prec": dprec,
        "date_start": start,
        "date_end": dates[-1] if dates and not lead.date_from_article else lead.date,
        "deaths_a": deaths.get("deaths_a"), "deaths_b": deaths.get("deaths_b"),
        "deaths_civilians": deaths.get("deaths_civilians"), "deaths_unknown": deaths.get("deaths_unknown"),
        "best": best, "high": high, "low": low,
        "gwnoa": None, "gwnob": None,
    }
    if side_a and lead.side_a and side_a != lead.side_a:  # sides swapped: so are their deaths
        row["deaths_a"], row["deaths_b"] = row["deaths_b"], row["deaths_a"]
    return {k: _s(row[k]) for k in UCDP_COLUMNS}


def acled_rows(events: Sequence[Event]) -> list[dict[str, str]]:
    return [acled_row(e) for e in events]


def ucdp_rows(events: Sequence[Event]) -> list[dict[str, str]]:
    return [ucdp_row(e, n + 1) for n, e in enumerate(events)]


def to_csv(rows: Iterable[dict[str, str]], columns: Sequence[str]) -> str:
    """CSV text; cells a spreadsheet would run as formulas get a leading «'»."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: ("'" + v if len(v) > 1 and v[0] in "=+-@\t\r" else v) for k, v in row.items()})
    return buf.getvalue()


def event_json(event: Event) -> dict[str, Any]:
    """An event with all its reports, claims and sources (the ``jsonl`` format)."""
    low, best, high = event.figures()
    lead = event.lead()
    return {
        "event_id": event.id,
        "documents": event.doc_ids,
        "date": lead.date, "date_precision": lead.date_precision,
        "place": lead.place.to_json() if lead.place else None,
        "event_type": lead.event_type or None, "sub_event_type": lead.sub_event_type or None,
        "fatalities_low": low, "fatalities_best": best, "fatalities_high": high,
        "reports": [
            {"doc_id": m.doc_id, "event_group": m.group, "incidents": m.incidents, "outlet": m.outlet, "url": m.url,
             "date": m.date, "date_precision": m.date_precision, "date_from_article": m.date_from_article,
             "location": m.location_text, "place": m.place.to_json() if m.place else None,
             "perpetrator": m.perpetrator, "perpetrator_text": m.perpetrator_raw, "perpetrator_type": m.perpetrator_inter or None,
             "victims": [{"actor": n, "type": t or None} for n, t in m.victims],
             "event_type": m.event_type or None, "sub_event_type": m.sub_event_type or None,
             "claims": m.claims, "deaths": m.deaths, "low": m.low, "best": m.best, "high": m.high,
             "wounded": m.wounded, "confidence": round(m.confidence, 4)}
            for m in event.members
        ],
    }


def render(events: Sequence[Event], fmt: str) -> str:
    if fmt == "acled":
        return to_csv(acled_rows(events), ACLED_COLUMNS)
    if fmt == "ucdp":
        return to_csv(ucdp_rows(events), UCDP_COLUMNS)
    if fmt == "jsonl":
        return "".join(json.dumps(event_json(e), ensure_ascii=False, separators=(",", ":")) + "\n" for e in events)
    raise ValueError(f"unknown event format {fmt!r}; known: {', '.join(EVENT_FORMATS)}")
