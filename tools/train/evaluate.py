"""Evaluation run at the end of each training run, in PyTorch (the engine's own
evaluation, issue 5's passkey grid to 256K, needs the engine and comes later).

- Held-out perplexity: mean next-token loss over the validation documents
  (documents never trained on), in windows of the training length; also bits
  per byte, which does not depend on the tokenizer.
- Passkey probe: for each (length, depth) a few prompts; a trial counts as
  correct when greedy decoding reproduces " K." exactly. Checked in one
  forward pass by teacher forcing: greedy output equals the answer iff the
  argmax at every answer position is the answer's next token.
- Samples: greedy continuations of held-out summary / code-question prompts.
"""
import math

import torch

from token_loss import token_loss_sum


@torch.no_grad()
def held_out_loss(model, tokens, seq_len, max_tokens, device, autocast):
    model.eval()
    total, count = 0.0, 0
    usable = min(tokens.numel() - 1, max_tokens)
    for start in range(0, usable - 1, seq_len):
        end = min(start + seq_len, usable)
        x = tokens[start:end].unsqueeze(0).to(device)
        y = tokens[start + 1:end + 1].unsqueeze(0).to(device)
        with autocast():
            total += token_loss_sum(model, model.hidden(x), y)  # slice by slice: no full-row logits
        count += y.numel()
    model.train()
    mean = total / max(count, 1)
    return {"tokens": count, "loss": mean, "perplexity": math.exp(mean)}


def passkey_probe(model, builder, lengths, depths, trials, device, autocast, seed=7):
    """{"length/depth": share of trials correct}."""
    return passkey_probe_trials(model, builder, lengths, depths, trials, device, autocast, seed)[0]


@torch.no_grad()
def passkey_probe_trials(model, builder, lengths, depths, trials, device, autocast, seed=7):
    """(grid as passkey_probe, one record per trial: length, depth, needle distance, correct)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    grid, records = {}, []
    for length in lengths:
        for depth in depths:
            correct = 0
            for _ in range(trials):
                key = int(torch.randint(1, builder.max_key + 1, (1,), generator=gen).item())
                prompt, answer = builder.prompt(length, depth, key), builder.answer(key)
                ids = torch.tensor(prompt + answer, dtype=torch.int64, device=device).unsqueeze(0)
                with autocast():  # logits of the answer positions only
                    logits = model.head(model.hidden(ids[:, :-1])[:, len(prompt) - 1:])
                predicted = logits[0].argmax(-1).tolist()
                hit = predicted == answer
                correct += int(hit)
                before = int(round(depth * builder.filler_length(length, key)))
                records.append({"length": length, "depth": depth, "correct": hit,
                                "needle_distance": builder.needle_distance(length, before, key)})
            grid[f"{length}/{depth:.2f}"] = correct / trials
    model.train()
    return grid, records


def beyond_window_summary(records, window):
    """Correct / total over the probe trials whose needle lay outside the attention window."""
    far = [r for r in records if r["needle_distance"] >= window]
    return {"window": window, "trials": len(far), "correct": sum(r["correct"] for r in far)}


@torch.no_grad()
def greedy(model, prompt, max_new, eos, device, autocast):
    model.eval()
    ids = list(prompt)
    out = []
    for _ in range(max_new):
        x = torch.tensor(ids, dtype=torch.int64, device=device).unsqueeze(0)
        with autocast():
            nxt = int(model.head(model.hidden(x)[:, -1]).argmax().item())
        if nxt == eos:
            break
        out.append(nxt)
        ids.append(nxt)
    model.train()
    return out
