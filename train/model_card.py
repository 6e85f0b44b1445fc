"""Model card (``README.md`` with Hugging Face YAML front matter) from a metrics JSON.

Everything reported comes from the metrics file written by ``hasila-evaluate`` and the
training config saved beside the model; nothing is typed in by hand. The license is derived
from the training data: any data under CC BY-NC-SA (SaudiNewsNet, and the project's gold
annotations, which are made on SaudiNewsNet articles) makes the model non-commercial.

    hasila-train card --model DIR --metrics metrics.json      (or hasila-evaluate ... --card)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hasila.infer.types import HasilaError
from hasila.train.config import CONFIG_FILENAME, atomic_write_text
from hasila.train.hf_compat import card_model_reference, card_snippet, hub_base_model, without_local_paths

# What each corpus is and under which terms it was published (see ../shared/data/README.md).
CORPUS_INFO: dict[str, dict[str, Any]] = {
    "anercorp": {
        "title": "ANERcorp (Benajiba et al., 2007), CAMeL Lab train/test split",
        "license": "research use (original release, no explicit license); the official CAMeL test file is CC BY-SA 4.0",
        "non_commercial": False,
        "research_only": True,
    },
    "newsfane": {"title": "NewsFANE Gold (ANERcorp newswire re-annotated, fine-grained types)", "license": "CC BY-SA 3.0",
                 "non_commercial": False, "research_only": False},
    "wikifane": {"title": "WikiFANE Gold (Arabic Wikipedia, fine-grained types)", "license": "CC BY-SA 3.0",
                 "non_commercial": False, "research_only": False},
    "aqmar": {"title": "AQMAR Arabic Wikipedia NER corpus (28 articles)", "license": "CC BY-SA 3.0",
              "non_commercial": False, "research_only": False},
    "wojood": {"title": "Wojood public sample (≈5% of the corpus)", "license": "sample shipped in an MIT-licensed repository",
               "non_commercial": False, "research_only": False},
    "saudinewsnet": {"title": "SaudiNewsNet (31,030 articles from 14 Saudi outlets, 2015)", "license": "CC BY-NC-SA 4.0",
                     "non_commercial": True, "research_only": False},
    "gold": {"title": "Hasila gold annotations (stand-off): SaudiNewsNet articles (2015) and webnews excerpts "
                      "(public Arabic news pages of 441 outlets, 24 countries, about 2006–2026; listed by URL in the store)",
             "license": "annotations by the project; texts: SaudiNewsNet CC BY-NC-SA 4.0, webnews excerpts belong to their "
                        "publishers (annotation, training and evaluation only; research use)",
             "non_commercial": True, "research_only": True},
}

DATASET_TITLES = {
    "anercorp-camel-test": "ANERcorp, CAMeL Lab test split",
    "gold-dev": "Hasila gold annotations, dev split (v2: SaudiNewsNet dev rebalanced + webnews dev, by event)",
    "gold-test": "Hasila gold annotations, test split (SaudiNewsNet: later dates + an unseen outlet; webnews: held-out events)",
    "gold-dev-2015": "The 2015 dev split, frozen (SaudiNewsNet only; for before/after figures — 17 of its 77 articles, "
                     "reports of the Asir bombing, moved to train in the v2 splits, so a model trained on v2 has seen them)",
}


# ---------------------------------------------------------------- a small YAML writer

def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(round(value, 6)) if isinstance(value, float) else str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block YAML for dicts / lists / scalars (strings always quoted, so nothing is misread)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            key = k if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", k) else json.dumps(k, ensure_ascii=False)
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(v, indent + 2))
            else:
                lines.append(f"{pad}{key}: {_empty(v) if isinstance(v, (dict, list)) else _scalar(v)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = to_yaml(item, indent + 2)
                lines.append(f"{pad}- {inner.lstrip()}")
            else:
                lines.append(f"{pad}- {_empty(item) if isinstance(item, (dict, list)) else _scalar(item)}")
    else:
        lines.append(pad + _scalar(value))
    return "\n".join(lines)


def _empty(v: Any) -> str:
    return "{}" if isinstance(v, dict) else "[]"


# ---------------------------------------------------------------- content

def training_data(train_cfg: dict[str, Any] | None) -> list[str]:
    """Corpus names the model (and its base encoder) learned from, in order, without repeats."""
    if not train_cfg:
        return []
    names = [c["name"] if isinstance(c, dict) else str(c) for c in train_cfg.get("corpora", [])]
    names += list(train_cfg.get("base_model_data", []))
    return list(dict.fromkeys(names))


def derive_license(data: list[str]) -> tuple[str, str]:
    """(Hugging Face license id, one-line explanation)."""
    nc = [d for d in data if CORPUS_INFO.get(d, {}).get("non_commercial")]
    if nc:
        return "cc-by-nc-sa-4.0", f"trained on {', '.join(nc)} (CC BY-NC-SA 4.0): non-commercial use only, share-alike"
    unknown = [d for d in data if d not in CORPUS_INFO]
    research = [d for d in data if CORPUS_INFO.get(d, {}).get("research_only")]
    if unknown or research:
        why = [f"{', '.join(research)} was released for research use" if research else "",
               f"the terms of {', '.join(unknown)} are not recorded here" if unknown else ""]
        return "other", "; ".join(w for w in why if w) + "; check those terms before any other use"
    if data:
        return "cc-by-sa-3.0", "trained on CC BY-SA 3.0 corpora: attribution, share-alike"
    return "other", "the training data are not recorded (no training config beside the model)"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _model_index(name: str, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    results = []
    for data_name, res in metrics.get("datasets", {}).items():
        ent = res["entities"]
        mets = [
            {"type": "f1", "value": round(ent["default"]["micro"]["f1"], 4), "name": "micro F1 (seqeval default)"},
            {"type": "precision", "value": round(ent["default"]["micro"]["precision"], 4), "name": "micro precision (seqeval default)"},
            {"type": "recall", "value": round(ent["default"]["micro"]["recall"], 4), "name": "micro recall (seqeval default)"},
            {"type": "f1", "value": round(ent["strict"]["micro"]["f1"], 4), "name": "micro F1 (seqeval strict IOB2)"},
        ]
        inc = res.get("incidents")
        if inc:
            for key in ("killed", "wounded"):
                mets.append({"type": "f1", "value": round(inc[key]["f1"], 4), "name": f"{key} figure exact-match F1"})
            rate = inc["hard_negatives"]["false_incident_rate"]
            if rate is not None:
                mets.append({"type": "false_incident_rate", "value": round(rate, 4), "name": "hard-negative false-incident rate"})
        results.append(
            {
                "task": {"type": "token-classification", "name": "Named entity and casualty-count recognition"},
                "dataset": {"name": DATASET_TITLES.get(data_name, data_name), "type": res.get("corpus", data_name), "split": res.get("split", "")},
                "metrics": mets,
            }
        )
    return [{"name": name, "results": results}]


def _entity_table(res: dict[str, Any]) -> str:
    d, s = res["entities"]["default"], res["entities"]["strict"]
    rows = ["| label | precision | recall | F1 | F1 strict | gold entities |", "|---|---|---|---|---|---|"]
    for lab, m in d["per_label"].items():
        strict_f1 = s["per_label"].get(lab, {}).get("f1")
        rows.append(f"| {lab} | {_pct(m['precision'])} | {_pct(m['recall'])} | {_pct(m['f1'])} | {_pct(strict_f1)} | {m['gold']} |")
    mi, smi = d["micro"], s["micro"]
    rows.append(f"| **micro** | {_pct(mi['precision'])} | {_pct(mi['recall'])} | **{_pct(mi['f1'])}** | {_pct(smi['f1'])} | {mi['gold']} |")
    return "\n".join(rows)


def _incident_table(inc: dict[str, Any]) -> str:
    rows = ["| what | precision | recall | F1 | correct | predicted | gold |", "|---|---|---|---|---|---|---|"]
    titles = {"incidents": "incident detected", "killed": "killed figure (value + span)", "wounded": "wounded figure (value + span)",
              "location": "location", "perpetrator": "perpetrator", "victim": "victim", "source": "source", "date": "date"}
    for key, title in titles.items():
        if key in inc:
            m = inc[key]
            rows.append(f"| {title} | {_pct(m['precision'])} | {_pct(m['recall'])} | {_pct(m['f1'])} | {m['correct']} | {m['predicted']} | {m['gold']} |")
    hn = inc["hard_negatives"]
    rate = hn["false_incident_rate"]
    rows.append("")
    rows.append(
        f"Hard negatives (violent vocabulary and numbers, no incident): {hn['with_predicted_incident']} of "
        f"{hn['documents']} documents got at least one predicted incident"
        + (f" (false-incident rate {_pct(rate)}%)." if rate is not None else ".")
    )
    return "\n".join(rows)


def _iv(block: dict[str, Any], key: str) -> str:
    v = (block.get("figures") or {}).get(key)
    iv = (block.get("intervals") or {}).get(key)
    if v is None:
        return "–"
    return f"{_pct(v)}" + (f" [{_pct(iv[0])}–{_pct(iv[1])}]" if iv else "")


ANALYST_ROWS = (
    ("incident_f1", "incidents F1 (kind + value agree)"), ("incident_precision", "incidents precision"),
    ("incident_recall", "incidents recall"), ("killed_f1", "killed figures F1 (value)"), ("wounded_f1", "wounded figures F1 (value)"),
    ("perpetrator_accuracy", "perpetrator (accuracy, matched pairs)"), ("victim_accuracy", "victim"),
    ("location_accuracy", "location"), ("date_accuracy", "date"), ("source_accuracy", "source"),
    ("figure_role_accuracy", "figure-role accuracy (gold figures)"), ("hard_negative_false_rate", "hard negatives with a false incident"),
)


def _analyst_table(analyst: dict[str, Any]) -> str:
    """The analyst's scorer: overall and per corpus, with bootstrap 95% intervals."""
    cols = [("all", analyst["overall"])] + [(k, v) for k, v in sorted((analyst.get("by_corpus") or {}).items())]
    rows = ["| what | " + " | ".join(f"{name} ({b['documents']} docs)" for name, b in cols) + " |",
            "|---|" + "---|" * len(cols)]
    for key, title in ANALYST_ROWS:
        rows.append(f"| {title} | " + " | ".join(_iv(b, key) for _, b in cols) + " |")
    return "\n".join(rows)


