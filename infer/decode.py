"""From per-word BIO tags to labelled spans.

Follows the conlleval convention that seqeval also uses by default: a span starts at a
``B-X``, at an ``I-X`` after ``O`` (a missing ``B-``), and at an ``I-X`` after a word of
another label; it ends before the next word that does not continue it. The score of a span
is the mean probability of its words' tags.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from hasila.infer.types import Entity, Span


def split_tag(tag: str) -> tuple[str, str | None]:
    """``"B-LOC"`` → ``("B", "LOC")``; ``"O"`` → ``("O", None)``."""
    if tag == "O":
        return "O", None
    prefix, sep, label = tag.partition("-")
    if not sep or prefix not in ("B", "I") or not label:
        raise ValueError(f"not a BIO tag: {tag!r}")
    return prefix, label


def bio_word_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """``(label, first word, last word + 1)`` of each span in a BIO tag sequence."""
    spans: list[tuple[str, int, int]] = []
    label: str | None = None
    start = 0
    for i, tag in enumerate(tags):
        prefix, lab = split_tag(tag)
        continues = prefix == "I" and lab == label
        if label is not None and not continues:
            spans.append((label, start, i))
            label = None
        if prefix != "O" and not continues:
            label, start = lab, i
    if label is not None:
        spans.append((label, start, len(tags)))
    return spans


def decode_entities(text: str, words: Sequence[tuple[int, int]],
                    predictions: Sequence[tuple[str, float]]) -> list[Entity]:
    """Entities over ``text`` from word offsets and one ``(tag, prob)`` per word.

    Offsets are those of ``text`` (for the pipeline: the normalized text); a span runs from
    the start of its first word to the end of its last, so it keeps the text between words.
    """
    if len(words) != len(predictions):
        raise ValueError(f"{len(words)} words but {len(predictions)} predictions")
    entities = []
    for label, first, last in bio_word_spans([tag for tag, _ in predictions]):
        start, end = words[first][0], words[last - 1][1]
        score = sum(p for _, p in predictions[first:last]) / (last - first)
        entities.append(Entity(label, Span(start, end, text[start:end], min(1.0, max(0.0, score)))))
    return entities


def decode_tag_ids(text: str, words: Sequence[tuple[int, int]], tags: Sequence[str], tag_ids: np.ndarray,
                   probs: np.ndarray) -> list[Entity]:
    """``decode_entities(text, words, word_predictions(tags, tag_ids, probs))`` from the model's
    arrays (tag id -1: a word the model never saw, an «O»), visiting only the words not tagged «O»:
    most words are, and building a (tag, probability) pair for each was most of decoding."""
    if len(words) != len(tag_ids):
        raise ValueError(f"{len(words)} words but {len(tag_ids)} predictions")
    ids = np.asarray(tag_ids)
    tagged = ids >= 0
    for k, tag in enumerate(tags):
        if tag == "O":
            tagged &= ids != k
    at = np.flatnonzero(tagged).tolist()
    if not at:
        return []
    parsed = [split_tag(tag) for tag in tags]
    p = np.asarray(probs).tolist()
    entities = []
    for label, first, last in _tagged_spans(at, [parsed[t] for t in ids[at].tolist()]):
        start, end = words[first][0], words[last - 1][1]
        score = sum(p[first:last]) / (last - first)
        entities.append(Entity(label, Span(start, end, text[start:end], min(1.0, max(0.0, score)))))
    return entities


def _tagged_spans(at: Sequence[int], tags: Sequence[tuple[str, str | None]]) -> list[tuple[str, int, int]]:
    """:func:`bio_word_spans` of a tag sequence given by its words not tagged «O» (positions
    ``at``, in order, and their tags as :func:`split_tag` gives them); a gap between two
    positions is an «O»."""
    spans: list[tuple[str, int, int]] = []
    label: str | None = None
    start = prev = 0
    for i, (prefix, lab) in zip(at, tags):
        if label is not None and i != prev + 1:  # an «O» ended the span
            spans.append((label, start, prev + 1))
            label = None
        continues = prefix == "I" and lab == label
        if label is not None and not continues:
            spans.append((label, start, i))
            label = None
        if not continues:
            label, start = lab, i
        prev = i
    if label is not None:
        spans.append((label, start, prev + 1))
    return spans


def entity_to_original(norm, entity: Entity) -> Entity:
    """The same entity with offsets and text of ``norm.original`` (``norm``: NormalizedText)."""
    span = entity.span
    start, end = norm.to_original(span.start, span.end)  # offsets of the original by construction
    return Entity(entity.label, Span(start, end, norm.original[start:end], span.score))
