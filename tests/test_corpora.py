"""Corpus loaders: schema, exact offsets, valid BIO, the CAMeL split, mapping coverage.

Tests on the real corpora read them through ``require_corpus`` (skip without them, fail under
CI). The rest write small made-up inputs to ``tmp_path``; no corpus text is in this file.
"""

from __future__ import annotations

import functools
import json
import re
import zipfile
from pathlib import Path

import datasets
import pytest
from conftest import require_corpus

from hasila.infer.labels import BIO_TAGS, LABELS
from hasila.train.corpora import (
    CORPORA,
    NER_CORPORA,
    NER_FEATURES,
    CorpusError,
    CorpusNotFoundError,
    corpus_stats,
    load_corpus,
)
from hasila.train.corpora import anercorp, aqmar, fane, saudinewsnet, wojood
from hasila.train.corpora.common import Sentence, map_flat_iob, read_text_file, read_two_column

MAPPINGS_MD = Path(anercorp.__file__).with_name("MAPPINGS.md")

CORPUS_FILES = {
    "anercorp": [("anercorp", "ANERCorp.txt"), ("anercorp", "ANERCorp_CamelLab_test.txt")],
    "newsfane": [("fane", "WikiFANE_2014_Gold_standard.zip"), ("anercorp", "ANERCorp_CamelLab_test.txt")],
    "wikifane": [("fane", "WikiFANE_2014_Gold_standard.zip")],
    "aqmar": [("aqmar", "articles")],
    "wojood": [("wojood-sample", f) for f in ("train.txt", "val.txt", "test.txt")],
    "saudinewsnet": [("saudinewsnet",)],
}
ANNOTATED = {
    "anercorp": ["PER", "ORG", "LOC"],
    "newsfane": ["PER", "ORG", "LOC"],
    "wikifane": ["PER", "ORG", "LOC"],
    "aqmar": ["PER", "ORG", "LOC"],
    "wojood": ["PER", "ORG", "LOC", "DATE"],
}
INVISIBLE = re.compile("[\u200e\u200f\ufeff]")


@functools.cache
def _load(name: str) -> datasets.DatasetDict:
    return load_corpus(name)


def corpus(name: str) -> datasets.DatasetDict:
    for rel in CORPUS_FILES[name]:
        require_corpus(*rel)
    return _load(name)


# --------------------------------------------------------------------------- real corpora


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPORA)
def test_every_corpus_loads_with_its_splits(name):
    dd = corpus(name)
    expected = ["train"] if name == "saudinewsnet" else ["train", "validation", "test"]
    assert list(dd) == expected
    for split, ds in dd.items():
        assert ds.num_rows > 0, split
        assert ds.split == split
        assert ds.info.description
    if name == "saudinewsnet":
        assert dd["train"].features == saudinewsnet.FEATURES
        return
    for split, ds in dd.items():
        assert set(ds["corpus"]) == {name}
        assert {tuple(a) for a in ds["annotated_labels"]} == {tuple(ANNOTATED[name])}
        ids = ds["id"]
        assert ids == [f"{name}:{split}:{i}" for i in range(ds.num_rows)]


@pytest.mark.corpus
def test_ner_schema_is_identical_across_corpora():
    features = [(name, split, ds.features) for name in NER_CORPORA for split, ds in corpus(name).items()]
    assert all(f == NER_FEATURES for _, _, f in features), [
        (n, s) for n, s, f in features if f != NER_FEATURES
    ]
    all_ids = [i for name in NER_CORPORA for ds in corpus(name).values() for i in ds["id"]]
    assert len(all_ids) == len(set(all_ids))


@pytest.mark.corpus
@pytest.mark.parametrize("name", NER_CORPORA)
def test_offsets_are_exact(name):
    for ds in corpus(name).values():
        cols = ds.select_columns(["id", "words", "text", "word_starts", "word_ends"]).to_dict()
        for rid, words, text, starts, ends in zip(*cols.values()):
            assert text == " ".join(words), rid
            assert len(starts) == len(ends) == len(words) > 0, rid
            for w, s, e in zip(words, starts, ends):
                assert text[s:e] == w, rid
                assert w and not any(c.isspace() for c in w) and not INVISIBLE.search(w), rid


