"""Inter-annotator agreement between two independent annotations of the same documents.

* **Span level**: per label, precision/recall/F1 of annotator B's spans against A's, exact offsets
  (symmetric in F1). Also a word-level variant (spans snapped to whole words, as the model sees them).
* **Figure roles**: over the KILLED/WOUNDED spans both annotators tagged with the same offsets,
  the share given the same role (and the confusions).
* **Incident level**: for each document, the multiset of killed figures and of wounded figures;
  agreement = F1 of matched figures (same value), plus the share of documents whose figures agree
  exactly and whose `kind` (incident / hard_negative) agrees.

Usage: ``hasila-annotate agreement --first annotations/store --second annotations/second``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from hasila.infer.labels import LABELS
from hasila.infer.tokenize import split_words


@dataclass
class PRF:
    tp: int = 0
    n_a: int = 0
    n_b: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.n_b if self.n_b else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.n_a if self.n_a else 0.0

    @property
    def f1(self) -> float:
        d = self.n_a + self.n_b
        return 2 * self.tp / d if d else 1.0

    def add(self, a: Counter, b: Counter) -> None:
        self.tp += sum((a & b).values())
        self.n_a += sum(a.values())
        self.n_b += sum(b.values())

    def to_json(self) -> dict:
        return {"f1": round(self.f1, 4), "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "a": self.n_a, "b": self.n_b, "agreed": self.tp}


@dataclass
class Agreement:
    documents: int = 0
    spans_exact: dict[str, PRF] = field(default_factory=lambda: {lab: PRF() for lab in LABELS})
    spans_words: dict[str, PRF] = field(default_factory=lambda: {lab: PRF() for lab in LABELS})
    killed: PRF = field(default_factory=PRF)
    wounded: PRF = field(default_factory=PRF)
    roles_compared: int = 0  # figures both annotators tagged with the same offsets and a role
    roles_equal: int = 0
    role_pairs: Counter = field(default_factory=Counter)  # (role A, role B) -> figures
    docs_figures_equal: int = 0
    docs_kind_equal: int = 0
    disagreements: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        def micro(d: dict[str, PRF]) -> dict:
            tot = PRF()
            for p in d.values():
                tot.tp += p.tp
                tot.n_a += p.n_a
                tot.n_b += p.n_b
            return {"micro": tot.to_json(), **{k: v.to_json() for k, v in d.items()}}

        n = self.documents or 1
        return {
            "documents": self.documents,
            "spans_exact": micro(self.spans_exact),
            "spans_word_level": micro(self.spans_words),
            "incidents": {
                "killed_figures": self.killed.to_json(),
                "wounded_figures": self.wounded.to_json(),
                "documents_with_identical_figures": round(self.docs_figures_equal / n, 4),
                "documents_with_same_kind": round(self.docs_kind_equal / n, 4),
            },
            "figure_roles": {
                "figures_compared": self.roles_compared,
                "agreement": round(self.roles_equal / self.roles_compared, 4) if self.roles_compared else None,
                "confusions": {f"{a} / {b}": n for (a, b), n in sorted(self.role_pairs.items()) if a != b},
            },
            "disagreements": self.disagreements,
        }


def _word_span(words: Sequence[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    inside = [i for i, (s, e) in enumerate(words) if s < end and e > start]
    return (inside[0], inside[-1] + 1) if inside else (start, end)


def compare(pairs: Iterable[tuple[object, object]]) -> Agreement:
    """``pairs`` of GoldDocument (A, B) for the same doc id and text."""
    agg = Agreement()
    for a, b in pairs:
        if a.doc_id != b.doc_id or a.text_sha256 != b.text_sha256:
            raise ValueError(f"cannot compare {a.doc_id} with {b.doc_id}: different documents or texts")
        agg.documents += 1
        words = split_words(a.text)
        for lab in LABELS:
            sa = Counter((e.start, e.end) for e in a.spans if e.label == lab)
            sb = Counter((e.start, e.end) for e in b.spans if e.label == lab)
            agg.spans_exact[lab].add(sa, sb)
            wa = Counter(_word_span(words, s, e) for s, e in sa.elements())
            wb = Counter(_word_span(words, s, e) for s, e in sb.elements())
            agg.spans_words[lab].add(wa, wb)
        roles_a = getattr(a, "roles", {}) or {}
        roles_b = getattr(b, "roles", {}) or {}
        for key in sorted(set(roles_a) & set(roles_b)):
            agg.roles_compared += 1
            agg.roles_equal += roles_a[key] == roles_b[key]
            agg.role_pairs[(roles_a[key], roles_b[key])] += 1
        ka = Counter(i.killed.value for i in a.incidents if i.killed is not None)
        kb = Counter(i.killed.value for i in b.incidents if i.killed is not None)
        wa_ = Counter(i.wounded.value for i in a.incidents if i.wounded is not None)
        wb_ = Counter(i.wounded.value for i in b.incidents if i.wounded is not None)
        agg.killed.add(ka, kb)
        agg.wounded.add(wa_, wb_)
        same = ka == kb and wa_ == wb_
        agg.docs_figures_equal += same
        agg.docs_kind_equal += a.kind == b.kind
        if not same or a.kind != b.kind:
            agg.disagreements.append({
                "doc_id": a.doc_id, "kind": [a.kind, b.kind],
                "killed": [sorted(ka.elements(), key=str), sorted(kb.elements(), key=str)],
                "wounded": [sorted(wa_.elements(), key=str), sorted(wb_.elements(), key=str)],
            })
    return agg
