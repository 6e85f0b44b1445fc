"""Annotation tooling: the stand-off gold store, quote import, and the Label Studio round trip.

See ``annotations/FORMAT.md`` for the store format.
"""
