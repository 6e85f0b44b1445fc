"""Events: the incidents of one event in an article, and the reports of one event across articles.

**Within an article** (:func:`article_events`): the incidents that share ``event_group`` (one
attack told by side, by claim, by update) are one event. Its claims are the groups of incidents
by source where the article marks them ``disputed`` (different figures from different sources,
guideline rule 6), else one claim with the incidents' figures added up by side. Deaths by side
(UCDP): side A is the state's side where one takes part (a perpetrator or victim of ACLED type 1 or
8), else the perpetrator; side B the other; deaths of civilians (type 7) are ``deaths_civilians``,
deaths no side can be told for ``deaths_unknown``.

The figures exported (stated rule): **ACLED** ``fatalities`` = the *low* figure, the most
conservative: the smallest claim total (a claim's total is the sum of its incidents' ``low`` where
a figure is a range or «at least»). **UCDP** ``low`` = that smallest claim total, ``high`` = the
largest claim total (a range's ``high``), ``best`` = the claim reported by most articles, on a tie
the lower one (a single claim: its total).

**Across articles** (:func:`cluster_events`): reports are taken in order of date; one joins the
cluster it fits best when it conflicts with none of its members (:func:`conflict`: one article,
places found in two countries, two named perpetrators) and is compatible (:func:`compatible`)
with at least ``share`` (0.3) of them; then clusters that meet the same test as a whole merge.
Two reports are compatible when:

- *date*: both dated, within ``window_days`` (3) of each other, 7 where either date was only the
  week before the article, 31 where either is a month or a year; two undated reports need the same
  town or the same name as written; a dated and an undated one never join;
- *sides*: the perpetrators' canonical names, where both are known types, are the same;
- *figures*: killed figures are compatible (the larger at most twice the smaller, or at most 5
  apart: tolls rise between reports);
- *place*: never two countries found below country level; then the same location as written
  (folded, clitics and place words off: «بسروج» = «سروج»), or the same town with the same toll or
  on the same day, or the same admin1 with the same toll; a toll of 10 or more told alike within
  3 days joins where no two different towns are named.

Measured on gold event clusters (README, "Events").

Dates: an incident's resolved date; with none, the article's date with precision widened to the
week before it (ACLED time_precision 2, UCDP date_prec 3); with no article date either, empty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .actor_types import canonical_actor, event_type
from .geocode import Place, context_countries, country_place, geocode, gazetteer

__all__ = ["ArticleEvent", "Event", "article_events", "cluster_events", "build_events"]

_STATE = (1, 8)


@dataclass
class ArticleEvent:
    doc_id: str
    group: int
    incidents: list[int]
    outlet: str | None
    url: str | None
    article_date: str | None
    date: str | None
    date_precision: str | None  # day, week, month, year
    date_from_article: bool
    place: Place | None
    location_text: str | None
    location_key: str | None  # the location as written, folded, clitics and place words off
    perpetrator: str | None
    perpetrator_raw: str | None
    perpetrator_inter: int
    victims: list[tuple[str, int]]  # canonical name, inter
    event_type: str
    sub_event_type: str
    claims: list[dict[str, Any]]  # {source, killed_low, killed_high, killed, wounded, incidents}
    deaths: dict[str, int | None]  # deaths_a, deaths_b, deaths_civilians, deaths_unknown
    side_a: tuple[str, int] | None
    side_b: tuple[str, int] | None
    low: int | None
    high: int | None
    best: int | None
    wounded: int | None
    confidence: float
    notes: str
    evidence: dict[str, Any]

    @property
    def day(self) -> dt.date | None:
        return dt.date.fromisoformat(self.date) if self.date else None


@dataclass
class Event:
    """One event, reported by one or more articles."""

    id: str
    members: list[ArticleEvent] = field(default_factory=list)

    @property
    def doc_ids(self) -> list[str]:
        return list(dict.fromkeys(m.doc_id for m in self.members))

    def lead(self) -> ArticleEvent:
        """The report the event's row takes its fields from: the most precise place, then date,
        then confidence."""
        def rank(m: ArticleEvent) -> tuple:
            prec = m.place.geo_precision if m.place else 9
            dprec = {"day": 0, "week": 1, "month": 2, "year": 3}.get(m.date_precision or "", 4)
            return (prec, dprec, -m.confidence, m.doc_id)
        return min(self.members, key=rank)

    def figures(self) -> tuple[int | None, int | None, int | None]:
        """(low, best, high) over every article's claims (module doc: the stated rule)."""
        totals: list[tuple[int, int]] = []
        for m in self.members:
            for c in m.claims:
                if c["killed_low"] is not None:
                    totals.append((c["killed_low"], c["killed_high"] if c["killed_high"] is not None else c["killed_low"]))
        if not totals:
            return None, None, None
        low = min(t[0] for t in totals)
        high = max(t[1] for t in totals)
        counts: dict[int, int] = {}
        for m in self.members:
            for value in {c["killed"] for c in m.claims if c["killed"] is not None}:
                counts[value] = counts.get(value, 0) + 1
        best = min(counts, key=lambda v: (-counts[v], v)) if counts else low
        return low, best, high


