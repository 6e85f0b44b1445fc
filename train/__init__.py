"""Training-side tooling: corpora, annotation store and Label Studio, base encoder, training
and evaluation. Depends on :mod:`hasila.infer`; the runtime never imports from here."""
