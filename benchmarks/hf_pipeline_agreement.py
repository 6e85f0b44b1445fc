"""The model card's plain-Hugging-Face recipe against Hasila's runtime, on the gold articles.

    python benchmarks/hf_pipeline_agreement.py [--model models/hasila-ner] [--split dev] [--json out.json]

For each gold document: entities from the card's recipe (``pipeline(aggregation_strategy=
"none", ignore_labels=[])`` + ``word_entities``, hasila.train.hf_compat) and from the runtime
(TokenClassifier over Hasila's word splitter, BIO spans), both on the raw article text, and
the gold spans. Prints span agreement (label, start, end) of the two as an F1 of one against
the other, each one's F1 against gold, and how many card entities start or end on a space or
have a ``word`` that is not ``text[start:end]`` (must be 0). Also the same figures for the
pipeline's own ``aggregation_strategy="first"`` (what the card said before).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def f1(a: set, b: set) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None)
    p.add_argument("--split", action="append", help="gold split(s): train, dev, test (default dev and test)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)

    from transformers import pipeline

    from hasila.infer.decode import bio_word_spans
    from hasila.infer.model import TokenClassifier, find_model
    from hasila.infer.tokenize import split_words
    from hasila.train.gold import gold_documents, documents_to_rows
    from hasila.train.hf_compat import word_entities

    model_dir = find_model(args.model)
    docs = [d for s in (args.split or ["dev", "test"]) for d in gold_documents(s)][: args.limit]
    clf = TokenClassifier.load(model_dir, device="cpu")
    none = pipeline("token-classification", model=str(model_dir), aggregation_strategy="none", ignore_labels=[], device="cpu")
    first = pipeline("token-classification", model=str(model_dir), aggregation_strategy="first", device="cpu")
    card, runtime, gold, old = set(), set(), set(), set()
    bad_edges = bad_words = 0
    t0 = time.time()
    for row in documents_to_rows(docs):
        text, doc = row["text"], row["doc_id"]
        for label, a, b in bio_word_spans(row["tags"]):
            gold.add((doc, label, row["word_starts"][a], row["word_ends"][b - 1]))
        words = split_words(text)
        (pred,) = clf.predict([[text[s:e] for s, e in words]])
        for label, a, b in bio_word_spans([t for t, _ in pred]):
            runtime.add((doc, label, words[a][0], words[b - 1][1]))
        for e in word_entities(none, text):
            card.add((doc, e["entity_group"], e["start"], e["end"]))
            bad_edges += text[e["start"]].isspace() or text[e["end"] - 1].isspace()
            bad_words += e["word"] != text[e["start"]:e["end"]]
        try:
            for e in first(text):
                old.add((doc, e["entity_group"], e["start"], e["end"]))
        except Exception as err:  # noqa: BLE001 - a text over the model's positions; counted, not fatal
            print(f"{doc}: aggregation_strategy=first failed: {err}", file=sys.stderr)
    figures = {
        "model": str(model_dir), "documents": len(docs), "seconds": round(time.time() - t0, 1),
        "entities": {"gold": len(gold), "runtime": len(runtime), "card": len(card), "first": len(old)},
        "card_vs_runtime_f1": round(f1(card, runtime), 4),
        "card_vs_gold_f1": round(f1(card, gold), 4),
        "runtime_vs_gold_f1": round(f1(runtime, gold), 4),
        "first_vs_gold_f1": round(f1(old, gold), 4),
        "first_vs_runtime_f1": round(f1(old, runtime), 4),
        "card_entities_on_a_space": bad_edges,
        "card_word_not_text_slice": bad_words,
    }
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0 if bad_edges == bad_words == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
