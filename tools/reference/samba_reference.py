#!/usr/bin/python3
"""Independent float64 reference of SAMBA v1, written from docs/model-spec.md §1 only.

It exists to check the engine: tests make tiny random-weight model folders
with it, run it on token sequences, and compare the engine's logits and
attention entropy with its output. It favours obviousness over speed: an
explicit band mask for the sliding window, a sequential selective scan (a
Python loop over time), everything in float64. Keep the sizes tiny.

Runs on Debian's python3-torch (/usr/bin/python3, torch 1.13 CPU).

Subcommands (see --help of each):
  make-model  write config.json + model.safetensors with random weights
  forward     logits [n, vocab] (and attention entropy) of a token sequence
  make-pth    write the model as a microsoft/Samba training checkpoint (.pth)
  self-check  check this reference against a second formulation of itself
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import samba_folder as sf  # noqa: E402

F64 = torch.float64
torch.set_num_threads(1)  # tiny tensors: threads only add overhead and noise


# =============================================================== random model


def random_weights(cfg, seed):
    """float32 numpy weights (split q/k/v) scaled so activations stay O(1)
    over long sequences. The order of draws depends only on the shapes, so the
    same seed gives the same values whatever the dtype or QKV layout."""
    c = sf.full_config(cfg)
    rng = np.random.default_rng(seed)
    d, V, I = c["d_model"], c["vocab_size"], c["intermediate_size"]
    H, G, hs = c["n_head"], c["n_query_groups"], c["head_size"]
    di, n, k, r = c["mamba_d_inner"], c["mamba_d_state"], c["mamba_d_conv"], c["mamba_dt_rank"]

    def linear(rows, cols):  # N(0, 1/fan_in): unit-variance outputs for unit-variance inputs
        return rng.standard_normal((rows, cols)) / math.sqrt(cols)

    def norm(size):
        return 1.0 + 0.1 * rng.standard_normal(size)

    w = {"transformer.wte.weight": 0.5 * rng.standard_normal((V, d))}
    for i in range(c["n_layer"]):
        p = sf.layer_prefix(i)
        w[p + "norm_1.weight"] = norm(d)
        if i % 2 == 0:
            w[p + "attn.in_proj.weight"] = linear(2 * di, d)
            w[p + "attn.conv1d.weight"] = rng.standard_normal((di, 1, k)) / math.sqrt(k)
            w[p + "attn.conv1d.bias"] = 0.1 * rng.standard_normal(di)
            w[p + "attn.x_proj.weight"] = linear(r + 2 * n, di)
            w[p + "attn.dt_proj.weight"] = 0.5 * linear(di, r)
            # dt log-uniform in [1e-3, 1e-1]; the bias is softplus^-1(dt).
            dt = np.exp(rng.uniform(math.log(1e-3), math.log(1e-1), di))
            w[p + "attn.dt_proj.bias"] = dt + np.log(-np.expm1(-dt))
            w[p + "attn.A_log"] = np.tile(np.log(np.arange(1, n + 1, dtype=np.float64)), (di, 1))
            w[p + "attn.D"] = 1.0 + 0.1 * rng.standard_normal(di)
            w[p + "attn.out_proj.weight"] = linear(d, di)
        else:
            w[p + "attn.q_proj.weight"] = linear(H * hs, d)
            w[p + "attn.k_proj.weight"] = linear(G * hs, d)
            w[p + "attn.v_proj.weight"] = linear(G * hs, d)
            w[p + "attn.proj.weight"] = linear(d, H * hs)
        w[p + "norm_2.weight"] = norm(d)
        w[p + "mlp.swiglu.w1.weight"] = linear(I, d)
        w[p + "mlp.swiglu.w2.weight"] = linear(I, d)
        w[p + "mlp.swiglu.w3.weight"] = linear(d, I)
    w["transformer.ln_f.weight"] = norm(d)
    return {name: value.astype(np.float32) for name, value in w.items()}


def fuse_folder_qkv(cfg, weights):
    """Replaces split q/k/v by the reference's fused grouped attn.attn.weight."""
    c = sf.full_config(cfg)
    out = dict(weights)
    for i in range(1, c["n_layer"], 2):
        p = sf.layer_prefix(i) + "attn."
        out[p + "attn.weight"] = sf.fuse_qkv(out.pop(p + "q_proj.weight"), out.pop(p + "k_proj.weight"),
                                             out.pop(p + "v_proj.weight"), c["n_head"],
                                             c["n_query_groups"], c["head_size"])
    return out


