"""Checks and times the fused Triton selective scan on the GPU machine, in one go (~1-2 min).

    python3 tools/train/scan_check.py [--data .device-carry/data] [--out DIR]

1. correctness: forward and the gradients of all five inputs against the
   sequential definition (float64), several shapes incl. T not a multiple of the
   chunk and D not a multiple of the channel block; every kernel configuration
   of the sweep below is checked before it is timed;
2. the path train_samba.py takes (scan_select.choose_scan("triton")): must pick triton;
3. speed of forward+backward at B=4, T=8192, D=768, N=16: the torch scan and each
   Triton configuration, as tokens/s (median of CUDA-event timings after warm-up);
   and on one row of 131072 tokens, the single walk against time segments;
4. with --data: 20 training steps of the default preset (4 x 8192 tokens per step)
   with each scan from the same initial weights and batches: step time, tokens/s,
   and the step-1 loss and gradient norm of both (they must agree: same maths).
Each part prints PASS / FAIL with the reason; a failure in one part does not stop
the others. Exit status 1 when any part failed. With --out, the report is also
written to DIR/scan_check.txt.
"""
import argparse
import os
import statistics
import sys
import time
import traceback

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from selective_scan import selective_scan  # noqa: E402

REPORT = []
FAILED = []


def say(line=""):
    print(line, flush=True)
    REPORT.append(line)


def part(title):
    def wrap(fn):
        def run(*args, **kwargs):
            say(f"\n== {title} ==")
            try:
                result = fn(*args, **kwargs)
            except (Exception, SystemExit) as err:  # report and carry on with the other parts
                say(f"FAIL {title}: {type(err).__name__}: {err}")
                say("  (traceback, last frames)")
                for line in traceback.format_exc().strip().splitlines()[-8:]:
                    say("  " + line)
                FAILED.append(title)
                return None
            return result
        return run
    return wrap


def random_inputs(b, t, d, n, device, seed=0):
    gen = torch.Generator().manual_seed(seed)
    xs = [torch.randn(b, t, d, generator=gen), torch.rand(b, t, d, generator=gen) * 0.3 + 1e-3,
          -torch.exp(torch.randn(d, n, generator=gen)), torch.randn(b, t, n, generator=gen),
          torch.randn(b, t, n, generator=gen)]
    return [x.to(device).requires_grad_() for x in xs], torch.randn(b, t, d, generator=gen).to(device)


def time_fwd_bwd(scan, inputs, gy, reps):
    """(median forward ms, median forward+backward ms)."""
    def once(backward):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        y = scan(*inputs)
        if backward:
            torch.autograd.grad(y, inputs, gy)
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end)
    once(True)  # warm-up (compiles the Triton kernels)
    fwd = statistics.median(once(False) for _ in range(reps))
    both = statistics.median(once(True) for _ in range(reps))
    return fwd, both


CONFIGS = ["block_d=16,chunk=64,stages=2,warps=1",   # the default (ScanConfig)
           "block_d=16,chunk=64,stages=1,warps=1",
           "block_d=16,chunk=64,stages=3,warps=1",
           "block_d=8,chunk=64,stages=2,warps=1",
           "block_d=32,chunk=64,stages=2,warps=1",
           "block_d=32,chunk=32,stages=2,warps=2"]


