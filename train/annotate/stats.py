"""Statistics of the gold store per split: documents, tokens, spans per label, incidents, and the
forms the casualty counts take (digits / number words / duals / lone casualty nouns / vague).

``hasila-annotate stats [--markdown FILE]`` prints them (and writes the Markdown table that
``annotations/README.md`` embeds between its ``<!-- stats -->`` markers).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Sequence

from hasila.infer.labels import LABELS
from hasila.infer.quantity import QuantityError, parse_quantity
from hasila.infer.tokenize import split_words

ROLE_ORDER = ("incident", "repeat", "part", "total", "superseded", "cumulative", "background", "not_violence")
COUNT_FORMS = ("digits", "words", "dual", "lone noun", "vague", "unparsed")
_DIGIT = re.compile(r"[0-9٠-٩۰-۹]")
_NUMBER_WORD = re.compile(
    r"(واحد|احد|أحد|إحدى|اثن|إثن|ثلاث|أربع|اربع|خمس|ست|سبع|ثمان|تسع|عشر|مئ|مائ|ألف|الف|آلاف|بضع)"
)


def count_form(text: str) -> str:
    """Which surface form a count span has."""
    try:
        q = parse_quantity(text)
    except QuantityError:
        return "unparsed"
    if q.qualifier == "vague":
        return "vague"
    if _DIGIT.search(text):
        return "digits"
    if _NUMBER_WORD.search(text):
        return "words"
    if q.value == 2 or (q.low == 2 and q.qualifier == "at_least"):
        return "dual"
    return "lone noun"


def split_stats(docs: Sequence[object]) -> dict:
    labels = Counter(e.label for d in docs for e in d.spans)
    forms = Counter(count_form(e.text) for d in docs for e in d.spans if e.label in ("KILLED", "WOUNDED"))
    roles = Counter(d.role_of(e) for d in docs for e in d.spans if e.label in ("KILLED", "WOUNDED") and d.role_of(e))
    kinds = Counter(d.kind for d in docs)
    return {
        "documents": len(docs),
        "incident_documents": kinds.get("incident", 0),
        "hard_negatives": kinds.get("hard_negative", 0),
        "tokens": sum(len(split_words(d.text)) for d in docs),
        "spans": {lab: labels.get(lab, 0) for lab in LABELS},
        "incidents": sum(len(d.incidents) for d in docs),
        "incidents_with_killed": sum(i.killed is not None for d in docs for i in d.incidents),
        "incidents_with_wounded": sum(i.wounded is not None for d in docs for i in d.incidents),
        "count_forms": {f: forms.get(f, 0) for f in COUNT_FORMS},
        "outlets": len({(d.meta or {}).get("outlet") for d in docs}),
        "countries": len({(d.meta or {}).get("country") for d in docs if (d.meta or {}).get("country") not in (None, "none")}),
        "figure_roles": {r: roles.get(r, 0) for r in ROLE_ORDER},
    }


def store_stats(docs_by_split: dict[str, Sequence[object]]) -> dict:
    out = {split: split_stats(docs) for split, docs in docs_by_split.items()}
    out["all"] = split_stats([d for docs in docs_by_split.values() for d in docs])
    return out


def markdown(stats: dict) -> str:
    cols = list(stats)
    rows: list[tuple[str, Iterable]] = [
        ("documents", [stats[c]["documents"] for c in cols]),
        ("… reporting incidents", [stats[c]["incident_documents"] for c in cols]),
        ("… hard negatives", [stats[c]["hard_negatives"] for c in cols]),
        ("outlets", [stats[c]["outlets"] for c in cols]),
        ("countries (webnews)", [stats[c]["countries"] for c in cols]),
        ("tokens (words)", [f"{stats[c]['tokens']:,}" for c in cols]),
        *[(f"{lab} spans", [stats[c]["spans"][lab] for c in cols]) for lab in LABELS],
        ("incidents", [stats[c]["incidents"] for c in cols]),
        ("… with a killed figure", [stats[c]["incidents_with_killed"] for c in cols]),
        ("… with a wounded figure", [stats[c]["incidents_with_wounded"] for c in cols]),
        *[(f"count form: {f}", [stats[c]["count_forms"][f] for c in cols]) for f in COUNT_FORMS],
        *[(f"figure role: {r}", [stats[c]["figure_roles"][r] for c in cols]) for r in ROLE_ORDER],
    ]
    lines = ["| | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {name} | " + " | ".join(str(v) for v in values) + " |" for name, values in rows]
    return "\n".join(lines) + "\n"
