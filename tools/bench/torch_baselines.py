#!/usr/bin/env python3
"""Baselines for samba-bench on the same GPU (issue 3), with torch 2.x:

1. "torch SAMBA": SAMBA of the same shape written plainly in PyTorch from
   docs/model-spec.md (bf16 weights, fp32 state, eager mode, one Python call
   per operation): what a straightforward PyTorch implementation gives.
   Decode with a ring buffer of W keys per SWA layer; prefill with a chunked
   selective scan (a Python loop over time inside each chunk, as the
   reference does).
2. "torch Llama": a Llama-style full-attention transformer of about the same
   parameter count (same d_model, heads, KV groups, MLP; the layer count
   chosen to match the parameters), decoding with torch's
   scaled_dot_product_attention over a KV cache of the full context, the step
   captured as a CUDA graph (the strongest form of this baseline we can make).

Random weights; the caches are filled with random values of the right size
(the cost of a decode step does not depend on the values). Timing: CUDA
events after warm-up, medians of several runs.

    python3 tools/bench/torch_baselines.py --models 1.3B,1.7B --out table.md
"""

import argparse
import math
import sys
import time

import torch
import torch.nn.functional as F

SHAPES = {
    "421M": dict(name="Samba_421M", n_layer=12, d=1536, H=12, G=12, hs=128, I=4096),
    "1.3B": dict(name="Samba_1.3B", n_layer=18, d=2304, H=18, G=18, hs=128, I=6144),
    "1.7B": dict(name="Samba_1.7B-paper", n_layer=24, d=2048, H=32, G=4, hs=64, I=8192),
}
V, W, N_STATE, D_CONV = 32000, 2048, 16, 4
DEV = "cuda"
BF16 = torch.bfloat16


def rand(*shape, std=0.02, dtype=BF16):
    return (torch.randn(*shape, device=DEV, dtype=torch.float32) * std).to(dtype)


def rms_norm(x, w, eps=1e-5):
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps) * w).to(BF16)


def rope(x, pos, hs):
    """NeoX half-split RoPE; x [..., T, heads, hs], pos [T] int64."""
    half = hs // 2
    inv = 10000.0 ** (-torch.arange(half, device=DEV, dtype=torch.float64) * 2 / hs)
    ang = pos.double()[:, None] * inv[None, :]
    cos, sin = ang.cos().float()[:, None, :], ang.sin().float()[:, None, :]
    x1, x2 = x[..., :half].float(), x[..., half:].float()
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1).to(BF16)


def samba_params(s):
    d, I, H, G, hs = s["d"], s["I"], s["H"], s["G"], s["hs"]
    di, r = 2 * d, math.ceil(d / 16)
    mamba = 2 * di * d + di * D_CONV + di + (r + 2 * N_STATE) * di + di * r + di + di * N_STATE + di + d * di
    swa = (H + 2 * G) * hs * d + d * H * hs
    per = 3 * d * I + 2 * d
    n = s["n_layer"]
    return V * d + d + (n + 1) // 2 * (mamba + per) + n // 2 * (swa + per)


