"""Clitics: the conjunctions, prepositions and article written onto Arabic words, and the
pronouns written after them.

The rule modules strip different clitics, each for its own words, and their output depends on
it: the layer names each set (:data:`CLITICS`) and every caller keeps the set it has. The sets
are ordered: the first that applies wins (longest first where that matters).
"""

from __future__ import annotations

from typing import Iterator

CLITICS: dict[str, tuple[str, ...]] = {
    # actors.bare: the keys of the actor, people and casualty word lists («وبالقوات», «للجيش»)
    "actor": ("وبال", "وال", "فال", "بال", "لل", "ال", "وب", "ول", "و", "ف", "ب", "ل"),
    # actors.actor_key: an article with what comes before it …
    "actor_name_article": ("وال", "بال", "فال", "لل", "ال"),
    # … else one letter, only before a word the key knows («لقوات», «لداعش»)
    "actor_name_letter": ("و", "ب", "ل", "ف"),
    # normalize: the surface forms of the conflict lexicon's nouns and verbs (repairing «ق. تل»)
    "noun": ("", "و", "ف", "ب", "ل", "ك", "وب", "ول", "وك", "فب", "فل", "فك",
             "ال", "وال", "فال", "بال", "كال", "لل", "وبال", "وكال", "ولل", "فبال", "فكال", "فلل"),
    "verb": ("", "و", "ف", "ل", "س", "ول", "فل", "وس", "فس"),
    "accusative": ("", "و", "ف"),  # a noun with tanween takes no article or preposition
    "enclitic": ("ه", "ها", "هما", "هم", "هن"),  # attached pronouns (after the word)
    # casualty: the conjunctions that open the next figure's clause («وإصابة», «فقتل»); and the
    # cue patterns' optional «و»/«ف» before a cue word (``clitic_prefix("conjunction")``)
    "conjunction": ("و", "ف"),
    # assembly (A7b, A6): place names compared without the article or a preposition
    "place": ("بال", "وال", "ال", "ب", "و"),
    # assembly (A9c): before a country or a direction («وبالعراق» is not needed: «وب» + «العراق»)
    "coarse_place": ("وب", "ب", "و", "ل"),
    # assembly (A7d): two tellings of a count word compared without «و» then «ال», each once
    "told_again": ("و", "ال"),
}


def strip_first(word: str, clitics: str | tuple[str, ...], min_rest: int = 1) -> str | None:
    """``word`` without the first clitic of the set it starts with that leaves at least
    ``min_rest`` letters; None when none does."""
    for p in CLITICS[clitics] if isinstance(clitics, str) else clitics:
        if word.startswith(p) and len(word) - len(p) >= min_rest:
            return word[len(p):]
    return None


def strip_towards(word: str, clitics: str | tuple[str, ...], known: frozenset[str] | set[str]) -> str | None:
    """``word`` without the first clitic of the set whose remainder is in ``known``; None if none."""
    for p in CLITICS[clitics] if isinstance(clitics, str) else clitics:
        if word.startswith(p) and word[len(p):] in known:
            return word[len(p):]
    return None


def strip_each(word: str, clitics: str | tuple[str, ...]) -> str:
    """``word`` with each clitic of the set, in order, removed once where it starts the word."""
    for p in CLITICS[clitics] if isinstance(clitics, str) else clitics:
        word = word.removeprefix(p)
    return word


def readings(word: str, clitics: str | tuple[str, ...], min_rest: int) -> list[str]:
    """``word`` itself, then ``word`` without each clitic of the set it starts with (leaving at
    least ``min_rest`` letters), in the set's order."""
    return [word] + [word[len(p):] for p in (CLITICS[clitics] if isinstance(clitics, str) else clitics)
                     if word.startswith(p) and len(word) - len(p) >= min_rest]


def strip_number_clitics(word: str) -> Iterator[tuple[str, bool, bool]]:
    """The readings of a number word (``quantity``): (stem, has_conjunction, has_article), most
    literal first — «و» first, then «ال», «لل», or one of «ب ف ك ل» with or without «ال»."""
    bases = [(word, False)]
    if word.startswith("و") and len(word) > 1:
        bases.append((word[1:], True))
    for base, conj in bases:
        yield base, conj, False
        if base.startswith("ال") and len(base) > 2:
            yield base[2:], conj, True
        if base.startswith("لل") and len(base) > 2:
            yield base[2:], conj, True
        elif base[:1] in ("ب", "ف", "ك", "ل") and len(base) > 1:
            rest = base[1:]
            if rest.startswith("ال") and len(rest) > 2:
                yield rest[2:], conj, True
            elif len(rest) >= 4:  # «لست» is not ل + ست
                yield rest, conj, False


def clitic_prefix(clitics: str | tuple[str, ...]) -> str:
    """The optional clitic before a cue word, as a regular expression: ``(?:و|ف)?``."""
    return "(?:" + "|".join(CLITICS[clitics] if isinstance(clitics, str) else clitics) + ")?"