def cmd_make_model(args):
    head_size = args.head_size or args.d_model // args.heads
    problems = []
    if args.layers < 1:
        problems.append("--layers must be >= 1")
    if args.heads < 1 or args.kv_heads < 1 or args.heads % args.kv_heads:
        problems.append(f"--heads {args.heads} must be a positive multiple of --kv-heads {args.kv_heads}")
    if head_size < 2 or head_size % 2:
        problems.append(f"head size {head_size} must be even (half-split RoPE)")
    if args.vocab < 3 or args.window < 1 or args.intermediate < 1 or args.d_model < 1:
        problems.append("--vocab >= 3, --window, --intermediate and --d-model >= 1 are required")
    if problems:
        sys.exit("make-model: " + "; ".join(problems))
    cfg = sf.full_config({
        "name": f"reference-L{args.layers}-d{args.d_model}-h{args.heads}-g{args.kv_heads}-s{args.seed}",
        "n_layer": args.layers, "d_model": args.d_model, "n_head": args.heads,
        "n_query_groups": args.kv_heads, "head_size": head_size,
        "intermediate_size": args.intermediate, "sliding_window": args.window,
        "vocab_size": args.vocab,
    })
    weights = random_weights(cfg, args.seed)
    if args.fused_qkv:
        weights = fuse_folder_qkv(cfg, weights)
    os.makedirs(args.out, exist_ok=True)
    if args.tokenizer:
        shutil.copyfile(args.tokenizer, os.path.join(args.out, "tokenizer.model"))
    sf.write_safetensors(os.path.join(args.out, "model.safetensors"), weights,
                         dtype={"f32": "F32", "bf16": "BF16"}[args.dtype])
    sf.write_config(args.out, cfg)  # last: a folder with config.json is complete


# =============================================================== loading


def load_model(folder):
    """(config, {name: float64 tensor}) with any fused QKV split into q/k/v."""
    cfg = sf.read_config(folder)
    raw = sf.read_folder_tensors(folder)
    raw.pop("lm_head.weight", None)  # tied: the head is the embedding
    fused = any(name.endswith(".attn.attn.weight") for name in raw)
    expected = sf.expected_shapes(cfg, fused_qkv=fused)
    problems = [f"missing {name}" for name in expected if name not in raw]
    problems += [f"unexpected {name}" for name in raw if name not in expected]
    problems += [f"{name} has shape {list(raw[name].shape)}, expected {list(shape)}"
                 for name, shape in expected.items() if name in raw and raw[name].shape != tuple(shape)]
    if problems:
        raise SystemExit(f"{folder}: " + "; ".join(problems))
    weights = {}
    for name, array in raw.items():
        if name.endswith(".attn.attn.weight"):
            q, k, v = sf.split_qkv(array, cfg["n_head"], cfg["n_query_groups"], cfg["head_size"])
            base = name[: -len("attn.weight")]
            for part, value in (("q_proj", q), ("k_proj", k), ("v_proj", v)):
                weights[f"{base}{part}.weight"] = torch.from_numpy(value.astype(np.float64))
        else:
            weights[name] = torch.from_numpy(array.astype(np.float64))
    return cfg, weights


# =============================================================== the numerics


def rms_norm(x, weight, eps):
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * weight


def silu(x):
    return x * torch.sigmoid(x)


def softplus(v):
    return torch.where(v > 20, v, torch.log1p(torch.exp(torch.clamp(v, max=20.0))))


def swiglu(x, w, p):
    gate = x @ w[p + "mlp.swiglu.w1.weight"].T
    up = x @ w[p + "mlp.swiglu.w2.weight"].T
    return (silu(gate) * up) @ w[p + "mlp.swiglu.w3.weight"].T


