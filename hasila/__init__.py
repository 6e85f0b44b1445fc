"""Hasila (حصيلة, "the toll"): incidents from Arabic news about armed attacks.

The runtime lives in :mod:`hasila.infer` (no training imports); training, corpora and
annotation tooling live in :mod:`hasila.train`, which depends on ``infer`` and never the
reverse.
"""

__version__ = "0.2.0"
