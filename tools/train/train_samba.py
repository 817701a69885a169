"""Trains the default SAMBA model (issue 5) within a wall-clock budget per run.

One run: load the token data (prepare_data.py), build or resume the model,
train until --run-seconds have passed, then evaluate (held-out perplexity,
passkey probe, samples) and export the model folder (config.json +
model.safetensors) with train_state.json and metrics.json beside it. The next
run resumes from that folder (--resume): weights are carried over; AdamW's
moments are not (they would not fit the 16 MiB-per-file way back from the GPU
machine) and are re-estimated under a short re-warm-up.

The learning-rate schedule follows training time, not steps: linear warm-up,
then cosine from --lr to lr/10 over --total-seconds summed across runs.

GPU machine (torch 2.x, CUDA, bf16 autocast), as the bundled model was trained:
  RUN_SECONDS=360 bash tools/train/device_run.sh      # wraps this script, see there
The selective scan is the fused Triton one when triton imports, the device is
CUDA and its self-check against the sequential definition passes (scan_select.py,
--scan auto|triton|torch); otherwise the torch scan, with the reason printed.
Passkey curriculum: --passkey-fraction (rows with passkeys), --passkey-lengths
MIN,MAX (prompt tokens; MIN,MAX+MIN2,MAX2 mixes ranges), --passkeys-per-row, --passkey-beyond (share of examples
with the needle beyond the attention window), --answer-weight.
CPU smoke test here (torch 1.13, fp32):
  /usr/bin/python3 tools/train/train_samba.py --data .device-carry/data --out /tmp/smoke \
      --preset tiny --seq-len 256 --rows 2 --run-seconds 20 --no-autocast --eval-tokens 2048
"""
import argparse
import contextlib
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import PasskeyCurriculum, TrainingData, parse_length_ranges  # noqa: E402
from evaluate import beyond_window_summary, greedy, held_out_loss, passkey_probe_trials  # noqa: E402
from export import export_model, load_model_folder  # noqa: E402
from samba_model import Samba, SambaConfig, is_out_of_memory  # noqa: E402
from scan_select import MODES as SCAN_MODES, choose_scan  # noqa: E402
from selective_scan import selective_scan, selective_scan_reference  # noqa: E402
from token_loss import weighted_token_loss  # noqa: E402

