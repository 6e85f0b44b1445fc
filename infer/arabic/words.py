"""Word lists (``infer/resources/words/NAME.txt``) and the cue patterns built from them.

A list file holds words separated by spaces or new lines, in the order the patterns try them;
``#`` starts a comment and ``_`` joins the words of one entry («قطاع_غزة»). Words are written in
ordinary spelling: :func:`word_set` and :func:`cue` fold them like the text they are matched on.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from hasila.infer.arabic.letters import fold_letters


@lru_cache(maxsize=None)
def word_list(name: str) -> tuple[str, ...]:
    """The words of ``resources/words/NAME.txt``, in file order."""
    ref = resources.files("hasila.infer.resources") / "words" / f"{name}.txt"
    words: list[str] = []
    for line in ref.read_text(encoding="utf-8").splitlines():
        words.extend(w.replace("_", " ") for w in line.split("#", 1)[0].split())
    return tuple(words)


def word_set(name: str, key=fold_letters) -> frozenset[str]:
    """The words of a list under ``key`` (folded letters by default)."""
    return frozenset(key(w) for w in word_list(name))


def alternation(name: str) -> str:
    """The words of a list as one regular-expression group, in file order: ``(?:w1|w2|…)``."""
    return "(?:" + "|".join(r"\s+".join(map(re.escape, w.split())) for w in word_list(name)) + ")"


def cue(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A cue pattern written in ordinary spelling, folded like the text it is matched on
    (``fold_letters(norm.text)``)."""
    return re.compile(fold_letters(pattern), flags)