class TorchSamba:
    def __init__(self, s):
        self.s = s
        d, I, H, G, hs = s["d"], s["I"], s["H"], s["G"], s["hs"]
        self.di, self.r = 2 * d, math.ceil(d / 16)
        di, r = self.di, self.r
        self.emb = rand(V, d)
        self.norm_f = torch.ones(d, device=DEV)
        self.layers = []
        for i in range(s["n_layer"]):
            L = dict(n1=torch.ones(d, device=DEV), n2=torch.ones(d, device=DEV), w1=rand(I, d), w2=rand(I, d),
                     w3=rand(d, I))
            if i % 2 == 0:
                L.update(in_proj=rand(2 * di, d), conv_w=rand(di, D_CONV, std=0.3, dtype=torch.float32),
                         conv_b=torch.zeros(di, device=DEV), x_proj=rand(r + 2 * N_STATE, di),
                         dt_w=rand(di, r, std=r ** -0.5, dtype=torch.float32),
                         dt_b=torch.full((di,), -4.6, device=DEV),
                         A=-torch.arange(1, N_STATE + 1, device=DEV, dtype=torch.float32).repeat(di, 1),
                         D=torch.ones(di, device=DEV), out_proj=rand(d, di))
            else:
                L.update(qkv=rand((H + 2 * G) * hs, d), proj=rand(d, H * hs))
            self.layers.append(L)
        self.reset()

    def reset(self):
        s, di = self.s, self.di
        self.conv = [torch.zeros(di, D_CONV - 1, device=DEV) for _ in range(0, s["n_layer"], 2)]
        self.ssm = [torch.zeros(di, N_STATE, device=DEV) for _ in range(0, s["n_layer"], 2)]
        kv = s["G"] * s["hs"]
        self.keys = [torch.zeros(W, kv, device=DEV, dtype=BF16) for _ in range(1, s["n_layer"], 2)]
        self.values = [torch.zeros(W, kv, device=DEV, dtype=BF16) for _ in range(1, s["n_layer"], 2)]
        self.pos = 0

    def fill_random_state(self, position):
        for t in self.keys + self.values:
            t.copy_(torch.randn_like(t, dtype=torch.float32).to(BF16))
        for t in self.ssm + self.conv:
            t.normal_()
        self.pos = position

    @torch.no_grad()
    def mamba(self, L, m, u):
        """u [T, d] bf16 -> [T, d] fp32; T >= 1, carries conv and SSM state."""
        di, r = self.di, self.r
        T = u.shape[0]
        xz = (u @ L["in_proj"].t()).float()
        x, z = xz[:, :di], xz[:, di:]
        xin = torch.cat([self.conv[m].t(), x], 0)  # [K-1+T, di]
        self.conv[m] = xin[-(D_CONV - 1):].t().contiguous()
        xc = F.silu(F.conv1d(xin.t()[None], L["conv_w"][:, None, :], L["conv_b"], groups=di)[0].t())
        dbc = (xc.to(BF16) @ L["x_proj"].t()).float()
        dt = F.softplus(dbc[:, :r] @ L["dt_w"].t() + L["dt_b"])
        B, C = dbc[:, r:r + N_STATE], dbc[:, r + N_STATE:]
        h = self.ssm[m]
        ys = []
        for t in range(T):  # sequential scan, as in the reference
            h = torch.exp(dt[t, :, None] * L["A"]) * h + (dt[t] * xc[t])[:, None] * B[t][None, :]
            ys.append(h @ C[t])
        self.ssm[m] = h
        y = (torch.stack(ys) + L["D"] * xc) * F.silu(z)
        return (y.to(BF16) @ L["out_proj"].t()).float()

    @torch.no_grad()
    def swa(self, L, a, u):
        s = self.s
        H, G, hs = s["H"], s["G"], s["hs"]
        T = u.shape[0]
        qkv = u @ L["qkv"].t()
        pos = torch.arange(self.pos, self.pos + T, device=DEV)
        q = rope(qkv[:, :H * hs].view(T, H, hs), pos, hs)
        k = rope(qkv[:, H * hs:(H + G) * hs].view(T, G, hs), pos, hs).reshape(T, G * hs)
        v = qkv[:, (H + G) * hs:]
        if T == 1:
            slot = self.pos % W
            self.keys[a][slot] = k[0]
            self.values[a][slot] = v[0]
            n = min(self.pos + 1, W)
            kk = self.keys[a][:n].view(n, G, hs).transpose(0, 1)[None]
            vv = self.values[a][:n].view(n, G, hs).transpose(0, 1)[None]
            o = F.scaled_dot_product_attention(q.transpose(0, 1)[None], kk, vv, enable_gqa=G != H)
        else:
            # Prefill from position 0 (the benchmark's case): band mask over the chunk.
            assert self.pos == 0
            i = torch.arange(T, device=DEV)
            mask = (i[None, :] <= i[:, None]) & (i[None, :] > i[:, None] - W)
            o = F.scaled_dot_product_attention(q.transpose(0, 1)[None], k.view(T, G, hs).transpose(0, 1)[None],
                                               v.view(T, G, hs).transpose(0, 1)[None], attn_mask=mask,
                                               enable_gqa=G != H)
            keep = min(T, W)
            slots = (pos[-keep:] % W)
            self.keys[a][slots] = k[-keep:]
            self.values[a][slots] = v[-keep:]
        o = o[0].transpose(0, 1).reshape(T, H * hs)
        return (o @ L["proj"].t()).float()

    @torch.no_grad()
    def forward(self, tokens):
        x = self.emb[tokens].float()
        m = a = 0
        for i, L in enumerate(self.layers):
            u = rms_norm(x, L["n1"])
            if i % 2 == 0:
                x = x + self.mamba(L, m, u)
                m += 1
            else:
                x = x + self.swa(L, a, u)
                a += 1
            u = rms_norm(x, L["n2"])
            x = x + (F.silu(u @ L["w1"].t()) * (u @ L["w2"].t())) @ L["w3"].t()
        self.pos += tokens.shape[0]
        return (rms_norm(x[-1:], self.norm_f) @ self.emb.t()).float()