PRESETS = {
    # ~20M parameters: 4 Mamba + 4 SWA blocks, window 512 (so passkeys past
    # 512 tokens must be carried by the Mamba state).
    "default": dict(n_layer=8, d_model=384, n_head=6, n_query_groups=6, intermediate_size=1024,
                    sliding_window=512),
    # For CPU smoke tests only.
    "tiny": dict(n_layer=4, d_model=64, n_head=2, n_query_groups=2, intermediate_size=128,
                 sliding_window=32),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder written by prepare_data.py")
    p.add_argument("--out", required=True, help="model folder to write (config, weights, state, metrics)")
    p.add_argument("--resume", help="model folder of an earlier run to continue from")
    p.add_argument("--preset", default="default", choices=sorted(PRESETS))
    p.add_argument("--name", default="samba-lens-default")
    p.add_argument("--swa-only", action="store_true", help="baseline: every block is SWA (no Mamba)")
    p.add_argument("--swa-match-params", action="store_true",
                   help="with --swa-only: widen the SwiGLU so the parameter count matches the hybrid's")
    p.add_argument("--scan", default="auto", choices=SCAN_MODES,
                   help="selective scan: triton (fused, self-checked), torch, or auto (triton when usable)")
    p.add_argument("--scan-config", default="",
                   help="Triton scan kernel settings, e.g. block_d=16,chunk=64,stages=2,warps=1")
    p.add_argument("--seq-len", type=int, default=8192)
    p.add_argument("--rows", type=int, default=4, help="sequences per step")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--warmup-seconds", type=float, default=15.0)
    p.add_argument("--run-seconds", type=float, required=True, help="training wall time of this run")
    p.add_argument("--total-seconds", type=float, help="training time of the whole schedule (default: this run)")
    p.add_argument("--passkey-fraction", type=float, default=0.4, help="share of rows carrying a passkey")
    p.add_argument("--passkey-lengths", default="1024,8192",
                   help="MIN,MAX prompt length in tokens, log-uniform (capped to fit a row); "
                        "MIN,MAX+MIN2,MAX2: each example picks one range at random")
    p.add_argument("--passkeys-per-row", type=int, default=1,
                   help="passkey examples in a passkey row (as many of them as fit)")
    p.add_argument("--passkey-beyond", type=float, default=0.0,
                   help="share of passkey examples placed with the needle beyond the attention window "
                        "(the rest: uniform depth)")
    p.add_argument("--answer-weight", type=float, default=1.0,
                   help="loss weight of passkey answer tokens (1 = plain next-token loss)")
    p.add_argument("--eval-tokens", type=int, default=1_000_000)
    p.add_argument("--probe-lengths", default="1024,2048,4096,8192,16384")
    p.add_argument("--probe-trials", type=int, default=2)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps")
    p.add_argument("--lr-schedule", default="time", choices=("time", "steps"),
                   help="cosine over training seconds (default; runs can span sessions) or over "
                        "--max-steps (equal-token comparisons: the same rate at every step)")
    p.add_argument("--no-export", action="store_true",
                   help="write metrics and state only, not the weights (comparison runs)")
    p.add_argument("--checkpoint-blocks", default="auto", choices=("auto", "on", "off"),
                   help="recompute each block's activations in backward (less memory, ~1/3 more compute); "
                        "auto: off until a step runs out of GPU memory, then on")
    p.add_argument("--no-autocast", action="store_true", help="fp32 everywhere (CPU smoke tests)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    try:
        args.passkey_lengths = parse_length_ranges(args.passkey_lengths)
    except ValueError as err:
        p.error(str(err))
    if args.swa_match_params and not args.swa_only:
        p.error("--swa-match-params only applies with --swa-only")
    if args.lr_schedule == "steps" and args.max_steps <= 0:
        p.error("--lr-schedule steps needs --max-steps (the schedule ends at the last step)")
    return args


def build_config(args, vocab_size):
    """The model config of a fresh run. With --swa-only --swa-match-params the SwiGLU
    width is chosen so the SWA-only model has as many parameters as the hybrid."""
    preset = dict(PRESETS[args.preset])
    if args.swa_only and args.swa_match_params:
        hybrid = Samba(SambaConfig(vocab_size=vocab_size, **preset)).parameter_count()
        narrow = Samba(SambaConfig(vocab_size=vocab_size, swa_only=True, **preset)).parameter_count()
        per_unit = 3 * preset["d_model"] * preset["n_layer"]  # w1, w2, w3 per block
        preset["intermediate_size"] += round((hybrid - narrow) / per_unit)
    return SambaConfig(name=args.name, vocab_size=vocab_size, swa_only=args.swa_only, **preset)


def make_autocast(device, enabled):
    def autocast():
        if not enabled:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return autocast


def forward_backward(model, x, y, w, autocast, checkpoint_blocks=False):
    """Loss of a batch and its gradients (accumulated into .grad); returns the loss.
    The head and the loss run slice by slice (token_loss.py), so a long row never holds
    all of its logits; checkpoint_blocks also recomputes the blocks' activations."""
    with autocast():
        hidden = model.hidden(x, checkpoint_blocks=checkpoint_blocks)
        loss = weighted_token_loss(model, hidden, y, w)
    loss.backward()
    return loss


def optimizer_step(model, optimizer):
    """Clip, step, clear the gradients; returns the gradient norm before clipping."""
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return grad_norm


def training_step(model, optimizer, x, y, w, autocast, checkpoint_blocks=False):
    """One optimiser step on a batch; returns (loss tensor, gradient norm before clipping)."""
    loss = forward_backward(model, x, y, w, autocast, checkpoint_blocks)
    return loss, optimizer_step(model, optimizer)


def cleanup_after_oom(optimizer, device):
    optimizer.zero_grad(set_to_none=True)
    if device.type == "cuda":
        torch.cuda.empty_cache()


def step_with_memory_fallback(run_step, checkpointing, may_switch, cleanup, batch_text, step_number,
                              log=print):
    """run_step(checkpointing) -> result; returns (result, checkpointing). When the step runs
    out of GPU memory without block checkpointing and `may_switch` (--checkpoint-blocks
    auto), it is run again with checkpointing, which stays on; any other out-of-memory
    stops training with what to change."""
    try:
        return run_step(checkpointing), checkpointing
    except RuntimeError as err:  # torch.cuda.OutOfMemoryError is a RuntimeError
        if not is_out_of_memory(err):
            raise
    cleanup()  # outside the except block, so the error's frames (and tensors) are gone
    if checkpointing or not may_switch:
        raise SystemExit(f"train: {batch_text} do not fit in this GPU's memory"
                         f"{' even with --checkpoint-blocks' if checkpointing else ''}; "
                         "use fewer rows or shorter ones")
    log(f"step {step_number}: out of GPU memory; recomputing block activations in backward from now on "
        "(--checkpoint-blocks)")
    return run_step(True), True


def lr_at_step(step, args):
    """--lr-schedule steps: warm-up over the first 3% of --max-steps, then the same
    cosine to 10% by the last step, so two models trained for the same number of
    steps (equal tokens) see the same learning rate at every step whatever their speed."""
    warm = max(1, round(0.03 * args.max_steps))
    if step < warm:
        return args.lr * (step + 1) / warm
    progress = min(1.0, (step - warm) / max(args.max_steps - warm, 1))
    return args.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def lr_at(seconds, args, total):
    warm = args.warmup_seconds
    if seconds < warm:
        return args.lr * max(seconds, 1.0) / warm
    progress = min(1.0, (seconds - warm) / max(total - warm, 1e-9))
    return args.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def make_optimizer(model, args, device):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() >= 2 and "conv1d" not in name else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    extra = {"fused": True} if device.type == "cuda" else {}
    return torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), eps=1e-8, **extra)