@pytest.mark.corpus
@pytest.mark.parametrize("name", NER_CORPORA)
def test_tags_are_valid_bio_over_annotated_labels(name):
    bio = set(BIO_TAGS)
    for ds in corpus(name).values():
        cols = ds.select_columns(["id", "words", "tags", "orig_tags", "annotated_labels"]).to_dict()
        for rid, words, tags, orig_tags, annotated in zip(*cols.values()):
            assert len(tags) == len(orig_tags) == len(words), rid
            prev = "O"
            for tag in tags:
                assert tag in bio, (rid, tag)
                if tag != "O":
                    assert tag[2:] in annotated, (rid, tag)
                if tag.startswith("I-"):
                    assert prev[2:] == tag[2:], (rid, prev, tag)
                prev = tag


def _read_official_test(path: Path) -> list[list[tuple[str, str]]]:
    sentences, cur = [], []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line:
            if cur:
                sentences.append(cur)
            cur = []
            continue
        word, tag = line.split(" ")
        cur.append((word, tag))
    if cur:
        sentences.append(cur)
    return sentences


def _read_full_clean(path: Path) -> list[tuple[str, str]]:
    """CAMeL's cleanup, written independently of the loader."""
    tokens = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        word, tag = line.rsplit(" ", 1)
        word = word.replace("\u200f", "").replace("\u00b7", ".").replace("\u2022", ".").strip()
        if word:
            tokens.append((word, tag))
    return tokens


@pytest.mark.corpus
def test_camel_test_split_is_the_official_file_token_for_token():
    official = _read_official_test(require_corpus("anercorp", "ANERCorp_CamelLab_test.txt"))
    test = corpus("anercorp")["test"]
    assert test.num_rows == len(official)
    for row, sent in zip(test, official):
        assert row["words"] == [w for w, _ in sent], row["id"]
        assert row["orig_tags"] == [t for _, t in sent], row["id"]


@pytest.mark.corpus
def test_camel_train_and_test_reproduce_the_full_corpus():
    full = _read_full_clean(require_corpus("anercorp", "ANERCorp.txt"))
    official = _read_official_test(require_corpus("anercorp", "ANERCorp_CamelLab_test.txt"))
    dd = corpus("anercorp")
    test_tokens = [tok for sent in official for tok in sent]
    anchor = len(full) - len(test_tokens)  # the official file is the corpus's tail
    before = [
        (w, t)
        for split in ("train", "validation")
        for row in dd[split]
        for w, t in zip(row["words"], row["orig_tags"])
    ]
    assert before == full[:anchor]
    # The official file rewrote nearly every sentence-initial word; elsewhere it is the corpus.
    initial = [k == 0 for sent in official for k in range(len(sent))]
    elsewhere = [k for k in range(len(test_tokens)) if not initial[k]]
    agree = sum(full[anchor + k] == test_tokens[k] for k in elsewhere)
    assert agree >= 0.99 * len(elsewhere), (agree, len(elsewhere))
    n_val, n_train = dd["validation"].num_rows, dd["train"].num_rows
    assert n_val == round(0.10 * (n_train + n_val))


@pytest.mark.corpus
def test_camel_alignment_report_matches_the_loader():
    d = require_corpus("anercorp", "ANERCorp.txt").parent.parent
    train, validation, test, report = anercorp.load_camel_split(d)
    assert report.anchor == sum(len(s) for s in train + validation)
    assert report.test_tokens == sum(len(s) for s in test) == report.full_tokens - report.anchor
    assert report.mismatches_elsewhere <= 0.01 * report.test_tokens
    assert report.summary() in corpus("anercorp")["test"].info.description


