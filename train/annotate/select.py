"""Reproducible selection of SaudiNewsNet articles for the gold set (issue 4).

Two pools, each drawn deterministically (sha256 of the doc id orders the candidates, so rerunning on
the same corpus gives the same list):

* **incident** articles: a casualty word («مقتل», «قتلى», «جرحى», «إصابة», …) within a few words of a
  figure (digits in any script, a number word, a vague quantity or a dual of a person noun) AND a
  word of armed violence («هجوم», «غارة», «قصف», «تفجير», «اشتباكات», «مسلح», «داعش», …);
* **hard negatives**: articles full of numbers or violence words with no casualty figure — economy,
  sports, politics, traffic accidents (casualties, but not armed attacks), cumulative statistics
  («منذ بداية», «حصيلة … منذ») — i.e. many numbers and/or violence words and NO casualty-near-figure hit,
  or a casualty hit that is a traffic accident or a cumulative statistic.

Articles are capped in length (``max_chars``) so every one can be read and annotated in full.
Splits are by **date and outlet**: the test split is the last dates of the corpus plus one outlet
never seen in train; dev is the dates before those; train the rest.

Output (``annotations/selection.json``) holds doc ids, outlet, date, pool and split — no text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from hasila.train.corpora.saudinewsnet import doc_id as snn_doc_id
from hasila.train.corpora.saudinewsnet import read_zip
from hasila.train.settings import annotations_dir, data_dir

CASUALTY = r"(?:مقتل|قتل|قتيل|قتيلا|قتلى|القتلى|مصرع|حتفه|حتفهم|جرحى|الجرحى|جريح|جريحا|إصابة|اصابة|أصيب|اصيب|إصابات|استشهاد|شهيد|شهداء|مصابين|مصابا)"
FIGURE = (
    r"(?:[0-9٠-٩۰-۹]+|اثن\w*|ثلاث\w*|أربع\w*|اربع\w*|خمس\w*|ست\w*|سبع\w*|ثمان\w*|تسع\w*|عشر\w*|مئ\w*|مائ\w*|"
    r"عشرات|العشرات|مئات|المئات|ضابط[اي]ن|جندي[اي]ن|عنصر[اي]ن|شخص[اي]ن|طفل[اي]ن|امرأت[اي]ن|رجل[اي]ن)"
)
VIOLENCE = r"(?:هجوم|هجمات|غارة|غارات|قصف|تفجير|انفجار|انتحاري|مفخخة|اشتباكات|معارك|مسلح|مسلحين|داعش|تنظيم الدولة|الحوثي|الحوثيين|النظام السوري|القاعدة|إرهابي|ارهابي|كمين|عبوة|رصاص|قذائف|صاروخ)"
TRAFFIC = r"(?:حادث مروري|حوادث مرورية|حادث سير|حوادث السير|تصادم|انقلاب سيارة|حادث تصادم)"
CUMULATIVE = r"(?:منذ بداية|منذ اندلاع|حصيلة[^.]{0,40}منذ|منذ عام|إجمالي عدد|اجمالي عدد)"

_NEAR = re.compile(rf"{CASUALTY}\W+(?:\w+\W+){{0,4}}?{FIGURE}|{FIGURE}\W+(?:\w+\W+){{0,3}}?{CASUALTY}")
_VIOLENCE = re.compile(VIOLENCE)
_TRAFFIC = re.compile(TRAFFIC)
_CUMULATIVE = re.compile(CUMULATIVE)
_NUMBER = re.compile(r"[0-9٠-٩۰-۹]+")

TEST_DATES = ("2015-08-09", "2015-08-10", "2015-08-11")
DEV_DATES = ("2015-08-06", "2015-08-07", "2015-08-08")
TEST_OUTLETS = ("3alyoum",)  # an outlet never seen in train or dev


@dataclass(frozen=True)
class Candidate:
    doc_id: str
    outlet: str
    date: str
    pool: str  # incident | hard_negative
    reason: str
    split: str
    chars: int


def iter_articles(root: Path) -> Iterator[tuple[str, str, dict]]:
    """(doc_id, zip date, article) for every SaudiNewsNet article, in corpus order."""
    for zpath in sorted(root.glob("*.zip")):
        for i, art in enumerate(read_zip(zpath)):
            yield snn_doc_id(zpath.stem, i), zpath.stem, art


def split_of(outlet: str, date: str) -> str:
    if outlet in TEST_OUTLETS or date in TEST_DATES:
        return "test"
    if date in DEV_DATES:
        return "dev"
    return "train"


def classify(text: str) -> tuple[str, str] | None:
    """('incident'|'hard_negative', reason) or None when the article is in neither pool."""
    near = _NEAR.search(text)
    violent = len(_VIOLENCE.findall(text))
    if near and violent >= 2 and not _TRAFFIC.search(text):
        if _CUMULATIVE.search(text) and violent < 4:
            return "hard_negative", "cumulative statistics"
        return "incident", f"casualty figure + {violent} violence words"
    if near and _TRAFFIC.search(text):
        return "hard_negative", "traffic accident casualties (not an armed attack)"
    numbers = len(_NUMBER.findall(text))
    if not near and violent >= 3:
        return "hard_negative", f"{violent} violence words, no casualty figure"
    if not near and numbers >= 12:
        return "hard_negative", f"{numbers} numbers, no casualty figure"
    return None


def _rank(doc_id: str, seed: str) -> str:
    return hashlib.sha256(f"{seed}:{doc_id}".encode()).hexdigest()


def select(
    root: Path,
    n_incident: int = 420,
    n_negative: int = 70,
    min_test_incident: int = 85,
    min_test_negative: int = 17,
    max_chars: int = 2500,
    min_chars: int = 200,
    seed: str = "hasila-gold-v1",
) -> list[Candidate]:
    pools: dict[tuple[str, str], list[Candidate]] = {}
    seen_texts: set[str] = set()
    for doc_id, date, art in iter_articles(root):
        text = art.get("content") or ""
        if not (min_chars <= len(text) <= max_chars):
            continue
        key = hashlib.sha256(text.strip().encode()).hexdigest()
        if key in seen_texts:  # outlets republish the same wire story; keep one copy
            continue
        seen_texts.add(key)
        got = classify(text)
        if got is None:
            continue
        pool, reason = got
        split = split_of(art["source"], date)
        cand = Candidate(doc_id, art["source"], date, pool, reason, split, len(text))
        pools.setdefault((pool, split), []).append(cand)
    for cands in pools.values():
        cands.sort(key=lambda c: _rank(c.doc_id, seed))

    def take(pool: str, total: int, test_min: int) -> list[Candidate]:
        test = pools.get((pool, "test"), [])[:test_min]
        rest_n = total - len(test)
        dev_n = rest_n // 5
        dev = _balanced(pools.get((pool, "dev"), []), dev_n)
        train = _balanced(pools.get((pool, "train"), []), rest_n - len(dev))
        return train + dev + test

    chosen = take("incident", n_incident, min_test_incident) + take("hard_negative", n_negative, min_test_negative)
    return sorted(chosen, key=lambda c: c.doc_id)


def _balanced(cands: list[Candidate], n: int) -> list[Candidate]:
    """Round-robin over outlets so no single outlet dominates the gold set."""
    by_outlet: dict[str, list[Candidate]] = {}
    for c in cands:
        by_outlet.setdefault(c.outlet, []).append(c)
    out: list[Candidate] = []
    queues = [list(v) for _, v in sorted(by_outlet.items())]
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return out


def write_selection(cands: list[Candidate], path: Path, params: dict) -> None:
    payload = {
        "procedure": "hasila.train.annotate.select (see module docstring); rerun: python -m hasila.train.annotate.select",
        "params": params,
        "counts": {
            f"{pool}/{split}": n
            for (pool, split), n in sorted(Counter((c.pool, c.split) for c in cands).items())
        },
        "outlets": dict(sorted(Counter(c.outlet for c in cands).items())),
        "documents": [asdict(c) for c in cands],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="hasila-annotate select", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="corpora folder (default: HASILA_DATA or ../shared/data)")
    ap.add_argument("--out", type=Path, default=None, help="default: annotations/selection.json")
    ap.add_argument("--n-incident", type=int, default=420)
    ap.add_argument("--n-negative", type=int, default=70)
    ap.add_argument("--max-chars", type=int, default=2500)
    ap.add_argument("--seed", default="hasila-gold-v1")
    args = ap.parse_args(argv)
    root = (args.data or data_dir()) / "saudinewsnet"
    if not root.is_dir():
        ap.error(f"SaudiNewsNet not found at {root} (set HASILA_DATA or --data)")
    params = {"n_incident": args.n_incident, "n_negative": args.n_negative, "max_chars": args.max_chars, "seed": args.seed,
              "test_dates": TEST_DATES, "dev_dates": DEV_DATES, "test_outlets": TEST_OUTLETS}
    cands = select(root, args.n_incident, args.n_negative, max_chars=args.max_chars, seed=args.seed)
    out = args.out or (annotations_dir() / "selection.json")
    write_selection(cands, out, params)
    counts = Counter((c.pool, c.split) for c in cands)
    print(f"wrote {out}: {len(cands)} documents; " + ", ".join(f"{p}/{s}={n}" for (p, s), n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
