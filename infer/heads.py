"""Structure heads: figure roles and incident arguments, read off the tagger's own forward pass.

The tagger (a standard Hugging Face token classifier) already computes, for every word, the
encoder's last hidden state. Two small heads read those vectors:

- **figure role** (``H-role``): each KILLED/WOUNDED figure → one of :data:`ROLES` (is it this
  article's incident, a repeat, a part, a total, a superseded toll, a cumulative statistic, an
  earlier event, or no violence at all);
- **incident arguments** (``H-arg``): each (figure, candidate span) pair — candidates are the
  PER/ORG/LOC/DATE spans of the figure's sentence, the two before, the one after and the lead —
  → one of :data:`ARG_LABELS` (none, perpetrator, victim, location, date, source).

Both are two-layer perceptrons over pooled span vectors plus a few position features, run in
NumPy (worker processes need no torch). They are saved beside the tagger in the model folder
(``heads.safetensors`` + ``heads_config.json``); a folder without them is the tagger alone and
the pipeline runs on rules only. Training lives in ``hasila.train.heads``; the features are built
here, by the same functions, for training and inference.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hasila.infer.types import Entity

ROLES: tuple[str, ...] = (
    "incident", "repeat", "part", "total", "superseded", "cumulative", "background", "not_violence",
)
# Roles whose figure makes no incident at all (a repeat or a part is merged by the assembly).
NO_INCIDENT_ROLES: frozenset[str] = frozenset({"total", "superseded", "cumulative", "background", "not_violence"})
ARG_LABELS: tuple[str, ...] = ("none", "perpetrator", "victim", "location", "date", "source")
CANDIDATE_LABELS: tuple[str, ...] = ("PER", "ORG", "LOC", "DATE")
FIGURE_LABELS: tuple[str, ...] = ("KILLED", "WOUNDED")
HEADS_WEIGHTS = "heads.safetensors"
HEADS_CONFIG = "heads_config.json"
_DIST_EDGES = (-40, -20, -10, -5, -2, 0, 2, 5, 10, 20, 40)  # signed word distance buckets
N_ROLE_SCALARS = 10
N_PAIR_SCALARS = len(CANDIDATE_LABELS) + len(_DIST_EDGES) + 1 + 3


@dataclass(frozen=True)
class DocView:
    """What the heads see of one document (normalized-text coordinates)."""

    vectors: np.ndarray  # [n_words, H] float32: last hidden state at each word's first sub-word
    words: Sequence[tuple[int, int]]
    sentences: Sequence[tuple[int, int]]

    def __post_init__(self) -> None:
        # sorted boundaries for bisection (word_range / sentence_of are called per figure and pair)
        object.__setattr__(self, "_word_starts", [s for s, _ in self.words])
        object.__setattr__(self, "_word_ends", [e for _, e in self.words])
        object.__setattr__(self, "_sent_ends", [e for _, e in self.sentences])
        object.__setattr__(self, "_means", {})

    def word_range(self, start: int, end: int) -> tuple[int, int]:
        """First and end (exclusive) word overlapping [start, end); an empty range if none."""
        a = bisect_right(self._word_ends, start)  # first word ending after start
        b = bisect_left(self._word_starts, end)  # words starting before end
        return (a, b) if a < b else (0, 0)

    def sentence_of(self, pos: int) -> int:
        i = bisect_right(self._sent_ends, pos)
        return min(i, max(0, len(self.sentences) - 1))

    def mean(self, a: int, b: int) -> np.ndarray:
        """The mean vector of words ``a:b`` (read-only: kept, since the figures of an article share
        candidates and sentences, so a third of the ranges asked for were asked for before)."""
        a, b = max(0, a), min(len(self.words), b)
        got = self._means.get((a, b))
        if got is None:
            got = np.zeros(self.vectors.shape[1], dtype=np.float32) if b <= a else self.vectors[a:b].mean(0)
            got.flags.writeable = False
            self._means[a, b] = got
        return got


def role_features(view: DocView, text: str, figures: Sequence[Entity]) -> np.ndarray:
    """[n_figures, 3H + N_ROLE_SCALARS]: the figure, its sentence, ±8 words around it, and
    position/value features (repeats and totals are about where else the value occurs)."""
    h = view.vectors.shape[1]
    out = np.zeros((len(figures), 3 * h + N_ROLE_SCALARS), dtype=np.float32)
    from hasila.infer.figures import figure_value

    values = [figure_value(f.text) for f in figures]
    n_words = max(1, len(view.words))
    n_sent = max(1, len(view.sentences))
    sent_of = [view.sentence_of(f.start) for f in figures]
    known = [v for v in values if v is not None]
    for i, f in enumerate(figures):
        a, b = view.word_range(f.start, f.end)
        si = sent_of[i]
        ss, se = view.sentences[si] if view.sentences else (0, len(text))
        sa, sb = view.word_range(ss, se)
        v = values[i]
        same_before = sum(1 for j in range(i) if v is not None and values[j] == v)
        same_after = sum(1 for j in range(i + 1, len(figures)) if v is not None and values[j] == v)
        scal = [
            1.0 if f.label == "KILLED" else 0.0,
            math.log1p(v) / 10.0 if v is not None else 0.0,
            1.0 if v is None else 0.0,
            a / n_words,
            si / n_sent,
            1.0 if si == 0 else 0.0,
            1.0 if same_before else 0.0,
            1.0 if same_after else 0.0,
            1.0 if v is not None and known and v >= max(known) else 0.0,
            sum(1 for s in sent_of if s == si) / 5.0,
        ]
        out[i, :h] = view.mean(a, b)
        out[i, h:2 * h] = view.mean(sa, sb)
        ctx = np.concatenate([view.vectors[max(0, a - 8):a], view.vectors[b:b + 8]]) if len(view.words) else np.zeros((0, h))
        out[i, 2 * h:3 * h] = ctx.mean(0) if len(ctx) else 0.0
        out[i, 3 * h:] = scal
    return out


def candidates_for(view: DocView, figure: Entity, entities: Sequence[Entity], limit: int = 40) -> list[Entity]:
    """PER/ORG/LOC/DATE spans of the figure's sentence, the two before, the one after, and the
    first sentence (the lead), nearest first."""
    si = view.sentence_of(figure.start)
    keep = {si - 2, si - 1, si, si + 1, 0}
    cands = [e for e in entities if e.label in CANDIDATE_LABELS and view.sentence_of(e.start) in keep]
    cands.sort(key=lambda e: abs(e.start - figure.start))
    return sorted(cands[:limit], key=lambda e: e.start)


def pair_features(view: DocView, figure: Entity, cands: Sequence[Entity]) -> np.ndarray:
    """[n_candidates, 4H + N_PAIR_SCALARS]: figure, candidate, their product, the words between,
    the candidate's label, the signed distance bucket and sentence relations."""
    h = view.vectors.shape[1]
    out = np.zeros((len(cands), 4 * h + N_PAIR_SCALARS), dtype=np.float32)
    fa, fb = view.word_range(figure.start, figure.end)
    f = view.mean(fa, fb)
    fs = view.sentence_of(figure.start)
    for i, c in enumerate(cands):
        ca, cb = view.word_range(c.start, c.end)
        cv = view.mean(ca, cb)
        lo, hi = (cb, fa) if cb <= fa else (fb, ca)
        between = view.mean(lo, min(hi, lo + 40))
        dist = ca - fa
        bucket = bisect_right(_DIST_EDGES, dist)
        cs = view.sentence_of(c.start)
        scal = np.zeros(N_PAIR_SCALARS, dtype=np.float32)
        scal[CANDIDATE_LABELS.index(c.label)] = 1.0
        scal[len(CANDIDATE_LABELS) + min(bucket, len(_DIST_EDGES))] = 1.0
        base = len(CANDIDATE_LABELS) + len(_DIST_EDGES) + 1
        scal[base] = 1.0 if cs == fs else 0.0
        scal[base + 1] = 1.0 if cs == 0 else 0.0
        scal[base + 2] = (cs - fs) / 3.0
        out[i, :h] = f
        out[i, h:2 * h] = cv
        out[i, 2 * h:3 * h] = f * cv
        out[i, 3 * h:4 * h] = between
        out[i, 4 * h:] = scal
    return out


