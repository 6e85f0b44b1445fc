"""Runtime core of Hasila: text normalization, quantity parsing, model inference, incident
assembly and records. Nothing here imports training code or needs the corpora."""
