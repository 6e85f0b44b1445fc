"""How the pipeline uses the structure heads (infer/heads.py) around the rule assembly.

Rule ids of the learned decisions (they appear in ``figure_roles`` records and in the docs):

- ``H-role``: a figure the role head calls total / superseded / cumulative / background /
  not_violence with at least the dev-chosen probability is kept out of the assembly (the rules
  never see it: no incident from it). Repeats and parts stay: the assembly merges them.
- ``H-arg``: for the fields the dev evaluation chose (``heads_config.json`` → ``fields``), an
  incident's field is the candidate the argument head ranks first for that incident's figure,
  when its probability reaches the field's threshold; otherwise the rule's choice stays.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from hasila.infer.heads import FIGURE_LABELS, DocView, FigureRoleGuess, StructureHeads
from hasila.infer.normalize import NormalizedText
from hasila.infer.sentences import split_sentences
from hasila.infer.types import Entity, Incident

FIELD_ARGS = ("perpetrator", "victim", "location", "source")  # date needs resolution: rules keep it
CONFIDENCE_FIELDS = ("perpetrator", "victim", "location", "date", "source")


@dataclass
class Structure:
    view: DocView | None  # None for a document without figures (nothing ever reads it then)
    guesses: list[FigureRoleGuess]
    dropped: set[tuple[int, int]]

    def roles_json(self, norm: NormalizedText) -> list[dict[str, Any]]:
        out = []
        for g in self.guesses:
            s, e = norm.to_original(g.entity.start, g.entity.end)
            out.append({
                "label": g.entity.label, "start": s, "end": e, "text": norm.original[s:e],
                "role": g.role, "probability": round(g.probability, 4),
                "kept_out_by": "H-role" if (g.entity.start, g.entity.end) in self.dropped else None,
            })
        return out


def analyse(heads: StructureHeads, norm: NormalizedText, words: Sequence[tuple[int, int]], vectors: np.ndarray,
            entities: Sequence[Entity]) -> Structure:
    if not any(e.label in FIGURE_LABELS for e in entities):
        # No figure (most news): no role to guess, and no incident whose fields the argument
        # head would fill, so the document's view (its sentences, word bounds) is not built.
        return Structure(None, [], set())
    view = DocView(np.asarray(vectors, dtype=np.float32), list(words), split_sentences(norm.text) or [(0, len(norm.text))])
    guesses = heads.figure_roles(view, norm.text, entities)
    return Structure(view, guesses, heads.dropped_figures(guesses))


def kept_entities(structure: Structure, entities: Sequence[Entity]) -> list[Entity]:
    return [e for e in entities if (e.start, e.end) not in structure.dropped]


def _to_norm(norm: NormalizedText, start: int, end: int) -> tuple[int, int] | None:
    """The normalized range of an original span (the offset map is monotonic)."""
    a = bisect_left(norm.starts, start)
    b = bisect_right(norm.ends, end)
    return (a, b) if a < b else None


def fill_fields(heads: StructureHeads, structure: Structure, norm: NormalizedText, incidents: Sequence[Incident],
                entities: Sequence[Entity], fields: dict[str, float] | None = None, learned_only: bool | None = None) -> list[Incident]:
    """Incidents with the fields the heads fill (``fields``: field → threshold; default the
    model's dev-chosen ones). ``learned_only`` (default: the heads config's, for ablations):
    the field is the head's or null, never the rule's."""
    fields = heads.field_thresholds() if fields is None else fields
    if learned_only is None:
        learned_only = bool(heads.config.get("learned_only", False))
    figures = {(e.start, e.end): e for e in entities if e.label in ("KILLED", "WOUNDED")}
    out = []
    for inc in incidents:
        count = inc.killed or inc.wounded
        fig = None
        if count is not None:
            at = _to_norm(norm, count.span.start, count.span.end)
            fig = figures.get(at) if at else None
            if fig is None and at is not None:
                fig = next((f for f in figures.values() if f.start < at[1] and at[0] < f.end), None)
        if fig is None:
            out.append(replace(inc, **{f: None for f in fields}) if learned_only else inc)
            continue
        cands, probs = heads.argument_table(structure.view, fig, entities)  # once per incident
        best = heads.best_arguments(cands, probs)
        changes: dict[str, Any] = {}
        for field, tau in fields.items():
            if field not in FIELD_ARGS:
                continue
            hit = best.get(field)
            if hit is not None and hit[1] >= tau:
                changes[field] = norm.original_span(hit[0].start, hit[0].end)
            elif learned_only:
                changes[field] = None
        new = inc
        changes = {k: v for k, v in changes.items() if v != getattr(inc, k)}
        # One side is not both: a perpetrator the head picks must not be the incident's victim,
        # nor a victim its perpetrator (the other field as it will stand).
        for field, other in (("perpetrator", "victim"), ("victim", "perpetrator")):
            mine, theirs = changes.get(field), changes.get(other, getattr(inc, other))
            if mine is not None and theirs is not None and _same_side(mine, theirs):
                del changes[field]
        if changes:
            extra = {}
            for k, v in inc.extra.items():
                if k == "inherited" and isinstance(v, list):
                    v = [x for x in v if x not in changes]
                    if v:
                        extra[k] = v
                elif not _describes(k, changes):
                    extra[k] = v
            extra["learned_fields"] = sorted(changes)  # rule H-arg chose these
            new = replace(inc, extra=extra, **changes)
        out.append(_with_confidence(heads, structure, norm, new, fig, cands, probs))
    return out


# Extras of an incident that describe the rules' choice of a field (dropped when H-arg replaces it).
_FIELD_EXTRAS = {"location": ("location_context",), "perpetrator": ("perpetrator_is_other_side",)}


def _same_side(a: Any, b: Any) -> bool:
    from hasila.infer.actors import actor_key

    return (a.start < b.end and b.start < a.end) or actor_key(a.text) == actor_key(b.text)


def _describes(key: str, changes: dict[str, Any]) -> bool:
    return any(key in _FIELD_EXTRAS.get(f, ()) for f in changes)


def incident_score(structure: Structure, fig: Entity) -> float | None:
    """The role head's probability that the figure is one an incident is made of (incident,
    repeat or part): the raw score behind an incident's calibrated confidence."""
    from hasila.infer.heads import ROLES

    for g in structure.guesses:
        if (g.entity.start, g.entity.end) == (fig.start, fig.end):
            return sum(p for r, p in zip(ROLES, g.probs) if r in ("incident", "repeat", "part"))
    return None


