"""The SAMBA architecture of model-spec.md section 1, for training.

Module nesting mirrors the engine's tensor names, so state_dict() keys are the
names of engine/include/samba/weights.h as they are (with the QKV split):
  transformer.wte.weight, transformer.h.{i}.norm_1.weight, ...attn.*,
  transformer.h.{i}.norm_2.weight, transformer.h.{i}.mlp.swiglu.w{1,2,3}.weight,
  transformer.ln_f.weight
Block i is Mamba when i is even, sliding-window attention when i is odd, unless
`swa_only` (the comparison baseline: every block is SWA; not loadable by the
engine, which fixes the even/odd layout).

Precision: run under bf16 autocast; RMSNorm, the residual stream, RoPE and the
whole Mamba scan (A, D, dt, conv output, states) stay fp32 as the spec asks.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint

from selective_scan import selective_scan


@dataclass
class SambaConfig:
    name: str = "samba"
    n_layer: int = 8
    d_model: int = 384
    n_head: int = 6
    n_query_groups: int = 6
    intermediate_size: int = 1024
    sliding_window: int = 512
    vocab_size: int = 12000
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    mamba_d_state: int = 16
    mamba_d_conv: int = 4
    swa_only: bool = False

    @property
    def head_size(self):
        return self.d_model // self.n_head

    @property
    def d_inner(self):
        return 2 * self.d_model

    @property
    def dt_rank(self):
        return math.ceil(self.d_model / 16)

    def is_mamba(self, i):
        return not self.swa_only and i % 2 == 0

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        x32 = x.float()
        return x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight.float()


class Mamba(nn.Module):
    """Stock Mamba-1 mixer (model-spec: d_inner = 2d, d_state 16, d_conv 4)."""

    def __init__(self, cfg):
        super().__init__()
        d, di, n, r = cfg.d_model, cfg.d_inner, cfg.mamba_d_state, cfg.dt_rank
        self.d_inner, self.d_state, self.dt_rank = di, n, r
        self.in_proj = nn.Linear(d, 2 * di, bias=False)
        self.conv1d = nn.Conv1d(di, di, cfg.mamba_d_conv, groups=di, padding=cfg.mamba_d_conv - 1, bias=True)
        self.x_proj = nn.Linear(di, r + 2 * n, bias=False)
        self.dt_proj = nn.Linear(r, di, bias=True)
        self.out_proj = nn.Linear(di, d, bias=False)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, n + 1, dtype=torch.float32)).repeat(di, 1))
        self.D = nn.Parameter(torch.ones(di))
        self.scan = selective_scan  # Samba.set_scan swaps in the Triton scan (scan_select.py)
        # The reference initialisation: dt = softplus(bias) log-uniform in [1e-3, 1e-1].
        nn.init.uniform_(self.dt_proj.weight, -r ** -0.5, r ** -0.5)
        dt = torch.exp(torch.rand(di) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3)).clamp(min=1e-4)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus

    def forward(self, u):
        length = u.shape[1]
        x, z = self.in_proj(u).chunk(2, dim=-1)
        # Everything from the conv to the gate runs in fp32 (autocast would put the
        # conv and the x_proj / dt_proj matmuls in bf16).
        with torch.autocast(device_type=u.device.type, enabled=False):
            y = self._ssm(x.float(), z.float(), length)
        return self.out_proj(y)

    def _ssm(self, x, z, length):
        # Depthwise causal conv in fp32: left padding d_conv-1, keep the first T outputs,
        # so conv_w[3] multiplies the current token.
        xc = F.conv1d(x.transpose(1, 2), self.conv1d.weight.float(), self.conv1d.bias.float(),
                      padding=self.conv1d.padding[0], groups=self.d_inner)[..., :length]
        xc = F.silu(xc).transpose(1, 2)                            # [B,T,di] fp32
        dbc = F.linear(xc, self.x_proj.weight.float())
        dt_low, Bm, Cm = torch.split(dbc, [self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = F.softplus(F.linear(dt_low, self.dt_proj.weight.float()) + self.dt_proj.bias.float())
        A = -torch.exp(self.A_log.float())
        y = self.scan(xc.contiguous(), dt.contiguous(), A, Bm.contiguous(), Cm.contiguous())
        y = y + self.D.float() * xc
        return y * F.silu(z)


def rope_tables(length, head_size, base, device):
    inv = base ** (-torch.arange(0, head_size // 2, dtype=torch.float32, device=device) * 2.0 / head_size)
    angles = torch.arange(length, dtype=torch.float32, device=device)[:, None] * inv[None, :]
    return torch.cos(angles), torch.sin(angles)


def apply_rope(x, cos, sin):
    """GPT-NeoX half-split rotation over the whole head: x [B,H,T,hs] fp32."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def _additive_mask(allowed, dtype):
    return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(~allowed, float("-inf"))