@part("1. environment")
def environment():
    say(f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")
    if not torch.cuda.is_available():
        raise RuntimeError("no CUDA device: run this on the GPU machine")
    say(f"GPU: {torch.cuda.get_device_name(0)}")
    import triton
    say(f"triton {triton.__version__}")
    import selective_scan_triton  # noqa: F401  (kernels are compiled at first use)
    say("PASS environment")
    return True


@part("2. correctness against the sequential definition (relative max errors; tolerance 1e-4)")
def correctness(device):
    import selective_scan_triton as sst
    shapes = [(2, 1, 8, 16), (2, 37, 40, 16), (3, 300, 100, 16), (2, 64 * 3 + 1, 768, 16),
              (2, 129, 64, 4), (1, 4133, 48, 16)]
    sst.configure(CONFIGS[0])
    ok, lines = sst.compare_with_reference(sst.selective_scan_triton, device, shapes)
    for line in lines:
        say(f"  {CONFIGS[0]} {line}")
    if not ok:
        raise AssertionError("the Triton scan disagrees with the sequential definition (FAIL lines above)")
    say("PASS correctness (default configuration)")
    return True


@part("3. train_samba.py's scan selection (--scan triton)")
def selection(device):
    import selective_scan_triton as sst
    from scan_select import choose_scan
    sst.configure(CONFIGS[0])
    scan, name = choose_scan("triton", device, log=lambda line: say("  " + line))
    if name != "triton":
        raise AssertionError(f"selection picked {name}")
    say("PASS selection")
    return True


@part("4. speed: forward+backward at B=4, T=8192, D=768, N=16")
def speed(device, reps):
    import selective_scan_triton as sst
    b, t, d, n = 4, 8192, 768, 16
    inputs, gy = random_inputs(b, t, d, n, device, seed=1)
    tokens = b * t
    fwd, both = time_fwd_bwd(selective_scan, inputs, gy, reps)
    say(f"  torch scan (chunked Hillis-Steele): fwd {fwd:7.2f} ms  fwd+bwd {both:7.2f} ms  "
        f"-> {tokens / both * 1e3:,.0f} tokens/s per Mamba layer")
    torch_ms = both
    torch.cuda.empty_cache()
    results = []
    for spec in CONFIGS:
        try:
            sst.configure(spec)
            ok, lines = sst.compare_with_reference(sst.selective_scan_triton, device,
                                                   [(2, 2 * sst.CONFIG.chunk + 37, 3 * sst.CONFIG.block_d + 5, 16)])
            if not ok:
                say(f"  triton {spec}: WRONG RESULTS, not timed: {lines[0]}")
                continue
            fwd, both = time_fwd_bwd(sst.selective_scan_triton, inputs, gy, reps)
        except Exception as err:  # one configuration failing to compile should not hide the others
            say(f"  triton {spec}: could not run ({type(err).__name__}: {str(err).splitlines()[0][:200]})")
            continue
        results.append((both, spec))
        say(f"  triton {spec}: fwd {fwd:7.2f} ms  fwd+bwd {both:7.2f} ms  "
            f"-> {tokens / both * 1e3:,.0f} tokens/s  ({torch_ms / both:.1f}x the torch scan)")
    sst.configure(CONFIGS[0])
    if not results:
        raise RuntimeError("no Triton configuration ran")
    best_ms, best = min(results)
    say(f"  fastest verified configuration: {best} ({best_ms:.2f} ms)"
        + ("" if best == CONFIGS[0] else f"; use it with: train_samba.py --scan-config {best}"))
    say("PASS speed")
    return True


@part("4b. speed on one long row (B=1, T=131072): the single walk against time segments")
def long_row_speed(device, reps):
    import selective_scan_triton as sst
    b, t, d, n = 1, 131072, 768, 16
    inputs, gy = random_inputs(b, t, d, n, device, seed=2)
    timings = {}
    for spec in ("segments=1", "segments=auto"):
        sst.configure(CONFIGS[0] + "," + spec)
        n_segs, per_seg = sst.segment_plan(b, -(-d // sst.CONFIG.block_d), -(-t // sst.CONFIG.chunk), sst.CONFIG,
                                           device)
        fwd, both = time_fwd_bwd(sst.selective_scan_triton, inputs, gy, reps)
        timings[spec] = both
        say(f"  triton {spec} ({n_segs} segment(s) of {per_seg} chunks): fwd {fwd:7.2f} ms  fwd+bwd {both:7.2f} ms"
            f"  -> {t / both * 1e3:,.0f} tokens/s per Mamba layer")
    sst.configure(CONFIGS[0])
    say(f"  time segments: {timings['segments=1'] / timings['segments=auto']:.1f}x the single walk")
    say("PASS long-row speed")
    return True


@part("5. 20 training steps of the default preset with each scan")
def training(device, data_dir, steps, rows=4, seq_len=8192, preset="default"):
    import selective_scan_triton as sst
    from data import PasskeyCurriculum, TrainingData
    from samba_model import Samba, SambaConfig
    from train_samba import PRESETS, make_autocast, make_optimizer, training_step
    sst.configure(CONFIGS[0])
    data = TrainingData(data_dir)
    gen = torch.Generator().manual_seed(5)
    batches = [data.batch(rows, seq_len, gen, 0.4, 1.0, PasskeyCurriculum()) for _ in range(steps)]
    autocast = make_autocast(device, device.type == "cuda")
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    opt_args = argparse.Namespace(lr=2e-3, weight_decay=0.1)
    first = {}
    for name, scan in (("torch", selective_scan), ("triton", sst.selective_scan_triton)):
        torch.manual_seed(1)
        cfg = SambaConfig(vocab_size=data.meta["vocab_size"], **PRESETS[preset])
        model = Samba(cfg).to(device)
        model.set_scan(scan)
        optimizer = make_optimizer(model, opt_args, device)
        times = []
        for i, (x, y, w) in enumerate(batches):
            x, y, w = (t.to(device) for t in (x, y, w))
            sync()
            start = time.time()
            loss, grad_norm = training_step(model, optimizer, x, y, w, autocast)
            loss_value = loss.item()  # synchronises
            times.append(time.time() - start)
            if i == 0:
                first[name] = (loss_value, float(grad_norm))
        step_s = statistics.median(times[3:] or times)
        say(f"  {name:6s} scan: median step {step_s * 1e3:7.1f} ms (steps 4-{steps}) -> "
            f"{rows * seq_len / step_s:,.0f} tokens/s; step-1 loss {first[name][0]:.5f}, "
            f"grad norm {first[name][1]:.5f}; last loss {loss_value:.4f}")
        del model, optimizer
        torch.cuda.empty_cache()
    (loss_a, norm_a), (loss_b, norm_b) = first["torch"], first["triton"]
    loss_rel = abs(loss_a - loss_b) / abs(loss_a)
    norm_rel = abs(norm_a - norm_b) / max(abs(norm_a), 1e-12)
    say(f"  step 1, triton vs torch: loss differs by {loss_rel:.1e}, gradient norm by {norm_rel:.1e} (relative)")
    if loss_rel > 1e-3 or norm_rel > 1e-2:
        raise AssertionError("the two scans give different losses or gradients on the same model and batch")
    say("PASS training")
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="token data folder (prepare_data.py); without it part 5 is skipped")
    p.add_argument("--out", help="also write the report to OUT/scan_check.txt")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    t0 = time.time()
    if environment():
        device = torch.device("cuda")
        correctness(device)
        selection(device)
        speed(device, args.reps)
        long_row_speed(device, args.reps)
        if args.data:
            training(device, args.data, args.steps)
        else:
            say("\n(part 5 skipped: no --data)")
    verdict = "ALL PASSED" if not FAILED else "FAILED: " + "; ".join(FAILED)
    say(f"\nscan_check: {verdict} ({time.time() - t0:.0f}s)")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "scan_check.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(REPORT) + "\n")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
