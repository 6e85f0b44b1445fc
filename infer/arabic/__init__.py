"""The Arabic word layer: what the rule modules know about Arabic words, apart from their logic.

* :mod:`~hasila.infer.arabic.letters`: letter folding (أ إ آ → ا, ى → ي, ة → ه …), one letter for
  one so that offsets stay valid;
* :mod:`~hasila.infer.arabic.clitics`: proclitics and enclitics as *named sets* — each caller
  keeps the set it has always stripped (an actor name and a number word do not take the same
  ones) — and the helpers that strip them;
* :mod:`~hasila.infer.arabic.words`: word lists kept in resource files
  (``infer/resources/words/*.txt``) and cue patterns built from them (``cue``, ``alternation``).
"""

from hasila.infer.arabic.clitics import CLITICS, clitic_prefix, strip_first, strip_towards
from hasila.infer.arabic.letters import FOLDS, QUANTITY_FOLDS, fold_letters
from hasila.infer.arabic.words import alternation, cue, word_list, word_set

__all__ = ["CLITICS", "FOLDS", "QUANTITY_FOLDS", "alternation", "clitic_prefix", "cue", "fold_letters",
           "strip_first", "strip_towards", "word_list", "word_set"]