def _heads_section(model_dir: Path | None) -> list[str]:
    if model_dir is None or not (model_dir / "heads_config.json").is_file():
        return []
    cfg = json.loads((model_dir / "heads_config.json").read_text(encoding="utf-8"))
    t = cfg.get("training", {})
    out = ["", "## Structure heads", ""]
    out.append(
        "Beside the tagger, `heads.safetensors` + `heads_config.json` hold two small heads that read the tagger's own last "
        "hidden states (one forward pass; `transformers.pipeline` ignores them and loads the tagger alone): a **figure-role** "
        "head (each KILLED/WOUNDED figure → incident / repeat / part / total / superseded / cumulative / background / "
        "not_violence) and an **incident-argument** head (each figure and a PER/ORG/LOC/DATE span near it → perpetrator / "
        "victim / location / date / source / none). Two-layer perceptrons over pooled span vectors and position features "
        "(`hasila.infer.heads`), trained on the gold train split with the tagger frozen (`hasila-train heads`)."
    )
    out += ["", f"Training: {t.get('train_figures')} gold figures, {t.get('train_pairs')} figure–span pairs; seeds "
            f"{t.get('seeds')}; dev incident F1 by seed {[round(x * 100, 1) for x in t.get('dev_incident_f1_by_seed', [])]}. "
            f"Role distribution in train: {t.get('train_role_distribution')}.",
            "", f"How the pipeline uses them (chosen on dev): figures the role head calls total / superseded / cumulative / "
            f"background / not_violence with probability ≥ {cfg.get('drop_threshold')} make no incident (rule `H-role`; "
            f"{'off' if cfg.get('drop_threshold', 1.01) > 1 else 'on'}); fields filled by the argument head where it is "
            f"confident (rule `H-arg`, field: threshold): {cfg.get('fields') or 'none'}; the rules decide the rest.",
            "", "Confidence: an incident's `confidence` (`confidence_source: heads`) and each field's `field_confidence` "
            "are the heads' probabilities through histogram-binning maps fitted on dev; expected calibration error "
            "(raw → maps cross-fitted on two halves of dev): "
            + ", ".join(f"{k} {v['ece_raw']:.3f} → {v['ece_calibrated_crossfit']:.3f}" for k, v in (t.get("calibration") or {}).items())
            + ".",
            "", "Limits: the heads learned from a few hundred articles; roles that are rare in the gold (total, superseded, "
            "background) are the least reliable, and a field the head leaves to the rules is only as good as the rules."]
    return out


