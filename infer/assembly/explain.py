"""Provenance (``--explain``): the fate of every KILLED/WOUNDED figure of an article.

One entry per figure the assembly was given (and per figure it made by joining two, A2), in
text order, each with the rule that decided last and the cue that fired:

* ``incident``: the figure is the killed or wounded count of incident ``incident`` (the index in
  the record's ``incidents``); the rule that put it there (A7 grouping, A4/A3c a total's part by
  place, with ``of`` the total, A6 an update, A7b a later telling, A7c wounded of no side, A5b a
  named list);
* ``part`` of figure ``of`` (A4, A5, A5b), which belongs to incident ``incident`` if any;
* ``superseded`` by figure ``of`` (A6 an update, A19 an early toll), kept in that incident's
  ``extra["superseded"]``;
* ``repeat`` of figure ``of`` (A7b, A7d, A7e), in that incident's ``extra["repeats"]``;
* ``total``: a total split into its attacks (A4, A3c); its parts are the incidents;
* ``joined`` into figure ``of`` (A2: «ضابطان» «اثنان», «25» «ألف» tagged apart);
* ``dropped``: no incident, by the rule given (A1 page furniture, A2 unreadable or overlapping,
  A3-A3d, A6 an update's incident already had one, A15 background, A17-A22), with ``of`` the
  figure it went with when it went with one (A3d).

It is computed only when asked for, from what the rules left on the figures: free otherwise.
"""

from __future__ import annotations

from typing import Any

from hasila.infer.assembly.passes import Doc
from hasila.infer.assembly.state import Cue, Figure
from hasila.infer.labels import COUNT_LABELS

FATES = ("incident", "part", "superseded", "repeat", "total", "joined", "dropped")


def explain(doc: Doc) -> list[dict[str, Any]]:
    norm = doc.norm

    def ref(label: str, start: int, end: int, value: int | None) -> dict[str, Any]:
        span = norm.original_span(start, end)
        return {"text": span.text, "start": span.start, "end": span.end, "label": label, "value": value}

    def fig(f: Figure) -> dict[str, Any]:
        return ref(f.label, f.start, f.end, f.value)

    def cue(c: Cue) -> dict[str, Any] | None:
        if c is None:
            return None
        span = norm.original_span(*c)
        return {"text": span.text, "start": span.start, "end": span.end}

    def entry(figure: dict[str, Any], fate: str, rule: str, c: Cue = None, incident: int | None = None,
              of: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"figure": figure, "fate": fate, "rule": rule, "cue": cue(c), "incident": incident, "of": of}

    index = {id(slot): k for k, (slot, _) in enumerate(doc.made)}
    background = {id(slot): slot for slot, _ in doc.dropped}
    slot_of: dict[int, tuple[Any, str]] = {}
    for slot in doc.slots:
        for f in slot.figures.values():
            slot_of[id(f)] = (slot, "incident")
        for f in slot.repeats:
            slot_of[id(f)] = (slot, "repeat")
        for f in slot.superseded:
            slot_of[id(f)] = (slot, "superseded")

    out: list[tuple[tuple[int, int, str], dict[str, Any]]] = []
    for f in doc.figures:
        key = (f.start, f.end, f.label)
        of = fig(f.ref) if f.ref is not None else None
        if id(f) in slot_of:
            slot, fate = slot_of[id(f)]
            if id(slot) in background:
                date = slot.date
                out.append((key, entry(fig(f), "dropped", "A15", (date.start, date.end) if date else None, None, of)))
            elif fate == "incident":
                rule = f.rule or "A7"
                out.append((key, entry(fig(f), fate, rule, f.cue if f.rule else None, index.get(id(slot)), of)))
            else:
                out.append((key, entry(fig(f), fate, f.rule or "A7b", f.cue, index.get(id(slot)), of)))
        elif f.role == "part" and f.whole is not None:
            whole = slot_of.get(id(f.whole))
            incident = index.get(id(whole[0])) if whole is not None else None
            out.append((key, entry(fig(f), "part", f.rule or "A5", f.cue, incident, fig(f.whole))))
        elif f.role == "total":
            out.append((key, entry(fig(f), "total", f.rule or "A4", f.cue)))
        else:
            out.append((key, entry(fig(f), "dropped", f.rule or "A7", f.cue, None, of)))

    # Figures that never became figures: in furniture (A1), unreadable, joined, overlapping (A2).
    figures = {(f.label, f.start, f.end): f for f in doc.figures}
    unread = {(e.label, e.start, e.end) for ents in doc.unread.values() for e in ents}
    seen: set[tuple[str, int, int]] = set()
    kept = [e for e in doc.kept if e.label in COUNT_LABELS]
    for e in doc.entities:
        k = (e.label, e.start, e.end)
        if e.label not in COUNT_LABELS or k in figures or k in seen:
            continue
        seen.add(k)
        me = ref(e.label, e.start, e.end, None)
        if e.start >= e.end:
            out.append(((e.start, e.end, e.label), entry(me, "dropped", "A2")))
            continue
        where = next((s for s in doc.furniture_spans if e.start < s[1] and s[0] < e.end), None)
        if e.end > doc.cut or where is not None:
            out.append(((e.start, e.end, e.label), entry(me, "dropped", "A1", where)))
            continue
        joined = next((x for x in kept if x.label == e.label and x.start <= e.start and e.end <= x.end
                       and (x.start, x.end) != (e.start, e.end)), None)
        if joined is not None:
            into = figures.get((joined.label, joined.start, joined.end))
            of = fig(into) if into is not None else ref(joined.label, joined.start, joined.end, None)
            out.append(((e.start, e.end, e.label), entry(me, "joined", "A2", None, None, of)))
            continue
        over = next((x for x in kept if x.start < e.end and e.start < x.end), None)
        of = None
        if over is not None and k not in unread:
            into = figures.get((over.label, over.start, over.end))
            of = fig(into) if into is not None else ref(over.label, over.start, over.end, None)
        out.append(((e.start, e.end, e.label), entry(me, "dropped", "A2", None, None, of)))
    out.sort(key=lambda x: x[0])
    return [x[1] for x in out]