def rope(x, positions, base):
    """GPT-NeoX half-split rotary embedding over the whole head.
    x [n, heads, hs], positions [n] absolute token indices."""
    hs = x.shape[-1]
    half = hs // 2
    theta = base ** (-2.0 * torch.arange(half, dtype=F64) / hs)
    angle = positions.to(F64)[:, None] * theta[None, :]
    cos, sin = torch.cos(angle)[:, None, :], torch.sin(angle)[:, None, :]
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def causal_conv(x, weight, bias):
    """Depthwise causal conv before the SiLU: out[t] = bias + sum_k w[k] x[t-K+1+k],
    zeros before t=0, so the last tap multiplies the current token. x [n, di]."""
    taps = weight.shape[-1]
    padded = torch.cat([torch.zeros(taps - 1, x.shape[1], dtype=x.dtype), x], dim=0)
    out = bias.expand(x.shape[0], -1).clone()
    for k in range(taps):
        out = out + weight[:, 0, k] * padded[k: k + x.shape[0]]
    return out


def selective_scan(dt, A, xc, B, C, D, h0=None):
    """Sequential scan: h[t] = exp(dt A) h[t-1] + (dt x)[:, None] B[None, :],
    y[t] = h[t] C + D x. dt, xc [n, di]; B, C [n, ds]; A [di, ds]. Returns (y, h)."""
    h = torch.zeros(A.shape, dtype=F64) if h0 is None else h0
    ys = []
    for t in range(dt.shape[0]):
        h = torch.exp(dt[t][:, None] * A) * h + (dt[t] * xc[t])[:, None] * B[t][None, :]
        ys.append(h @ C[t] + D * xc[t])
    return torch.stack(ys), h


def mamba_projections(cfg, w, p, xc):
    """dt, B, C from the convolved input (x_proj then dt_proj, softplus)."""
    r, n = cfg["mamba_dt_rank"], cfg["mamba_d_state"]
    dbc = xc @ w[p + "attn.x_proj.weight"].T
    dt_low, B, C = dbc[:, :r], dbc[:, r: r + n], dbc[:, r + n: r + 2 * n]
    dt = softplus(dt_low @ w[p + "attn.dt_proj.weight"].T + w[p + "attn.dt_proj.bias"])
    return dt, B, C


def mamba_full(cfg, w, p, u):
    di = cfg["mamba_d_inner"]
    xz = u @ w[p + "attn.in_proj.weight"].T
    x, z = xz[:, :di], xz[:, di:]
    xc = silu(causal_conv(x, w[p + "attn.conv1d.weight"], w[p + "attn.conv1d.bias"]))
    dt, B, C = mamba_projections(cfg, w, p, xc)
    A = -torch.exp(w[p + "attn.A_log"])
    y, _ = selective_scan(dt, A, xc, B, C, w[p + "attn.D"])
    return (y * silu(z)) @ w[p + "attn.out_proj.weight"].T


def window_mask(n, window):
    """visible[i, j]: query i sees keys max(0, i-W+1) .. i (W keys incl. itself)."""
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    return (j <= i) & (j >= i - window + 1)


def entropy_of(p):
    return -torch.xlogy(p, p).sum(dim=-1)  # xlogy(0, 0) = 0 for masked keys


def attention_full(cfg, w, p, x):
    """Returns (output [n, d], entropy [n, H])."""
    n = x.shape[0]
    H, G, hs = cfg["n_head"], cfg["n_query_groups"], cfg["head_size"]
    positions = torch.arange(n)
    q = rope((x @ w[p + "attn.q_proj.weight"].T).view(n, H, hs), positions, cfg["rope_theta"])
    k = rope((x @ w[p + "attn.k_proj.weight"].T).view(n, G, hs), positions, cfg["rope_theta"])
    v = (x @ w[p + "attn.v_proj.weight"].T).view(n, G, hs)
    visible = window_mask(n, cfg["sliding_window"])
    out = torch.empty(n, H, hs, dtype=F64)
    entropy = torch.empty(n, H, dtype=F64)
    for h in range(H):
        g = h // (H // G)  # query head h reads KV group h // (H/G)
        scores = (q[:, h] @ k[:, g].T) / math.sqrt(hs)
        probs = torch.softmax(scores.masked_fill(~visible, float("-inf")), dim=-1)
        entropy[:, h] = entropy_of(probs)
        out[:, h] = probs @ v[:, g]
    return out.reshape(n, H * hs) @ w[p + "attn.proj.weight"].T, entropy


