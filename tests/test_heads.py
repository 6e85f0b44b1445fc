"""Structure heads (infer/heads.py, infer/structure.py, train/heads.py): they save beside the
tagger and load by default, the pipeline uses them (rule ids H-role, H-arg), the tagger alone
still loads through transformers.pipeline, and a folder without heads runs the rules only."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from hasila.infer.heads import (
    ARG_LABELS,
    HEADS_CONFIG,
    HEADS_WEIGHTS,
    N_PAIR_SCALARS,
    N_ROLE_SCALARS,
    ROLES,
    DocView,
    StructureHeads,
    candidates_for,
    pair_features,
    role_features,
    save_heads,
)
from hasila.infer.types import Entity, Span
from tiny_model import build_tiny_model

TEXT = "أفاد المرصد السوري بمقتل 35 عنصرا من قوات النظام في بادية حمص يوم السبت . وقتل 35 عنصرا في الهجوم ."


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "m", train_steps=30)


def _heads_tensors(hidden: int, role_bias: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Heads whose output is decided by their bias: every figure gets ROLES[role_bias]."""
    rng = np.random.default_rng(seed)
    t = {}
    for name, d_in, n_out, bias in (("role", 3 * hidden + N_ROLE_SCALARS, len(ROLES), role_bias),
                                     ("arg", 4 * hidden + N_PAIR_SCALARS, len(ARG_LABELS), 1)):
        b2 = np.zeros(n_out, dtype=np.float32)
        b2[bias] = 50.0
        t.update({f"{name}.w1": rng.normal(0, 0.01, (d_in, 8)).astype(np.float32), f"{name}.b1": np.zeros(8, np.float32),
                  f"{name}.w2": rng.normal(0, 0.01, (8, n_out)).astype(np.float32), f"{name}.b2": b2,
                  f"{name}.mean": np.zeros(d_in, np.float32), f"{name}.std": np.ones(d_in, np.float32)})
    return t


def _config(hidden: int, drop: float, fields: dict) -> dict:
    return {"roles": list(ROLES), "arg_labels": list(ARG_LABELS), "hidden_size": hidden, "drop_threshold": drop, "fields": fields}


def _with_heads(tiny, tmp_path, role: str, drop: float = 0.5, fields: dict | None = None):
    d = tmp_path / "with-heads"
    shutil.copytree(tiny, d)
    hidden = json.loads((d / "config.json").read_text())["hidden_size"]
    save_heads(d, _heads_tensors(hidden, ROLES.index(role)), _config(hidden, drop, fields or {}))
    return d


def test_a_folder_without_heads_has_none(tiny):
    assert StructureHeads.load(tiny) is None


def test_heads_save_and_load_and_predict(tiny, tmp_path):
    d = _with_heads(tiny, tmp_path, "cumulative")
    assert (d / HEADS_WEIGHTS).is_file() and (d / HEADS_CONFIG).is_file()
    heads = StructureHeads.load(d)
    view = DocView(np.random.default_rng(0).normal(size=(5, heads.hidden_size)).astype(np.float32),
                   [(0, 4), (5, 7), (8, 12), (13, 16), (17, 20)], [(0, 20)])
    text = "قتلى 35 جريحا في حمص"
    fig = Entity("KILLED", Span.of(text, 5, 7))
    loc = Entity("LOC", Span.of(text, 17, 20))
    guesses = heads.figure_roles(view, text, [fig, loc])
    assert [g.role for g in guesses] == ["cumulative"] and guesses[0].probability > 0.99
    assert heads.dropped_figures(guesses) == {(5, 7)}
    assert candidates_for(view, fig, [fig, loc]) == [loc]
    assert pair_features(view, fig, [loc]).shape == (1, 4 * heads.hidden_size + N_PAIR_SCALARS)
    assert role_features(view, text, [fig]).shape == (1, 3 * heads.hidden_size + N_ROLE_SCALARS)
    assert heads.arguments(view, fig, [loc])["perpetrator"][0] == loc


def test_broken_heads_are_a_clear_error(tiny, tmp_path):
    d = _with_heads(tiny, tmp_path, "incident")
    (d / HEADS_WEIGHTS).write_bytes(b"not safetensors")
    from hasila.infer.types import HasilaError

    with pytest.raises(HasilaError, match="cannot load the structure heads"):
        StructureHeads.load(d)


