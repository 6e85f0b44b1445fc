"""NewsFANE Gold and WikiFANE Gold (Alotaibi & Lee 2014): ~50 fine-grained types → PER/ORG/LOC.

Both files sit in ``fane/WikiFANE_2014_Gold_standard.zip`` and are read from the zip: UTF-8 with
a BOM, CRLF line ends, ``word<TAB>tag`` lines, a line holding only a tab between sentences, and
U+200E before most words (removed). The types follow the ACE 2005 hierarchy (PER, ORG, GPE, LOC,
FAC, VEH, WEA, PRO); :data:`FANE_LABELS` maps every one of them, with the reasons in
``MAPPINGS.md``.

Neither corpus has splits. NewsFANE is ANERcorp's newswire re-annotated (clitics split,
hamza normalized, in another order), so it holds the text of the CAMeL ANERcorp test split:
its ``test`` split is the sentences whose text is that test split's
(:func:`camel_test_sentences`), and ``train``/``validation`` are the rest, so that training on
NewsFANE ``train`` does not see the ANERcorp test text. WikiFANE is cut in file order, 80/10/10.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import datasets

from . import anercorp
from .common import (
    CorpusError,
    Sentence,
    map_all,
    ner_split,
    read_two_column,
    read_zip_member,
    require,
    tail_split,
)

ZIP_FILE = Path("fane", "WikiFANE_2014_Gold_standard.zip")
NEWS_MEMBER = "WikiFANE_2014_Gold_standard/NewsFANE_Gold_2014_170K.txt"
WIKI_MEMBER = "WikiFANE_2014_Gold_standard/WikiFANE_Gold_2014_500K.txt"

_P, _O, _L, _N = "PER", "ORG", "LOC", None
# Every fine-grained type of the two files → Hasila label (None: O). Grouped by ACE coarse class.
FANE_LABELS: dict[str, str | None] = {
    # PER: named people, whatever their occupation. "Police" holds soldiers, generals and police
    # officers by name, so it is PER, not ORG.
    "Artist": _P, "Athlete": _P, "Businessperson": _P, "Engineer": _P, "Lawyer": _P,
    "Other_PER": _P, "Police": _P, "Politician": _P, "Religious_PER": _P, "Scientist": _P,
    # PER.Group: peoples, nationalities, religious communities (the Arabs, the French):
    # not a named organization nor a person → O, like Wojood's NORP.
    "Group": _N,
    # ORG: every organization subtype, armies and ministries included (Government).
    "Commercial": _O, "Educational": _O, "Entertainment": _O, "Government": _O, "Media": _O,
    "Medical-Science": _O, "Non-Governmental": _O, "Religious_ORG": _O, "Sports": _O,
    # GPE → LOC: Hasila's LOC is "where", and places of attacks are mostly GPEs.
    "Continent": _L, "County-or-District": _L, "GPE-Cluster": _L, "Nation": _L,
    "Population-Center": _L, "State-or-Province": _L,
    # LOC → LOC, except celestial bodies (the Sun, Venus …): not places in the news sense.
    "Land-Region-Natural": _L, "Water-Body": _L, "Celestial": _N,
    # FAC → LOC: airports, buildings, roads, bridges, plants are where attacks happen
    # (Wojood's FAC maps to LOC too).
    "Airport": _L, "Building-Grounds": _L, "Path": _L, "Plant": _L, "Subarea-Facility": _L,
    # VEH, WEA, PRO: no Hasila label.
    "Air": _N, "Land": _N, "Water": _N,
    "Blunt": _N, "Chemical": _N, "Exploding": _N, "Nuclear": _N, "Projectile": _N, "Sharp": _N,
    "Shooting": _N,
    "Book": _N, "Drug": _N, "Food": _N, "Hardware": _N, "Movie": _N, "Software": _N, "Sound": _N,
}  # fmt: skip
ANNOTATED_LABELS = ("PER", "ORG", "LOC")
_TABLE = "FANE_LABELS in hasila/train/corpora/fane.py (and MAPPINGS.md)"

VALIDATION_FRACTION = 0.10
WIKI_TRAIN_FRACTION, WIKI_VALIDATION_FRACTION = 0.80, 0.10

# Matching NewsFANE against ANERcorp: compare letters only, with the spelling differences
# between the two normalized away.
_NOT_MATCHED = re.compile(r"[\s\u0640\u064b-\u0652\u0670\u200e\u200f]")
_LETTER_MAP = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_GRAM = 12
_MIN_SHARE = 0.3


def read_fane(zip_path: Path, member: str, doc_id: str) -> list[Sentence]:
    sentences, _ = read_two_column(read_zip_member(zip_path, member), doc_id, "\t", drop_empty_words=False)
    return sentences


def _match_key(words: Sequence[str]) -> str:
    return _NOT_MATCHED.sub("", "".join(words)).translate(_LETTER_MAP)


def _grams(key: str) -> set[str]:
    return {key[i : i + _GRAM] for i in range(len(key) - _GRAM + 1)}


def camel_test_sentences(news: Sequence[Sentence], camel_test: Sequence[Sentence]) -> list[int]:
    """Indices of the NewsFANE sentences that hold CAMeL ANERcorp test text: at least 30% of
    their letter 12-grams occur in it. (NewsFANE's order differs from ANERcorp's, so these are
    not one block: inside the stretch where most of them lie sit sentences of ANERcorp's train
    part that share nothing with the test text.)"""
    test_grams: set[str] = set()
    for sent in camel_test:
        test_grams |= _grams(_match_key(sent.words))
    hits = []
    for i, sent in enumerate(news):
        grams = _grams(_match_key(sent.words))
        if grams and len(grams & test_grams) >= _MIN_SHARE * len(grams):
            hits.append(i)
    if not hits:
        raise CorpusError("no NewsFANE sentence shares text with the CAMeL ANERcorp test split")
    return hits


def load_newsfane(data_dir: Path) -> datasets.DatasetDict:
    zip_path = require(data_dir / ZIP_FILE)
    news = read_fane(zip_path, NEWS_MEMBER, "newsfane:NewsFANE_Gold_2014_170K")
    camel_test = anercorp.read_official_test(require(data_dir / anercorp.TEST_FILE))
    held_out = set(camel_test_sentences(news, camel_test))
    test = [s for i, s in enumerate(news) if i in held_out]
    train, validation = tail_split([s for i, s in enumerate(news) if i not in held_out], VALIDATION_FRACTION)
    how = (
        f"test = the {len(test)} NewsFANE sentences sharing >= {_MIN_SHARE:.0%} of their letter "
        f"12-grams with the CAMeL ANERcorp test split ({anercorp.TEST_FILE}); train = the others "
        f"in file order, validation = their last {VALIDATION_FRACTION:.0%}"
    )
    return _fane_dict("newsfane", {"train": train, "validation": validation, "test": test}, how)


def load_wikifane(data_dir: Path) -> datasets.DatasetDict:
    wiki = read_fane(require(data_dir / ZIP_FILE), WIKI_MEMBER, "wikifane:WikiFANE_Gold_2014_500K")
    a = round(WIKI_TRAIN_FRACTION * len(wiki))
    b = round((WIKI_TRAIN_FRACTION + WIKI_VALIDATION_FRACTION) * len(wiki))
    parts = {"train": wiki[:a], "validation": wiki[a:b], "test": wiki[b:]}
    return _fane_dict("wikifane", parts, f"file order cut 80/10/10 at sentences {a} and {b}")


def _fane_dict(corpus: str, parts: dict[str, list[Sentence]], how: str) -> datasets.DatasetDict:
    splits = {}
    for split, sentences in parts.items():
        tags, counts = map_all(sentences, FANE_LABELS, _TABLE)
        desc = (
            f"{corpus} {split}: {how}. Fine-grained types mapped by FANE_LABELS (see MAPPINGS.md). "
            f"IOB: {counts.broken_i} I- tags not continuing an entity, {counts.repaired} of them made B-."
        )
        splits[split] = ner_split(corpus, split, sentences, tags, ANNOTATED_LABELS, desc)
    return datasets.DatasetDict(splits)