def _value(count: dict[str, Any] | None, key: str) -> int | None:
    if not count:
        return None
    v = count.get(key)
    if v is None:
        v = count.get("value")
    return v


def _widen(article_date: str | None) -> tuple[str | None, str | None]:
    return (article_date, "week") if article_date else (None, None)


def article_events(record: dict[str, Any]) -> list[ArticleEvent]:
    """The events of one ``status: ok`` record (one per ``event_group``)."""
    if record.get("status") != "ok":
        return []
    incidents = record.get("incidents") or []
    if not incidents:
        return []
    loc_texts = [e["text"] for e in record.get("entities", []) if e.get("label") == "LOC"]
    loc_texts += [i["location"]["text"] for i in incidents if i.get("location")]
    context = context_countries(loc_texts)
    groups: dict[int, list[int]] = {}
    for k, inc in enumerate(incidents):
        groups.setdefault(int(inc.get("event_group", k)), []).append(k)
    out = []
    for group, idx in sorted(groups.items(), key=lambda g: g[1][0]):
        out.append(_one_event(record, group, idx, context))
    return out


def _place_of(incs: list[dict[str, Any]], context: Sequence[str]) -> tuple[Place | None, str | None]:
    """The most specific place of the event's location chain that geocodes; else the article's
    main country (precision 3); else none."""
    for inc in incs:
        chain = [inc["location"]] if inc.get("location") else []
        chain += [c for c in inc.get("location_context") or [] if c not in chain]
        for span in chain:
            place = geocode(span["text"], context)
            if place is not None:
                return place, span["text"]
    text = incs[0]["location"]["text"] if incs and incs[0].get("location") else None
    return (country_place(context[0]) if context else None), text


def location_key(text: str | None) -> str | None:
    """A place name as written, comparable across articles: folded letters, words that say what
    kind of place it is dropped («مدينة», «بلدة», «ريف»), «ال» and two-letter proclitics off; the
    forms with and without a one-letter proclitic («بسروج»: «بسروج|سروج») joined by «|» (two keys
    match when they share a form)."""
    if not text:
        return None
    from itertools import product

    from .geocode import _DESCRIPTORS, fold

    options = []
    for w in fold(text).split():
        if w in _DESCRIPTORS:
            continue
        for p in ("وبال", "وال", "فال", "بال", "لل", "ال"):
            if w.startswith(p) and len(w) - len(p) >= 2:
                w = w[len(p):]
                break
        forms = [w]
        if w[:1] in ("و", "ب", "ل", "ف") and len(w) >= 4:
            forms.append(w[1:])
        if w not in _DESCRIPTORS and "ال" + w not in _DESCRIPTORS:
            options.append(forms)
    if not options:
        return None
    keys = {" ".join(c) for c in product(*options[:3])}
    return "|".join(sorted(keys))