def test_pipeline_uses_the_heads_by_default(tiny, tmp_path):
    import jsonschema

    from hasila.infer.pipeline import Extractor
    from hasila.infer.records import load_schema

    d = _with_heads(tiny, tmp_path, "cumulative", drop=0.5)
    with_heads = list(Extractor(str(d), device="cpu").extract(_docs()))
    rules_only = list(Extractor(str(d), device="cpu", heads=False).extract(_docs()))
    schema = load_schema()
    for rec in with_heads + rules_only:
        jsonschema.validate(rec, schema)
    assert "figure_roles" not in rules_only[0]
    roles = with_heads[0]["figure_roles"]
    figures = [e for e in with_heads[0]["entities"] if e["label"] in ("KILLED", "WOUNDED")]
    assert len(roles) == len(figures)
    # every figure called cumulative (p≈1 ≥ 0.5) is kept out by H-role: no incident from it
    assert all(r["role"] == "cumulative" and r["kept_out_by"] == "H-role" for r in roles)
    assert with_heads[0]["incidents"] == []
    assert with_heads[0]["entities"] == rules_only[0]["entities"]


def test_heads_under_the_drop_threshold_change_nothing(tiny, tmp_path):
    from hasila.infer.pipeline import Extractor

    d = _with_heads(tiny, tmp_path, "cumulative", drop=1.01)
    a = list(Extractor(str(d), device="cpu").extract(_docs()))[0]
    b = list(Extractor(str(d), device="cpu", heads=False).extract(_docs()))[0]
    assert a["incidents"] == b["incidents"]


def test_the_tagger_alone_still_loads_through_transformers_pipeline(tiny, tmp_path):
    from transformers import pipeline

    d = _with_heads(tiny, tmp_path, "incident")
    ner = pipeline("token-classification", model=str(d), device=-1)
    assert isinstance(ner("قتل 35 عنصرا في حمص"), list)


def _docs():
    from hasila.infer.inputs import InputDoc

    return [InputDoc("a", TEXT)]


def test_h_arg_never_makes_the_victim_the_perpetrator():
    """Rule H-arg: the argument head's perpetrator may not be the incident's victim (example-04:
    «قتل 35 من عناصر قوات النظام … في هجمات … لتنظيم الدولة الإسلامية»)."""
    from hasila.infer.heads import ARG_LABELS
    from hasila.infer.normalize import normalize
    from hasila.infer.structure import Structure, fill_fields
    from hasila.infer.tokenize import split_words
    from hasila.infer.types import Count, Incident, Quantity

    text = "قتل 35 من عناصر قوات النظام في هجمات لتنظيم الدولة"
    norm = normalize(text)
    words = split_words(norm.text)
    fig = Entity("KILLED", Span.of(norm.text, 4, 6))
    victim = Entity("ORG", Span.of(norm.text, text.index("قوات"), text.index("قوات") + len("قوات النظام")))
    group = Entity("ORG", Span.of(norm.text, text.index("لتنظيم"), len(text)))

    class Stub:
        config = {"fields": {"perpetrator": 0.1}}

        def field_thresholds(self):
            return {"perpetrator": 0.1}

        def argument_table(self, view, figure, entities):
            probs = np.zeros((1, len(ARG_LABELS)), dtype=np.float32)
            probs[0, ARG_LABELS.index("perpetrator")] = 0.9  # a confused head: the victim as the attacker
            return [victim], probs

        best_arguments = staticmethod(StructureHeads.best_arguments)

        def arg(self, x):
            return np.zeros((len(x), len(ARG_LABELS)), dtype=np.float32)

        def calibrated(self, what, p):
            return None

    view = DocView(np.zeros((len(words), 4), dtype=np.float32), words, [(0, len(text))])
    inc = Incident(evidence=Span.of(text, 0, len(text)), killed=Count(Span.of(text, 4, 6), Quantity(35, 35, 35, "exact")),
                   victim=Span.of(text, victim.start, victim.end), perpetrator=Span.of(text, group.start, group.end))
    out = fill_fields(Stub(), Structure(view, [], set()), norm, [inc], [fig, victim, group])
    assert out[0].perpetrator.text == "لتنظيم الدولة"  # the rule's choice stays
    assert "learned_fields" not in out[0].extra
