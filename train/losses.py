"""Token-classification loss under partial annotation.

ANERcorp, FANE and AQMAR never tag dates or casualty counts: in them «مقتل 76 شخصا» is all O.
Trained with plain cross-entropy, the model would learn that 76 is *not* KILLED. Instead, for
a word tagged O in a corpus that does not annotate label L, the gold is the set
``{O} ∪ {B-L, I-L for every unannotated L}`` and the loss is the negative log of the
probability mass on that set (marginal likelihood over the allowed tags):

    loss = −log Σ_{t ∈ allowed} p(t) = logsumexp(all logits) − logsumexp(allowed logits)

When a word's allowed set is its single gold tag this is exactly cross-entropy; words tagged
with an entity keep their one gold tag. The gradient on an allowed tag t is
``p(t) − p(t)/P(allowed) ≤ 0``, so no probability is pushed away from the unannotated labels;
only the disallowed (annotated, non-O) tags are pushed down.
"""

from __future__ import annotations

import torch

IGNORE = -100


def allowed_tags(labels: torch.Tensor, open_tags: torch.Tensor, o_id: int = 0) -> torch.Tensor:
    """[batch, seq] gold tag ids (-100 = ignored) and [batch, num_tags] open-tag mask →
    [batch, seq, num_tags] bool mask of allowed tags (all False at ignored positions)."""
    num_tags = open_tags.shape[-1]
    valid = labels != IGNORE
    gold = torch.nn.functional.one_hot(labels.clamp(min=0), num_tags).bool() & valid.unsqueeze(-1)
    is_o = (labels == o_id).unsqueeze(-1)
    return gold | (is_o & open_tags.unsqueeze(1))


def marginal_nll(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Mean over positions with at least one allowed tag of −log Σ_{allowed} softmax(logits).

    ``logits`` [..., num_tags] (any float dtype; computed in float32), ``allowed`` bool of the
    same shape. Returns 0 (with a graph) when no position is labelled.
    """
    logits = logits.float()
    scored = allowed.any(-1)
    if not bool(scored.any()):
        return logits.sum() * 0.0
    logz = torch.logsumexp(logits, dim=-1)
    log_allowed = torch.logsumexp(logits.masked_fill(~allowed, float("-inf")), dim=-1)
    return (logz - log_allowed)[scored].mean()


def token_classification_loss(
    logits: torch.Tensor, labels: torch.Tensor, open_tags: torch.Tensor | None, mode: str, o_id: int = 0
) -> torch.Tensor:
    """``mode="marginal"``: partial-annotation loss; ``mode="as_o"``: plain cross-entropy that
    treats unannotated labels as O (the ablation baseline)."""
    if mode == "as_o" or open_tags is None:
        open_tags = torch.zeros((labels.shape[0], logits.shape[-1]), dtype=torch.bool, device=labels.device)
    elif mode != "marginal":
        raise ValueError(f"unknown missing_labels mode {mode!r}; use 'marginal' or 'as_o'")
    return marginal_nll(logits, allowed_tags(labels, open_tags, o_id))
