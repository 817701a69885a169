"""The Mamba-1 selective scan of selective_scan.py as fused Triton kernels (GPU training).

Computes exactly selective_scan(u, delta, A, Bm, Cm) (no D*u skip term):
    h[t] = exp(delta[t]*A) * h[t-1] + (delta[t]*u[t]) * B[t]      h[-1] = 0
    y[t] = sum_n h[t, :, n] * C[t, n]
u, delta: [B,T,D] fp32; A: [D,N]; Bm, Cm: [B,T,N]; y: [B,T,D]. fp32 throughout.

Why: the torch scan materialises [B,T,D,N] fp32 tensors in a dozen whole-tensor
passes per layer and is memory-bound. Here one program owns (one batch row,
BLOCK_D channels) and keeps its state h [BLOCK_D, N] in registers while it walks
the sequence one step at a time: per step it reads BLOCK_D values of u and delta
and N of B and C, and writes BLOCK_D outputs. Parallelism is over batch rows and
channel blocks (B * D/BLOCK_D programs); the loads of a step do not depend on the
state, so tl.range(num_stages=...) can prefetch them ahead of the recurrence.

Forward also stores the state entering every chunk of CHUNK steps
(checkpoints [B, n_chunks, D, N]). Backward walks the chunks from the last to
the first; for each it
  1. recomputes the chunk's states from its checkpoint, writing the state
     before each step into a per-program scratch tile [CHUNK, BLOCK_D, N]
     (global memory, small enough to stay in L2), and emits dL/dC on the way
     (a sum over this program's channels: per-block partials, summed in torch);
  2. runs the adjoint recurrence backwards in time,
         g[t] = C[t]*gy[t] + exp(delta[t+1]*A) * g[t+1],
     producing dL/du and dL/ddelta per step, per-block partials of dL/dB, and
     accumulating dL/dA in registers (per-batch partials, summed in torch).
The gradient formulas are those of SelectiveScan.backward in selective_scan.py.
Partial sums are written and reduced in torch (no atomics), so results are
deterministic.

Nothing here decides whether these kernels are used: scan_select.py does, and
only after self_check() has compared forward and all five gradients with the
sequential definition on the device in use.
"""
from dataclasses import dataclass, replace

import torch
import triton
import triton.language as tl


@dataclass(frozen=True)
class ScanConfig:
    block_d: int = 16    # channels per program (power of two)
    chunk: int = 64      # steps between state checkpoints (power of two)
    stages: int = 2      # software-pipelining depth of the per-step loads (tl.range num_stages)
    num_warps: int = 1   # a [16, 16] state tile is 8 values per thread of one warp

    def describe(self):
        return f"block_d={self.block_d},chunk={self.chunk},stages={self.stages},warps={self.num_warps}"


CONFIG = ScanConfig()


def configure(spec):
    """Set the kernel configuration from "block_d=16,chunk=64,stages=2,warps=1" (any subset)."""
    global CONFIG
    names = {"block_d": "block_d", "chunk": "chunk", "stages": "stages", "warps": "num_warps"}
    changes = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        key, _, value = item.partition("=")
        if key not in names or not value.isdigit() or int(value) < 1:
            raise ValueError(f"scan config: cannot read {item!r} (expected e.g. block_d=16,chunk=64,stages=2,warps=1)")
        changes[names[key]] = int(value)
    config = replace(CONFIG, **changes)
    for name in ("block_d", "chunk", "num_warps"):
        value = getattr(config, name)
        if value & (value - 1):
            raise ValueError(f"scan config: {name}={value} must be a power of two")
    CONFIG = config
    return config