def _md_table(section: str) -> dict[str, str]:
    """``| `TYPE` | LABEL | …`` rows of a MAPPINGS.md section."""
    text = MAPPINGS_MD.read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (`+) ?(.+?) ?\1 \| ([A-Z][\w-]*) \|", body, flags=re.M)
    return {key: value for _, key, value in rows}


@pytest.mark.parametrize(
    "section, labels, typos",
    [
        ("ANERcorp", anercorp.ANERCORP_LABELS, {}),
        ("NewsFANE and WikiFANE", fane.FANE_LABELS, {}),
        ("AQMAR", aqmar.AQMAR_LABELS, aqmar.AQMAR_TYPO_TAGS),
        ("Wojood (public sample)", wojood.WOJOOD_LABELS, {}),
    ],
)
def test_mappings_md_documents_every_table_entry(section, labels, typos):
    assert all(v is None or v in LABELS for v in labels.values())
    expected = {k: ("O" if v is None else v) for k, v in labels.items()} | typos
    assert _md_table(section) == expected


def _orig_types(name: str) -> set[str]:
    types = set()
    for ds in corpus(name).values():
        for tags in ds["orig_tags"]:
            for tag_str in tags:
                for tag in tag_str.split(" "):
                    if name == "aqmar":
                        tag = aqmar.AQMAR_TYPO_TAGS.get(tag, tag)
                    if tag != "O":
                        types.add(tag.split("-", 1)[1])
    return types


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name, table",
    [
        ("anercorp", anercorp.ANERCORP_LABELS),
        ("newsfane", fane.FANE_LABELS),
        ("wikifane", fane.FANE_LABELS),
        ("aqmar", aqmar.AQMAR_LABELS),
        ("wojood", wojood.WOJOOD_LABELS),
    ],
)
def test_mapping_tables_cover_every_tag_in_the_data(name, table):
    types = _orig_types(name)
    assert types <= set(table), types - set(table)
    if name != "newsfane":  # NewsFANE uses a subset of the FANE types
        assert types == set(table), set(table) - types


_MATCH_DROP = re.compile(r"[\s\u0640\u064b-\u0652\u0670]")
_MATCH_MAP = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})


def _key(words: list[str]) -> str:
    return _MATCH_DROP.sub("", "".join(words)).translate(_MATCH_MAP)


@pytest.mark.corpus
def test_newsfane_train_holds_no_camel_test_sentence():
    official = _read_official_test(require_corpus("anercorp", "ANERCorp_CamelLab_test.txt"))
    camel = "|".join(_key([w for w, _ in sent]) for sent in official)
    dd = corpus("newsfane")
    # Sentence edges are left out: the two corpora cut sentences differently, and the CAMeL file
    # rewrote its sentence-initial words.
    leaked = [
        row["id"]
        for split in ("train", "validation")
        for row in dd[split]
        if len(k := _key(row["words"][2:-2])) >= 40 and k in camel
    ]
    assert leaked == []
    found = sum(1 for row in dd["test"] if len(k := _key(row["words"][2:-2])) >= 40 and k in camel)
    assert found >= 0.5 * dd["test"].num_rows


@pytest.mark.corpus
def test_aqmar_documents_are_articles_and_splits_follow_the_lists():
    dd = corpus("aqmar")
    docs = {split: {d.split(":", 1)[1] for d in ds["doc_id"]} for split, ds in dd.items()}
    assert docs["validation"] == set(aqmar.AQMAR_VALIDATION)
    assert docs["test"] == set(aqmar.AQMAR_TEST)
    files = {p.stem for p in require_corpus("aqmar", "articles").glob("*.txt")}
    assert docs["train"] == files - docs["validation"] - docs["test"]


@pytest.mark.corpus
def test_saudinewsnet_rows_are_the_json_articles():
    folder = require_corpus("saudinewsnet")
    ds = corpus("saudinewsnet")["train"]
    expected: dict[str, list] = {name: [] for name in saudinewsnet.FEATURES}
    for zpath in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(zpath) as zf:
            articles = json.loads(zf.read(f"{zpath.stem}.json"))
        for i, art in enumerate(articles):
            expected["doc_id"].append(f"snn-{zpath.stem}-{i:04d}")
            for k in saudinewsnet.ARTICLE_FIELDS:
                expected[k].append(art[k])
            expected["zip_file"].append(zpath.name)
            expected["index"].append(i)
    got = ds.to_dict()
    for name, values in expected.items():
        assert got[name] == values, name
    assert len(set(got["doc_id"])) == ds.num_rows


@pytest.mark.corpus
def test_corpus_stats_add_up():
    dd = corpus("wojood")
    stats = corpus_stats(dd)
    for split, ds in dd.items():
        s = stats[split]
        assert s["sentences"] == ds.num_rows
        assert s["tokens"] == sum(len(w) for w in ds["words"])
        assert s["spans"] == {
            lab: n for lab in LABELS if (n := sum(t == f"B-{lab}" for tags in ds["tags"] for t in tags))
        }


# --------------------------------------------------------------------------- made-up inputs


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_malformed_line_error_names_file_and_line(tmp_path):
    path = _write(tmp_path / "x.txt", "قال O\nالوزير O\nبلا_وسم\n")
    with pytest.raises(CorpusError, match=re.escape(f"{path}:3")):
        read_two_column(read_text_file(path), "x", " ")


def test_empty_word_with_entity_tag_is_an_error(tmp_path):
    path = _write(tmp_path / "x.txt", "قال O\n\u200f B-LOC\n")
    with pytest.raises(CorpusError, match=re.escape(f"{path}:2")):
        read_two_column(read_text_file(path), "x", " ")


def test_unknown_tag_error_names_file_line_and_table(tmp_path):
    path = _write(tmp_path / "x.txt", "زار O\nالرئيس O\nدمشق B-CITY\n")
    sentences, _ = read_two_column(read_text_file(path), "x", " ")
    with pytest.raises(CorpusError, match=re.escape(f"{path}:3")) as err:
        map_flat_iob(sentences[0], anercorp.ANERCORP_LABELS, "ANERCORP_LABELS")
    assert "B-CITY" in str(err.value) and "ANERCORP_LABELS" in str(err.value)


def test_malformed_iob_prefix_is_an_error():
    sent = Sentence("x", "made-up.txt", ["كلمة"], ["X-PERS"], [7])
    with pytest.raises(CorpusError, match="made-up.txt:7"):
        map_flat_iob(sent, anercorp.ANERCORP_LABELS, "t")


def test_broken_iob_is_repaired_and_counted():
    sent = Sentence(
        "x",
        "f",
        ["أ", "ب", "ج", "د", "ه", "و"],
        ["O", "I-PERS", "I-PERS", "B-MISC", "I-LOC", "I-MISC"],
        list(range(6)),
    )
    tags, counts = map_flat_iob(sent, anercorp.ANERCORP_LABELS, "t")
    assert tags == ["O", "B-PER", "I-PER", "O", "B-LOC", "O"]
    assert (counts.broken_i, counts.repaired) == (3, 2)


def test_missing_corpus_names_path_and_setting(tmp_path):
    with pytest.raises(CorpusNotFoundError) as err:
        load_corpus("wojood", tmp_path)
    assert str(tmp_path / "wojood-sample" / "train.txt") in str(err.value)
    assert "HASILA_DATA" in str(err.value)
    assert isinstance(err.value, FileNotFoundError)


def test_unknown_corpus_name():
    with pytest.raises(ValueError, match="anercorp"):
        load_corpus("conll2003")


def _made_up_words(n: int) -> list[str]:
    """Distinct made-up words (letters only), so that any stretch of them is unique."""
    letters = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    return [letters[i % 28] + letters[(i // 28) % 28] + letters[(i // 784) % 28] + "ون" for i in range(n)]


def test_anercorp_split_anchors_on_the_official_file(tmp_path):
    w = _made_up_words(60)
    # the part before the official test: U+200F noise, a bullet, a lone-U+200F line
    train_lines = [
        f"{w[0]} B-PERS",
        f"{w[1]} I-PERS",
        f"\u200f{w[2]}\u200f O",
        "\u2022 O",
        f"{w[3]} O",
        "\u200f O",
        f"{w[4]} B-LOC",
        ". O",
        ". O",
        f"{w[5]} B-ORG",
        f"{w[6]} O",
        f"{w[7]} O",
    ]
    test_sents = [
        [(w[10 + i], "O") for i in range(8)] + [(".", "O")],
        [(w[20], "B-LOC")] + [(w[21 + i], "O") for i in range(10)] + [(".", "O")],
    ]
    full_lines = train_lines + [f"{x} {t}" for s in test_sents for x, t in s]
    # The official file replaces the first word of its second sentence, as the real one does.
    official = [list(s) for s in test_sents]
    official[1][0] = (w[50], "I-PERS")
    _write(tmp_path / "anercorp" / "ANERCorp.txt", "\n".join(full_lines))
    _write(tmp_path / "anercorp" / "ANERCorp_CamelLab_test.txt",
           "\n\n".join("\n".join(f"{x} {t}" for x, t in s) for s in official))  # fmt: skip
    dd = load_corpus("anercorp", tmp_path)
    assert [r["words"] for r in dd["test"]] == [[x for x, _ in s] for s in official]
    assert dd["test"][1]["tags"][0] == "B-PER"  # I- at sentence start repaired
    assert dd["test"][1]["orig_tags"][0] == "I-PERS"
    train_words = [x for split in ("train", "validation") for r in dd[split] for x in r["words"]]
    assert train_words == [w[0], w[1], w[2], ".", w[3], w[4], ".", ".", w[5], w[6], w[7]]
    # sentences end after runs of "." (the bullet became one); the validation split is the last 10%
    assert [r["words"] for r in dd["train"]] == [[w[0], w[1], w[2], "."], [w[3], w[4], ".", "."]]
    assert [r["words"] for r in dd["validation"]] == [[w[5], w[6], w[7]]]
    assert dd["train"][0]["tags"] == ["B-PER", "I-PER", "O", "O"]
    assert "1 empty words dropped" in dd["test"].info.description
    assert (
        "1 word and 1 tag mismatches, at 1 sentence-initial positions and 0 elsewhere"
        in dd["test"].info.description
    )


def test_anercorp_period_inside_a_name_does_not_end_the_sentence():
    toks = [anercorp.Token(x, t, i) for i, (x, t) in enumerate(
        [("أ", "B-PERS"), (".", "I-PERS"), ("ب", "I-PERS"), (".", "O"), ("قال", "O")])]  # fmt: skip
    sents = anercorp.split_after_periods(toks, "d", "f")
    assert [s.words for s in sents] == [["أ", ".", "ب", "."], ["قال"]]


def test_anchor_survives_a_changed_first_word():
    w = _made_up_words(50)
    full = [anercorp.Token(x, "O", i) for i, x in enumerate(w[:40])]
    test = [Sentence("t", "f", w[20:40], ["O"] * 20, list(range(20)))]
    test[0].words[0] = w[45]  # sentence-initial: ignored
    test[0].words[1] = w[46]  # the first word the anchor is probed with
    assert anercorp.find_test_anchor(full, test) == 20


def test_anercorp_unanchorable_test_file_is_an_error(tmp_path):
    w = _made_up_words(30)
    _write(tmp_path / "anercorp" / "ANERCorp.txt", "\n".join(f"{x} O" for x in w[:20]))
    _write(tmp_path / "anercorp" / "ANERCorp_CamelLab_test.txt", "\n".join(f"{x} O" for x in w[20:]))
    with pytest.raises(CorpusError, match="cannot anchor"):
        load_corpus("anercorp", tmp_path)


def _fane_file(sentences: list[list[tuple[str, str]]]) -> bytes:
    """FANE layout: BOM, CRLF, U+200E before words, a lone tab between sentences."""
    lines = []
    for i, sent in enumerate(sentences):
        if i:
            lines.append("\t")
        lines += [f"\u200e{x}\t{t}" for x, t in sent]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _write_fane_zip(data_dir: Path, news: bytes, wiki: bytes) -> None:
    zpath = data_dir / fane.ZIP_FILE
    zpath.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(fane.NEWS_MEMBER, news)
        zf.writestr(fane.WIKI_MEMBER, wiki)


def test_fane_reads_bom_crlf_lrm_and_maps_types(tmp_path):
    w = _made_up_words(40)
    wiki = [[(w[i], "B-Politician"), (w[i + 10], "I-Politician"), (w[i + 20], "B-Group"), (w[i + 30], "B-Nation")]
            for i in range(10)]  # fmt: skip
    _write_fane_zip(tmp_path, _fane_file([[(w[0], "O")]]), _fane_file(wiki))
    dd = load_corpus("wikifane", tmp_path)
    assert [dd[s].num_rows for s in dd] == [8, 1, 1]
    row = dd["train"][0]
    assert row["words"] == [w[0], w[10], w[20], w[30]]
    assert row["tags"] == ["B-PER", "I-PER", "O", "B-LOC"]
    assert row["orig_tags"] == ["B-Politician", "I-Politician", "B-Group", "B-Nation"]


def test_fane_unknown_type_names_zip_member_and_line(tmp_path):
    w = _made_up_words(5)
    _write_fane_zip(
        tmp_path, _fane_file([[(w[0], "O")]]), _fane_file([[(w[1], "O")], [(w[2], "B-Spaceship")]])
    )
    with pytest.raises(CorpusError, match=re.escape(f"{fane.WIKI_MEMBER}:3")):
        load_corpus("wikifane", tmp_path)


def test_newsfane_test_split_is_the_camel_test_text(tmp_path):
    w = _made_up_words(80)
    camel = [[(w[i], "O") for i in range(10, 25)], [(w[i], "O") for i in range(25, 40)]]
    _write(tmp_path / "anercorp" / "ANERCorp_CamelLab_test.txt",
           "\n\n".join("\n".join(f"{x} {t}" for x, t in s) for s in camel))  # fmt: skip
    # NewsFANE writes alef without hamza and in its own order: the CAMeL text, hamza-less, in the middle
    news = [[(w[i], "O") for i in range(40, 55)], [(w[i].replace("ا", "أ"), "O") for i in range(25, 40)],
            [(w[i], "O") for i in range(55, 70)], [(w[i], "O") for i in range(10, 25)]]  # fmt: skip
    news += [[(w[i], "O") for i in range(70 - k, 80 - k)] for k in range(10)]
    _write_fane_zip(tmp_path, _fane_file(news), _fane_file([[(w[0], "O")]]))
    dd = load_corpus("newsfane", tmp_path)
    assert [r["words"][0] for r in dd["test"]] == [news[1][0][0], news[3][0][0]]
    assert dd["train"].num_rows + dd["validation"].num_rows == len(news) - 2


def _write_aqmar(data_dir: Path, extra: dict[str, str]) -> None:
    for stem in aqmar.AQMAR_VALIDATION + aqmar.AQMAR_TEST:
        _write(data_dir / aqmar.ARTICLES_DIR / f"{stem}.txt", "كتب O\n. O\n")
    for stem, text in extra.items():
        _write(data_dir / aqmar.ARTICLES_DIR / f"{stem}.txt", text)


def test_aqmar_typos_misc_marks_and_breaks_inside_names(tmp_path):
    article = (
        "زار O\nسمير B-PER\n\nالحلبي I-PER\n\u200f O\nمعهد B-ORG\nالعلوم I--ORG\nبعد IO\n"
        "الفيزياء B-MIS1`\n. O\n\nثم O\nقال I-LOC\n"
    )
    _write_aqmar(tmp_path, {"Made_Up": article})
    dd = load_corpus("aqmar", tmp_path)
    rows = [r for r in dd["train"] if r["doc_id"] == "aqmar:Made_Up"]
    assert [r["words"] for r in rows] == [
        ["زار", "سمير", "الحلبي", "معهد", "العلوم", "بعد", "الفيزياء", "."], ["ثم", "قال"]]  # fmt: skip
    assert rows[0]["tags"] == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "O", "O", "O"]
    assert rows[0]["orig_tags"][4:7] == ["I--ORG", "IO", "B-MIS1`"]
    assert rows[1]["tags"] == ["O", "B-LOC"]
    assert "1 sentence breaks inside a name removed" in dd["train"].info.description