class TorchLlama:
    """Pre-norm Llama block: x += o_proj(SDPA(rope(q), rope(k), v)); x += SwiGLU(x)."""

    def __init__(self, s, n_layer, max_context):
        self.s, self.n_layer = s, n_layer
        d, I, H, G, hs = s["d"], s["I"], s["H"], s["G"], s["hs"]
        self.emb = rand(V, d)
        self.layers = [dict(n1=torch.ones(d, device=DEV), n2=torch.ones(d, device=DEV), qkv=rand((H + 2 * G) * hs, d),
                            proj=rand(d, H * hs), w1=rand(I, d), w2=rand(I, d), w3=rand(d, I))
                       for _ in range(n_layer)]
        self.norm_f = torch.ones(d, device=DEV)
        self.k = torch.empty(n_layer, 1, G, max_context, hs, device=DEV, dtype=BF16)
        self.v = torch.empty_like(self.k)

    def params(self):
        s = self.s
        d, I, H, G, hs = s["d"], s["I"], s["H"], s["G"], s["hs"]
        return V * d + d + self.n_layer * ((H + 2 * G) * hs * d + d * H * hs + 3 * d * I + 2 * d)

    @torch.no_grad()
    def decode_step(self, token, pos, context):
        """One token (a [1] int64 tensor) at position pos (a [1] tensor), attending to
        `context` cached keys. Tensors, not Python numbers, so a CUDA graph can replay it."""
        s = self.s
        H, G, hs = s["H"], s["G"], s["hs"]
        x = self.emb.index_select(0, token).float()
        for li, L in enumerate(self.layers):
            u = rms_norm(x, L["n1"])
            qkv = u @ L["qkv"].t()
            q = rope(qkv[:, :H * hs].view(1, H, hs), pos.view(1), hs)
            k = rope(qkv[:, H * hs:(H + G) * hs].view(1, G, hs), pos.view(1), hs)
            self.k[li, 0, :, context - 1] = k[0]
            self.v[li, 0, :, context - 1] = qkv[0, (H + G) * hs:].view(G, hs)
            o = F.scaled_dot_product_attention(q.transpose(0, 1)[None], self.k[li, :, :, :context],
                                               self.v[li, :, :, :context], enable_gqa=G != H)
            x = x + (o[0].transpose(0, 1).reshape(1, H * hs) @ L["proj"].t()).float()
            u = rms_norm(x, L["n2"])
            x = x + ((F.silu(u @ L["w1"].t()) * (u @ L["w2"].t())) @ L["w3"].t()).float()
        return (rms_norm(x, self.norm_f) @ self.emb.t()).float()

    @torch.no_grad()
    def prefill(self, tokens):
        s = self.s
        H, G, hs = s["H"], s["G"], s["hs"]
        T = tokens.shape[0]
        x = self.emb[tokens].float()
        pos = torch.arange(T, device=DEV)
        for L in self.layers:
            u = rms_norm(x, L["n1"])
            qkv = u @ L["qkv"].t()
            q = rope(qkv[:, :H * hs].view(T, H, hs), pos, hs).transpose(0, 1)[None]
            k = rope(qkv[:, H * hs:(H + G) * hs].view(T, G, hs), pos, hs).transpose(0, 1)[None]
            v = qkv[:, (H + G) * hs:].view(T, G, hs).transpose(0, 1)[None]
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=G != H)
            x = x + (o[0].transpose(0, 1).reshape(T, H * hs) @ L["proj"].t()).float()
            u = rms_norm(x, L["n2"])
            x = x + ((F.silu(u @ L["w1"].t()) * (u @ L["w2"].t())) @ L["w3"].t()).float()
        return (rms_norm(x[-1:], self.norm_f) @ self.emb.t()).float()


