"""Evaluation metrics (pure functions, no model): entity spans and incidents.

Entities (word-level BIO, scored with seqeval's span extraction)
    ``mode="default"``: seqeval's default (conlleval) reading: an ``I-X`` after ``O`` or after
    another type starts a new entity. ``mode="strict"``: IOB2 strict: only well-formed
    ``B-X I-X*`` spans count. An entity is correct when type, first and last word all match.
    ``labels`` restricts scoring to a label subset: tags of other labels become O on both
    sides first (e.g. ANERcorp annotates no DATE/KILLED/WOUNDED, so a Hasila model is scored
    there on PER/ORG/LOC only, and its DATE predictions are neither right nor wrong).

Incidents (per document, lists of :class:`hasila.infer.types.Incident`)
    - killed / wounded figure, exact match: a predicted figure is correct when some gold
      incident's figure of the same kind has the same ``value`` and the two count spans
      overlap. Figures are paired one-to-one by a maximum bipartite matching (augmenting
      paths), so two predictions can never both claim one gold figure and the pairing never
      loses a match that a different pairing would have found (which greedy pairing can).
      precision = correct / predicted figures, recall = correct / gold figures.
    - incident detection: a predicted and a gold incident *correspond* when one of the
      predicted count spans overlaps one of the gold count spans (same kind or not), or, when
      either has no count, their evidence spans overlap. Pairs: maximum bipartite matching;
      among equally good matchings, candidates sharing more fields are tried first.
    - location / perpetrator / victim / source / date: over corresponding pairs, correct when
      both are set and the spans overlap or their normalized texts are equal (normalization:
      diacritics and tatweel removed, أ إ آ ٱ → ا, ى → ي, ة → ه, whitespace collapsed), so the
      same name cited at another place in the article still counts. precision = correct /
      predicted incidents with the field set (including unmatched predicted incidents),
      recall = correct / gold incidents with the field set.
    - hard negatives: documents marked as hard negatives (violent vocabulary and numbers but
      no incident); false-incident rate = share of them with at least one predicted incident.
All counts are summed over documents before dividing (micro averages).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hasila.infer.normalize import normalize_for_match
from hasila.infer.types import Incident, Span

MODES = ("default", "strict")


# ---------------------------------------------------------------- entity spans

def restrict_tags(tags: Sequence[str], keep: Collection[str]) -> list[str]:
    """Tags whose label is not in ``keep`` become O."""
    return [t if t == "O" or t[2:] in keep else "O" for t in tags]


def extract_entities(tags: Sequence[str], mode: str = "default") -> list[tuple[str, int, int]]:
    """(label, first word, end word exclusive) of the entities in one tag sequence."""
    if mode == "default":
        from seqeval.metrics.sequence_labeling import get_entities

        return [(lab, s, e + 1) for lab, s, e in get_entities(list(tags))]
    if mode == "strict":
        from seqeval.scheme import IOB2, Entities

        return [(e.tag, e.start, e.end) for e in Entities([list(tags)], IOB2, suffix=False).entities[0]]
    raise ValueError(f"unknown mode {mode!r}; use one of {MODES}")


def _prf(correct: int, predicted: int, gold: int) -> dict[str, float | int]:
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "correct": correct, "predicted": predicted, "gold": gold}


def entity_metrics(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    labels: Collection[str] | None = None,
    mode: str = "default",
) -> dict[str, Any]:
    """Micro / macro / per-label precision, recall, F1 over entity spans.

    ``labels``: score only these labels (others become O first); their per-label entries are
    always present, even with no gold or predicted entity. Without it every label seen counts.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sequences but {len(pred)} predicted")
    counts: dict[str, list[int]] = {lab: [0, 0, 0] for lab in (labels or ())}  # correct, predicted, gold
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sequence {i}: {len(g)} gold tags but {len(p)} predicted")
        if labels is not None:
            g, p = restrict_tags(g, labels), restrict_tags(p, labels)
        ge, pe = set(extract_entities(g, mode)), set(extract_entities(p, mode))
        for lab, *_ in ge:
            counts.setdefault(lab, [0, 0, 0])[2] += 1
        for lab, *_ in pe:
            counts.setdefault(lab, [0, 0, 0])[1] += 1
        for lab, *_ in ge & pe:
            counts[lab][0] += 1
    per_label = {lab: _prf(*c) for lab, c in sorted(counts.items())}
    total = [sum(c[k] for c in counts.values()) for k in range(3)]
    macro = {
        key: (sum(v[key] for v in per_label.values()) / len(per_label) if per_label else 0.0)
        for key in ("precision", "recall", "f1")
    }
    return {"mode": mode, "micro": _prf(*total), "macro": macro, "per_label": per_label}