def _runtimes_section(model_dir: Path | None, metrics: dict[str, Any]) -> list[str]:
    """The int8 calibration the folder carries, and the parity gates of each runtime (from
    ``benchmarks/onnx_parity.py --metrics``)."""
    parity = metrics.get("runtime_parity") or {}
    cal_path = model_dir / "int8_calibration.json" if model_dir else None
    if not parity and not (cal_path and cal_path.is_file()):
        return []
    out = ["", "## Runtimes", "",
           "`hasila-extract --runtime` runs the tagger on PyTorch fp32 (`torch`), PyTorch with bf16 weights (`bf16`, for "
           "CPUs with AMX), fp32 ONNX Runtime (`onnx`) or int8 ONNX Runtime (`int8`: per-token activation scales, "
           "SmoothQuant, the loudest input channels kept fp32; `hasila.infer.int8`). ONNX graphs are derived into a "
           "cache on first use, not shipped."]
    if cal_path and cal_path.is_file():
        cal = json.loads(cal_path.read_text(encoding="utf-8"))
        out += ["", f"`int8_calibration.json`: the largest |input| of each channel of the {len(cal.get('inputs', {}))} "
                f"linear layers, over {cal.get('tokens', 0):,} tokens of {cal.get('documents', 0)} `{cal.get('data')}` "
                f"documents (`hasila-train calibrate`), tied to the tagger's sha256."]
    if parity:
        out += ["", "Parity gates against PyTorch fp32 (entity micro F1 and incident F1 within 0.5 point, the same "
                "incident figures in ≥ 97 % of the articles; `benchmarks/onnx_parity.py`):", "",
                "| split | runtime | entity F1 | incident F1 | same incident figures | gates |", "|---|---|---|---|---|---|"]
        for split, row in (parity.get("splits") or {}).items():
            for runtime, r in row.items():
                if not isinstance(r, dict) or "reference" not in r:
                    continue
                label = {"fp32": "`onnx` (fp32)", "int8": "`int8`", "bf16": "`bf16`"}.get(runtime, runtime)
                out.append(f"| {split} ({row.get('documents')}) | {label} | {r['reference']['entity_f1']:.2f} → "
                           f"{r['candidate']['entity_f1']:.2f} | {r['reference']['incident_f1']:.2f} → "
                           f"{r['candidate']['incident_f1']:.2f} | {100 * r['same_incident_figures']:.1f} % | "
                           f"{'pass' if r['passed'] else 'fail'} |")
    return out


