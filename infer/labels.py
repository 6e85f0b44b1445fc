"""The label set Hasila's model predicts (BIO over words).

Entity labels name things; count labels mark the *minimal quantity expression* of a casualty
figure («35», «ثمانية», «ضابطان», «العشرات»). See ``annotations/GUIDELINES.md``.
"""

from __future__ import annotations

ENTITY_LABELS: tuple[str, ...] = ("PER", "ORG", "LOC", "DATE")
COUNT_LABELS: tuple[str, ...] = ("KILLED", "WOUNDED")
LABELS: tuple[str, ...] = ENTITY_LABELS + COUNT_LABELS

# Fixed order so label ids never change between releases of the label set.
BIO_TAGS: tuple[str, ...] = ("O",) + tuple(f"{p}-{lab}" for lab in LABELS for p in ("B", "I"))
TAG2ID: dict[str, int] = {t: i for i, t in enumerate(BIO_TAGS)}
ID2TAG: dict[int, str] = dict(enumerate(BIO_TAGS))
