"""Events on the gold documents: run the pipeline once (cached), then measure clustering, geocoding,
actor and event types against the stand-off gold in ``annotations/events/``.

    python benchmarks/events_gold.py extract            # runs/events/gold_records.jsonl (once; CPU)
    python benchmarks/events_gold.py clusters           # pairwise P/R of the clustering across articles
    python benchmarks/events_gold.py geocodes           # country / admin1 accuracy, town hits
    python benchmarks/events_gold.py types              # actor type and event type accuracy, agreement

Article dates: SaudiNewsNet's from the corpus; webnews from the URL (``date_from_name``), else none.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "runs" / "events" / "gold_records.jsonl"
GOLD = ROOT / "annotations" / "events"


def _docs():
    from hasila.train.gold import gold_documents

    return gold_documents()


def _article_date(doc) -> str | None:
    from hasila.infer.filedates import date_from_name

    if isinstance(doc.meta, dict) and doc.meta.get("date"):
        return doc.meta["date"]
    url = (doc.source or {}).get("url") if isinstance(doc.source, dict) else None
    d = date_from_name(url or "")
    return d.isoformat() if d else None


def extract(args) -> int:
    from hasila.infer.pipeline import Extractor
    from hasila.infer.inputs import InputReader

    docs = _docs()
    items = []
    for d in docs:
        item = {"id": d.doc_id, "text": d.text}
        date = _article_date(d)
        if date:
            item["date"] = date
        outlet = d.meta.get("outlet") if isinstance(d.meta, dict) else None
        if outlet:
            item["source"] = outlet
        url = (d.source or {}).get("url") if isinstance(d.source, dict) else None
        if url:
            item["url"] = url
        items.append(item)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    tmp = CACHE.with_suffix(".partial")
    reader = InputReader()
    with Extractor(model=str(ROOT / "models" / "hasila-ner"), device="cpu", batch_size=16) as ex, open(tmp, "w", encoding="utf-8") as fh:
        in_docs = reader._object_docs(items) if hasattr(reader, "_object_docs") else [reader._object_doc(o, f"gold[{i}]") for i, o in enumerate(items)]
        n = 0
        for record in ex.extract(in_docs):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
            if n % 50 == 0:
                print(n, file=sys.stderr, flush=True)
    tmp.replace(CACHE)
    print(f"{CACHE}: {n} records")
    return 0


def _records():
    return [json.loads(line) for line in CACHE.read_text(encoding="utf-8").splitlines() if line.strip()]


def _match(gold_inc, pred_incs) -> int | None:
    """The predicted incident of the same document that reports a gold incident: killed (else
    wounded) spans overlapping, else the evidence overlapping most."""
    def ov(a, b):
        return max(0, min(a[1], b[1]) - max(a[0], b[0]))
    for field in ("killed", "wounded"):
        g = getattr(gold_inc, field)
        if g is None:
            continue
        for k, p in enumerate(pred_incs):
            if p.get(field) and ov((g.span.start, g.span.end), (p[field]["start"], p[field]["end"])) > 0:
                return k
    ge = (gold_inc.evidence.start, gold_inc.evidence.end)
    best = max(range(len(pred_incs)), key=lambda k: ov(ge, (pred_incs[k]["evidence"]["start"], pred_incs[k]["evidence"]["end"])), default=None)
    if best is not None and ov(ge, (pred_incs[best]["evidence"]["start"], pred_incs[best]["evidence"]["end"])) > 0:
        return best
    return None


def clusters(args) -> int:
    """Pairwise precision/recall over the gold incidents of the reviewed documents: a pair is
    gold-positive when both incidents are in one gold cluster, predicted-positive when both match
    predicted incidents that land in one predicted event (across or within articles)."""
    from hasila.infer.events import build_events

    gold = json.loads((GOLD / "clusters.json").read_text(encoding="utf-8"))
    docs = {d.doc_id: d for d in _docs() if d.doc_id in set(gold["documents"])}
    cluster_of = {(d, k): n for n, c in enumerate(gold["clusters"]) for d, k in c["members"]}
    universe = [(d, k) for d in sorted(docs) for k in range(len(docs[d].incidents))]
    records = {r["doc_id"]: r for r in _records() if r["doc_id"] in docs}
    events = build_events(records.values(), window_days=args.window, share=args.share)
    event_of = {}
    for e in events:
        for m in e.members:
            for k in m.incidents:
                event_of[(m.doc_id, k)] = e.id
    pred = {}
    for d, k in universe:
        rec = records.get(d)
        if rec is None or rec.get("status") != "ok":
            continue
        j = _match(docs[d].incidents[k], rec["incidents"])
        if j is not None:
            pred[(d, k)] = event_of.get((d, j))
    gold_pairs = pred_pairs = tp = 0
    fps, fns = [], []
    for a, b in itertools.combinations(universe, 2):
        g = a in cluster_of and b in cluster_of and cluster_of[a] == cluster_of[b]
        p = pred.get(a) is not None and pred.get(a) == pred.get(b)
        gold_pairs += g
        pred_pairs += p
        tp += g and p
        if p and not g:
            fps.append((a, b))
        if g and not p:
            fns.append((a, b))
    out = {"documents": len(docs), "gold_incidents": len(universe), "gold_clusters": len(gold["clusters"]),
           "gold_incidents_in_clusters": len(cluster_of), "gold_incidents_matched_to_predicted": len(pred),
           "gold_pairs": gold_pairs, "predicted_pairs": pred_pairs, "true_pairs": tp,
           "precision": round(tp / pred_pairs, 3) if pred_pairs else None,
           "recall": round(tp / gold_pairs, 3) if gold_pairs else None, "window_days": args.window, "share": args.share}
    print(json.dumps(out, indent=1))
    if args.show:
        for a, b in fps[:60]:
            print("FP", a, b)
        for a, b in fns[:60]:
            print("FN", a, b)
    return 0


def _name(x: str | None) -> str:
    """Loose form of a place name: no accents, case, punctuation or leading article."""
    import re
    import unicodedata

    x = unicodedata.normalize("NFKD", x or "").encode("ascii", "ignore").decode().lower()
    x = re.sub(r"[^a-z ]", " ", x)
    words = [w for w in x.split() if w not in ("al", "el", "as", "ar", "ad", "an", "ash", "az", "at", "town", "city")]
    return "".join(words)


def _same_town(gold: str, got: str | None) -> bool:
    a, b = _name(gold), _name(got)
    return bool(a and b) and (a == b or (len(a) >= 4 and len(b) >= 4 and (a in b or b in a)))


def geocodes(args) -> int:
    from hasila.infer.geocode import context_countries, locate

    gold = [json.loads(l) for l in (GOLD / "geocodes.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    by_doc = {d.doc_id: d for d in _docs()}
    n = c_ok = a1_n = a1_ok = town_n = town_hit = 0
    misses = []
    for g in gold:
        doc = by_doc[g["doc_id"]]
        phrase = doc.text[g["start"]:g["end"]]
        locs = [doc.text[s.start:s.end] for s in doc.spans if s.label == "LOC"]
        place = locate([phrase], context_countries(locs))
        n += 1
        got_c = place.country if place else None
        c_ok += got_c == g["country"]
        if g.get("admin1"):
            a1_n += 1
            a1_ok += bool(place and place.admin1 == g["admin1"])
        if g.get("town"):
            town_n += 1
            hit = bool(place and place.kind == "town" and _same_town(g["town"], place.location))
            town_hit += hit
        if got_c != g["country"] or (g.get("admin1") and not (place and place.admin1 == g["admin1"])):
            misses.append((g["doc_id"], phrase, g, place.to_json() if place else None))
    out = {"locations": n, "country_accuracy": round(c_ok / n, 3), "admin1_labelled": a1_n,
           "admin1_accuracy": round(a1_ok / a1_n, 3) if a1_n else None, "town_labelled": town_n, "town_hits": town_hit,
           "town_hit_rate": round(town_hit / town_n, 3) if town_n else None}
    print(json.dumps(out, indent=1))
    if args.show:
        for m in misses:
            print(json.dumps(m, ensure_ascii=False))
    return 0


def types(args) -> int:
    from hasila.infer.actor_types import canonical_actor, event_type

    first = [json.loads(l) for l in (GOLD / "types.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    second_path = GOLD / "types_second.jsonl"
    second = {(g["doc_id"], g["incident"]): g for g in
              (json.loads(l) for l in (second_path.read_text(encoding="utf-8").splitlines() if second_path.exists() else [])
               if l.strip())}
    by_doc = {d.doc_id: d for d in _docs()}
    fields = ("perpetrator_type", "victim_type", "event_type", "sub_event_type")
    ok, n = Counter(), Counter()
    confusion = Counter()
    for g in first:
        doc = by_doc[g["doc_id"]]
        inc = doc.incidents[g["incident"]]
        span_text = lambda s: doc.text[s.start:s.end] if s is not None else None  # noqa: E731
        from hasila.infer.geocode import context_countries

        ctx = context_countries([doc.text[x.start:x.end] for x in doc.spans if x.label == "LOC"])
        cc = ctx[0] if ctx else None
        perp = canonical_actor(span_text(inc.perpetrator), cc)
        vic = canonical_actor(span_text(inc.victim), cc)
        et, sub = event_type(span_text(inc.evidence), vic.inter if vic else 0, perp.inter if perp else 0)
        got = {"perpetrator_type": perp.inter if perp else 0, "victim_type": vic.inter if vic else 0,
               "event_type": et, "sub_event_type": sub}
        for f in fields:
            if f in g:
                n[f] += 1
                ok[f] += got[f] == g[f]
                if f == "event_type" and got[f] != g[f]:
                    confusion[(g[f], got[f])] += 1
    agree, both = Counter(), Counter()
    for g in first:
        s = second.get((g["doc_id"], g["incident"]))
        if not s:
            continue
        for f in fields:
            if f in g and f in s:
                both[f] += 1
                agree[f] += g[f] == s[f]
    out = {"incidents": len(first), "double_labelled": len(second),
           "accuracy": {f: round(ok[f] / n[f], 3) for f in fields if n[f]}, "labelled": dict(n),
           "agreement": {f: round(agree[f] / both[f], 3) for f in fields if both[f]},
           "event_type_confusion (gold -> predicted)": {f"{a} -> {b}": c for (a, b), c in confusion.most_common(8)}}
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("extract")
    c = sub.add_parser("clusters")
    c.add_argument("--window", type=int, default=3)
    c.add_argument("--share", type=float, default=0.3)
    c.add_argument("--show", action="store_true")
    g = sub.add_parser("geocodes")
    g.add_argument("--show", action="store_true")
    sub.add_parser("types")
    args = p.parse_args(argv)
    return {"extract": extract, "clusters": clusters, "geocodes": geocodes, "types": types}[args.cmd](args)


if __name__ == "__main__":
    raise SystemExit(main())