def test_aqmar_unknown_tag_names_article_and_line(tmp_path):
    _write_aqmar(tmp_path, {"Made_Up": "زار O\nالمدينة B-TOWN\n"})
    with pytest.raises(CorpusError, match=r"Made_Up\.txt:2") as err:
        load_corpus("aqmar", tmp_path)
    assert "AQMAR_LABELS" in str(err.value)


def _write_wojood(data_dir: Path, train: str) -> None:
    _write(data_dir / "wojood-sample" / "train.txt", train)
    for name in ("val.txt", "test.txt"):
        _write(data_dir / "wojood-sample" / name, "في O\nحمص B-GPE\n")


def test_wojood_keeps_the_outermost_known_entity(tmp_path):
    _write_wojood(
        tmp_path,
        "رئيس B-OCC\nبلدية I-OCC B-ORG\nمدينة I-OCC I-ORG\nحمص I-OCC I-ORG B-GPE\n"
        "يوم B-DATE\nالسبت I-DATE\n\n"
        "وصل O\nالمدير B-OCC\nعلي I-OCC B-PERS\n"  # PERS inside OCC: kept
        "حسن I-PERS\n$#$ O\n\nمطار I-FAC\nحلب I-FAC B-GPE\n",  # I- at sentence start
    )
    dd = load_corpus("wojood", tmp_path)
    rows = list(dd["train"])
    assert rows[0]["tags"] == ["O", "B-ORG", "I-ORG", "I-ORG", "B-DATE", "I-DATE"]
    assert rows[0]["orig_tags"][3] == "I-OCC I-ORG B-GPE"
    assert rows[1]["tags"] == ["O", "O", "B-PER", "I-PER", "O"]
    assert rows[2]["tags"] == ["B-LOC", "I-LOC"]
    desc = dd["train"].info.description
    assert "1 I- tags not continuing an entity" in desc
    assert "2 such entities dropped inside a kept one" in desc  # the GPEs inside the ORG and the FAC