def _one_event(record: dict[str, Any], group: int, idx: list[int], context: Sequence[str]) -> ArticleEvent:
    incs = [record["incidents"][k] for k in idx]
    place, loc_text = _place_of(incs, context)
    cc = None
    if place is not None:
        cc = next((c for c, v in gazetteer().countries.items() if v["name"] == place.country), None)
    # date
    dated = [i["date"] for i in incs if i.get("date") and i["date"].get("resolved")]
    if dated:
        date, prec, from_article = dated[0]["resolved"], dated[0].get("precision") or "day", False
    else:
        (date, prec), from_article = _widen(record.get("date")), True
    # actors
    perp = next((i["perpetrator"]["text"] for i in incs if i.get("perpetrator")), None)
    perp_actor = canonical_actor(perp, cc)
    victims = []
    for i in incs:
        v = canonical_actor(i["victim"]["text"], cc) if i.get("victim") else None
        victims.append(v)
    victim_inter = next((v.inter for v in victims if v and v.inter), 0)
    evidence_text = " ".join(i["evidence"]["text"] for i in incs)
    etype, sub = event_type(evidence_text, victim_inter, perp_actor.inter if perp_actor else 0)
    # claims
    disputed = any(i.get("disputed") for i in incs)
    claim_sets: dict[str, list[int]] = {}
    for k, i in zip(idx, incs):
        key = (i["source"]["text"] if i.get("source") else "") if disputed else ""
        claim_sets.setdefault(key, []).append(k)
    claims = []
    for source, ks in claim_sets.items():
        members = [record["incidents"][k] for k in ks]
        killed = [m["killed"] for m in members if m.get("killed") and m["killed"].get("value") is not None]
        wounded = [m["wounded"] for m in members if m.get("wounded") and m["wounded"].get("value") is not None]
        srcs = sorted({m["source"]["text"] for m in members if m.get("source")})
        claims.append({
            "source": source or "; ".join(srcs) or None,
            "killed": sum(c["value"] for c in killed) if killed else None,
            "killed_low": sum(_value(c, "low") for c in killed) if killed else None,
            "killed_high": sum(_value(c, "high") for c in killed) if killed else None,
            "wounded": sum(c["value"] for c in wounded) if wounded else None,
            "incidents": ks,
        })
    lows = [c["killed_low"] for c in claims if c["killed_low"] is not None]
    highs = [c["killed_high"] for c in claims if c["killed_high"] is not None]
    bests = sorted(c["killed"] for c in claims if c["killed"] is not None)
    low = min(lows) if lows else None
    high = max(highs) if highs else None
    best = bests[(len(bests) - 1) // 2] if bests else None
    wounded_vals = [c["wounded"] for c in claims if c["wounded"] is not None]
    # sides and deaths by side (the claim giving the low figure)
    named = [(perp_actor.name, perp_actor.inter)] if perp_actor else []
    named += [(v.name, v.inter) for v in victims if v and v.inter not in (0, 7)]
    side_a = next((a for a in named if a[1] in _STATE), named[0] if named else None)
    side_b = next((a for a in named if a != side_a), None)
    deaths = {"deaths_a": 0, "deaths_b": 0, "deaths_civilians": 0, "deaths_unknown": 0}
    low_claim = min((c for c in claims if c["killed_low"] is not None), key=lambda c: c["killed_low"], default=None)
    if low_claim is None:
        deaths = {k: None for k in deaths}
    else:
        for k in low_claim["incidents"]:
            i = record["incidents"][k]
            if not i.get("killed") or i["killed"].get("value") is None:
                continue
            n = _value(i["killed"], "low")
            v = victims[idx.index(k)]
            if v and v.inter == 7:
                deaths["deaths_civilians"] += n
            elif v and side_a and v.name == side_a[0]:
                deaths["deaths_a"] += n
            elif v and side_b and v.name == side_b[0]:
                deaths["deaths_b"] += n
            else:
                deaths["deaths_unknown"] += n
    ev = min(incs, key=lambda i: i["evidence"]["start"])["evidence"]
    notes = " ".join(ev["text"].split())[:300]
    return ArticleEvent(
        doc_id=record["doc_id"], group=group, incidents=idx, outlet=record.get("source"), url=record.get("url"),
        article_date=record.get("date"), date=date, date_precision=prec, date_from_article=from_article,
        place=place, location_text=loc_text, location_key=location_key(loc_text),
        perpetrator=perp_actor.name if perp_actor else None, perpetrator_raw=perp,
        perpetrator_inter=perp_actor.inter if perp_actor else 0,
        victims=[(v.name, v.inter) for v in victims if v],
        event_type=etype, sub_event_type=sub, claims=claims, deaths=deaths, side_a=side_a, side_b=side_b,
        low=low, high=high, best=best, wounded=max(wounded_vals) if wounded_vals else None,
        confidence=max(float(i.get("confidence") or 0.0) for i in incs), notes=notes, evidence=ev,
    )


# ---------------------------------------------------------------------------------------------
# Across articles


def _window(a: ArticleEvent, b: ArticleEvent, window_days: int) -> int:
    precs = {a.date_precision, b.date_precision}
    if precs & {"month", "year"}:
        return 31
    if "week" in precs:
        return 7
    return window_days


def compatible(a: ArticleEvent, b: ArticleEvent, window_days: int = 3) -> bool:
    if a.doc_id == b.doc_id:
        return False
    da, db = a.day, b.day
    if (da is None) != (db is None):
        return False  # an undated report joins no dated one
    if da and db and abs((da - db).days) > _window(a, b, window_days):
        return False
    if a.perpetrator and b.perpetrator and a.perpetrator_inter and b.perpetrator_inter and a.perpetrator != b.perpetrator:
        return False
    ka, kb = a.best, b.best
    if ka is not None and kb is not None:
        lo, hi = sorted((ka, kb))
        if not (hi <= 2 * lo or hi - lo <= 5):
            return False
    pa, pb = a.place, b.place
    if pa is not None and pb is not None and pa.country != pb.country and "country" not in (pa.kind, pb.kind):
        return False
    same_toll = ka is not None and ka == kb
    same_name = bool(a.location_key and b.location_key and set(a.location_key.split("|")) & set(b.location_key.split("|")))
    if da is None:  # undated reports: the same town, or the same name as written
        return bool(same_name or (pa and pb and pa.kind == "town" and pa.location == pb.location))
    towns_differ = bool(pa and pb and pa.kind == pb.kind == "town" and pa.location != pb.location)
    if same_toll and ka >= 10 and not towns_differ and abs((da - db).days) <= window_days:
        return True  # a distinctive toll, told alike within a few days, nowhere contradicted
    if same_name:
        return True
    if pa is None or pb is None or pa.kind == "country" or pb.kind == "country":
        return False  # nothing but a country (or nothing) to go on
    same_day = a.date_precision == b.date_precision == "day" and da == db
    if pa.kind == "town" and pb.kind == "town" and pa.location == pb.location:
        return same_toll or same_day
    return bool(same_toll and pa.admin1 and pa.admin1 == pb.admin1)


def conflict(a: ArticleEvent, b: ArticleEvent) -> bool:
    """Reports that can never be one event: one article, two countries, two named perpetrators."""
    if a.doc_id == b.doc_id:
        return True
    pa, pb = a.place, b.place
    if pa is not None and pb is not None and pa.country != pb.country and pa.kind != "country" and pb.kind != "country":
        return True  # two places found in two countries (a country alone is only the article's guess)
    return bool(a.perpetrator and b.perpetrator and a.perpetrator_inter and b.perpetrator_inter
                and a.perpetrator != b.perpetrator)


def cluster_events(events: Sequence[ArticleEvent], window_days: int = 3, share: float = 0.3) -> list[Event]:
    """Clusters of article events (module doc): a report joins the cluster it is compatible with
    most, if it conflicts with none of its members and is compatible with at least ``share`` of
    them (1.0: complete link); events in order of date, then input."""
    order = sorted(range(len(events)), key=lambda k: (events[k].date or "9999", k))
    clusters: list[list[int]] = []
    for k in order:
        e = events[k]
        best, best_score = None, None
        for c_idx, members in enumerate(clusters):
            if any(conflict(e, events[m]) for m in members):
                continue
            fits = sum(1 for m in members if compatible(e, events[m], window_days))
            if fits and fits >= share * len(members):
                score = (fits, fits / len(members), -c_idx)
                if best_score is None or score > best_score:
                    best, best_score = c_idx, score
        if best is None:
            clusters.append([k])
        else:
            clusters[best].append(k)
    # Then clusters that grew apart join when no report conflicts and enough pairs fit.
    merged = True
    while merged:
        merged = False
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                pairs = [(x, y) for x in clusters[i] for y in clusters[j]]
                if any(conflict(events[x], events[y]) for x, y in pairs):
                    continue
                fits = sum(1 for x, y in pairs if compatible(events[x], events[y], window_days))
                if fits and fits >= share * len(pairs):
                    clusters[i] = clusters[i] + clusters[j]
                    del clusters[j]
                    merged = True
                    break
            if merged:
                break
    clusters.sort(key=lambda ms: min(ms))
    return [Event(id=f"E{n + 1:05d}", members=[events[m] for m in sorted(ms)]) for n, ms in enumerate(clusters)]


def build_events(records: Iterable[dict[str, Any]], window_days: int = 3, across: bool = True,
                 share: float = 0.3) -> list[Event]:
    """Events of many records: within each article, then (``across``) across articles."""
    events: list[ArticleEvent] = []
    for record in records:
        events.extend(article_events(record))
    if across:
        return cluster_events(events, window_days, share)
    return [Event(id=f"E{n + 1:05d}", members=[e]) for n, e in enumerate(events)]
