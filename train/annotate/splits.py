"""Train / dev / test splits that generalize (webnews-gold issue, item 4).

- SaudiNewsNet documents keep the split drawn at selection (``selection.json``: by date and
  outlet), except that the dev split may hold at most ``MAX_EVENT_SHARE`` of any one event: the
  surplus reports of the Asir mosque bombing (26 of its 56 incident articles in 2015) move to
  train. The old dev split is kept, frozen, as ``dev_2015`` for before/after figures.
- webnews documents are split **by event** (every report of one event in one split), stratified
  by country: documents are grouped by the annotator's event key (country | place | month) and by
  near-duplicate text (syndicated copies), then each country's groups, in a fixed hash order, are
  dealt to test / dev / train in the proportions of ``PATTERN``.

``hasila-annotate split`` writes ``annotations/splits.json``; :mod:`hasila.train.gold` reads it
over the selection table. The assignment depends only on the store and the seed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hasila.infer.normalize import normalize_for_match

SEED = "hasila-splits-v2"
# Of every 15 event groups of one country: 4 to test, 3 to dev, 8 to train (27 / 20 / 53 %).
PATTERN = ("test", "train", "dev", "train", "test", "train", "train", "dev", "test", "train", "train", "dev", "train", "test", "train")
MAX_EVENT_SHARE = 0.10
_ASIR = re.compile(r"عسير|أبها|ابها")
_MOSQUE = re.compile(r"مسجد|المسجد|مسجدا|جامع")


def _h(s: str) -> str:
    return hashlib.sha256((SEED + s).encode("utf-8")).hexdigest()


def _shingles(text: str, n: int = 6) -> set[str]:
    words = normalize_for_match(text).split()
    return {" ".join(words[i : i + n]) for i in range(max(0, len(words) - n + 1))}


def event_key(meta: dict[str, Any]) -> str | None:
    """country|place|month of the annotated main event; None where place or month is unknown."""
    raw = meta.get("event") if isinstance(meta, dict) else None
    if not isinstance(raw, str) or raw.startswith("none"):
        return None
    parts = [p.strip().lower() for p in raw.split("|")]
    if len(parts) < 3 or "unknown" in parts[1:3] or not parts[1] or not parts[2]:
        return None
    place = re.sub(r"[^a-z0-9 ]", "", parts[1]).replace(" city", "").strip()
    return f"{parts[0]}|{place}|{parts[2][:7]}"


def event_groups(docs: Sequence[Any], min_jaccard: float = 0.25) -> list[list[Any]]:
    """Union of: same event key; near-duplicate texts (6-word shingles, Jaccard ≥ min_jaccard)."""
    parent = list(range(len(docs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    by_key: dict[str, int] = {}
    for i, d in enumerate(docs):
        k = event_key(d.meta)
        if k is not None:
            if k in by_key:
                union(by_key[k], i)
            else:
                by_key[k] = i
    sh = [_shingles(d.text) for d in docs]
    for i in range(len(docs)):
        for j in range(i + 1, len(docs)):
            if sh[i] and sh[j]:
                inter = len(sh[i] & sh[j])
                if inter and inter / len(sh[i] | sh[j]) >= min_jaccard:
                    union(i, j)
    groups: dict[int, list[Any]] = {}
    for i, d in enumerate(docs):
        groups.setdefault(find(i), []).append(d)
    return list(groups.values())


def webnews_splits(docs: Sequence[Any], previous: dict[str, str] | None = None) -> dict[str, str]:
    """doc id → train / dev / test for webnews documents. ``previous`` (the splits written
    before, while annotation went on) is kept: a group with an assigned member keeps that split
    (the majority, if its members disagree), so that a document never moves between splits
    once a model may have trained on it; only wholly new groups are dealt out."""
    previous = previous or {}
    groups = event_groups(docs)
    by_country: dict[str, list[list[Any]]] = {}
    out: dict[str, str] = {}
    dealt: dict[str, int] = {}
    for g in groups:
        countries = sorted({str(d.meta.get("country", "none")) for d in g})
        known = [previous[d.doc_id] for d in g if d.doc_id in previous]
        if known:
            split = max(sorted(set(known)), key=known.count)
            for d in g:
                out[d.doc_id] = split
            dealt[countries[0]] = dealt.get(countries[0], 0) + 1
        else:
            by_country.setdefault(countries[0], []).append(g)
    for country, gs in sorted(by_country.items()):
        gs.sort(key=lambda g: _h(min(d.doc_id for d in g)))
        offset = int(_h(country)[:8], 16) % len(PATTERN) + dealt.get(country, 0)
        for n, g in enumerate(gs):
            split = PATTERN[(n + offset) % len(PATTERN)]
            for d in g:
                out[d.doc_id] = split
    return out


def is_asir_report(doc: Any) -> bool:
    return doc.kind == "incident" and bool(_ASIR.search(doc.text)) and bool(_MOSQUE.search(doc.text))


def rebalance_dev(snn_table: dict[str, str], snn_docs: Sequence[Any], dev_total: int) -> tuple[dict[str, str], list[str]]:
    """Move Asir reports beyond MAX_EVENT_SHARE of the new dev set from dev to train (the
    earliest-numbered reports stay). Returns the new table and the moved ids."""
    table = dict(snn_table)
    asir = sorted(d.doc_id for d in snn_docs if table.get(d.doc_id) == "validation" and is_asir_report(d))
    moved: list[str] = []
    while asir and len(asir) > MAX_EVENT_SHARE * (dev_total - len(moved)):
        doc_id = asir.pop()
        table[doc_id] = "train"
        moved.append(doc_id)
    return table, sorted(moved)


def build_splits(docs: Sequence[Any], selection_table: dict[str, str], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The content of ``splits.json`` for the gold documents ``docs`` (``previous``: the
    content written before; its webnews assignments are kept)."""
    wn = [d for d in docs if d.corpus == "webnews"]
    snn = [d for d in docs if d.corpus != "webnews"]
    before = {k: v for k, v in ((previous or {}).get("documents") or {}).items() if k.startswith("wn-")}
    wn_table = {k: {"dev": "validation"}.get(v, v) for k, v in webnews_splits(wn, before).items()}
    wn_dev = sum(v == "validation" for v in wn_table.values())
    snn_dev = sum(selection_table.get(d.doc_id) == "validation" for d in snn)
    snn_table, moved = rebalance_dev(
        {d.doc_id: selection_table[d.doc_id] for d in snn if d.doc_id in selection_table}, snn, wn_dev + snn_dev
    )
    documents = {**snn_table, **wn_table}
    return {
        "version": 2,
        "seed": SEED,
        "rule": __doc__.strip().split("\n\n")[1],
        "moved_from_dev_2015": moved,
        "frozen": {"dev_2015": sorted(k for k, v in selection_table.items() if v == "validation")},
        "documents": dict(sorted(documents.items())),
    }


def write_splits(path: Path, content: dict[str, Any]) -> None:
    from hasila.train.annotate.store import _atomic_write

    _atomic_write(path, json.dumps(content, ensure_ascii=False, indent=1) + "\n")