def test_wojood_unknown_type_names_file_and_line(tmp_path):
    _write_wojood(tmp_path, "في O\nحمص B-CITY\n")
    with pytest.raises(CorpusError, match=r"train\.txt:2"):
        load_corpus("wojood", tmp_path)


def _write_snn(folder: Path, name: str, articles) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / name, "w") as zf:
        zf.writestr(name.replace(".zip", ".json"), json.dumps(articles, ensure_ascii=False))


def test_saudinewsnet_made_up_zip(tmp_path):
    art = {"source": "made-up", "url": "http://example.org/1", "date_extracted": "2015-08-02 10:00:00",
           "title": "عنوان", "author": "", "content": " سطر أول\nسطر ثان  "}  # fmt: skip
    _write_snn(tmp_path / "saudinewsnet", "2015-08-02.zip", [art, {**art, "url": "http://example.org/2"}])
    ds = load_corpus("saudinewsnet", tmp_path)["train"]
    assert ds["doc_id"] == ["snn-2015-08-02-0000", "snn-2015-08-02-0001"]
    assert ds[0]["content"] == art["content"]
    assert (ds[1]["zip_file"], ds[1]["index"], ds[1]["url"]) == ("2015-08-02.zip", 1, "http://example.org/2")
    assert corpus_stats(load_corpus("saudinewsnet", tmp_path)) == {
        "train": {"articles": 2, "docs": 2, "chars": 2 * len(art["content"])}
    }


def test_saudinewsnet_bad_article_names_zip_and_index(tmp_path):
    good = dict.fromkeys(saudinewsnet.ARTICLE_FIELDS, "x")
    _write_snn(tmp_path / "saudinewsnet", "2015-08-03.zip", [good, {**good, "content": None}])
    with pytest.raises(CorpusError, match=r"2015-08-03\.zip!2015-08-03\.json: article 1"):
        load_corpus("saudinewsnet", tmp_path)
