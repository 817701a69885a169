"""Which selective scan training uses (train_samba.py --scan auto|triton|torch).

The fused Triton scan (selective_scan_triton.py) is used only when all of these
hold, checked in this order: triton imports, the device is CUDA, and the
kernels' forward and all five gradients agree with the sequential definition
on this device (self_check). If the check fails with time segments on, it is
repeated with segments=1 (the single walk per row, slower on long rows but far
faster than the torch scan) before giving up. Otherwise:
  --scan auto    prints why and trains with the torch scan (selective_scan.py);
  --scan triton  stops with that reason (no silent fallback when it was asked for);
  --scan torch   never tries triton.
There is no way to train with the Triton kernels without the self-check passing.
"""
import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from selective_scan import selective_scan  # noqa: E402

MODES = ("auto", "triton", "torch")


def triton_scan_or_reason(device, config_spec=None, import_module=importlib.import_module):
    """(scan function, description) when the Triton scan is usable and verified on
    `device`, else (None, reason it is not)."""
    try:
        module = import_module("selective_scan_triton")
    except Exception as err:  # ImportError without triton; anything else is a broken install
        return None, f"triton is not importable ({type(err).__name__}: {err})"
    if device.type != "cuda":
        return None, f"the device is {device.type}, and the Triton kernels need CUDA"

    def check():
        try:
            ok, report = module.self_check(device)
        except Exception as err:  # a compile or launch error is a failed check, not a crash
            return None, f"the triton scan could not run its self-check ({type(err).__name__}: {err})"
        if not ok:
            return None, f"the triton scan failed its self-check: {report}"
        return module.selective_scan_triton, report

    try:
        if config_spec:
            module.configure(config_spec)
    except ValueError as err:
        return None, f"the triton scan configuration is wrong ({err})"
    scan, report = check()
    if scan is None:
        # The time-segmented walk is the newest part: without it the scan is still
        # far faster than the torch one, so try the single walk before giving up.
        module.configure("segments=1")
        scan, single = check()
        if scan is not None:
            return scan, f"{single} (time segments off: {report})"
    return scan, report


def time_forward_backward(scan, shape, device, reps=2):
    """Median seconds of scan forward + backward on random inputs of shape (B, T, D, N)."""
    import statistics
    import time
    import torch
    b, t, d, n = shape
    gen = torch.Generator().manual_seed(0)
    inputs = [torch.randn(b, t, d, generator=gen), torch.rand(b, t, d, generator=gen) * 0.1,
              -torch.rand(d, n, generator=gen) * 4 - 0.05, torch.randn(b, t, n, generator=gen),
              torch.randn(b, t, n, generator=gen)]
    inputs = [x.to(device).requires_grad_() for x in inputs]
    gy = torch.randn(b, t, d, generator=gen).to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    for i in range(reps + 1):  # the first compiles the kernels
        sync()
        start = time.perf_counter()
        torch.autograd.grad(scan(*inputs), inputs, gy)
        sync()
        if i > 0:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def pick_segments(module, scan, device, shape, log=print, timer=time_forward_backward):
    """With segments=auto, times the scan at the training shape (B, T, d_inner, N) with
    the segments it would pick and with the single walk (segments=1), and keeps the
    faster: time segments are new, and a slower scan would cost the whole run.
    Returns a description for the log."""
    if module.CONFIG.segments != 0:
        return f"segments={module.CONFIG.segments} as configured"
    auto = timer(scan, shape, device)
    module.configure("segments=1")
    single = timer(scan, shape, device)
    if auto < single:
        module.configure("segments=auto")
    text = (f"at the training shape B={shape[0]} T={shape[1]} D={shape[2]}: time segments {auto * 1e3:.1f} ms, "
            f"single walk {single * 1e3:.1f} ms per layer forward+backward; using "
            f"{'time segments' if auto < single else 'the single walk'}")
    log(f"scan: {text}")
    return text


def choose_scan(mode, device, config_spec=None, log=print, import_module=importlib.import_module,
                training_shape=None):
    """(scan function, name) for --scan `mode`; logs the decision and its reason. With
    `training_shape` (B, T, d_inner, N), the Triton scan's time segments are kept only
    if they are faster there (pick_segments)."""
    if mode not in MODES:
        raise SystemExit(f"train: --scan must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "torch":
        log("scan: torch (asked for with --scan torch)")
        return selective_scan, "torch"
    scan, detail = triton_scan_or_reason(device, config_spec, import_module)
    if scan is not None:
        log(f"scan: triton; {detail}")
        if training_shape is not None:
            pick_segments(import_module("selective_scan_triton"), scan, device, training_shape, log)
        return scan, "triton"
    if mode == "triton":
        raise SystemExit(f"train: --scan triton, but {detail}")
    log(f"scan: torch, because {detail}")
    return selective_scan, "torch"