def check_scan(device):
    """The parallel scan against the sequential definition on this device (cheap)."""
    g = torch.Generator().manual_seed(0)
    args = [torch.randn(2, 300, 8, generator=g), torch.rand(2, 300, 8, generator=g) * 0.3,
            -torch.rand(8, 16, generator=g) * 4, torch.randn(2, 300, 16, generator=g),
            torch.randn(2, 300, 16, generator=g)]
    args = [a.to(device) for a in args]
    err = (selective_scan(*args) - selective_scan_reference(*args)).abs().max().item()
    print(f"scan self-check on {device}: max abs error {err:.2e}", flush=True)
    if not err < 1e-3:
        raise SystemExit("train: the parallel scan disagrees with the sequential definition")


def main():
    args = parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(args.seed)
    autocast = make_autocast(device, not args.no_autocast)

    check_scan(device)
    t_load = time.time()
    data = TrainingData(args.data)
    print(f"data: {data.train.numel():,} training tokens, {data.val.numel():,} held-out tokens "
          f"({time.time() - t_load:.1f}s)", flush=True)

    state = {"trained_seconds": 0.0, "tokens_seen": 0, "steps": 0, "runs": 0}
    if args.resume:
        cfg, weights = load_model_folder(args.resume)
        model = Samba(cfg)
        model.load_state_dict(weights)
        state_path = os.path.join(args.resume, "train_state.json")
        if os.path.exists(state_path):
            with open(state_path, encoding="utf-8") as f:
                state.update(json.load(f))
        print(f"resumed from {args.resume}: {state}", flush=True)
    else:
        cfg = build_config(args, data.meta["vocab_size"])
        model = Samba(cfg)
    model.to(device)
    mamba_blocks = model.mamba_block_count()
    print(f"model: {model.parameter_count():,} parameters, {mamba_blocks} Mamba + "
          f"{cfg.n_layer - mamba_blocks} SWA blocks; {cfg.to_dict()}", flush=True)
    if cfg.swa_only and mamba_blocks:
        raise SystemExit("train: --swa-only built a model with Mamba blocks")
    scan_name = "none (no Mamba blocks)"
    if mamba_blocks:
        scan, scan_name = choose_scan(args.scan, device, args.scan_config,
                                      training_shape=(args.rows, args.seq_len, cfg.d_inner, cfg.mamba_d_state))
        model.set_scan(scan)
    (first_low, first_high), *more_ranges = args.passkey_lengths
    curriculum = PasskeyCurriculum(min_length=first_low, max_length=first_high, more_ranges=tuple(more_ranges),
                                   per_row=args.passkeys_per_row, beyond_fraction=args.passkey_beyond,
                                   window=cfg.sliding_window)
    curriculum_stats = data.curriculum_summary(args.seq_len, curriculum) if args.passkey_fraction > 0 else None
    print(f"passkey curriculum: {args.passkey_fraction:.0%} of rows, {curriculum}; measured: {curriculum_stats}",
          flush=True)

    optimizer = make_optimizer(model, args, device)
    total = args.total_seconds or (state["trained_seconds"] + args.run_seconds)
    generator = torch.Generator().manual_seed(args.seed * 1000 + state["runs"])
    rewarm = state["trained_seconds"] > 0
    checkpointing = args.checkpoint_blocks == "on"
    t0 = time.time()
    step, tokens, losses = 0, 0, []
    while True:
        elapsed = time.time() - t0
        if elapsed >= args.run_seconds or (args.max_steps and step >= args.max_steps):
            break
        if args.lr_schedule == "steps":
            lr = lr_at_step(step, args)
        else:
            lr = lr_at(state["trained_seconds"] + elapsed, args, total)
        if rewarm and args.lr_schedule == "time" and elapsed < args.warmup_seconds:
            lr *= max(elapsed, 1.0) / args.warmup_seconds
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y, w = data.batch(args.rows, args.seq_len, generator, args.passkey_fraction, args.answer_weight,
                             curriculum)
        x, y, w = (t.to(device, non_blocking=True) for t in (x, y, w))
        # Only the forward and backward passes are retried: the optimiser has not
        # touched the weights when they run out of memory.
        loss, checkpointing = step_with_memory_fallback(
            lambda ckpt: forward_backward(model, x, y, w, autocast, ckpt), checkpointing,
            args.checkpoint_blocks == "auto", lambda: cleanup_after_oom(optimizer, device),
            f"{args.rows} rows of {args.seq_len:,} tokens", step + 1)
        grad_norm = optimizer_step(model, optimizer)
        step += 1
        tokens += x.numel()
        if step % 25 == 0 or step <= 3:
            losses.append((step, loss.item()))
            rate = tokens / max(time.time() - t0, 1e-9)
            memory = (f" peak memory {torch.cuda.max_memory_allocated(device) / 2**30:.1f} GiB"
                      if device.type == "cuda" and step <= 3 else "")
            print(f"step {step} loss {loss.item():.4f} grad {float(grad_norm):.2f} lr {lr:.2e} "
                  f"{rate:,.0f} tok/s elapsed {time.time() - t0:.0f}s{memory}", flush=True)
            if not math.isfinite(loss.item()):
                raise SystemExit("train: loss is not finite; stopping")
    run_seconds = time.time() - t0
    state["trained_seconds"] += run_seconds
    state["tokens_seen"] += tokens
    state["steps"] += step
    state["runs"] += 1
    print(f"trained {step} steps, {tokens:,} tokens in {run_seconds:.0f}s", flush=True)

    # Export first, so a failure in the evaluation below cannot lose the weights.
    os.makedirs(args.out, exist_ok=True)
    if not cfg.swa_only and not args.no_export:
        export_model(model, args.out, train_length=args.seq_len,
                     metadata={"format": "pt", "trained_tokens": state["tokens_seen"]})
    with open(os.path.join(args.out, "train_state.json"), "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1)
    metrics = {"config": cfg.to_dict(), "parameters": model.parameter_count(), "mamba_blocks": mamba_blocks,
               "state": state,
               "run": {"steps": step, "tokens": tokens, "seconds": run_seconds,
                       "tokens_per_second": tokens / max(run_seconds, 1e-9),
                       "rows": args.rows, "seq_len": args.seq_len, "lr": args.lr,
                       "passkey_fraction": args.passkey_fraction, "answer_weight": args.answer_weight,
                       "passkey_curriculum": {"lengths": [list(r) for r in args.passkey_lengths],
                                              "per_row": args.passkeys_per_row,
                                              "beyond_fraction": args.passkey_beyond,
                                              "measured": curriculum_stats},
                       "scan": scan_name, "checkpoint_blocks": checkpointing,
                       "seed": args.seed, "probe_trials": args.probe_trials,
                       "device": str(device),
                       "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else None,
                       "torch": torch.__version__},
               "loss_curve": losses}
    t_eval = time.time()
    try:
        val = held_out_loss(model, data.val, args.seq_len, args.eval_tokens, device, autocast)
        val["bits_per_byte"] = val["loss"] / math.log(2) / data.meta["val_bytes_per_token"]
        metrics["held_out"] = val
        print(f"held-out: {val}", flush=True)
        lengths = [int(v) for v in args.probe_lengths.split(",") if v]
        metrics["passkey_probe"], trials = passkey_probe_trials(
            model, data.passkey, lengths, [0.0, 0.25, 0.5, 0.75, 1.0], args.probe_trials, device, autocast)
        metrics["passkey_probe_beyond_window"] = beyond_window_summary(trials, cfg.sliding_window)
        print(f"passkey probe: {metrics['passkey_probe']}", flush=True)
        print(f"passkey probe, needle beyond the {cfg.sliding_window}-token window: "
              f"{metrics['passkey_probe_beyond_window']}", flush=True)
        metrics["samples"] = []
        for sample in data.samples:
            out = greedy(model, sample["prompt_ids"], 48, data.eos, device, autocast)
            metrics["samples"].append({"source": sample["source"], "reference": sample["reference"],
                                       "output_ids": out})
    except Exception as err:  # keep what was measured; the weights are already written
        metrics["evaluation_error"] = repr(err)
        print(f"evaluation failed: {err!r}", flush=True)
    print(f"evaluation took {time.time() - t_eval:.0f}s", flush=True)
    with open(os.path.join(args.out, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=1)
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