# ---------------------------------------------------------------- incidents

@dataclass(frozen=True)
class IncidentDoc:
    """Gold and predicted incidents of one document."""

    doc_id: str
    gold: Sequence[Incident]
    pred: Sequence[Incident]
    hard_negative: bool = False




def normalize_name(text: str) -> str:
    """Spelling-insensitive form used to compare names («قوّات النظام» == «قوات النظام»)."""
    return " ".join(normalize_for_match(text).split())


def spans_overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def same_mention(a: Span, b: Span) -> bool:
    """Overlapping spans, or the same name after normalization."""
    return spans_overlap(a, b) or (normalize_name(a.text) != "" and normalize_name(a.text) == normalize_name(b.text))


def max_matching(n_left: int, n_right: int, compatible: Callable[[int, int], bool], preference: Callable[[int, int], float] | None = None) -> list[tuple[int, int]]:
    """Maximum bipartite matching (Kuhn's augmenting paths); each left node tries its right
    candidates in order of decreasing ``preference``. Returns (left, right) pairs."""
    cand = []
    for i in range(n_left):
        js = [j for j in range(n_right) if compatible(i, j)]
        if preference is not None:
            js.sort(key=lambda j: -preference(i, j))
        cand.append(js)
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in cand[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(n_left):
        augment(i, set())
    return sorted((i, j) for j, i in owner.items())


def _count_spans(inc: Incident) -> list[Span]:
    return [c.span for c in (inc.killed, inc.wounded) if c is not None]


def incidents_correspond(p: Incident, g: Incident) -> bool:
    ps, gs = _count_spans(p), _count_spans(g)
    if ps and gs:
        return any(spans_overlap(a, b) for a in ps for b in gs)
    return spans_overlap(p.evidence, g.evidence)


_FIELDS: dict[str, Callable[[Incident], Span | None]] = {
    "location": lambda i: i.location,
    "perpetrator": lambda i: i.perpetrator,
    "victim": lambda i: i.victim,
    "source": lambda i: i.source,
    "date": lambda i: None if i.date is None else i.date.span,
}


def _shared_fields(p: Incident, g: Incident) -> int:
    n = 0
    for get in _FIELDS.values():
        a, b = get(p), get(g)
        n += a is not None and b is not None and same_mention(a, b)
    for kind in ("killed", "wounded"):
        a, b = getattr(p, kind), getattr(g, kind)
        n += a is not None and b is not None and a.value == b.value and spans_overlap(a.span, b.span)
    return n


def pair_incidents(gold: Sequence[Incident], pred: Sequence[Incident]) -> list[tuple[int, int]]:
    """(pred index, gold index) pairs of corresponding incidents, one-to-one."""
    return max_matching(
        len(pred), len(gold), lambda i, j: incidents_correspond(pred[i], gold[j]), lambda i, j: _shared_fields(pred[i], gold[j])
    )


def figure_matches(gold: Sequence[Incident], pred: Sequence[Incident], kind: str) -> int:
    """Number of predicted ``kind`` ("killed"/"wounded") figures matched to gold ones by value
    and overlapping span (one-to-one)."""
    g = [getattr(x, kind) for x in gold if getattr(x, kind) is not None]
    p = [getattr(x, kind) for x in pred if getattr(x, kind) is not None]
    return len(max_matching(len(p), len(g), lambda i, j: p[i].value == g[j].value and spans_overlap(p[i].span, g[j].span)))


def incident_metrics(docs: Iterable[IncidentDoc]) -> dict[str, Any]:
    n_docs = 0
    inc = [0, 0, 0]  # correct, predicted, gold
    figures = {k: [0, 0, 0] for k in ("killed", "wounded")}
    fields = {k: [0, 0, 0] for k in _FIELDS}
    hard = [0, 0]  # documents, with ≥1 predicted incident
    seen: set[str] = set()
    for doc in docs:
        if doc.doc_id in seen:
            raise ValueError(f"document {doc.doc_id!r} appears twice in the incident evaluation")
        seen.add(doc.doc_id)
        n_docs += 1
        pairs = pair_incidents(doc.gold, doc.pred)
        inc[0] += len(pairs)
        inc[1] += len(doc.pred)
        inc[2] += len(doc.gold)
        for kind, c in figures.items():
            c[0] += figure_matches(doc.gold, doc.pred, kind)
            c[1] += sum(getattr(x, kind) is not None for x in doc.pred)
            c[2] += sum(getattr(x, kind) is not None for x in doc.gold)
        for name, get in _FIELDS.items():
            c = fields[name]
            c[1] += sum(get(x) is not None for x in doc.pred)
            c[2] += sum(get(x) is not None for x in doc.gold)
            for i, j in pairs:
                a, b = get(doc.pred[i]), get(doc.gold[j])
                c[0] += a is not None and b is not None and same_mention(a, b)
        if doc.hard_negative:
            hard[0] += 1
            hard[1] += bool(doc.pred)
    return {
        "documents": n_docs,
        "incidents": _prf(*inc),
        **{k: _prf(*v) for k, v in figures.items()},
        **{k: _prf(*v) for k, v in fields.items()},
        "hard_negatives": {
            "documents": hard[0],
            "with_predicted_incident": hard[1],
            "false_incident_rate": hard[1] / hard[0] if hard[0] else None,
        },
    }


# ---------------------------------------------------------------- reading predicted records

def _span_from_json(d: Any, where: str) -> Span | None:
    if d is None:
        return None
    try:
        return Span(int(d["start"]), int(d["end"]), str(d["text"]))
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{where}: not a span ({err}): {d!r}") from None


def incident_from_json(d: dict[str, Any], where: str) -> Incident:
    """An :class:`Incident` from the output schema's incident object."""
    from hasila.infer.types import Count, DateRef, Quantity

    def count(key: str) -> Count | None:
        c = d.get(key)
        if c is None:
            return None
        try:
            q = Quantity(c.get("value"), c.get("low"), c.get("high"), c["qualifier"])
        except (KeyError, ValueError) as err:
            raise ValueError(f"{where}.{key}: bad count ({err}): {c!r}") from None
        return Count(_span_from_json(c, f"{where}.{key}"), q)

    if not isinstance(d, dict) or "evidence" not in d:
        raise ValueError(f"{where}: an incident needs an 'evidence' span: {d!r}")
    date = d.get("date")
    return Incident(
        evidence=_span_from_json(d["evidence"], f"{where}.evidence"),
        killed=count("killed"),
        wounded=count("wounded"),
        perpetrator=_span_from_json(d.get("perpetrator"), f"{where}.perpetrator"),
        victim=_span_from_json(d.get("victim"), f"{where}.victim"),
        location=_span_from_json(d.get("location"), f"{where}.location"),
        date=None if date is None else DateRef(_span_from_json(date, f"{where}.date"), date.get("resolved"), date.get("precision")),
        source=_span_from_json(d.get("source"), f"{where}.source"),
        confidence=float(d.get("confidence", 0.0)),
    )


def incidents_from_record(record: dict[str, Any], where: str = "") -> list[Incident]:
    """Incidents of one ``hasila-extract`` output record (none for an error record)."""
    if record.get("status") != "ok":
        return []
    where = where or f"record {record.get('doc_id')!r}"
    return [incident_from_json(x, f"{where}: incidents[{i}]") for i, x in enumerate(record.get("incidents", []))]
