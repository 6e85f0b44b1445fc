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


# ---------------------------------------------------------------- the analyst's scorer
#
# How an analyst judges (webnews-gold issue, item 5), beside the span-overlap figures above:
#   - a predicted incident matches a gold one when a figure of the same kind has the same value
#     (value, else low), whichever telling of the figure it took (headline or lead: the spans need
#     not overlap); one-to-one by maximum matching, preferring pairs whose spans overlap and that
#     share more fields;
#   - fields are accuracy on matched pairs, apart from detection: over the matched pairs where gold
#     or prediction sets the field, correct when both are set and name the same thing (spans
#     overlap, or equal keys: clitics and «ال» gone, letters folded, actors through the alias key);
#   - figure roles: accuracy over gold figures (KILLED/WOUNDED spans with a role); a gold figure
#     the pipeline did not read at all counts as wrong;
#   - every headline figure gets a bootstrap 95% interval (documents resampled with replacement);
#   - breakdowns by corpus and by country.

ANALYST_FIELDS: tuple[str, ...] = ("perpetrator", "victim", "location", "date", "source")
_PLACE_PROCLITICS = ("وبال", "وال", "فال", "بال", "لل", "ال", "وب", "ول", "وف", "و", "ف", "ب", "ل")


@dataclass(frozen=True)
class FigureRole:
    """A KILLED/WOUNDED span and its role (gold: annotated; predicted: what the pipeline made of it)."""

    label: str
    start: int
    end: int
    role: str


@dataclass(frozen=True)
class ScoredDoc:
    """One document for :func:`analyst_metrics`."""

    doc_id: str
    gold: Sequence[Incident]
    pred: Sequence[Incident]
    hard_negative: bool = False
    corpus: str = ""
    country: str = ""
    gold_roles: Sequence[FigureRole] = ()
    pred_roles: Sequence[FigureRole] | None = None  # None: the pipeline gave no roles


def _strip_word(w: str) -> str:
    for p in _PLACE_PROCLITICS:
        if w.startswith(p) and len(w) - len(p) >= 3:
            return w[len(p):]
    return w


def name_key(text: str, field: str = "") -> str:
    """The key two names of one thing share: folded letters, clitics and «ال» off each word;
    perpetrators and victims also through :func:`hasila.infer.actors.actor_key`'s aliases."""
    if field in ("perpetrator", "victim", "source"):
        from hasila.infer.actors import actor_key

        return normalize_name(actor_key(text))
    return " ".join(_strip_word(w) for w in normalize_name(text).split())


def _word_forms(word: str) -> set[str]:
    """A word as written and without each proclitic that may start it (ببغداد → بغداد, but
    بغداد stays a form of itself: a name may begin with a clitic letter)."""
    forms = {word}
    for p in _PLACE_PROCLITICS:
        if word.startswith(p) and len(word) - len(p) >= 3:
            forms.add(word[len(p):])
    return forms


def same_name(a: str, b: str, field: str = "") -> bool:
    """Two names of one thing: equal alias keys (actors), or word by word a shared form."""
    if field in ("perpetrator", "victim", "source"):
        ka, kb = name_key(a, field), name_key(b, field)
        if ka and ka == kb:
            return True
    wa, wb = normalize_name(a).split(), normalize_name(b).split()
    return bool(wa) and len(wa) == len(wb) and all(_word_forms(x) & _word_forms(y) for x, y in zip(wa, wb))


def _same_field(a: Any, b: Any, field: str) -> bool:
    if field == "date":
        a_res, b_res = getattr(a, "resolved", None), getattr(b, "resolved", None)
        if a_res and b_res:
            return a_res == b_res
        a, b = a.span, b.span
    if spans_overlap(a, b):
        return True
    return same_name(a.text, b.text, field)


def _figure_value(c: Any) -> int | None:
    q = c.quantity
    return q.value if q.value is not None else q.low


NO_INCIDENT_ROLES = frozenset({"total", "superseded", "cumulative", "background", "not_violence"})


def _analyst_pairs(gold: Sequence[Incident], pred: Sequence[Incident],
                   blocked: Sequence[FigureRole] = ()) -> list[tuple[int, int]]:
    """Pairs of (pred, gold) incidents with a figure of one kind and value. A predicted figure
    on a gold figure that makes no incident (``blocked``: total, superseded, cumulative,
    background, not_violence) matches nothing, even when its value equals an incident's."""
    def on_blocked(c: Any, kind: str) -> bool:
        label = "KILLED" if kind == "killed" else "WOUNDED"
        return any(r.label == label and r.start < c.span.end and c.span.start < r.end for r in blocked)

    def compatible(i: int, j: int) -> bool:
        for kind in ("killed", "wounded"):
            a, b = getattr(pred[i], kind), getattr(gold[j], kind)
            if (a is not None and b is not None and _figure_value(a) is not None and _figure_value(a) == _figure_value(b)
                    and not on_blocked(a, kind)):
                return True
        return False

    def preference(i: int, j: int) -> float:
        # figures and their spans only (not fields: filling a field must not change the pairing)
        overlap = any(spans_overlap(a, b) for a in _count_spans(pred[i]) for b in _count_spans(gold[j]))
        return float(overlap)

    return max_matching(len(pred), len(gold), compatible, preference)