class _MLP:
    """x → relu(x W1 + b1) W2 + b2, then softmax (NumPy)."""

    def __init__(self, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, mean: np.ndarray, std: np.ndarray):
        self.w1, self.b1, self.w2, self.b2, self.mean, self.std = w1, b1, w2, b2, mean, std

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros((0, len(self.b2)), dtype=np.float32)
        z = np.maximum(((x - self.mean) / self.std) @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2
        z = z - z.max(1, keepdims=True)
        p = np.exp(z)
        return (p / p.sum(1, keepdims=True)).astype(np.float32)


@dataclass(frozen=True)
class FigureRoleGuess:
    entity: Entity
    role: str
    probability: float
    probs: tuple[float, ...]


class StructureHeads:
    """The two heads and the settings chosen on dev (thresholds; which fields use the heads)."""

    def __init__(self, role: _MLP, arg: _MLP, config: dict[str, Any]):
        self.role, self.arg, self.config = role, arg, config
        self.hidden_size = int(config["hidden_size"])

    # -- loading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, model_dir: str | Path) -> "StructureHeads | None":
        """The heads of a model folder, or None when it has none (the tagger alone)."""
        d = Path(model_dir)
        cfg_path, w_path = d / HEADS_CONFIG, d / HEADS_WEIGHTS
        if not (cfg_path.is_file() and w_path.is_file()):
            return None
        from safetensors.numpy import load_file

        from hasila.infer.types import HasilaError

        try:
            config = json.loads(cfg_path.read_text(encoding="utf-8"))
            t = {k: v.astype(np.float32) for k, v in load_file(str(w_path)).items()}
            mlps = {name: _MLP(*(t[f"{name}.{k}"] for k in ("w1", "b1", "w2", "b2", "mean", "std"))) for name in ("role", "arg")}
        except Exception as exc:  # safetensors raises its own error type for a damaged file
            raise HasilaError(f"{d}: cannot load the structure heads ({HEADS_WEIGHTS}, {HEADS_CONFIG}): {exc}") from exc
        import hashlib

        config = {**config, "weights_sha256": hashlib.sha256(w_path.read_bytes()).hexdigest()}
        if tuple(config.get("roles", ())) != ROLES or tuple(config.get("arg_labels", ())) != ARG_LABELS:
            raise HasilaError(f"{cfg_path}: the heads were trained for other role/argument labels")
        return cls(mlps["role"], mlps["arg"], config)

    # -- prediction ------------------------------------------------------------------------
    def figure_roles(self, view: DocView, text: str, entities: Sequence[Entity]) -> list[FigureRoleGuess]:
        figures = [e for e in entities if e.label in FIGURE_LABELS]
        probs = self.role(role_features(view, text, figures))
        return [
            FigureRoleGuess(f, ROLES[int(p.argmax())], float(p.max()), tuple(float(x) for x in p))
            for f, p in zip(figures, probs)
        ]

    def check_tagger(self, tagger_sha256: str | None, hidden_size: int | None, where: str = "") -> None:
        """Refuse heads trained on another tagger: their inputs would mean something else."""
        from hasila.infer.types import HasilaError

        want = self.config.get("tagger_sha256")
        if want and tagger_sha256 and want != tagger_sha256:
            raise HasilaError(f"{where}: the structure heads ({HEADS_CONFIG}) were trained on another tagger "
                              f"(weights sha256 {want[:12]}…, this one {tagger_sha256[:12]}…): retrain them "
                              f"(hasila-train heads --model {where}) or remove {HEADS_WEIGHTS}")
        if hidden_size is not None and hidden_size != self.hidden_size:
            raise HasilaError(f"{where}: the structure heads expect hidden size {self.hidden_size}, the tagger has {hidden_size}")

    def dropped_figures(self, guesses: Sequence[FigureRoleGuess]) -> set[tuple[int, int]]:
        """Figures the role head says make no incident, with at least the dev-chosen probability."""
        tau = float(self.config.get("drop_threshold", 1.01))
        return {(g.entity.start, g.entity.end) for g in guesses if g.role in NO_INCIDENT_ROLES and g.probability >= tau}

    def argument_table(self, view: DocView, figure: Entity, entities: Sequence[Entity]) -> tuple[list[Entity], np.ndarray]:
        """The figure's candidates and, per candidate, the probability of each of ARG_LABELS."""
        cands = candidates_for(view, figure, entities)
        probs = self.arg(pair_features(view, figure, cands)) if cands else np.zeros((0, len(ARG_LABELS)), np.float32)
        return cands, probs

    @staticmethod
    def best_arguments(cands: Sequence[Entity], probs: np.ndarray) -> dict[str, tuple[Entity, float]]:
        """Per argument, the best candidate of a table and its probability."""
        best: dict[str, tuple[Entity, float]] = {}
        if not len(cands):
            return best
        for k, name in enumerate(ARG_LABELS):
            if name != "none":
                j = int(probs[:, k].argmax())
                best[name] = (cands[j], float(probs[j, k]))
        return best

    def arguments(self, view: DocView, figure: Entity, entities: Sequence[Entity]) -> dict[str, tuple[Entity, float]]:
        """Per argument, the best candidate and its probability (only arguments some candidate has)."""
        return self.best_arguments(*self.argument_table(view, figure, entities))

    def calibrated(self, what: str, p: float) -> float | None:
        """``p`` through the dev-fitted binning map ``calibration[what]`` (None without one)."""
        cal = (self.config.get("calibration") or {}).get(what)
        if not cal:
            return None
        edges, values = cal["edges"], cal["values"]
        k = int(np.searchsorted(np.asarray(edges[1:-1]), p, side="right"))
        return float(values[min(k, len(values) - 1)])

    def field_thresholds(self) -> dict[str, float]:
        """Fields the heads fill (dev-chosen): field → probability threshold."""
        return {k: float(v) for k, v in (self.config.get("fields") or {}).items()}


def save_heads(model_dir: str | Path, tensors: dict[str, np.ndarray], config: dict[str, Any]) -> None:
    from safetensors.numpy import save_file

    d = Path(model_dir)
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}, str(d / HEADS_WEIGHTS))
    (d / HEADS_CONFIG).write_text(json.dumps(config, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