def render_model_card(metrics: dict[str, Any], train_cfg: dict[str, Any] | None = None, name: str | None = None,
                      training_log: dict[str, Any] | None = None) -> str:
    model = metrics.get("model", {})
    train_cfg = train_cfg if train_cfg is not None else model.get("train_config")
    name = name or model.get("name") or "hasila-model"
    data = training_data(train_cfg)
    license_id, license_why = derive_license(data)
    base = (train_cfg or {}).get("base_model") or model.get("base_model")
    labels = model.get("labels", [])
    front: dict[str, Any] = {
        "language": ["ar"],
        "license": license_id,
        "library_name": "transformers",
        "pipeline_tag": "token-classification",
        "tags": ["token-classification", "ner", "arabic", "conflict-events", "hasila"],
    }
    if license_id == "other":
        front["license_name"] = "mixed-research-terms"
    hub_base = hub_base_model(train_cfg if train_cfg is not None else {"base_model": base})
    if hub_base:  # the encoder it comes from (trimmed and adapted ones name what they were made from)
        front["base_model"] = hub_base
    if data:
        front["datasets"] = data  # the corpora of the table below (plus what the base encoder was adapted on)
    front["model-index"] = _model_index(name, metrics)

    out = ["---", to_yaml(front), "---", "", f"# {name}", ""]
    if model.get("label_set", "hasila") == "hasila":
        out.append(
            "A token classifier for Arabic news about armed attacks, part of **Hasila** (حصيلة). It tags, word by word "
            f"(BIO over Hasila's word splitter), the labels {', '.join(labels)}. Hasila's pipeline (`hasila-extract`) turns "
            "these tags into incident records: who attacked whom, where, when, how many were killed and wounded, and who "
            "reports it, with character offsets back into the article."
        )
    else:
        out.append(
            f"A benchmark token classifier of the **Hasila** project with the label set `{model.get('label_set')}` "
            f"({', '.join(labels)}), trained to measure the encoder on a public benchmark. It is not Hasila's "
            "incident model and `hasila-extract` does not use it."
        )
    out += ["", "## Intended use", ""]
    out.append(
        "- Conflict-monitoring analysts, researchers building ACLED / UCDP-style event data sets, journalists and NGOs "
        "documenting casualties, as a first pass over Arabic news that a person then checks against the text "
        "(every figure comes with its offsets and evidence sentence).\n"
        "- Modern Standard Arabic news reports of attacks, like those in the training data (Saudi and pan-Arab outlets, 2007 and 2015 newswire)."
    )
    out += ["", "## Out-of-scope use", ""]
    out.append(
        "- Any decision about people (targeting, sanctions, asylum, attribution of guilt) without human review of the source text.\n"
        "- Publishing casualty tolls or responsibility claims without checking them: the model reads what an outlet "
        "*says*, including a perpetrator's own claims, not what happened.\n"
        "- Dialectal Arabic, social media, transcripts, and languages other than Arabic: not trained or evaluated.\n"
        + ("- Commercial use: the license is non-commercial (see below).\n" if license_id.startswith("cc-by-nc") else "")
    )
    out += ["## Training data and licenses", ""]
    if data:
        out += ["| data | what | license |", "|---|---|---|"]
        for d in data:
            info = CORPUS_INFO.get(d, {"title": "(not a registered corpus)", "license": "not recorded: check before use"})
            out.append(f"| `{d}` | {info['title']} | {info['license']} |")
    else:
        out.append("No training configuration was found beside the model, so the training data are not listed.")
    out += ["", f"**Model license: `{license_id}`** — {license_why}."]
    if any(d in ("newsfane", "wikifane", "aqmar") for d in data):
        out.append("FANE and AQMAR are CC BY-SA 3.0: attribute them and share derived data under the same terms.")
    if train_cfg:
        out += ["", "## Training procedure", ""]
        keys = ("base_model", "label_set", "missing_labels", "max_length", "stride", "learning_rate", "num_epochs", "max_steps",
                "batch_size", "gradient_accumulation_steps", "warmup_ratio", "weight_decay", "seed", "early_stopping_patience")
        out += ["| setting | value |", "|---|---|"]
        for k in keys:
            if k in train_cfg:
                out.append(f"| {k} | `{json.dumps(train_cfg[k], ensure_ascii=False)}` |")
        mix = ", ".join(f"{c['name']}:{c.get('split', 'train')}×{c.get('weight', 1)}" for c in train_cfg.get("corpora", []) if isinstance(c, dict))
        out += ["", f"Corpora mix (name:split×weight): {mix}."]
        if train_cfg.get("missing_labels") == "marginal" and train_cfg.get("label_set", "hasila") == "hasila":
            out.append(
                "Corpora that never annotate a label (ANERcorp, FANE and AQMAR have no dates or casualty counts) are trained "
                "with a partial-annotation loss: a word tagged O there may be O or any unannotated label "
                "(marginal likelihood over the allowed tags), so «مقتل 76 شخصا» in ANERcorp does not teach that 76 is not a count."
            )
    if training_log and training_log.get("train_seconds"):
        device = str(training_log.get("device", "?"))
        gpu = "0 GPU hours" if device.startswith("cpu") else f"{training_log['train_seconds'] / 3600:.2f} GPU hours"
        out += ["", (f"Training compute: {training_log['train_seconds'] / 60:.1f} minutes of wall time on {device}, "
                     f"{training_log.get('processes', 1)} process(es), {training_log.get('total_steps')} steps ({gpu}).")]
    out += ["", "## Evaluation", ""]
    out.append(
        "Entity scores are span-level (seqeval): *default* is the conlleval reading, *strict* counts only well-formed IOB2 "
        "spans. Each data set is scored on the labels it annotates that the model predicts (listed per data set). "
        "Incident scores match predicted to gold incidents per document (see `hasila.train.evaluate`)."
    )
    for data_name, res in metrics.get("datasets", {}).items():
        out += ["", f"### {DATASET_TITLES.get(data_name, data_name)} (`{data_name}`)", ""]
        out.append(f"{res['documents']} sequences (sentences of the public corpora, whole gold articles), {res['words']} words; "
                   f"labels scored: {', '.join(res['labels_scored'])}.")
        if data_name == "anercorp-camel-test" and model.get("label_set") == "hasila":
            out.append(
                "This is a 3-class figure (PER, ORG, LOC; ANERcorp's MISC is not a Hasila label) and is not comparable with "
                "published 4-class ANERcorp results; those come from a model trained with `label_set: \"anercorp4\"`."
            )
        out += ["", _entity_table(res)]
        if res.get("incidents"):
            out += ["", f"Incident level ({res['incidents']['documents']} documents; predictions from {res.get('incident_predictions', '?')}):", ""]
            out.append(_incident_table(res["incidents"]))
            if res["incidents"].get("analyst"):
                out += ["", "Judged like an analyst (a predicted incident matches when a figure's kind and value agree, whichever "
                        "telling it took; fields as accuracy over matched pairs, names compared without clitics; bootstrap 95% "
                        "intervals in brackets):", "", _analyst_table(res["incidents"]["analyst"])]
    if metrics.get("ablations"):
        # Measured by `hasila-evaluate` on the same dev data; each row names the run and what it changed.
        rows = metrics["ablations"]
        out += ["", "### Ablations (gold dev)", "", metrics.get("ablations_note", ""), "",
                "| run | what changed | micro F1 | KILLED F1 | WOUNDED F1 | incident killed P / R |", "|---|---|---|---|---|---|"]
        for r in rows:
            out.append(f"| {r['run']} | {r['change']} | {_pct(r.get('micro_f1'))} | {_pct(r.get('killed_f1'))} | "
                       f"{_pct(r.get('wounded_f1'))} | {_pct(r.get('incident_killed_p'))} / {_pct(r.get('incident_killed_r'))} |")
    if metrics.get("benchmark_models"):
        # Separate models trained only to compare the encoder with published results.
        out += ["", "### Benchmark models", "", "| model | what | data | micro F1 | per label F1 |", "|---|---|---|---|---|"]
        for b in metrics["benchmark_models"]:
            per = ", ".join(f"{k} {_pct(v)}" for k, v in sorted(b.get("per_label_f1", {}).items()))
            out.append(f"| {b['model']} | {b['what']} | `{b['data']}` | {_pct(b.get('micro_f1'))} | {per} |")
    folder = Path(model["path"]) if model.get("path") and Path(str(model["path"])).is_dir() else None
    out += _heads_section(folder)
    out += _runtimes_section(folder, metrics)
    out += ["", "## Limitations and risks", ""]
    out.append(
        "- **Misattributed responsibility.** Perpetrator and victim are read from the text; an outlet's framing, a "
        "perpetrator's own claim (e.g. an agency of the group) or a sentence with casualties on both sides can put a toll "
        "on the wrong side. Always check the evidence span.\n"
        "- **Undercounting and double counting.** Figures the model misses are silently absent; totals and their parts "
        "(«35 قتيلاً بينهم 6 ضباط»), rising tolls and cumulative statistics need the assembly rules to be kept apart.\n"
        "- **Outlet and dialect drift.** Training text is 2007 newswire, Wikipedia and Saudi outlets of July–August 2015; "
        "other outlets, periods, conflicts, spellings and dialects will score lower than the figures above.\n"
        "- **Label coverage.** Only the project's gold annotations tag dates and casualty counts; their amount bounds what "
        "the model learned about them.\n"
        "- The figures above are on the test sets named; they say nothing about other kinds of text."
    )
    out += ["", "## Use", "",
            "The model tags words by their first sub-word. `pipeline`'s word aggregation (`aggregation_strategy=\"first\"`, "
            "`\"max\"`, `\"average\"`) guesses words from offsets, which for this XLM-R-style tokenizer (Metaspace, «▁») "
            "glues a word's sub-words without spaces and starts every entity on the space before it; so ask for every "
            "sub-word (`aggregation_strategy=\"none\", ignore_labels=[]`) and join them into words and entities with "
            "`word_entities` (it also feeds long articles through in windows, which the pipeline would cut off):", "",
            *card_snippet(card_model_reference(model.get("path"), name)), "",
            "The tokenizer loads with `transformers` 4.44 and later (`tokenizer_class: PreTrainedTokenizerFast`). "
            "Incident records: `hasila-extract --model MODEL_DIR input.jsonl > out.jsonl`."]
    out += ["", "## Retraining", ""]
    out.append(
        "The training code takes any Hugging Face encoder. Where the Hub is reachable, start from CAMeLBERT:\n\n"
        "```bash\n"
        "hasila-train run --config train/configs/hasila.json --base-model CAMeL-Lab/bert-base-arabic-camelbert-mix --output-dir runs/camelbert\n"
        "hasila-evaluate --model runs/camelbert --data anercorp-camel-test --data gold-test --out runs/camelbert/metrics.json --card\n"
        "```\n\n"
        "Several GPUs: `accelerate launch -m hasila.train.cli run --config ...`; a crashed run continues with `--resume`."
    )
    return without_local_paths("\n".join(out).rstrip() + "\n")


