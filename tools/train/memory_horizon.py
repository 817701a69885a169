"""How long can each Mamba state of a trained model hold something, while it reads passkey filler?

A passkey needle D tokens back reaches the answer only through the Mamba states (the SWA layers
see 512 keys). Between the needle and the question every state h[c, n] of a Mamba layer is
multiplied, token after token, by exp(dt[t, c] * A[c, n]) (model-spec: A < 0, dt = softplus(...)
> 0, both chosen by the model from what it reads). So what the needle wrote into h[c, n] is still
there, D tokens later, times

    retention(c, n, D) = exp(A[c, n] * sum of dt[t, c] over those D tokens),

whatever else the filler adds. This reads the model's dt on the filler itself (the filler is one
group of sentences repeated, so dt settles into the same period), averages it over whole periods
after a warm-up, and reports per Mamba layer how many of its d_inner x d_state states keep at least
a given share after 64K, 128K and 256K tokens, and the longest 1/e horizon. It is a necessary
condition only: a state that keeps the needle must also have been written by it and be read out
at the question.

    /usr/bin/python3 tools/train/memory_horizon.py --model resources/models/samba-lens-default \\
        --passkey .device-carry/data/passkey.json.xz [--tokens 4096]

CPU, fp32 (torch), a few seconds.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import load_model_folder  # noqa: E402
from passkey import PasskeyBuilder  # noqa: E402
from samba_model import Samba  # noqa: E402
from selective_scan import selective_scan  # noqa: E402

DISTANCES = (65536, 131072, 262144)
SHARES = (0.5, 0.1)


def dt_on(model, ids):
    """Per Mamba layer, in block order: (dt [T, d_inner], A [d_inner, d_state]) while reading ids."""
    seen = []

    def capture(u, delta, A, Bm, Cm):
        seen.append((delta[0].detach().clone(), A.detach().clone()))
        return selective_scan(u, delta, A, Bm, Cm)

    model.set_scan(capture)
    with torch.no_grad():
        model(torch.tensor([ids], dtype=torch.long))
    return seen


def mean_log_decay(dt, A, start, period):
    """Per (c, n): the mean of dt[t, c] * A[c, n] over whole periods from `start` (< 0)."""
    whole = (dt.shape[0] - start) // period * period
    if whole <= 0:
        raise ValueError("not one whole period of filler after the warm-up")
    return dt[start:start + whole].mean(dim=0)[:, None] * A


def retention(log_decay, distance):
    """Share of a state left after `distance` tokens at that mean log-decay per token."""
    return torch.exp(log_decay * distance)


def report(layers, start, period, block_of):
    lines = ["| Mamba block | states | " + " | ".join(
        f"keep ≥ {s:g} after {d // 1024}K" for d in DISTANCES for s in SHARES) +
        " | longest 1/e horizon | median |",
        "|---|---|" + "---|" * (len(DISTANCES) * len(SHARES)) + "---|---|"]
    for i, (dt, A) in enumerate(layers):
        ld = mean_log_decay(dt, A, start, period)
        counts = [int((retention(ld, d) >= s).sum()) for d in DISTANCES for s in SHARES]
        horizon = (-1.0 / ld.clamp(max=-1e-30)).flatten()
        lines.append(f"| {block_of[i]} | {ld.numel()} | " + " | ".join(str(c) for c in counts) +
                     f" | {human(horizon.max().item())} | {human(horizon.median().item())} |")
    return "\n".join(lines)


def human(tokens):
    if tokens >= 1e6:
        return f"{tokens / 1e6:.1f}M"
    if tokens >= 1e3:
        return f"{tokens / 1e3:.0f}K"
    return f"{tokens:.0f}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="model folder (config.json, model.safetensors)")
    p.add_argument("--passkey", required=True, help="passkey.json.xz written by prepare_data.py")
    p.add_argument("--tokens", type=int, default=4096, help="filler tokens to read")
    p.add_argument("--warmup", type=int, default=1024, help="filler tokens before the average starts")
    args = p.parse_args(argv)

    cfg, state = load_model_folder(args.model)
    model = Samba(cfg)
    model.load_state_dict(state)
    model.eval()
    builder = PasskeyBuilder(args.passkey)
    if not builder.period:
        raise SystemExit("memory_horizon: the stored filler has no period")
    ids = builder.header + [builder.newline] + builder.filler_ids(args.tokens)
    start = len(ids) - args.tokens + args.warmup
    layers = dt_on(model, ids)
    block_of = [i for i in range(cfg.n_layer) if cfg.is_mamba(i)]
    print(f"{os.path.basename(os.path.normpath(args.model))}: {args.tokens} filler tokens "
          f"(period {builder.period}), dt averaged over whole periods after {args.warmup}")
    print(report(layers, start, builder.period, block_of))


if __name__ == "__main__":
    main()