@triton.jit
def _scan_forward_kernel(u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, y_ptr, ck_ptr,
                         T, D, N, n_chunks,
                         BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr, CHUNK: tl.constexpr,
                         STAGES: tl.constexpr):
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    offs_d = pid_d * BLOCK_D + tl.arange(0, BLOCK_D)
    offs_n = tl.arange(0, BLOCK_N)
    mask_d = offs_d < D
    mask_n = offs_n < N
    mask_dn = mask_d[:, None] & mask_n[None, :]
    offs_dn = offs_d[:, None] * N + offs_n[None, :]
    # Padding lanes load A = 0, delta = 0, u = 0, B = C = 0: decay 1, drive 0, state 0.
    A = tl.load(A_ptr + offs_dn, mask=mask_dn, other=0.0)
    b64 = pid_b.to(tl.int64)  # batch offsets in 64 bits: B*T*D may pass 2^31
    u_base = u_ptr + b64 * T * D
    dt_base = dt_ptr + b64 * T * D
    y_base = y_ptr + b64 * T * D
    B_base = B_ptr + b64 * T * N
    C_base = C_ptr + b64 * T * N
    ck_base = ck_ptr + b64 * n_chunks * D * N
    h = tl.zeros([BLOCK_D, BLOCK_N], dtype=tl.float32)
    for c in range(0, n_chunks):
        tl.store(ck_base + c * D * N + offs_dn, h, mask=mask_dn)  # state entering chunk c
        t0 = c * CHUNK
        t1 = tl.minimum(t0 + CHUNK, T)
        for t in tl.range(t0, t1, num_stages=STAGES):
            u_t = tl.load(u_base + t * D + offs_d, mask=mask_d, other=0.0)
            dt_t = tl.load(dt_base + t * D + offs_d, mask=mask_d, other=0.0)
            B_t = tl.load(B_base + t * N + offs_n, mask=mask_n, other=0.0)
            C_t = tl.load(C_base + t * N + offs_n, mask=mask_n, other=0.0)
            decay = tl.exp(dt_t[:, None] * A)
            h = decay * h + (dt_t * u_t)[:, None] * B_t[None, :]
            y_t = tl.sum(h * C_t[None, :], axis=1)
            tl.store(y_base + t * D + offs_d, y_t, mask=mask_d)


@triton.jit
def _scan_backward_kernel(u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, gy_ptr, ck_ptr, scratch_ptr,
                          gu_ptr, gdt_ptr, gA_ptr, gB_ptr, gC_ptr,
                          T, D, N, n_chunks, n_dblocks,
                          BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr, CHUNK: tl.constexpr,
                          STAGES: tl.constexpr):
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    offs_d = pid_d * BLOCK_D + tl.arange(0, BLOCK_D)
    offs_n = tl.arange(0, BLOCK_N)
    mask_d = offs_d < D
    mask_n = offs_n < N
    mask_dn = mask_d[:, None] & mask_n[None, :]
    offs_dn = offs_d[:, None] * N + offs_n[None, :]
    A = tl.load(A_ptr + offs_dn, mask=mask_dn, other=0.0)
    b64 = pid_b.to(tl.int64)
    u_base = u_ptr + b64 * T * D
    dt_base = dt_ptr + b64 * T * D
    gy_base = gy_ptr + b64 * T * D
    gu_base = gu_ptr + b64 * T * D
    gdt_base = gdt_ptr + b64 * T * D
    B_base = B_ptr + b64 * T * N
    C_base = C_ptr + b64 * T * N
    ck_base = ck_ptr + b64 * n_chunks * D * N
    # Per-block partial sums over this program's channels: [B, n_dblocks, T, N].
    block64 = b64 * n_dblocks + pid_d
    gB_base = gB_ptr + block64 * T * N
    gC_base = gC_ptr + block64 * T * N
    # This program's scratch tile [CHUNK, BLOCK_D, BLOCK_N] (padded; no mask needed).
    tile = tl.arange(0, BLOCK_D)[:, None] * BLOCK_N + tl.arange(0, BLOCK_N)[None, :]
    scratch_base = scratch_ptr + block64 * (CHUNK * BLOCK_D * BLOCK_N)

    carry = tl.zeros([BLOCK_D, BLOCK_N], dtype=tl.float32)   # exp(delta[t+1]*A) * g[t+1]
    gA_acc = tl.zeros([BLOCK_D, BLOCK_N], dtype=tl.float32)
    for i in range(0, n_chunks):
        c = n_chunks - 1 - i
        t0 = c * CHUNK
        t1 = tl.minimum(t0 + CHUNK, T)
        # 1. Recompute the chunk's states; keep the state before each step.
        h = tl.load(ck_base + c * D * N + offs_dn, mask=mask_dn, other=0.0)
        for t in tl.range(t0, t1, num_stages=STAGES):
            tl.store(scratch_base + (t - t0) * (BLOCK_D * BLOCK_N) + tile, h)
            u_t = tl.load(u_base + t * D + offs_d, mask=mask_d, other=0.0)
            dt_t = tl.load(dt_base + t * D + offs_d, mask=mask_d, other=0.0)
            B_t = tl.load(B_base + t * N + offs_n, mask=mask_n, other=0.0)
            gy_t = tl.load(gy_base + t * D + offs_d, mask=mask_d, other=0.0)
            decay = tl.exp(dt_t[:, None] * A)
            h = decay * h + (dt_t * u_t)[:, None] * B_t[None, :]
            gC_t = tl.sum(h * gy_t[:, None], axis=0)               # dL/dC[t], this block's channels
            tl.store(gC_base + t * N + offs_n, gC_t, mask=mask_n)
        # Every thread's scratch writes must be visible before any thread reads them.
        tl.debug_barrier()
        # 2. The adjoint recurrence, backwards through the chunk.
        for j in tl.range(0, t1 - t0, num_stages=STAGES):
            s = t1 - 1 - j  # (its own name: t belongs to the loop above)
            h_prev = tl.load(scratch_base + (s - t0) * (BLOCK_D * BLOCK_N) + tile)
            u_t = tl.load(u_base + s * D + offs_d, mask=mask_d, other=0.0)
            dt_t = tl.load(dt_base + s * D + offs_d, mask=mask_d, other=0.0)
            B_t = tl.load(B_base + s * N + offs_n, mask=mask_n, other=0.0)
            C_t = tl.load(C_base + s * N + offs_n, mask=mask_n, other=0.0)
            gy_t = tl.load(gy_base + s * D + offs_d, mask=mask_d, other=0.0)
            decay = tl.exp(dt_t[:, None] * A)
            g = gy_t[:, None] * C_t[None, :] + carry                # dL/dh[t]
            g_log_decay = g * h_prev * decay                        # dL/d(delta[t]*A)
            gA_acc += g_log_decay * dt_t[:, None]
            g_drive = tl.sum(g * B_t[None, :], axis=1)              # dL/d(delta[t]*u[t])
            gdt_t = tl.sum(g_log_decay * A, axis=1) + g_drive * u_t
            gu_t = g_drive * dt_t
            gB_t = tl.sum(g * (dt_t * u_t)[:, None], axis=0)        # dL/dB[t], this block's channels
            tl.store(gu_base + s * D + offs_d, gu_t, mask=mask_d)
            tl.store(gdt_base + s * D + offs_d, gdt_t, mask=mask_d)
            tl.store(gB_base + s * N + offs_n, gB_t, mask=mask_n)
            carry = decay * g
        # The next chunk's recompute overwrites the scratch tile read above.
        tl.debug_barrier()
    tl.store(gA_ptr + b64 * D * N + offs_dn, gA_acc, mask=mask_dn)   # per-batch partial [B, D, N]