def forward_full(cfg, w, tokens):
    """logits [n, V] and a list (one per SWA layer) of entropy [n, H]."""
    eps = cfg["rms_norm_eps"]
    x = w["transformer.wte.weight"][torch.as_tensor(tokens, dtype=torch.long)]
    entropies = []
    for i in range(cfg["n_layer"]):
        p = sf.layer_prefix(i)
        h = rms_norm(x, w[p + "norm_1.weight"], eps)
        if i % 2 == 0:
            x = x + mamba_full(cfg, w, p, h)
        else:
            out, entropy = attention_full(cfg, w, p, h)
            x = x + out
            entropies.append(entropy)
        x = x + swiglu(rms_norm(x, w[p + "norm_2.weight"], eps), w, p)
    x = rms_norm(x, w["transformer.ln_f.weight"], eps)
    return x @ w["transformer.wte.weight"].T, entropies


# =============================================================== second formulation
# Token-by-token decoding with explicit state (conv window, SSM state, a ring
# of the last W keys/values), as an engine does it. The self-check requires
# it to equal forward_full at every position.


class StepDecoder:
    def __init__(self, cfg, w):
        self.cfg, self.w = cfg, w
        di, ds, kc = cfg["mamba_d_inner"], cfg["mamba_d_state"], cfg["mamba_d_conv"]
        W, G, hs = cfg["sliding_window"], cfg["n_query_groups"], cfg["head_size"]
        self.position = 0
        self.conv = {i: torch.zeros(di, kc - 1, dtype=F64) for i in range(0, cfg["n_layer"], 2)}
        self.ssm = {i: torch.zeros(di, ds, dtype=F64) for i in range(0, cfg["n_layer"], 2)}
        self.keys = {i: torch.zeros(W, G, hs, dtype=F64) for i in range(1, cfg["n_layer"], 2)}
        self.values = {i: torch.zeros(W, G, hs, dtype=F64) for i in range(1, cfg["n_layer"], 2)}

    def _mamba(self, i, p, u):
        cfg, w = self.cfg, self.w
        di = cfg["mamba_d_inner"]
        xz = w[p + "attn.in_proj.weight"] @ u
        x, z = xz[:di], xz[di:]
        window = torch.cat([self.conv[i], x[:, None]], dim=1)  # [di, K], oldest first
        self.conv[i] = window[:, 1:]
        xc = silu(w[p + "attn.conv1d.bias"] + (window * w[p + "attn.conv1d.weight"][:, 0, :]).sum(dim=1))
        dt, B, C = (t[0] for t in mamba_projections(cfg, w, p, xc[None, :]))
        A = -torch.exp(w[p + "attn.A_log"])
        self.ssm[i] = torch.exp(dt[:, None] * A) * self.ssm[i] + (dt * xc)[:, None] * B[None, :]
        y = self.ssm[i] @ C + w[p + "attn.D"] * xc
        return w[p + "attn.out_proj.weight"] @ (y * silu(z))

    def _attention(self, i, p, x):
        cfg, w, pos = self.cfg, self.w, self.position
        H, G, hs, W = cfg["n_head"], cfg["n_query_groups"], cfg["head_size"], cfg["sliding_window"]
        here = torch.tensor([pos])
        q = rope((w[p + "attn.q_proj.weight"] @ x).view(1, H, hs), here, cfg["rope_theta"])[0]
        k = rope((w[p + "attn.k_proj.weight"] @ x).view(1, G, hs), here, cfg["rope_theta"])[0]
        self.keys[i][pos % W] = k
        self.values[i][pos % W] = (w[p + "attn.v_proj.weight"] @ x).view(G, hs)
        slots = [t % W for t in range(max(0, pos - W + 1), pos + 1)]
        out = torch.empty(H, hs, dtype=F64)
        entropy = torch.empty(H, dtype=F64)
        for h in range(H):
            g = h // (H // G)
            probs = torch.softmax(self.keys[i][slots, g] @ q[h] / math.sqrt(hs), dim=0)
            entropy[h] = entropy_of(probs)
            out[h] = probs @ self.values[i][slots, g]
        return w[p + "attn.proj.weight"] @ out.reshape(H * hs), entropy

    def step(self, token):
        """Logits [V] and the entropy [H] of each SWA layer for one token."""
        cfg, w, eps = self.cfg, self.w, self.cfg["rms_norm_eps"]
        x = w["transformer.wte.weight"][token]
        entropies = []
        for i in range(cfg["n_layer"]):
            p = sf.layer_prefix(i)
            h = rms_norm(x, w[p + "norm_1.weight"], eps)
            if i % 2 == 0:
                x = x + self._mamba(i, p, h)
            else:
                out, entropy = self._attention(i, p, h)
                x = x + out
                entropies.append(entropy)
            x = x + swiglu(rms_norm(x, w[p + "norm_2.weight"], eps), w, p)
        self.position += 1
        x = rms_norm(x, w["transformer.ln_f.weight"], eps)
        return x @ w["transformer.wte.weight"].T, entropies


