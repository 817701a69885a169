"""The Mamba-1 selective scan for training: parallel over time, fp32, torch ops only.

    h[t] = exp(dt[t]*A) * h[t-1] + (dt[t]*u[t]) * B[t]      h[-1] = 0
    y[t] = sum_n h[t, :, n] * C[t, n]

A linear recurrence h[t] = a[t]*h[t-1] + b[t] is an associative scan. It is
computed in chunks: a Hillis-Steele scan inside chunks of CHUNK steps
(log2(CHUNK) whole-tensor passes), the same scan over the chunk ends (a tensor
CHUNK times smaller), then one pass that adds each chunk's carried-in state.
No Python loop over time steps.

The autograd function saves only its small inputs ([B,T,D] and [B,T,N]) and
recomputes the [B,T,D,N] states in backward, where the gradient flows through
the same recurrence run backwards in time:
    g[t] = dL/dh[t] = C[t]*gy[t] + a[t+1]*g[t+1]
so memory stays at a few [B,T,D,N] tensors per layer at a time instead of
one per scan step, which is what lets a whole batch of long rows train at once.
Contractions are written as multiply + sum (memory-bound passes in fp32),
not einsum, which could route them through TF32 matrix units.
Works on torch 1.13 (CPU) and torch 2.x (CUDA).
"""
import torch

CHUNK = 16


def _scan_inplace(a, b, dim):
    """Inclusive scan along `dim` of (a, b) pairs, in place: afterwards
    b[t] = state at t starting from zero, a[t] = product of a[0..t]."""
    length = a.shape[dim]
    step = 1
    while step < length:
        tail_b = b.narrow(dim, step, length - step)
        tail_a = a.narrow(dim, step, length - step)
        head_b = b.narrow(dim, 0, length - step)
        head_a = a.narrow(dim, 0, length - step)
        # Read the heads before writing the tails (they overlap).
        new_b = torch.addcmul(tail_b, tail_a, head_b)
        new_a = tail_a * head_a
        tail_b.copy_(new_b)
        tail_a.copy_(new_a)
        step *= 2


def linear_scan(a, b, chunk=CHUNK):
    """h[t] = a[t]*h[t-1] + b[t] along dim 1 of [B, T, ...] tensors, h[-1] = 0.
    Consumes (overwrites) a and b; returns h (a tensor of b's storage)."""
    batch, length = a.shape[:2]
    rest = a.shape[2:]
    pad = (-length) % chunk
    if pad:
        a = torch.cat([a, a.new_ones((batch, pad) + rest)], dim=1)
        b = torch.cat([b, b.new_zeros((batch, pad) + rest)], dim=1)
    n_chunks = a.shape[1] // chunk
    a = a.reshape((batch, n_chunks, chunk) + rest)
    b = b.reshape((batch, n_chunks, chunk) + rest)
    _scan_inplace(a, b, dim=2)
    if n_chunks > 1:
        # States at the chunk ends, carried across chunks by the same scan.
        end_a = a[:, :, -1].clone()
        end_b = b[:, :, -1].clone()
        _scan_inplace(end_a, end_b, dim=1)
        carry = torch.cat([torch.zeros_like(end_b[:, :1]), end_b[:, :-1]], dim=1)
        b.addcmul_(a, carry.unsqueeze(2))
    h = b.reshape((batch, n_chunks * chunk) + rest)
    return h[:, :length] if pad else h


def _states(u, delta, A, Bm):
    """(decay, states): decay = exp(delta*A), states = all h[t]. [B,T,D,N] fp32."""
    decay = torch.exp(delta.unsqueeze(-1) * A)
    drive = (delta * u).unsqueeze(-1) * Bm.unsqueeze(2)
    h = linear_scan(decay.clone(), drive)
    return decay, h


class SelectiveScan(torch.autograd.Function):
    """y = selective_scan(u, delta, A, B, C) without the D*u skip term."""

    @staticmethod
    def forward(ctx, u, delta, A, Bm, Cm):
        with torch.no_grad():
            _, h = _states(u, delta, A, Bm)
            y = (h * Cm.unsqueeze(2)).sum(-1)
        ctx.save_for_backward(u, delta, A, Bm, Cm)
        return y

    @staticmethod
    def backward(ctx, gy):
        u, delta, A, Bm, Cm = ctx.saved_tensors
        with torch.no_grad():
            gy = gy.to(u.dtype)
            decay, h = _states(u, delta, A, Bm)
            gC = (h * gy.unsqueeze(-1)).sum(2)
            # g[t] = C[t]*gy[t] + decay[t+1]*g[t+1]: the same scan, reversed in time.
            drive = gy.unsqueeze(-1) * Cm.unsqueeze(2)
            next_decay = torch.cat([decay[:, 1:], torch.zeros_like(decay[:, :1])], dim=1)
            g = linear_scan(next_decay.flip(1), drive.flip(1)).flip(1)
            del next_decay, drive
            # h[t-1] (zero before the start) for the decay gradient.
            h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)
            del h
            g_decay_log = g * h_prev * decay  # dL/d(delta*A), elementwise
            del h_prev, decay
            gA = (g_decay_log * delta.unsqueeze(-1)).sum((0, 1))
            gdelta = (g_decay_log * A).sum(-1)
            del g_decay_log
            gB = (g * (delta * u).unsqueeze(-1)).sum(2)
            g_drive = (g * Bm.unsqueeze(2)).sum(-1)  # dL/d(delta*u)
            gdelta = gdelta + g_drive * u
            gu = g_drive * delta
        return gu, gdelta, gA, gB, gC


def selective_scan(u, delta, A, Bm, Cm):
    """u, delta: [B,T,D]; A: [D,N]; Bm, Cm: [B,T,N]; all fp32. Returns y [B,T,D]."""
    return SelectiveScan.apply(u, delta, A, Bm, Cm)


def selective_scan_reference(u, delta, A, Bm, Cm):
    """The sequential definition, for tests only."""
    batch, length, dim = u.shape
    h = u.new_zeros(batch, dim, A.shape[1])
    ys = []
    for t in range(length):
        h = torch.exp(delta[:, t, :, None] * A) * h + (delta[:, t] * u[:, t])[..., None] * Bm[:, t, None, :]
        ys.append((h * Cm[:, t, None, :]).sum(-1))
    return torch.stack(ys, dim=1)
