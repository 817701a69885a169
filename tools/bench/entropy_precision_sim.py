#!/usr/bin/python3
"""How close can a bf16 GPU's attention entropy be to the fp32 CPU's?

A float64 SAMBA (model-spec.md section 1) with bf16 rounding switched on at
the places the CUDA backend rounds: the inputs of every GEMM, q and k, v, and
the attention probabilities P before P V. Weights are bf16-exact in every
variant (as in test_cuda_parity_gpu), so the differences measured are the
activations' rounding only. Prints the entropy error (nats) and the logits'
relative error of each variant against pure float64.

Result on the parity test's shapes (2026-12-01): all-bf16 (the backend as
built) gives entropy errors with a mean ~1.5e-3 and a tail ~1-2e-2, which is
what the GPU measures; fp32 GEMMs alone still leave ~7e-3; only activations in
fp32, or split into two bf16 halves (hi + lo) everywhere including P and V,
bring the tail under 1e-3. Runs on Debian's python3-torch (CPU), seconds.

    /usr/bin/python3 tools/bench/entropy_precision_sim.py [--mid]
"""

import argparse
import math

import torch

F = torch.float64


def bf16(x):
    return x.to(torch.bfloat16).to(F)


def tf32(x):  # 10-bit mantissa, as the tensor cores' fp32 mode
    return (x.to(torch.float32).view(torch.int32) & ~0x1FFF).view(torch.float32).to(F)


def split(x):  # hi + lo, both bf16: ~16 mantissa bits
    hi = bf16(x)
    return hi + bf16(x - hi)


def exact(x):
    return x


def make_model(L, d, H, hs, I, V, seed=0):
    torch.manual_seed(seed)
    di, N, K, r = 2 * d, 16, 4, (d + 15) // 16

    def U(*shape, std):
        return bf16((torch.rand(*shape, dtype=F) * 2 - 1) * std * math.sqrt(3))

    m = dict(emb=U(V, d, std=4 / math.sqrt(d)), lnf=bf16(0.9 + 0.2 * torch.rand(d, dtype=F)), layers=[],
             dims=(L, d, H, hs, I, V, di, N, K, r))
    for i in range(L):
        layer = dict(n1=bf16(0.9 + 0.2 * torch.rand(d, dtype=F)), n2=bf16(0.9 + 0.2 * torch.rand(d, dtype=F)),
                     w1=U(I, d, std=d ** -.5), w2=U(I, d, std=d ** -.5), w3=U(d, I, std=I ** -.5))
        if i % 2 == 0:
            layer.update(inp=U(2 * di, d, std=d ** -.5), cw=U(di, K, std=0.29), cb=U(di, std=0.06),
                         xp=U(r + 2 * N, di, std=di ** -.5), dtw=U(di, r, std=r ** -.5),
                         dtb=bf16(torch.log(torch.expm1(0.001 + 0.099 * torch.rand(di, dtype=F)))),
                         A=-torch.exp(bf16(torch.log(torch.arange(1, N + 1, dtype=F)).repeat(di, 1))),
                         D=bf16(0.5 + torch.rand(di, dtype=F)), outp=U(d, di, std=di ** -.5))
        else:
            layer.update(q=U(H * hs, d, std=d ** -.5), k=U(H * hs, d, std=d ** -.5), v=U(H * hs, d, std=d ** -.5),
                         o=U(d, H * hs, std=(H * hs) ** -.5))
        m["layers"].append(layer)
    return m