# =============================================================== forward command


def read_tokens(path, vocab):
    tokens = np.fromfile(path, dtype="<i4")
    if tokens.size == 0:
        sys.exit(f"forward: {path} holds no tokens")
    bad = tokens[(tokens < 0) | (tokens >= vocab)]
    if bad.size:
        sys.exit(f"forward: {path}: token {int(bad[0])} is outside the vocabulary 0..{vocab - 1}")
    return tokens.astype(np.int64)


def cmd_forward(args):
    cfg, w = load_model(args.model)
    tokens = read_tokens(args.tokens, cfg["vocab_size"])
    logits, entropies = forward_full(cfg, w, tokens)
    logits.numpy().astype("<f8").tofile(args.out)
    if args.entropy_out:
        stacked = torch.stack(entropies) if entropies else torch.zeros(0, len(tokens), cfg["n_head"], dtype=F64)
        stacked.numpy().astype("<f8").tofile(args.entropy_out)


# =============================================================== .pth checkpoint


def reference_state_dict(cfg, w):
    """The model's tensors under the microsoft/Samba names, fp32, fused QKV."""
    H, G, hs = cfg["n_head"], cfg["n_query_groups"], cfg["head_size"]
    state = {}
    for name, value in w.items():
        if name.endswith(("attn.k_proj.weight", "attn.v_proj.weight")):
            continue
        if name.endswith("attn.q_proj.weight"):
            base = name[: -len("q_proj.weight")]
            fused = sf.fuse_qkv(value.numpy(), w[base + "k_proj.weight"].numpy(),
                                w[base + "v_proj.weight"].numpy(), H, G, hs)
            state[base + "attn.weight"] = torch.from_numpy(fused.astype(np.float32))
        else:
            state[name] = value.to(torch.float32)
    # Tied head: the training code's lm_head.weight is the embedding Parameter,
    # so the checkpoint stores both names over one storage.
    state["lm_head.weight"] = state["transformer.wte.weight"]
    return state


