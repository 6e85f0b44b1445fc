"""Letter folding: the spelling variants Arabic news mixes freely, folded one letter for one
(offsets are kept), so that «إصابة», «اصابه» and «أصابة» meet."""

from __future__ import annotations

# What ``fold_letters`` folds: the text the rules read (``fold_letters(norm.text)``), actor and
# place names, cue patterns.
FOLDS: dict[str, str] = {
    "\u0623": "\u0627",  # أ
    "\u0625": "\u0627",  # إ
    "\u0622": "\u0627",  # آ
    "\u0671": "\u0627",  # ٱ
    "\u0672": "\u0627",  # ٲ
    "\u0673": "\u0627",  # ٳ
    "\u0649": "\u064a",  # ى
    "\u0629": "\u0647",  # ة
    "\u06cc": "\u064a",  # ی
    "\u06a9": "\u0643",  # ک
}

# The keys of number words (``quantity``) fold one letter more (ۀ → ه) and two fewer (ٲ ٳ stay):
# kept as they have always been read.
QUANTITY_FOLDS: dict[str, str] = (
    {k: v for k, v in FOLDS.items() if k not in ("\u0672", "\u0673")} | {"\u06c0": "\u0647"}  # ۀ → ه
)


def fold_letters(text: str) -> str:
    """أ إ آ ٱ → ا, ى → ي, ة → ه, ی → ي, ک → ك (one character for one: offsets are kept)."""
    for letter, folded in FOLDS.items():  # str.replace per letter: faster than translate
        text = text.replace(letter, folded)
    return text
