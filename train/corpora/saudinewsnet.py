"""SaudiNewsNet (Alhagri 2015): 31,030 Saudi newspaper articles, July–August 2015. Not NER.

Each ``saudinewsnet/YYYY-MM-DD.zip`` holds ``YYYY-MM-DD.json``, a JSON array of articles with
the string fields ``source``, ``url``, ``date_extracted``, ``title``, ``author``, ``content``.
One row per article, fields exactly as in the JSON, plus ``doc_id``
(``snn-YYYY-MM-DD-NNNN``: the zip's date and the article's index in the array), ``zip_file`` and
``index``. License CC BY-NC-SA 4.0: a model trained on it inherits the non-commercial clause.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import datasets

from .common import CorpusError, dataset_from_columns, missing

CORPUS = "saudinewsnet"
FOLDER = Path("saudinewsnet")
ARTICLE_FIELDS = ("source", "url", "date_extracted", "title", "author", "content")
FEATURES = datasets.Features(
    {
        "doc_id": datasets.Value("string"),
        "source": datasets.Value("string"),
        "url": datasets.Value("string"),
        "date_extracted": datasets.Value("string"),
        "title": datasets.Value("string"),
        "author": datasets.Value("string"),
        "content": datasets.Value("string"),
        "zip_file": datasets.Value("string"),
        "index": datasets.Value("int32"),
    }
)
_ZIP_NAME = re.compile(r"\d{4}-\d{2}-\d{2}\.zip")


def doc_id(zip_date: str, index: int) -> str:
    if not 0 <= index <= 9999:
        raise ValueError(f"article index {index} does not fit the 4-digit doc_id")
    return f"snn-{zip_date}-{index:04d}"


def read_zip(path: Path) -> list[dict]:
    """The articles of one dated zip, each checked to have exactly the six string fields."""
    articles = read_articles(path)
    where = f"{path}!{path.stem}.json"
    for i, art in enumerate(articles):
        if not isinstance(art, dict) or set(art) != set(ARTICLE_FIELDS):
            keys = sorted(art) if isinstance(art, dict) else type(art).__name__
            raise CorpusError(
                f"{where}: article {i}: expected fields {', '.join(ARTICLE_FIELDS)}, got {keys}"
            )
        bad = [k for k in ARTICLE_FIELDS if not isinstance(art[k], str)]
        if bad:
            raise CorpusError(f"{where}: article {i}: fields {', '.join(bad)} are not strings")
    return articles


def read_articles(path: Path) -> list:
    """The JSON array of one dated zip, as stored (no per-article checks: see ``read_zip``)."""
    member = f"{path.stem}.json"
    with zipfile.ZipFile(path) as zf:
        try:
            raw = zf.read(member)
        except KeyError:
            raise CorpusError(f"{path}: no member {member!r} (members: {', '.join(zf.namelist())})") from None
    where = f"{path}!{member}"
    try:
        articles = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"{where}: not a UTF-8 JSON file ({exc})") from exc
    if not isinstance(articles, list):
        raise CorpusError(f"{where}: expected a JSON array of articles, got {type(articles).__name__}")
    return articles


def load_saudinewsnet(data_dir: Path) -> datasets.DatasetDict:
    folder = data_dir / FOLDER
    zips = sorted(p for p in folder.glob("*.zip")) if folder.is_dir() else []
    if not zips:
        raise missing(folder / "YYYY-MM-DD.zip")
    odd = [p.name for p in zips if not _ZIP_NAME.fullmatch(p.name)]
    if odd:
        raise CorpusError(f"{folder}: zip files not named YYYY-MM-DD.zip: {', '.join(odd)}")
    columns: dict[str, list] = {name: [] for name in FEATURES}
    for path in zips:
        for i, art in enumerate(read_zip(path)):
            columns["doc_id"].append(doc_id(path.stem, i))
            for k in ARTICLE_FIELDS:
                columns[k].append(art[k])
            columns["zip_file"].append(path.name)
            columns["index"].append(i)
    desc = (
        f"SaudiNewsNet: {len(columns['doc_id'])} articles from {len(zips)} daily zips in {folder}; "
        f"fields as in the JSON. License CC BY-NC-SA 4.0 (non-commercial)."
    )
    return datasets.DatasetDict({"train": dataset_from_columns(columns, FEATURES, desc, "train")})