def field_scores(norm: NormalizedText, inc: Incident, cands: Sequence[Entity], probs: np.ndarray) -> dict[str, float]:
    """Per set field, the argument head's probability of that field for the chosen span (0 when
    the span is no candidate of the head's), from the figure's argument table."""
    from hasila.infer.heads import ARG_LABELS

    out = {}
    for field in CONFIDENCE_FIELDS:
        value = getattr(inc, field)
        if value is None:
            continue
        span = value.span if field == "date" else value
        at = _to_norm(norm, span.start, span.end)
        p = 0.0
        if at is not None:
            for j, c in enumerate(cands):
                if c.start < at[1] and at[0] < c.end:
                    p = max(p, float(probs[j, ARG_LABELS.index(field)]))
        out[field] = p
    return out


def _with_confidence(heads: StructureHeads, structure: Structure, norm: NormalizedText, inc: Incident, fig: Entity,
                     cands: Sequence[Entity], probs: np.ndarray) -> Incident:
    """The incident's confidence and its fields' (``field_confidence``) from the heads, through
    the dev-fitted calibration; unchanged where the model has no calibration."""
    raw = incident_score(structure, fig)
    conf = heads.calibrated("incident", raw) if raw is not None else None
    fields = {}
    raw_fields = field_scores(norm, inc, cands, probs)
    for field, p in raw_fields.items():
        c = heads.calibrated(field, p)
        if c is not None:
            fields[field] = round(c, 4)
    extra = dict(inc.extra)
    if heads.config.get("emit_raw_scores"):  # training only: the scores calibration is fitted on
        extra["_raw_scores"] = {"incident": raw, **raw_fields}
    if conf is None and not fields:
        return replace(inc, extra=extra) if extra != inc.extra else inc
    if fields:
        extra["field_confidence"] = fields
    return replace(inc, confidence=conf if conf is not None else inc.confidence, extra=extra)
