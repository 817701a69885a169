"""Markdown table comparing training runs from their metrics.json (compare_swa.sh).

    python3 tools/train/compare_table.py LABEL=RUN/metrics.json [LABEL=RUN/metrics.json ...]

One row per run: blocks, parameters, tokens seen, training seconds, tokens/s,
held-out loss / perplexity / bits per byte, the passkey probe per prompt length
(share of trials correct over all depths), the probe restricted to needles
outside the attention window, and which scan trained it. A run whose metrics
are missing or whose evaluation failed gets a row that says so, not a crash.
"""
import json
import os
import sys


def _fmt_int(v):
    return f"{v:,}" if isinstance(v, int) else "?"


def _probe_by_length(grid):
    by_length = {}
    for key, share in grid.items():
        length = int(key.split("/")[0])
        by_length.setdefault(length, []).append(share)
    parts = []
    for length in sorted(by_length):
        shares = by_length[length]
        label = f"{length // 1024}K" if length % 1024 == 0 else str(length)
        parts.append(f"{label} {100 * sum(shares) / len(shares):.0f}%")
    return " · ".join(parts) if parts else "—"


def row(label, path):
    if not os.path.exists(path):
        return f"| {label} | no metrics ({path} missing: the run failed, see its log) |" + " — |" * 10
    with open(path, encoding="utf-8") as f:
        m = json.load(f)
    cfg, run = m.get("config", {}), m.get("run", {})
    mamba = m.get("mamba_blocks")
    blocks = f"{mamba} Mamba + {cfg.get('n_layer', 0) - mamba} SWA" if isinstance(mamba, int) else "?"
    held = m.get("held_out")
    if held:
        loss, ppl, bpb = f"{held['loss']:.3f}", f"{held['perplexity']:.2f}", f"{held['bits_per_byte']:.3f}"
    else:
        loss = ppl = bpb = "failed: " + m.get("evaluation_error", "no evaluation")[:60]
    probe = _probe_by_length(m.get("passkey_probe", {}))
    far = m.get("passkey_probe_beyond_window")
    far_text = f"{far['correct']}/{far['trials']} (window {far['window']})" if far else "—"
    seconds, rate = run.get("seconds"), run.get("tokens_per_second")
    seconds = f"{seconds:.0f}" if isinstance(seconds, (int, float)) else "?"
    rate = f"{rate:,.0f}" if isinstance(rate, (int, float)) else "?"
    return (f"| {label} | {blocks} | {_fmt_int(m.get('parameters'))} | {_fmt_int(run.get('tokens'))} | "
            f"{seconds} | {rate} | {loss} | {ppl} | {bpb} | {probe} | {far_text} | {run.get('scan', '?')} |")

def table(runs):
    lines = ["| run | blocks | parameters | tokens seen | train s | tok/s | held-out loss | held-out ppl "
             "| bits/byte | passkey probe (all depths) | passkey, needle beyond window | scan |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [row(label, path) for label, path in runs]
    return "\n".join(lines)


def main(argv):
    runs = []
    for arg in argv:
        label, sep, path = arg.partition("=")
        if not sep or not label or not path:
            raise SystemExit(f"compare_table: arguments are LABEL=PATH/metrics.json, got {arg!r}")
        runs.append((label, path))
    if not runs:
        raise SystemExit("usage: compare_table.py LABEL=RUN/metrics.json [...]")
    print(table(runs))


if __name__ == "__main__":
    main(sys.argv[1:])