def training_extras(cfg, model_state, with_shape):
    """An AdamW state (one real step on random gradients) and hparams of the
    kind the reference pretraining script saves."""
    params = [torch.nn.Parameter(t.clone()) for t in model_state.values()]
    optimizer = torch.optim.AdamW(params, lr=4e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    generator = torch.Generator().manual_seed(0)
    for p in params:
        p.grad = 1e-3 * torch.randn(p.shape, generator=generator)
    optimizer.step()
    hparams = {
        "model_name": cfg["name"], "name": "samba_train", "out_dir": "out/" + cfg["name"],
        "num_of_devices": 8, "global_batch_size": 512, "learning_rate": 4e-4, "micro_batch_size": 8,
        "max_tokens": 230000000000, "warmup_tokens": 50000000, "log_step_interval": 10,
        "eval_iters": 100, "save_step_interval": 1000, "eval_step_interval": 1000,
        "weight_decay": 0.1, "beta1": 0.9, "beta2": 0.95, "grad_clip": 1.0, "decay_lr": True,
        "min_lr": 4e-5, "train_seq_len": 4096,
    }
    if with_shape:
        hparams.update({"n_head": cfg["n_head"], "n_query_groups": cfg["n_query_groups"],
                        "head_size": cfg["head_size"], "sliding_window": cfg["sliding_window"]})
    return optimizer.state_dict(), hparams


def cmd_make_pth(args):
    cfg, w = load_model(args.model)
    model_state = reference_state_dict(cfg, w)
    optimizer, hparams = training_extras(cfg, model_state, args.hparams_shape)
    for name in args.drop_tensor:
        if name not in model_state:
            sys.exit(f"make-pth: --drop-tensor {name}: no such tensor")
        del model_state[name]
    for name in args.truncate_tensor:
        if name not in model_state:
            sys.exit(f"make-pth: --truncate-tensor {name}: no such tensor")
        model_state[name] = model_state[name][:-1].clone()
    checkpoint = {"optimizer": optimizer, "hparams": hparams, "iter_num": 12000, "step_count": 3000}
    if not args.omit_model:
        checkpoint["model"] = model_state
    torch.save(checkpoint, args.out)


# =============================================================== self-check


def check(condition, message):
    if not condition:
        raise SystemExit("self-check FAILED: " + message)
    print("ok:", message)


def make_model_folder(folder, **overrides):
    options = dict(layers=4, d_model=64, heads=4, kv_heads=4, head_size=0, intermediate=128,
                   window=16, vocab=512, seed=1, dtype="f32", fused_qkv=False, tokenizer=None)
    options.update(overrides)
    cmd_make_model(argparse.Namespace(out=folder, **options))
    return folder


def rel(a, b):
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


def check_decoder_equals_full(folder, n, label):
    cfg, w = load_model(folder)
    tokens = np.random.default_rng(7).integers(0, cfg["vocab_size"], n)
    logits, entropies = forward_full(cfg, w, tokens)
    decoder = StepDecoder(cfg, w)
    worst_logit, worst_entropy = 0.0, 0.0
    for t, token in enumerate(tokens):
        step_logits, step_entropies = decoder.step(int(token))
        worst_logit = max(worst_logit, rel(step_logits, logits[t]))
        for layer, entropy in enumerate(step_entropies):
            worst_entropy = max(worst_entropy, float((entropy - entropies[layer][t]).abs().max()))
    check(worst_logit < 1e-11 and worst_entropy < 1e-11,
          f"{label}: step decoder == full forward at all {n} positions "
          f"(worst logits rel {worst_logit:.1e}, entropy abs {worst_entropy:.1e})")
    return cfg, w, tokens, logits


def check_units():
    # RoPE convention: half-split. e0 rotates into the first slot of the second half.
    pos = torch.tensor([5])
    e0 = torch.tensor([[[1.0, 0.0, 0.0, 0.0]]], dtype=F64)
    e1 = torch.tensor([[[0.0, 1.0, 0.0, 0.0]]], dtype=F64)
    t1 = 10000.0 ** (-2.0 / 4)
    expect0 = torch.tensor([math.cos(5), 0, math.sin(5), 0], dtype=F64)
    expect1 = torch.tensor([0, math.cos(5 * t1), 0, math.sin(5 * t1)], dtype=F64)
    check(torch.allclose(rope(e0, pos, 10000.0)[0, 0], expect0, atol=1e-15)
          and torch.allclose(rope(e1, pos, 10000.0)[0, 0], expect1, atol=1e-15),
          "RoPE is NeoX half-split with theta_j = base^(-2j/hs)")
    # Relative: <rope(q, m), rope(k, n)> depends on m - n only.
    g = torch.Generator().manual_seed(3)
    q, k = torch.randn(1, 1, 8, generator=g, dtype=F64), torch.randn(1, 1, 8, generator=g, dtype=F64)
    dots = [float((rope(q, torch.tensor([m + s]), 1e4) * rope(k, torch.tensor([m - 3 + s]), 1e4)).sum())
            for m, s in ((10, 0), (10, 1000), (50, 7))]
    check(max(dots) - min(dots) < 1e-9, "RoPE scores depend on the position difference only")
    # Conv taps: the last tap multiplies the current token, the first the token 3 back.
    x = torch.randn(9, 2, generator=g, dtype=F64)
    bias = torch.tensor([0.5, -0.25], dtype=F64)
    last = torch.zeros(2, 1, 4, dtype=F64)
    last[:, 0, 3] = 1
    first = torch.zeros(2, 1, 4, dtype=F64)
    first[:, 0, 0] = 1
    shifted = torch.cat([torch.zeros(3, 2, dtype=F64), x[:-3]])
    check(torch.equal(causal_conv(x, last, bias), x + bias)
          and torch.equal(causal_conv(x, first, bias), shifted + bias),
          "conv tap 3 reads the current token, tap 0 the token 3 back, zeros before t=0")
    # Selective scan against its closed form h[t] = sum_s exp(sum_{s<r<=t} dt_r A) dt_s x_s B_s.
    n, di, ds = 40, 6, 16
    dt = torch.rand(n, di, generator=g, dtype=F64) * 0.2
    A = -torch.exp(torch.log(torch.arange(1, ds + 1, dtype=F64))).expand(di, ds)
    xc, D = torch.randn(n, di, generator=g, dtype=F64), torch.randn(di, generator=g, dtype=F64)
    B, C = torch.randn(n, ds, generator=g, dtype=F64), torch.randn(n, ds, generator=g, dtype=F64)
    y, _ = selective_scan(dt, A, xc, B, C, D)
    decay = torch.cumsum(dt[:, :, None] * A[None], dim=0)
    inputs = (dt * xc)[:, :, None] * B[:, None, :]
    closed = torch.stack([(torch.exp(decay[t][None] - decay[: t + 1]) * inputs[: t + 1]).sum(0) @ C[t] + D * xc[t]
                          for t in range(n)])
    check(rel(y, closed) < 1e-12, f"sequential scan == closed form (rel {rel(y, closed):.1e})")
    # Window mask: W keys including the query itself.
    mask = window_mask(40, 16)
    check(all(int(mask[i].sum()) == min(i + 1, 16) and bool(mask[i, i]) and bool(mask[i, max(0, i - 15)])
              for i in range(40)), "band mask: query i sees keys max(0, i-W+1)..i")


def check_pth_round_trip(work, folder):
    converter = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "convert", "samba_pth_to_hf.py")
    pth = os.path.join(work, "ckpt.pth")
    cmd_make_pth(argparse.Namespace(model=folder, out=pth, hparams_shape=False, drop_tensor=[],
                                    truncate_tensor=[], omit_model=False))
    checkpoint = torch.load(pth, map_location="cpu")
    model = checkpoint["model"]
    check(set(checkpoint) >= {"model", "optimizer", "hparams", "iter_num"}
          and model["lm_head.weight"].data_ptr() == model["transformer.wte.weight"].data_ptr(),
          ".pth holds model/optimizer/hparams/iter_num, lm_head shares the embedding's storage")
    converted = os.path.join(work, "converted")
    result = subprocess.run([sys.executable, converter, pth, "--out", converted, "--n-head", "4",
                             "--n-query-groups", "2", "--window", "16"], capture_output=True, text=True)
    check(result.returncode == 0, f"converter exit 0 ({result.stderr.strip()})")
    original, again = sf.read_folder_tensors(folder), sf.read_folder_tensors(converted)
    check(set(original) == set(again) and all(np.array_equal(original[n], again[n]) for n in original),
          "make-pth -> converter gives back every tensor bit for bit, QKV split")
    theirs, ours = sf.read_config(converted), sf.read_config(folder)
    check(all(theirs[k] == ours[k] for k in sf.CONFIG_KEY_ORDER if k != "name"),
          "converted config.json equals the original's")