def time_ms(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def bench_samba(s, rows):
    model = TorchSamba(s)
    params = samba_params(s)
    tokens = torch.randint(0, V, (4096,), device=DEV)

    def prefill():
        model.reset()
        model.forward(tokens)

    t_prefill = time_ms(prefill, reps=2, warmup=1)
    model.fill_random_state(65536)
    tok = torch.tensor([5], device=DEV)
    steps = 32
    t_decode = time_ms(lambda: [model.forward(tok) for _ in range(steps)], reps=3, warmup=1) / steps
    rows.append((s["name"], "torch SAMBA (eager, bf16)", params, "4K prefill; decode at any context >= 2K",
                 4096 / (t_prefill / 1e3), 1e3 / t_decode))
    print(f"{s['name']} torch SAMBA: prefill 4K {4096 / (t_prefill / 1e3):.0f} tok/s, decode {1e3 / t_decode:.1f} tok/s",
          flush=True)
    del model
    torch.cuda.empty_cache()


def bench_llama(s, contexts, rows):
    d, I, H, G, hs = s["d"], s["I"], s["H"], s["G"], s["hs"]
    per_layer = (H + 2 * G) * hs * d + d * H * hs + 3 * d * I + 2 * d
    n_layer = max(1, round((samba_params(s) - V * d) / per_layer))
    model = TorchLlama(s, n_layer, max(contexts))
    model.k.normal_()
    model.v.normal_()
    tokens = torch.randint(0, V, (4096,), device=DEV)
    t_prefill = time_ms(lambda: model.prefill(tokens), reps=3, warmup=1)
    for C in contexts:
        token = torch.tensor([7], device=DEV)
        pos = torch.tensor([C - 1], device=DEV)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                model.decode_step(token, pos, C)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            model.decode_step(token, pos, C)
        steps = 64
        t = time_ms(lambda: [graph.replay() for _ in range(steps)], reps=5, warmup=1) / steps
        label = f"{C // 1024}K"
        rows.append((s["name"], f"torch Llama-style, {n_layer} layers, SDPA, CUDA graph", model.params(),
                     f"decode at {label}" + ("; 4K prefill" if C == contexts[0] else ""),
                     4096 / (t_prefill / 1e3) if C == contexts[0] else None, 1e3 / t))
        print(f"{s['name']} torch Llama ({n_layer} layers): decode at {label} {1e3 / t:.0f} tok/s", flush=True)
        del graph
    del model
    torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="1.3B,1.7B")
    ap.add_argument("--contexts", default="4096,65536")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 77
    torch.manual_seed(0)
    contexts = [int(c) for c in args.contexts.split(",")]
    rows = []
    for name in args.models.split(","):
        s = SHAPES[name]
        for bench in (lambda: bench_samba(s, rows), lambda: bench_llama(s, contexts, rows)):
            try:  # one failing baseline must not take the others with it
                bench()
            except Exception as e:  # noqa: BLE001 - reported, then the next one runs
                print(f"{name}: baseline failed: {type(e).__name__}: {e}", flush=True)
                rows.append((s["name"], f"FAILED: {type(e).__name__}", 0, str(e).splitlines()[0][:80], None, 0.0))
            torch.cuda.empty_cache()
    lines = [f"torch {torch.__version__}, {torch.cuda.get_device_name()}. Random weights, batch 1.", "",
             "| shape | baseline | params | what | prefill tok/s | decode tok/s |", "|---|---|---|---|---|---|"]
    for shape, what, params, ctx, prefill, decode in rows:
        p = f"{prefill:.0f}" if prefill else ""
        lines.append(f"| {shape} | {what} | {params / 1e9:.2f}B | {ctx} | {p} | {decode:.1f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
