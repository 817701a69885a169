"""Next-token loss over long rows without holding every token's logits.

The head turns each token's 384 hidden values into 12,000 logits: at a 256K-token
row the logits (bf16), their fp32 copy and cross-entropy's saved log-softmax take
~120 KB a token, ~31 GB, more than the whole model's other activations. Here the
head and the loss run over slices of SLICE tokens, each under activation
checkpointing, so backward recomputes a slice's logits when it needs them and only
one slice's logits exist at a time. The sum is the same loss (up to the order of
floating-point additions) with the same gradients.
"""
import torch
import torch.nn.functional as F
import torch.utils.checkpoint

SLICE = 16384


def _slice_loss_sum(model, hidden, targets, weights):
    logits = model.head(hidden)
    per_token = F.cross_entropy(logits.float(), targets, reduction="none")
    return (per_token * weights).sum()


def weighted_token_loss(model, hidden, targets, weights, slice_tokens=SLICE):
    """sum(w * CE(head(hidden), y)) / sum(w) over all tokens; hidden [B,T,d], targets and
    weights [B,T]. Differentiable with respect to hidden and the head's weight."""
    hidden = hidden.reshape(-1, hidden.shape[-1])
    targets = targets.reshape(-1)
    weights = weights.reshape(-1).to(torch.float32)
    total = hidden.new_zeros((), dtype=torch.float32)
    for start in range(0, hidden.shape[0], slice_tokens):
        part = slice(start, start + slice_tokens)
        if torch.is_grad_enabled():
            total = total + torch.utils.checkpoint.checkpoint(
                _slice_loss_sum, model, hidden[part], targets[part], weights[part], use_reentrant=False)
        else:
            total = total + _slice_loss_sum(model, hidden[part], targets[part], weights[part])
    return total / weights.sum()


@torch.no_grad()
def token_loss_sum(model, hidden, targets, slice_tokens=SLICE):
    """sum of CE(head(hidden), y) over all tokens (evaluation), slice by slice."""
    hidden = hidden.reshape(-1, hidden.shape[-1])
    targets = targets.reshape(-1)
    total = 0.0
    for start in range(0, hidden.shape[0], slice_tokens):
        part = slice(start, start + slice_tokens)
        logits = model.head(hidden[part])
        total += F.cross_entropy(logits.float(), targets[part], reduction="sum").item()
    return total