def cmd_self_check(args):
    work = tempfile.mkdtemp(prefix="samba-reference-check-")
    try:
        check_units()
        window = 16
        n = 4 * window + 7
        split = make_model_folder(os.path.join(work, "gqa"), kv_heads=2)
        fused = make_model_folder(os.path.join(work, "gqa-fused"), kv_heads=2, fused_qkv=True)
        cfg, w, tokens, logits = check_decoder_equals_full(split, n, "GQA 4q/2kv")
        fused_cfg, fused_w = load_model(fused)
        fused_logits, _ = forward_full(fused_cfg, fused_w, tokens)
        check(torch.equal(fused_logits, logits), "fused-QKV folder == split folder of the same seed")
        check_decoder_equals_full(make_model_folder(os.path.join(work, "mha"), layers=6), n, "MHA 6 layers")
        check_decoder_equals_full(make_model_folder(os.path.join(work, "mqa"), kv_heads=1, head_size=32),
                                  n, "MQA 4q/1kv head size 32")
        bf16 = make_model_folder(os.path.join(work, "bf16"), dtype="bf16")
        check_decoder_equals_full(bf16, n, "bf16 folder")
        stored = sf.read_folder_tensors(bf16)
        check(all(np.array_equal(v, sf.round_to_bf16(v)) for v in stored.values()),
              "bf16 folder holds bf16 values")
        # Activations stay O(1): logits of a long sequence neither vanish nor blow up.
        long_logits, _ = forward_full(cfg, w, np.random.default_rng(1).integers(0, 512, 300))
        scale = float(long_logits.std(dim=1).min()), float(long_logits.std(dim=1).max())
        check(0.5 < scale[0] and scale[1] < 50, f"logit std per position over 300 tokens in {scale}")
        # Uniform attention (all scores equal) must have entropy ln(min(i+1, W)).
        for i in range(1, cfg["n_layer"], 2):
            name = sf.layer_prefix(i) + "attn.q_proj.weight"
            w[name] = torch.zeros_like(w[name])
        _, entropies = forward_full(cfg, w, tokens)
        expected = torch.log(torch.minimum(torch.arange(1, n + 1, dtype=F64), torch.tensor(float(window))))
        worst = max(float((e - expected[:, None]).abs().max()) for e in entropies)
        check(worst < 1e-12, f"uniform attention entropy == ln(min(i+1, W)) (worst {worst:.1e})")
        check_pth_round_trip(work, split)
        print("self-check passed")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work)