def _check_inputs(u, delta, A, Bm, Cm):
    if u.dim() != 3 or delta.shape != u.shape:
        raise ValueError(f"triton scan: u and delta must be [B,T,D] of one shape, got {tuple(u.shape)} "
                         f"and {tuple(delta.shape)}")
    batch, length, dim = u.shape
    if A.dim() != 2 or A.shape[0] != dim:
        raise ValueError(f"triton scan: A must be [D={dim}, N], got {tuple(A.shape)}")
    n = A.shape[1]
    for name, t in (("Bm", Bm), ("Cm", Cm)):
        if tuple(t.shape) != (batch, length, n):
            raise ValueError(f"triton scan: {name} must be [{batch}, {length}, {n}], got {tuple(t.shape)}")
    for name, t in (("u", u), ("delta", delta), ("A", A), ("Bm", Bm), ("Cm", Cm)):
        if t.dtype != torch.float32:
            raise ValueError(f"triton scan: {name} must be float32 (the scan runs in fp32), got {t.dtype}")
        if t.device != u.device:
            raise ValueError(f"triton scan: {name} is on {t.device}, u on {u.device}")
    # Offsets inside one batch row are 32-bit (rows themselves are 64-bit offsets).
    n_chunks = -(-length // CONFIG.chunk)
    if length * dim >= 2 ** 31 or n_chunks * dim * n >= 2 ** 31:
        raise ValueError(f"triton scan: T={length}, D={dim}, N={n} too large for 32-bit offsets within a row")


def _launch_shape(u, A):
    batch, length, dim = u.shape
    n = A.shape[1]
    cfg = CONFIG
    return batch, length, dim, n, cfg, triton.cdiv(dim, cfg.block_d), triton.cdiv(length, cfg.chunk), \
        max(triton.next_power_of_2(n), 1)


class TritonSelectiveScan(torch.autograd.Function):
    """y = selective_scan(u, delta, A, B, C) with fused Triton forward and backward."""

    @staticmethod
    def forward(ctx, u, delta, A, Bm, Cm):
        _check_inputs(u, delta, A, Bm, Cm)
        u, delta, A, Bm, Cm = (t.contiguous() for t in (u, delta, A, Bm, Cm))
        batch, length, dim, n, cfg, n_dblocks, n_chunks, block_n = _launch_shape(u, A)
        y = torch.empty_like(u)
        checkpoints = u.new_empty(batch, n_chunks, dim, n)
        if length > 0 and dim > 0:
            _scan_forward_kernel[(batch, n_dblocks)](
                u, delta, A, Bm, Cm, y, checkpoints, length, dim, n, n_chunks,
                BLOCK_D=cfg.block_d, BLOCK_N=block_n, CHUNK=cfg.chunk, STAGES=cfg.stages,
                num_warps=cfg.num_warps)
        ctx.config = cfg
        ctx.save_for_backward(u, delta, A, Bm, Cm, checkpoints)
        return y

    @staticmethod
    def backward(ctx, gy):
        u, delta, A, Bm, Cm, checkpoints = ctx.saved_tensors
        cfg = ctx.config
        gy = gy.to(torch.float32).contiguous()
        batch, length, dim = u.shape
        n = A.shape[1]
        n_dblocks = triton.cdiv(dim, cfg.block_d)
        n_chunks = checkpoints.shape[1]
        block_n = max(triton.next_power_of_2(n), 1)
        # Every element of these is written by the kernel (left uninitialised on purpose:
        # a hole would show up as garbage in the self-check rather than as a plausible 0).
        gu = torch.empty_like(u)
        gdelta = torch.empty_like(delta)
        gA_parts = u.new_empty(batch, dim, n)
        gB_parts = u.new_empty(batch, n_dblocks, length, n)
        gC_parts = u.new_empty(batch, n_dblocks, length, n)
        if length > 0 and dim > 0:
            scratch = u.new_empty(batch * n_dblocks * cfg.chunk * cfg.block_d * block_n)
            _scan_backward_kernel[(batch, n_dblocks)](
                u, delta, A, Bm, Cm, gy, checkpoints, scratch,
                gu, gdelta, gA_parts, gB_parts, gC_parts,
                length, dim, n, n_chunks, n_dblocks,
                BLOCK_D=cfg.block_d, BLOCK_N=block_n, CHUNK=cfg.chunk, STAGES=cfg.stages,
                num_warps=cfg.num_warps)
        return gu, gdelta, gA_parts.sum(0), gB_parts.sum(1), gC_parts.sum(1)


def selective_scan_triton(u, delta, A, Bm, Cm):
    """u, delta: [B,T,D]; A: [D,N]; Bm, Cm: [B,T,N]; all fp32 on a CUDA device. Returns y [B,T,D]."""
    return TritonSelectiveScan.apply(u, delta, A, Bm, Cm)


def compare_with_reference(scan, device, shapes, seed=0, tolerance=1e-4):
    """Forward and the gradients of all five inputs of `scan` against the sequential
    definition (float64 on the same device). Returns (ok, lines): one line per shape
    with the worst error of each output, relative to that output's largest value."""
    from selective_scan import selective_scan_reference
    gen = torch.Generator().manual_seed(seed)
    ok, lines = True, []
    names = ("y", "du", "ddelta", "dA", "dB", "dC")
    for (b, t, d, n) in shapes:
        inputs = [torch.randn(b, t, d, generator=gen), torch.rand(b, t, d, generator=gen) * 0.5,
                  -torch.rand(d, n, generator=gen) * 4 - 0.05, torch.randn(b, t, n, generator=gen),
                  torch.randn(b, t, n, generator=gen)]
        gy = torch.randn(b, t, d, generator=gen)
        ours = [x.to(device).requires_grad_() for x in inputs]
        ref = [x.to(device, torch.float64).requires_grad_() for x in inputs]
        y = scan(*ours)
        y_ref = selective_scan_reference(*ref)
        grads = torch.autograd.grad(y, ours, gy.to(device))
        grads_ref = torch.autograd.grad(y_ref, ref, gy.to(device, torch.float64))
        errors = []
        for name, got, want in zip(names, (y,) + tuple(grads), (y_ref,) + tuple(grads_ref)):
            scale = want.abs().max().item() if want.numel() else 0.0
            err = (got.double() - want).abs().max().item() / max(scale, 1e-30) if want.numel() else 0.0
            finite = bool(torch.isfinite(got).all().item())
            errors.append((name, err if finite else float("inf")))
        worst = max(e for _, e in errors)
        shape_ok = worst <= tolerance
        ok = ok and shape_ok
        lines.append(f"[B={b} T={t} D={d} N={n}] " + " ".join(f"{k} {e:.1e}" for k, e in errors)
                     + (" ok" if shape_ok else f" FAIL (tolerance {tolerance:.0e})"))
    return ok, lines


def self_check(device):
    """The check scan_select.py runs before training may use these kernels: forward and
    all five gradients, T not a multiple of the chunk, D not a multiple of the block,
    the model's N = 16 and a smaller N. Returns (ok, text)."""
    chunk = CONFIG.chunk
    shapes = [(2, 2 * chunk + 37, 3 * CONFIG.block_d + 5, 16), (1, chunk - 3, 24, 16), (2, 45, 10, 4)]
    ok, lines = compare_with_reference(selective_scan_triton, device, shapes)
    return ok, f"triton scan ({CONFIG.describe()}) vs sequential definition: " + "; ".join(lines)