def _band_mask(window, device, dtype):
    """Additive mask [1, 1, W, 2W], the same for every block after the first: query i of
    a block sees keys (c-1)*W + j for j in (i, i+W] of [previous block | own block]
    (W keys including itself)."""
    i = torch.arange(window, device=device)[:, None]
    j = torch.arange(2 * window, device=device)[None, :]
    return _additive_mask((j > i) & (j <= i + window), dtype)[None, None]


# torch >= 2.0 has fused attention; torch 1.13 (CPU smoke tests) does not.
_USE_SDPA = [hasattr(F, "scaled_dot_product_attention")]


def is_out_of_memory(err):
    """torch.cuda.OutOfMemoryError (a RuntimeError) or an older torch's message."""
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    return (oom is not None and isinstance(err, oom)) or "out of memory" in str(err)


def _attend(q, k, v, mask, causal):
    """softmax(q k^T / sqrt(hs) + mask) v; `causal` says the mask is the plain causal one
    (the fused kernel then needs no mask tensor)."""
    if _USE_SDPA[0]:
        try:
            if causal:
                return F.scaled_dot_product_attention(q, k, v, is_causal=True)
            try:
                return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            except RuntimeError as err:  # a kernel that wants the mask's batch dimension spelled out
                if is_out_of_memory(err):
                    raise
                return F.scaled_dot_product_attention(q, k, v, attn_mask=mask.expand(q.shape[0], 1, -1, -1).contiguous())
        except RuntimeError as err:  # no fused kernel for these shapes: explicit softmax from now on
            if is_out_of_memory(err):  # the caller's to handle (training turns on checkpointing)
                raise
            print(f"samba_model: scaled_dot_product_attention failed ({err}); using explicit attention")
            _USE_SDPA[0] = False
    scores = (q @ k.transpose(-1, -2)).float() / math.sqrt(q.shape[-1]) + mask.float()
    return torch.softmax(scores, dim=-1).to(v.dtype) @ v


def sliding_window_attention(q, k, v, window):
    """Causal attention over the last `window` keys including the query itself.
    q: [B,H,T,hs]; k, v: [B,G,T,hs]. Cost O(T * 2W), exact.
    The sequence is cut into blocks of W queries: the first block attends causally to
    itself, every later one to [previous block | own block] through one band mask
    shared by all blocks (a mask per block would be ~1 GB at a 256K-token row)."""
    batch, heads, length, hs = q.shape
    if k.shape[1] != heads:  # grouped queries: repeat each KV group for its heads
        rep = heads // k.shape[1]
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    pad = (-length) % window
    if pad:
        q, k, v = (F.pad(t, (0, 0, 0, pad)) for t in (q, k, v))
    nb = q.shape[2] // window

    def blocks(t):
        return t.reshape(batch, heads, nb, window, hs).transpose(1, 2)  # [B,nb,H,W,hs]

    qb, kb, vb = blocks(q), blocks(k), blocks(v)
    i = torch.arange(window, device=q.device)
    causal = _additive_mask(i[None, :] <= i[:, None], q.dtype)
    outs = [_attend(qb[:, 0], kb[:, 0], vb[:, 0], causal, causal=True).unsqueeze(1)]  # [B,1,H,W,hs]
    if nb > 1:
        kk = torch.cat([kb[:, :-1], kb[:, 1:]], dim=3)  # previous block | own block
        vv = torch.cat([vb[:, :-1], vb[:, 1:]], dim=3)
        later = _attend(qb[:, 1:].reshape(batch * (nb - 1), heads, window, hs),
                        kk.reshape(batch * (nb - 1), heads, 2 * window, hs),
                        vv.reshape(batch * (nb - 1), heads, 2 * window, hs),
                        _band_mask(window, q.device, q.dtype), causal=False)
        outs.append(later.reshape(batch, nb - 1, heads, window, hs))
    out = torch.cat(outs, dim=1) if len(outs) > 1 else outs[0]
    out = out.transpose(1, 2).reshape(batch, heads, nb * window, hs)
    return out[:, :, :length]


class SlidingWindowAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head, self.n_kv, self.hs = cfg.n_head, cfg.n_query_groups, cfg.head_size
        self.window, self.base = cfg.sliding_window, cfg.rope_theta
        self.q_proj = nn.Linear(cfg.d_model, self.n_head * self.hs, bias=False)
        self.k_proj = nn.Linear(cfg.d_model, self.n_kv * self.hs, bias=False)
        self.v_proj = nn.Linear(cfg.d_model, self.n_kv * self.hs, bias=False)
        self.proj = nn.Linear(self.n_head * self.hs, cfg.d_model, bias=False)

    def forward(self, x):
        batch, length, _ = x.shape
        q = self.q_proj(x).view(batch, length, self.n_head, self.hs).transpose(1, 2)
        k = self.k_proj(x).view(batch, length, self.n_kv, self.hs).transpose(1, 2)
        v = self.v_proj(x).view(batch, length, self.n_kv, self.hs).transpose(1, 2)
        cos, sin = rope_tables(length, self.hs, self.base, x.device)
        q = apply_rope(q.float(), cos, sin).to(v.dtype)
        k = apply_rope(k.float(), cos, sin).to(v.dtype)
        out = sliding_window_attention(q, k, v, self.window)
        return self.proj(out.transpose(1, 2).reshape(batch, length, self.n_head * self.hs))


class SwiGLU(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.w1 = nn.Linear(cfg.d_model, cfg.intermediate_size, bias=False)  # gate
        self.w2 = nn.Linear(cfg.d_model, cfg.intermediate_size, bias=False)  # up
        self.w3 = nn.Linear(cfg.intermediate_size, cfg.d_model, bias=False)  # down

    def forward(self, x):
        return self.w3(F.silu(self.w1(x)) * self.w2(x))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.swiglu = SwiGLU(cfg)

    def forward(self, x):
        return self.swiglu(x)


class Block(nn.Module):
    def __init__(self, cfg, i):
        super().__init__()
        self.norm_1 = RMSNorm(cfg.d_model, cfg.rms_norm_eps)
        self.attn = Mamba(cfg) if cfg.is_mamba(i) else SlidingWindowAttention(cfg)
        self.norm_2 = RMSNorm(cfg.d_model, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.norm_1(x)).float()   # fp32 residual stream
        return x + self.mlp(self.norm_2(x)).float()


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.h = nn.ModuleList([Block(cfg, i) for i in range(cfg.n_layer)])
        self.ln_f = RMSNorm(cfg.d_model, cfg.rms_norm_eps)


class Samba(nn.Module):
    def __init__(self, cfg: SambaConfig):
        super().__init__()
        self.config = cfg
        self.transformer = Transformer(cfg)
        self._init_weights()

    def _init_weights(self):
        std = 0.02
        # Output projections scaled down with depth (GPT-2 style) so the residual
        # stream does not grow with the number of blocks.
        out_std = std / math.sqrt(2 * self.config.n_layer)
        for name, p in self.named_parameters():
            if name.endswith(("norm_1.weight", "norm_2.weight", "ln_f.weight", "A_log", ".D")) \
                    or "dt_proj" in name or "conv1d" in name:
                continue
            if name.endswith(("out_proj.weight", "attn.proj.weight", "w3.weight")):
                nn.init.normal_(p, 0.0, out_std)
            elif p.dim() >= 2:
                nn.init.normal_(p, 0.0, std)

    def hidden(self, idx, checkpoint_blocks=False):
        """idx [B,T] -> the final normed hidden states [B,T,d] (fp32), before the head.
        With checkpoint_blocks (training), each block's activations are recomputed in
        backward instead of kept: memory per token falls to the blocks' inputs."""
        x = self.transformer.wte(idx).float()
        for block in self.transformer.h:
            if checkpoint_blocks and self.training:
                x = torch.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.transformer.ln_f(x)

    def head(self, hidden):
        """Logits of hidden states (tied output head; bf16 under autocast)."""
        return F.linear(hidden, self.transformer.wte.weight)

    def forward(self, idx, checkpoint_blocks=False):
        """idx [B,T] -> logits [B,T,V] (dtype of the last matmul: bf16 under autocast)."""
        return self.head(self.hidden(idx, checkpoint_blocks))

    def set_scan(self, scan):
        """Use `scan` (same signature as selective_scan) in every Mamba block."""
        for module in self.modules():
            if isinstance(module, Mamba):
                module.scan = scan

    def mamba_block_count(self):
        return sum(isinstance(block.attn, Mamba) for block in self.transformer.h)

    def parameter_count(self):
        return sum(p.numel() for p in self.parameters())