# =============================================================== command line


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    m = sub.add_parser("make-model", help="write a random-weight model folder")
    m.add_argument("--out", required=True)
    m.add_argument("--layers", type=int, default=4)
    m.add_argument("--d-model", type=int, default=64)
    m.add_argument("--heads", type=int, default=4)
    m.add_argument("--kv-heads", type=int, default=4)
    m.add_argument("--head-size", type=int, default=0, help="default d_model / heads")
    m.add_argument("--intermediate", type=int, default=128)
    m.add_argument("--window", type=int, default=16)
    m.add_argument("--vocab", type=int, default=512)
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    m.add_argument("--fused-qkv", action="store_true", help="store the reference's fused attn.attn.weight")
    m.add_argument("--tokenizer", help="tokenizer.model to copy into the folder")
    m.set_defaults(run=cmd_make_model)

    f = sub.add_parser("forward", help="logits (and entropy) of a token sequence")
    f.add_argument("--model", required=True)
    f.add_argument("--tokens", required=True, help="little-endian int32 token ids")
    f.add_argument("--out", required=True, help="little-endian float64 logits [n, vocab]")
    f.add_argument("--entropy-out", help="little-endian float64 entropy [n_swa_layers, n, n_head] (nats)")
    f.set_defaults(run=cmd_forward)

    p = sub.add_parser("make-pth", help="write a microsoft/Samba training checkpoint")
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--hparams-shape", action="store_true",
                   help="also record n_head, n_query_groups, head_size, sliding_window in hparams")
    p.add_argument("--omit-model", action="store_true", help="(broken file) leave out the 'model' entry")
    p.add_argument("--drop-tensor", action="append", default=[], help="(broken file) leave out this tensor")
    p.add_argument("--truncate-tensor", action="append", default=[],
                   help="(broken file) drop the last row of this tensor")
    p.set_defaults(run=cmd_make_pth)

    s = sub.add_parser("self-check", help="check the reference against a second formulation")
    s.add_argument("--keep", action="store_true", help="keep the temporary folder")
    s.set_defaults(run=cmd_self_check)

    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
