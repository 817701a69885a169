"""The Mamba-1 selective scan of selective_scan.py as fused Triton kernels (GPU training).

Computes exactly selective_scan(u, delta, A, Bm, Cm) (no D*u skip term):
    h[t] = exp(delta[t]*A) * h[t-1] + (delta[t]*u[t]) * B[t]      h[-1] = 0
    y[t] = sum_n h[t, :, n] * C[t, n]
u, delta: [B,T,D] fp32; A: [D,N]; Bm, Cm: [B,T,N]; y: [B,T,D]. fp32 throughout.

Why: the torch scan materialises [B,T,D,N] fp32 tensors in a dozen whole-tensor
passes per layer and is memory-bound. Here one program owns (one batch row,
BLOCK_D channels, one time segment) and keeps its state h [BLOCK_D, N] in
registers while it walks its steps one at a time: per step it reads BLOCK_D
values of u and delta and N of B and C, and writes BLOCK_D outputs. The loads of
a step do not depend on the state, so tl.range(num_stages=...) can prefetch them
ahead of the recurrence.

Time segments: with long rows there are few of them (one 256K-token row is 48
programs of one warp at D = 768, on a GPU of 132 SMs), and the walk along the
sequence is serial, so training throughput fell with the row length (measured:
~500K tokens/s with 16 rows of 4K, 131K with one row of 64K or 128K). The
recurrence is linear, so each row is cut into S segments of whole chunks,
walked in parallel:
  1. each segment but the last, from a zero state: its end state e[s] (a pass
     that writes nothing else);
  2. in torch, serially over the S segments (small [B, D, N] tensors): the
     state entering segment s, h0[s+1] = P[s] * h0[s] + e[s], h0[0] = 0, where
     P[s] = exp(A * sum of delta over segment s) is the segment's total decay;
  3. every segment again from its true entering state, writing y and the chunk
     checkpoints exactly as one walk would.
The adjoint recurrence of the backward pass is linear too, with the same
per-segment decay, and is split the same way (its zero-carry pass needs only
delta, C and the output gradient). S = 1 (rows that already fill the GPU) is the
single walk with none of the extra passes; segments=0 (the default) picks S from
the number of programs the batch gives and the GPU's SM count.

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
    segments: int = 0    # time segments per row; 0 = chosen from the batch and the GPU

    def describe(self):
        return (f"block_d={self.block_d},chunk={self.chunk},stages={self.stages},warps={self.num_warps},"
                f"segments={self.segments or 'auto'}")


CONFIG = ScanConfig()


def configure(spec):
    """Set the kernel configuration from "block_d=16,chunk=64,stages=2,warps=1" (any subset)."""
    global CONFIG
    names = {"block_d": "block_d", "chunk": "chunk", "stages": "stages", "warps": "num_warps",
             "segments": "segments"}
    changes = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        key, _, value = item.partition("=")
        if key == "segments" and value == "auto":
            value = "0"
        if key not in names or not value.isdigit() or (int(value) < 1 and key != "segments"):
            raise ValueError(f"scan config: cannot read {item!r} "
                             f"(expected e.g. block_d=16,chunk=64,stages=2,warps=1,segments=auto)")
        changes[names[key]] = int(value)
    config = replace(CONFIG, **changes)
    for name in ("block_d", "chunk", "num_warps"):
        value = getattr(config, name)
        if value & (value - 1):
            raise ValueError(f"scan config: {name}={value} must be a power of two")
    CONFIG = config
    return config


@triton.jit
def _channel_tile(A_ptr, pid_d, D, N, BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr):
    """The program's block of channels: offsets and masks of d, n and the [BLOCK_D, BLOCK_N]
    tile, and A on it. Padding lanes load A = 0 (with delta = u = B = C = 0 there:
    decay 1, drive 0, state 0)."""
    offs_d = pid_d * BLOCK_D + tl.arange(0, BLOCK_D)
    offs_n = tl.arange(0, BLOCK_N)
    mask_d = offs_d < D
    mask_n = offs_n < N
    mask_dn = mask_d[:, None] & mask_n[None, :]
    offs_dn = offs_d[:, None] * N + offs_n[None, :]
    A = tl.load(A_ptr + offs_dn, mask=mask_dn, other=0.0)
    return offs_d, offs_n, mask_d, mask_n, mask_dn, offs_dn, A


@triton.jit
def _scan_forward_kernel(u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, h0_ptr, y_ptr, ck_ptr,
                         T, D, N, n_chunks, chunks_per_seg,
                         BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr, CHUNK: tl.constexpr,
                         STAGES: tl.constexpr, HAS_H0: tl.constexpr):
    # Program (row, channel block, segment): chunks [c0, c1) of the row, from the
    # state h0[row, segment] (zero without HAS_H0: one segment, or the first).
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    pid_s = tl.program_id(2)
    offs_d, offs_n, mask_d, mask_n, mask_dn, offs_dn, A = _channel_tile(A_ptr, pid_d, D, N, BLOCK_D, BLOCK_N)
    b64 = pid_b.to(tl.int64)  # batch offsets in 64 bits: B*T*D may pass 2^31
    u_base = u_ptr + b64 * T * D
    dt_base = dt_ptr + b64 * T * D
    y_base = y_ptr + b64 * T * D
    B_base = B_ptr + b64 * T * N
    C_base = C_ptr + b64 * T * N
    ck_base = ck_ptr + b64 * n_chunks * D * N
    if HAS_H0:
        n_segs = tl.num_programs(2)
        h = tl.load(h0_ptr + (b64 * n_segs + pid_s) * D * N + offs_dn, mask=mask_dn, other=0.0)
    else:
        h = tl.zeros([BLOCK_D, BLOCK_N], dtype=tl.float32)
    c0 = pid_s * chunks_per_seg
    c1 = tl.minimum(c0 + chunks_per_seg, n_chunks)
    for c in range(c0, c1):
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
def _segment_end_state_kernel(u_ptr, dt_ptr, A_ptr, B_ptr, end_ptr, dt_sum_ptr,
                              T, D, N, seg_len,
                              BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr, STAGES: tl.constexpr):
    # Forward pass 1: the state at the end of segment s walked from zero, and
    # the sum of delta over it (its total decay is exp(A * that sum)); s = 0 ..
    # S-2 (the last segment's are never needed).
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    pid_s = tl.program_id(2)
    offs_d, offs_n, mask_d, mask_n, mask_dn, offs_dn, A = _channel_tile(A_ptr, pid_d, D, N, BLOCK_D, BLOCK_N)
    b64 = pid_b.to(tl.int64)
    u_base = u_ptr + b64 * T * D
    dt_base = dt_ptr + b64 * T * D
    B_base = B_ptr + b64 * T * N
    h = tl.zeros([BLOCK_D, BLOCK_N], dtype=tl.float32)
    dt_sum = tl.zeros([BLOCK_D], dtype=tl.float32)
    t0 = pid_s * seg_len
    t1 = tl.minimum(t0 + seg_len, T)
    for t in tl.range(t0, t1, num_stages=STAGES):
        u_t = tl.load(u_base + t * D + offs_d, mask=mask_d, other=0.0)
        dt_t = tl.load(dt_base + t * D + offs_d, mask=mask_d, other=0.0)
        B_t = tl.load(B_base + t * N + offs_n, mask=mask_n, other=0.0)
        decay = tl.exp(dt_t[:, None] * A)
        h = decay * h + (dt_t * u_t)[:, None] * B_t[None, :]
        dt_sum += dt_t
    n_segs = tl.num_programs(2) + 1
    tl.store(end_ptr + (b64 * n_segs + pid_s) * D * N + offs_dn, h, mask=mask_dn)
    tl.store(dt_sum_ptr + (b64 * n_segs + pid_s) * D + offs_d, dt_sum, mask=mask_d)


@triton.jit
def _segment_adjoint_kernel(dt_ptr, A_ptr, C_ptr, gy_ptr, out_ptr,
                            T, D, N, seg_len,
                            BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr, STAGES: tl.constexpr):
    # Backward pass 1: the adjoint carry that segment s (s = 1 .. S-1) hands to
    # the segment before it, walked backwards from a zero carry:
    #   carry <- exp(delta[t]*A) * (C[t]*gy[t] + carry)   for t from its last step to its first.
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    seg = tl.program_id(2) + 1
    offs_d, offs_n, mask_d, mask_n, mask_dn, offs_dn, A = _channel_tile(A_ptr, pid_d, D, N, BLOCK_D, BLOCK_N)
    b64 = pid_b.to(tl.int64)
    dt_base = dt_ptr + b64 * T * D
    gy_base = gy_ptr + b64 * T * D
    C_base = C_ptr + b64 * T * N
    carry = tl.zeros([BLOCK_D, BLOCK_N], dtype=tl.float32)
    t0 = seg * seg_len
    t1 = tl.minimum(t0 + seg_len, T)
    for j in tl.range(0, t1 - t0, num_stages=STAGES):
        s = t1 - 1 - j
        dt_t = tl.load(dt_base + s * D + offs_d, mask=mask_d, other=0.0)
        C_t = tl.load(C_base + s * N + offs_n, mask=mask_n, other=0.0)
        gy_t = tl.load(gy_base + s * D + offs_d, mask=mask_d, other=0.0)
        decay = tl.exp(dt_t[:, None] * A)
        carry = decay * (gy_t[:, None] * C_t[None, :] + carry)
    n_segs = tl.num_programs(2) + 1
    tl.store(out_ptr + (b64 * n_segs + seg) * D * N + offs_dn, carry, mask=mask_dn)


@triton.jit
def _scan_backward_kernel(u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, gy_ptr, ck_ptr, carry_ptr, scratch_ptr,
                          gu_ptr, gdt_ptr, gA_ptr, gB_ptr, gC_ptr,
                          T, D, N, n_chunks, n_dblocks, chunks_per_seg,
                          BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr, CHUNK: tl.constexpr,
                          STAGES: tl.constexpr, HAS_CARRY: tl.constexpr):
    # Program (row, channel block, segment): chunks [c0, c1) from the last to the
    # first, starting from the adjoint carry the later segments hand it
    # (carry[row, segment]; zero without HAS_CARRY: one segment, or the last).
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    pid_s = tl.program_id(2)
    n_segs = tl.num_programs(2)
    offs_d, offs_n, mask_d, mask_n, mask_dn, offs_dn, A = _channel_tile(A_ptr, pid_d, D, N, BLOCK_D, BLOCK_N)
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
    scratch_base = scratch_ptr + (block64 * n_segs + pid_s) * (CHUNK * BLOCK_D * BLOCK_N)

    if HAS_CARRY:   # exp(delta[t+1]*A) * g[t+1]
        carry = tl.load(carry_ptr + (b64 * n_segs + pid_s) * D * N + offs_dn, mask=mask_dn, other=0.0)
    else:
        carry = tl.zeros([BLOCK_D, BLOCK_N], dtype=tl.float32)
    gA_acc = tl.zeros([BLOCK_D, BLOCK_N], dtype=tl.float32)
    c0 = pid_s * chunks_per_seg
    c1 = tl.minimum(c0 + chunks_per_seg, n_chunks)
    for i in range(0, c1 - c0):
        c = c1 - 1 - i
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
    tl.store(gA_ptr + (b64 * n_segs + pid_s) * D * N + offs_dn, gA_acc, mask=mask_dn)  # partial [B, S, D, N]


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


# Programs (one warp each) the segments aim for: about as many as 16 rows of 4K
# tokens give at D = 768 (768 programs: the fastest training measured; each
# program's backward scratch tile is 64 KB, so ~800 of them are ~50 MB, about
# what L2 holds), and no segment shorter than MIN_SEGMENT_CHUNKS chunks, so the
# extra passes stay a small share of a segment's walk.
PROGRAMS_PER_SM = 6
MIN_SEGMENT_CHUNKS = 4


def segment_plan(batch, n_dblocks, n_chunks, cfg, device):
    """(segments, chunks per segment): cfg.segments when set, else chosen from the
    programs the batch gives and the device's SM count. Never an empty segment."""
    if cfg.segments:
        wanted = cfg.segments
    else:
        sms = torch.cuda.get_device_properties(device).multi_processor_count if device.type == "cuda" else 1
        wanted = max(1, (PROGRAMS_PER_SM * sms) // max(batch * n_dblocks, 1))
        wanted = min(wanted, max(1, n_chunks // MIN_SEGMENT_CHUNKS))
    wanted = max(1, min(wanted, n_chunks))
    per_seg = triton.cdiv(n_chunks, wanted)
    return triton.cdiv(n_chunks, per_seg), per_seg


class TritonSelectiveScan(torch.autograd.Function):
    """y = selective_scan(u, delta, A, B, C) with fused Triton forward and backward."""

    @staticmethod
    def forward(ctx, u, delta, A, Bm, Cm):
        _check_inputs(u, delta, A, Bm, Cm)
        u, delta, A, Bm, Cm = (t.contiguous() for t in (u, delta, A, Bm, Cm))
        batch, length, dim, n, cfg, n_dblocks, n_chunks, block_n = _launch_shape(u, A)
        n_segs, per_seg = segment_plan(batch, n_dblocks, n_chunks, cfg, u.device) if length > 0 else (1, 1)
        y = torch.empty_like(u)
        checkpoints = u.new_empty(batch, n_chunks, dim, n)
        decay = None
        if length > 0 and dim > 0:
            h0 = y  # unused without HAS_H0 (any tensor will do)
            if n_segs > 1:
                seg_len = per_seg * cfg.chunk
                ends = u.new_zeros(batch, n_segs, dim, n)
                dt_sums = u.new_zeros(batch, n_segs, dim)  # the last segment's stays 0 (never needed)
                _segment_end_state_kernel[(batch, n_dblocks, n_segs - 1)](
                    u, delta, A, Bm, ends, dt_sums, length, dim, n, seg_len,
                    BLOCK_D=cfg.block_d, BLOCK_N=block_n, STAGES=cfg.stages, num_warps=cfg.num_warps)
                # P[b, s] = exp(A * sum of delta over segment s), each segment's total decay
                decay = torch.exp(dt_sums.unsqueeze(-1) * A)
                h0 = torch.zeros_like(ends)
                for seg in range(1, n_segs):  # serial, but over S small tiles
                    h0[:, seg] = decay[:, seg - 1] * h0[:, seg - 1] + ends[:, seg - 1]
            _scan_forward_kernel[(batch, n_dblocks, n_segs)](
                u, delta, A, Bm, Cm, h0, y, checkpoints, length, dim, n, n_chunks, per_seg,
                BLOCK_D=cfg.block_d, BLOCK_N=block_n, CHUNK=cfg.chunk, STAGES=cfg.stages,
                HAS_H0=n_segs > 1, num_warps=cfg.num_warps)
        ctx.config = cfg
        ctx.segments = (n_segs, per_seg)
        ctx.save_for_backward(u, delta, A, Bm, Cm, checkpoints, decay if decay is not None else u.new_empty(0))
        return y

    @staticmethod
    def backward(ctx, gy):
        u, delta, A, Bm, Cm, checkpoints, decay = ctx.saved_tensors
        cfg = ctx.config
        n_segs, per_seg = ctx.segments
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
        gA_parts = u.new_empty(batch, n_segs, dim, n)
        gB_parts = u.new_empty(batch, n_dblocks, length, n)
        gC_parts = u.new_empty(batch, n_dblocks, length, n)
        if length == 0 or dim == 0:
            gA_parts.zero_()
        else:
            carry = gu  # unused without HAS_CARRY
            if n_segs > 1:
                # The carry each segment hands back from a zero start, then the true
                # carry entering each segment: K[S-1] = 0, K[s] = K0[s+1] + P[s+1] * K[s+1].
                handed = u.new_zeros(batch, n_segs, dim, n)
                _segment_adjoint_kernel[(batch, n_dblocks, n_segs - 1)](
                    delta, A, Cm, gy, handed, length, dim, n, per_seg * cfg.chunk,
                    BLOCK_D=cfg.block_d, BLOCK_N=block_n, STAGES=cfg.stages, num_warps=cfg.num_warps)
                carry = torch.zeros_like(handed)
                for seg in range(n_segs - 2, -1, -1):
                    carry[:, seg] = handed[:, seg + 1] + decay[:, seg + 1] * carry[:, seg + 1]
            scratch = u.new_empty(batch * n_dblocks * n_segs * cfg.chunk * cfg.block_d * block_n)
            _scan_backward_kernel[(batch, n_dblocks, n_segs)](
                u, delta, A, Bm, Cm, gy, checkpoints, carry, scratch,
                gu, gdelta, gA_parts, gB_parts, gC_parts,
                length, dim, n, n_chunks, n_dblocks, per_seg,
                BLOCK_D=cfg.block_d, BLOCK_N=block_n, CHUNK=cfg.chunk, STAGES=cfg.stages,
                HAS_CARRY=n_segs > 1, num_warps=cfg.num_warps)
        return gu, gdelta, gA_parts.sum((0, 1)), gB_parts.sum(1), gC_parts.sum(1)


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
    the model's N = 16 and a smaller N; and, unless segments=1, the time-segmented
    walk (3 segments, the last one short), whatever segment count the configuration
    would pick here. Returns (ok, text)."""
    global CONFIG
    chunk = CONFIG.chunk
    shapes = [(2, 2 * chunk + 37, 3 * CONFIG.block_d + 5, 16), (1, chunk - 3, 24, 16), (2, 45, 10, 4)]
    ok, lines = compare_with_reference(selective_scan_triton, device, shapes)
    if CONFIG.segments == 1:  # segments are never used: nothing more to check
        return ok, f"triton scan ({CONFIG.describe()}) vs sequential definition: " + "; ".join(lines)
    configured = CONFIG
    CONFIG = replace(configured, segments=3)
    try:
        seg_ok, seg_lines = compare_with_reference(selective_scan_triton, device,
                                                   [(2, 5 * chunk + 37, 2 * CONFIG.block_d + 3, 16)])
    finally:
        CONFIG = configured
    lines += [f"segments=3 {line}" for line in seg_lines]
    return ok and seg_ok, f"triton scan ({CONFIG.describe()}) vs sequential definition: " + "; ".join(lines)
