"""Incident assembly measured on the gold incidents, without the model.

Three ways of producing incidents for the same gold documents, all scored by
``hasila.train.evaluate.incident_metrics``:

* ``gold-spans``: the gold entity spans fed to ``assemble_incidents`` — the ceiling of the rules
  (what assembly gets right when the model is perfect);
* ``regex``: a regex-script baseline — ``find_quantities`` figures labelled KILLED/WOUNDED by the
  nearest casualty word, no named entities — what a careful regex script would do;
* ``model`` (with ``--model``): the full ``hasila-extract`` pipeline.

    python benchmarks/assembly_on_gold.py --split dev [--model models/hasila-ner] [--json out.json]

Run by hand (needs the corpora); the test split is for final figures only, never for tuning.
"""

from __future__ import annotations

import argparse
from bisect import bisect_left, bisect_right
import json
import re
import sys
import time

from hasila.infer.assembly import assemble_incidents
from hasila.infer.normalize import NormalizedText, normalize
from hasila.infer.types import Entity, Span
from hasila.train.evaluate import IncidentDoc, incident_metrics
from hasila.train.gold import article_date, gold_documents, gold_inputs
from quantity_scan import find_quantities  # benchmarks/ (the script's folder)

KILLED_CUE = re.compile(r"قتل|قتيل|قتلى|مقتل|مصرع|حتف|استشهاد|شهيد|شهداء|ذبح|أعدم|اعدام|إعدام")
WOUNDED_CUE = re.compile(r"جرح|جريح|جرحى|إصاب|اصاب|أصيب|اصيب|مصاب")


def to_normalized(norm: NormalizedText, start: int, end: int) -> tuple[int, int] | None:
    """Normalized offsets of the characters that come from original [start, end)."""
    first = bisect_left(norm.starts, start)  # starts/ends are monotone (a tested property)
    last = bisect_right(norm.ends, end)
    return (first, last) if first < last else None


def gold_entities(doc, norm: NormalizedText) -> list[Entity]:
    out = []
    for e in doc.spans:
        got = to_normalized(norm, e.start, e.end)
        if got:
            out.append(Entity(e.label, Span.of(norm.text, *got, score=1.0)))
    return out


def regex_entities(norm: NormalizedText) -> list[Entity]:
    """Label each person figure by the nearest casualty cue within a few words."""
    text = norm.text
    out = []
    for s, e, _q in find_quantities(text):
        window_before = text[max(0, s - 40):s]
        window_after = text[e:e + 40]
        best = None
        for label, cue in (("KILLED", KILLED_CUE), ("WOUNDED", WOUNDED_CUE)):
            for m in cue.finditer(window_before):
                d = len(window_before) - m.end()
                best = min(best, (d, label)) if best else (d, label)
            m = cue.search(window_after)
            if m:
                best = min(best, (m.start(), label)) if best else (m.start(), label)
        if best and best[0] <= 25:
            out.append(Entity(best[1], Span.of(text, s, e, score=1.0)))
    return out


def run(split: str, model: str | None) -> dict:
    docs = gold_documents(split)
    results = {}
    ways = {"gold-spans": gold_entities, "regex": lambda doc, norm: regex_entities(norm)}
    for name, make in ways.items():
        t = time.perf_counter()
        items = []
        for doc in docs:
            norm = normalize(doc.text)
            pred = assemble_incidents(norm, make(doc, norm), article_date(doc))
            items.append(IncidentDoc(doc.doc_id, doc.incidents, pred, doc.kind == "hard_negative"))
        results[name] = incident_metrics(items)
        results[name]["seconds"] = round(time.perf_counter() - t, 2)
    if model:
        from hasila.infer.pipeline import Extractor
        from hasila.train.evaluate import incidents_from_record

        t = time.perf_counter()
        extractor = Extractor(model=model, device="cpu")
        inputs = gold_inputs(docs)
        items = []
        for doc, record in zip(docs, extractor.extract(inputs)):
            items.append(IncidentDoc(doc.doc_id, doc.incidents, incidents_from_record(record, doc.doc_id), doc.kind == "hard_negative"))
        results["model"] = incident_metrics(items)
        results["model"]["seconds"] = round(time.perf_counter() - t, 2)
    return {"split": split, "documents": len(docs), "results": results}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="dev", choices=("train", "dev", "test"))
    ap.add_argument("--model", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    out = run(args.split, args.model)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False, indent=1)
    print(f"{out['documents']} gold {args.split} documents")
    print(f"{'way':12s} {'inc P':>6s} {'inc R':>6s} {'kill P':>7s} {'kill R':>7s} {'wnd P':>6s} {'wnd R':>6s} {'loc F':>6s} {'vic F':>6s} {'perp F':>6s} {'HN rate':>7s}")
    for name, r in out["results"].items():
        hn = r["hard_negatives"]["false_incident_rate"]
        print(f"{name:12s} {r['incidents']['precision']:6.3f} {r['incidents']['recall']:6.3f} "
              f"{r['killed']['precision']:7.3f} {r['killed']['recall']:7.3f} {r['wounded']['precision']:6.3f} {r['wounded']['recall']:6.3f} "
              f"{r['location']['f1']:6.3f} {r['victim']['f1']:6.3f} {r['perpetrator']['f1']:6.3f} {hn if hn is None else round(hn, 3)!s:>7s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