def _doc_counts(doc: ScoredDoc) -> dict[str, float]:
    """Additive counts of one document (so that bootstrap resampling is a sum of rows)."""
    out: dict[str, float] = {}
    pairs = _analyst_pairs(doc.gold, doc.pred, [r for r in doc.gold_roles if r.role in NO_INCIDENT_ROLES])
    out["inc_correct"], out["inc_pred"], out["inc_gold"] = len(pairs), len(doc.pred), len(doc.gold)
    for f in ANALYST_FIELDS:
        n = ok = 0
        for i, j in pairs:
            a, b = getattr(doc.pred[i], f), getattr(doc.gold[j], f)
            if a is None and b is None:
                continue
            n += 1
            ok += a is not None and b is not None and _same_field(a, b, f)
        out[f"{f}_n"], out[f"{f}_ok"] = n, ok
    for kind in ("killed", "wounded"):
        g = [getattr(x, kind) for x in doc.gold if getattr(x, kind) is not None]
        p = [getattr(x, kind) for x in doc.pred if getattr(x, kind) is not None]
        m = max_matching(len(p), len(g), lambda i, j: _figure_value(p[i]) is not None and _figure_value(p[i]) == _figure_value(g[j]))
        out[f"{kind}_correct"], out[f"{kind}_pred"], out[f"{kind}_gold"] = len(m), len(p), len(g)
    out["hard_doc"] = float(doc.hard_negative)
    out["hard_false"] = float(doc.hard_negative and bool(doc.pred))
    n_roles = ok_roles = 0
    if doc.gold_roles:
        pred_roles = list(doc.pred_roles or ())
        for g in doc.gold_roles:
            n_roles += 1
            hit = [p for p in pred_roles if p.label == g.label and p.start < g.end and g.start < p.end]
            ok_roles += bool(hit) and hit[0].role == g.role
    out["roles_n"], out["roles_ok"] = n_roles, ok_roles
    return out


def _headline(c: dict[str, float]) -> dict[str, float | None]:
    def ratio(a: float, b: float) -> float | None:
        return a / b if b else None

    p, r = ratio(c["inc_correct"], c["inc_pred"]), ratio(c["inc_correct"], c["inc_gold"])
    f1 = 2 * p * r / (p + r) if p and r else 0.0
    out: dict[str, float | None] = {"incident_precision": p, "incident_recall": r, "incident_f1": f1}
    for f in ANALYST_FIELDS:
        out[f"{f}_accuracy"] = ratio(c[f"{f}_ok"], c[f"{f}_n"])
    for kind in ("killed", "wounded"):
        kp, kr = ratio(c[f"{kind}_correct"], c[f"{kind}_pred"]), ratio(c[f"{kind}_correct"], c[f"{kind}_gold"])
        out[f"{kind}_f1"] = 2 * kp * kr / (kp + kr) if kp and kr else 0.0
    out["hard_negative_false_rate"] = ratio(c["hard_false"], c["hard_doc"])
    out["figure_role_accuracy"] = ratio(c["roles_ok"], c["roles_n"])
    return out


def _sum_rows(rows: Sequence[dict[str, float]], idx: Iterable[int] | None = None) -> dict[str, float]:
    keys = rows[0].keys() if rows else ()
    total = {k: 0.0 for k in keys}
    for i in (range(len(rows)) if idx is None else idx):
        for k in keys:
            total[k] += rows[i][k]
    return total


def bootstrap_intervals(rows: Sequence[dict[str, float]], n: int = 1000, seed: int = 13) -> dict[str, list[float] | None]:
    """95% percentile intervals of every headline figure, resampling documents."""
    import random

    if not rows:
        return {}
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {}
    for _ in range(n):
        idx = [rng.randrange(len(rows)) for _ in rows]
        for k, v in _headline(_sum_rows(rows, idx)).items():
            if v is not None:
                samples.setdefault(k, []).append(v)
    out: dict[str, list[float] | None] = {}
    for k, vs in samples.items():
        vs.sort()
        out[k] = [vs[int(0.025 * (len(vs) - 1))], vs[int(0.975 * (len(vs) - 1))]]
    return out


def analyst_metrics(docs: Iterable[ScoredDoc], bootstrap: int = 1000, breakdown: bool = True) -> dict[str, Any]:
    """Headline figures (with counts, bootstrap 95% intervals) overall, per corpus and per country."""
    docs = list(docs)
    seen: set[str] = set()
    for d in docs:
        if d.doc_id in seen:
            raise ValueError(f"document {d.doc_id!r} appears twice in the evaluation")
        seen.add(d.doc_id)
    rows = [_doc_counts(d) for d in docs]

    def block(idx: list[int], boot: int) -> dict[str, Any]:
        sub = [rows[i] for i in idx]
        counts = _sum_rows(sub) if sub else {}
        return {
            "documents": len(sub),
            "figures": _headline(counts) if sub else {},
            "counts": {k: int(v) for k, v in counts.items()},
            "intervals": bootstrap_intervals(sub, boot) if boot and sub else {},
        }

    out: dict[str, Any] = {"overall": block(list(range(len(docs))), bootstrap)}
    if breakdown:
        for key in ("corpus", "country"):
            groups: dict[str, list[int]] = {}
            for i, d in enumerate(docs):
                groups.setdefault(getattr(d, key) or "?", []).append(i)
            out[f"by_{key}"] = {g: block(idx, 0 if key == "country" else bootstrap) for g, idx in sorted(groups.items())}
    return out