def _results(metrics: dict[str, Any], data: str) -> dict[str, Any]:
    res = metrics.get("datasets", {}).get(data)
    if res is None:
        raise HasilaError(f"the metrics have no {data!r} results (have: {', '.join(metrics.get('datasets', {})) or 'none'})")
    return res


def ablation_row(run: str, change: str, metrics: dict[str, Any], data: str = "gold-dev") -> dict[str, Any]:
    """One row of the ablation table from a ``hasila-evaluate`` metrics JSON of that run."""
    res = _results(metrics, data)
    ent = res["entities"]["default"]
    row: dict[str, Any] = {"run": run, "change": change, "model": metrics.get("model", {}).get("path"),
                           "micro_f1": ent["micro"]["f1"]}
    for label in ("KILLED", "WOUNDED"):
        if label in ent["per_label"]:
            row[f"{label.lower()}_f1"] = ent["per_label"][label]["f1"]
    inc = res.get("incidents")
    if inc:
        row["incident_killed_p"], row["incident_killed_r"] = inc["killed"]["precision"], inc["killed"]["recall"]
    return row


def benchmark_row(model: str, what: str, metrics: dict[str, Any], data: str) -> dict[str, Any]:
    """One row of the benchmark-models table (a separate model scored on a public test set)."""
    ent = _results(metrics, data)["entities"]["default"]
    return {"model": model, "what": what, "data": data, "micro_f1": ent["micro"]["f1"],
            "per_label_f1": {k: v["f1"] for k, v in ent["per_label"].items()}}


def add_table_row(metrics_path: str | Path, table: str, row: dict[str, Any], key: str, note: str | None = None) -> None:
    """Put ``row`` into ``metrics[table]`` (replacing the row with the same ``key`` value), atomically."""
    path = Path(metrics_path)
    metrics = json.loads(path.read_text(encoding="utf-8"))
    rows = [r for r in metrics.get(table, []) if r.get(key) != row[key]]
    metrics[table] = [*rows, row]
    if note is not None:
        metrics[f"{table}_note"] = note
    atomic_write_text(path, json.dumps(metrics, ensure_ascii=False, indent=1) + "\n")


def write_model_card(model_dir: str | Path, metrics_path: str | Path, out: str | Path | None = None, name: str | None = None) -> Path:
    model_dir, metrics_path = Path(model_dir), Path(metrics_path)
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    cfg_path = model_dir / CONFIG_FILENAME
    train_cfg = json.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.is_file() else None
    log_path = model_dir / "training_log.json"
    training_log = json.loads(log_path.read_text(encoding="utf-8")) if log_path.is_file() else None
    target = Path(out) if out is not None else model_dir / "README.md"
    atomic_write_text(target, render_model_card(metrics, train_cfg, name or model_dir.resolve().name, training_log))
    return target