def forward(m, tok, W, r_gemm, r_qk, r_v, r_p):
    L, d, H, hs, I, V, di, N, K, r = m["dims"]
    T = len(tok)
    x = m["emb"][tok]
    entropies = []

    def norm(x, w):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5) * w

    ang = torch.arange(T, dtype=F)[:, None] * 10000.0 ** (-torch.arange(hs // 2, dtype=F) * 2 / hs)

    def rope(z):
        z = z.view(T, H, hs)
        a, b = z[..., :hs // 2], z[..., hs // 2:]
        c, s = ang.cos()[:, None], ang.sin()[:, None]
        return torch.cat([a * c - b * s, a * s + b * c], -1)

    for i, p in enumerate(m["layers"]):
        u = r_gemm(norm(x, p["n1"]))
        if i % 2 == 0:
            xz = u @ p["inp"].T
            xx, z = xz[:, :di], xz[:, di:]
            xp = torch.cat([torch.zeros(K - 1, di, dtype=F), xx])
            xc = torch.stack([(xp[t:t + K] * p["cw"].T).sum(0) for t in range(T)]) + p["cb"]
            xc = xc * torch.sigmoid(xc)
            dbc = r_gemm(xc) @ p["xp"].T
            dt = torch.nn.functional.softplus(dbc[:, :r] @ p["dtw"].T + p["dtb"])
            B, C = dbc[:, r:r + N], dbc[:, r + N:]
            h = torch.zeros(di, N, dtype=F)
            ys = []
            for t in range(T):
                h = torch.exp(dt[t, :, None] * p["A"]) * h + (dt[t] * xc[t])[:, None] * B[t]
                ys.append(h @ C[t])
            y = (torch.stack(ys) + p["D"] * xc) * (z * torch.sigmoid(z))
            x = x + r_gemm(y) @ p["outp"].T
        else:
            q, k = r_qk(rope(u @ p["q"].T)), r_qk(rope(u @ p["k"].T))
            v = r_v((u @ p["v"].T).view(T, H, hs))
            s = torch.einsum("thd,jhd->htj", q, k) / math.sqrt(hs)
            idx = torch.arange(T)
            visible = (idx[None, :] <= idx[:, None]) & (idx[None, :] > idx[:, None] - W)
            prob = torch.softmax(s.masked_fill(~visible, -math.inf), -1)
            entropies.append(-(prob * torch.log(prob.clamp_min(1e-300))).sum(-1))
            o = torch.einsum("htj,jhd->thd", r_p(prob), v).reshape(T, H * hs)
            x = x + r_gemm(o) @ p["o"].T
        u = r_gemm(norm(x, p["n2"]))
        x = x + r_gemm(torch.nn.functional.silu(u @ p["w1"].T) * (u @ p["w2"].T)) @ p["w3"].T
    return torch.stack(entropies), norm(x, m["lnf"]) @ m["emb"].T


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mid", action="store_true", help="the 'mid_hs64' shape instead of 'tiny_mha_hs16'")
    args = ap.parse_args()
    if args.mid:
        L, d, H, hs, I, W, V = 6, 256, 4, 64, 512, 64, 2048
    else:
        L, d, H, hs, I, W, V = 4, 64, 4, 16, 128, 16, 512
    m = make_model(L, d, H, hs, I, V)
    tok = torch.randint(0, V, (3 * W + 7,))
    ref_e, ref_l = forward(m, tok, W, exact, exact, exact, exact)
    variants = [
        ("bf16 activations (the backend)", (bf16, bf16, bf16, bf16)),
        ("fp32 GEMMs, bf16 q/k/v/P", (exact, bf16, bf16, bf16)),
        ("tf32 GEMM inputs, fp32 q/k", (tf32, exact, bf16, bf16)),
        ("bf16x2 split GEMMs and q/k", (split, split, bf16, bf16)),
        ("bf16x2 split everywhere", (split, split, split, split)),
    ]
    print(f"shape: {L} blocks, d_model {d}, {H} heads of {hs}, window {W}, {len(tok)} tokens")
    for name, cfg in variants:
        e, lg = forward(m, tok, W, *cfg)
        de = (e - ref_e).abs()
        rel = ((lg - ref_l).norm() / ref_l.norm()).item()
        print(f"{name:34s} entropy error max {de.max():.2e} mean {de.mean():.2e} nats; logits rel. error {rel:.2e}")


if __name__ == "__main__":
    main()
