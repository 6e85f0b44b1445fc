"""Unlabelled Arabic text for the encoder: SaudiNewsNet articles and the words of the NER corpora.

Everything is read in place under the data folder (``data_dir()``); nothing is copied.
A fixed 2% of SaudiNewsNet articles, chosen by a hash of the article URL, is held out: the
vocabulary statistics and masked-LM training never see it, and it measures both.
Test portions of the NER corpora are left out too: the CAMeL test split of ANERcorp (the
tail of ``ANERCorp.txt``), NewsFANE (the same newswire re-annotated) and Wojood's val/test.
"""

from __future__ import annotations

import glob
import hashlib
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hasila.infer.types import HasilaError

HELDOUT_PER_MILLE = 20  # 2% of SaudiNewsNet articles
CHUNK_WORDS = 200  # NER corpora have no documents: their sentences are grouped into chunks
# ANERcorp's CAMeL test split is the last 25,008 tokens of ANERCorp.txt (about 20 tokens
# apart from a re-derivation); this many tokens before it are dropped as a safety margin.
ANERCORP_TEST_MARGIN = 500

SOURCES = ("saudinewsnet", "anercorp", "wikifane", "wojood", "aqmar")
DEFAULT_SOURCES = ("saudinewsnet", "anercorp", "wikifane", "wojood")


@dataclass(frozen=True)
class TextDoc:
    doc_id: str
    text: str


def is_heldout(doc_id: str) -> bool:
    """True for the fixed 2% of documents kept aside (by the sha256 of the id)."""
    digest = hashlib.sha256(doc_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 1000 < HELDOUT_PER_MILLE


def heldout_order(doc_id: str) -> str:
    """Sort key that makes 'the first N held-out documents' a fixed set."""
    return hashlib.sha256(doc_id.encode("utf-8")).hexdigest()


def saudinewsnet_docs(root: Path) -> Iterator[TextDoc]:
    """Every article (title, blank line, content) of ``root/*.zip``; the id is its URL."""
    zips = sorted(root.glob("*.zip"))
    if not zips:
        raise HasilaError(f"no SaudiNewsNet zip files under {root}")
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            for member in sorted(archive.namelist()):
                try:
                    articles = json.loads(archive.read(member))
                except (json.JSONDecodeError, UnicodeDecodeError) as err:
                    raise HasilaError(f"{path}:{member}: not a JSON array of articles ({err})") from None
                for index, article in enumerate(articles):
                    try:
                        url, title, content = article["url"], article["title"], article["content"]
                    except (KeyError, TypeError):
                        raise HasilaError(f"{path}:{member}: article #{index} lacks url/title/content") from None
                    text = f"{title.strip()}\n\n{content.strip()}" if title and title.strip() else content.strip()
                    if text:
                        yield TextDoc(f"saudinewsnet:{url}", text)


def _column_sentences(lines: Iterable[str], sep: str | None = None) -> list[list[str]]:
    """Sentences (blank-line separated) of the first column of a one-token-a-line file."""
    sentences, current = [], []
    for line in lines:
        line = line.strip("\r\n").lstrip("\ufeff")
        if not line.strip():
            if current:
                sentences.append(current)
                current = []
            continue
        fields = line.split(sep)
        # a lone field is a tag whose token is blank; direction marks are dropped (as in
        # CAMeL's ANERcorp recipe), so a token of marks only is skipped too
        token = fields[0] if len(fields) > 1 else ""
        token = token.replace("\u200e", "").replace("\u200f", "").strip()
        if token:
            current.append(token)
    if current:
        sentences.append(current)
    return sentences


def _chunks(sentences: list[list[str]], prefix: str) -> Iterator[TextDoc]:
    """Groups of whole sentences of about CHUNK_WORDS words, joined by spaces."""
    group: list[str] = []
    start = 0
    for index, sentence in enumerate(sentences):
        if not group:
            start = index
        group.extend(sentence)
        if len(group) >= CHUNK_WORDS:
            yield TextDoc(f"{prefix}:{start}", " ".join(group))
            group = []
    if group:
        yield TextDoc(f"{prefix}:{start}", " ".join(group))


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").split("\n")
    except UnicodeDecodeError as err:
        raise HasilaError(f"{path}: not UTF-8 ({err})") from None


def anercorp_train_docs(root: Path) -> Iterator[TextDoc]:
    """ANERCorp.txt without its CAMeL test tail, cut into sentences at '.' tokens."""
    full = root / "ANERCorp.txt"
    test = root / "ANERCorp_CamelLab_test.txt"
    tokens = [t for s in _column_sentences(_read_lines(full)) for t in s]
    test_tokens = sum(len(s) for s in _column_sentences(_read_lines(test)))
    tokens = tokens[: max(0, len(tokens) - test_tokens - ANERCORP_TEST_MARGIN)]
    sentences, current = [], []
    for token in tokens:
        current.append(token)
        if token == ".":
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    yield from _chunks(sentences, "anercorp")


def wikifane_docs(zip_path: Path) -> Iterator[TextDoc]:
    member = "WikiFANE_2014_Gold_standard/WikiFANE_Gold_2014_500K.txt"
    with zipfile.ZipFile(zip_path) as archive:
        lines = archive.read(member).decode("utf-8-sig").split("\n")
    yield from _chunks(_column_sentences(lines, sep="\t"), "wikifane")


def wojood_train_docs(root: Path) -> Iterator[TextDoc]:
    path = root / "train.txt"
    yield from _chunks(_column_sentences(_read_lines(path)), "wojood-train")


def aqmar_docs(root: Path) -> Iterator[TextDoc]:
    for path in sorted(Path(p) for p in glob.glob(str(root / "*.txt"))):
        yield from _chunks(_column_sentences(_read_lines(path)), f"aqmar-{path.stem}")


def domain_docs(data_root: Path, sources: Iterable[str] = DEFAULT_SOURCES) -> Iterator[TextDoc]:
    """Documents of the chosen sources, in a fixed order; a missing corpus is an error."""
    readers = {
        "saudinewsnet": lambda: saudinewsnet_docs(data_root / "saudinewsnet"),
        "anercorp": lambda: anercorp_train_docs(data_root / "anercorp"),
        "wikifane": lambda: wikifane_docs(data_root / "fane" / "WikiFANE_2014_Gold_standard.zip"),
        "wojood": lambda: wojood_train_docs(data_root / "wojood-sample"),
        "aqmar": lambda: aqmar_docs(data_root / "aqmar" / "articles"),
    }
    for source in sources:
        if source not in readers:
            raise HasilaError(f"unknown text source {source!r}; choose from {', '.join(SOURCES)}")
        try:
            yield from readers[source]()
        except FileNotFoundError as err:
            raise HasilaError(f"text source {source}: {err.filename} not found "
                              f"(data folder {data_root}; set HASILA_DATA)") from None


def split_docs(docs: Iterable[TextDoc]) -> tuple[list[TextDoc], list[TextDoc]]:
    """(training documents, held-out SaudiNewsNet documents in their fixed order)."""
    train, heldout = [], []
    for doc in docs:
        if doc.doc_id.startswith("saudinewsnet:") and is_heldout(doc.doc_id):
            heldout.append(doc)
        else:
            train.append(doc)
    heldout.sort(key=lambda d: heldout_order(d.doc_id))
    return train, heldout
