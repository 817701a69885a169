"""Tests of the training tools (CPU, torch 1.13 or later):
  /usr/bin/python3 -m unittest discover -s tools/train -p 'test_*.py'

The training model is checked against a token-by-token decoder written here
directly from model-spec.md section 1 (conv taps with conv_w[3] on the current
token, the sequential selective scan, W keys including the query, NeoX RoPE,
w1 = gate / w2 = up), in float64, reading only the exported weights by name.
"""
import math
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import export_model, load_model_folder  # noqa: E402
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402
from samba_model import Samba, SambaConfig, sliding_window_attention  # noqa: E402
from selective_scan import selective_scan, selective_scan_reference  # noqa: E402


def spec_decoder_logits(w, cfg, tokens):
    """Logits of every position, one token at a time, from the spec's formulas."""
    d, di, n, r = cfg.d_model, cfg.d_inner, cfg.mamba_d_state, cfg.dt_rank
    hs, H, G = cfg.head_size, cfg.n_head, cfg.n_query_groups
    w = {k: v.double() for k, v in w.items()}

    def rms(x, weight):
        return x / torch.sqrt((x * x).mean() + cfg.rms_norm_eps) * weight

    def rope(x, pos):
        half = hs // 2
        theta = cfg.rope_theta ** (-2.0 * torch.arange(half, dtype=torch.float64) / hs)
        cos, sin = torch.cos(pos * theta), torch.sin(pos * theta)
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)

    silu = torch.nn.functional.silu
    conv_hist = {i: torch.zeros(di, 3, dtype=torch.float64) for i in range(0, cfg.n_layer, 2)}
    ssm = {i: torch.zeros(di, n, dtype=torch.float64) for i in range(0, cfg.n_layer, 2)}
    keys = {i: [] for i in range(1, cfg.n_layer, 2)}
    values = {i: [] for i in range(1, cfg.n_layer, 2)}
    out = []
    for pos, tok in enumerate(tokens):
        x = w["transformer.wte.weight"][tok].clone()
        for i in range(cfg.n_layer):
            p = f"transformer.h.{i}."
            u = rms(x, w[p + "norm_1.weight"])
            if i % 2 == 0:
                xz = w[p + "attn.in_proj.weight"] @ u
                xi, z = xz[:di], xz[di:]
                taps = torch.cat([conv_hist[i], xi[:, None]], 1)           # x[t-3..t]
                cw = w[p + "attn.conv1d.weight"][:, 0, :]                   # conv_w[3] * x[t]
                xc = silu(w[p + "attn.conv1d.bias"] + (cw * taps).sum(1))
                conv_hist[i] = taps[:, 1:]
                dbc = w[p + "attn.x_proj.weight"] @ xc
                dt = torch.nn.functional.softplus(w[p + "attn.dt_proj.weight"] @ dbc[:r] + w[p + "attn.dt_proj.bias"])
                Bv, Cv = dbc[r:r + n], dbc[r + n:]
                A = -torch.exp(w[p + "attn.A_log"])
                ssm[i] = torch.exp(dt[:, None] * A) * ssm[i] + (dt * xc)[:, None] * Bv[None, :]
                y = ssm[i] @ Cv + w[p + "attn.D"] * xc
                mix = w[p + "attn.out_proj.weight"] @ (y * silu(z))
            else:
                q = (w[p + "attn.q_proj.weight"] @ u).view(H, hs)
                k = (w[p + "attn.k_proj.weight"] @ u).view(G, hs)
                v = (w[p + "attn.v_proj.weight"] @ u).view(G, hs)
                keys[i].append(rope(k, pos))
                values[i].append(v)
                K = torch.stack(keys[i][-cfg.sliding_window:])             # W keys including this one
                V = torch.stack(values[i][-cfg.sliding_window:])
                heads = []
                for h in range(H):
                    g = h // (H // G)
                    s = (K[:, g] @ rope(q[h], pos)) / math.sqrt(hs)
                    heads.append(torch.softmax(s, 0) @ V[:, g])
                mix = w[p + "attn.proj.weight"] @ torch.cat(heads)
            x = x + mix
            u2 = rms(x, w[p + "norm_2.weight"])
            x = x + w[p + "mlp.swiglu.w3.weight"] @ (silu(w[p + "mlp.swiglu.w1.weight"] @ u2)
                                                     * (w[p + "mlp.swiglu.w2.weight"] @ u2))
        out.append(w["transformer.wte.weight"] @ rms(x, w["transformer.ln_f.weight"]))
    return torch.stack(out)


class ModelMatchesSpec(unittest.TestCase):
    def test_full_sequence_equals_spec_decoder(self):
        torch.manual_seed(3)
        cfg = SambaConfig(n_layer=4, d_model=32, n_head=4, n_query_groups=2, intermediate_size=48,
                          sliding_window=8, vocab_size=97)
        model = Samba(cfg)  # fp32, as trained; the decoder below is float64
        with torch.no_grad():  # non-trivial values everywhere, not just the init
            for name, p in model.named_parameters():
                if not name.endswith("A_log"):
                    p.add_(0.05 * torch.randn_like(p))
        tokens = torch.randint(0, 97, (37,))  # > 4 windows
        with torch.no_grad():
            full = model(tokens.unsqueeze(0))[0]
        ref = spec_decoder_logits(dict(model.state_dict()), cfg, tokens.tolist())
        rel = ((full - ref).norm() / ref.norm()).item()
        self.assertLess(rel, 1e-5, f"relative error {rel}")


class ScanAndAttention(unittest.TestCase):
    def test_scan_forward_and_gradients_match_sequential(self):
        torch.manual_seed(0)
        for (b, t, d, n) in [(2, 37, 5, 4), (1, 100, 3, 16), (1, 1, 2, 2)]:
            args = [torch.randn(b, t, d, dtype=torch.float64), torch.rand(b, t, d, dtype=torch.float64) * 0.5,
                    -torch.rand(d, n, dtype=torch.float64) * 3, torch.randn(b, t, n, dtype=torch.float64),
                    torch.randn(b, t, n, dtype=torch.float64)]
            args = [a.requires_grad_() for a in args]
            y, y_ref = selective_scan(*args), selective_scan_reference(*args)
            self.assertLess((y - y_ref).abs().max().item(), 1e-10)
            gy = torch.randn_like(y)
            for g, g_ref in zip(torch.autograd.grad(y, args, gy), torch.autograd.grad(y_ref, args, gy)):
                self.assertLess((g - g_ref).abs().max().item(), 1e-9 * (1 + g_ref.abs().max().item()))

    def test_block_local_attention_equals_band_mask(self):
        torch.manual_seed(1)
        for (b, h, g, t, hs, win) in [(2, 4, 4, 37, 8, 8), (1, 4, 2, 64, 8, 16), (1, 2, 1, 5, 4, 8)]:
            q, k, v = torch.randn(b, h, t, hs), torch.randn(b, g, t, hs), torch.randn(b, g, t, hs)
            out = sliding_window_attention(q, k, v, win)
            kr, vr = k.repeat_interleave(h // g, 1), v.repeat_interleave(h // g, 1)
            i, j = torch.arange(t)[:, None], torch.arange(t)[None, :]
            s = (q @ kr.transpose(-1, -2) / math.sqrt(hs)).masked_fill(~((j <= i) & (i - j < win)), float("-inf"))
            self.assertLess((out - torch.softmax(s, -1) @ vr).abs().max().item(), 1e-5)


class ExportRoundTrip(unittest.TestCase):
    def test_export_names_dtypes_and_reload(self):
        torch.manual_seed(2)
        cfg = SambaConfig(n_layer=4, d_model=32, n_head=2, n_query_groups=2, intermediate_size=48,
                          sliding_window=8, vocab_size=50)
        model = Samba(cfg)
        with tempfile.TemporaryDirectory() as tmp:
            export_model(model, tmp, train_length=64)
            tensors, _ = read_safetensors(os.path.join(tmp, "model.safetensors"))
            self.assertEqual(set(tensors), set(model.state_dict()))
            self.assertEqual(tensors["transformer.wte.weight"].dtype, torch.bfloat16)
            self.assertEqual(tensors["transformer.h.0.attn.A_log"].dtype, torch.float32)
            self.assertEqual(list(tensors["transformer.h.1.attn.q_proj.weight"].shape), [32, 32])
            cfg2, weights = load_model_folder(tmp)
            self.assertEqual(cfg2, cfg)
            for name, p in model.state_dict().items():
                self.assertTrue(torch.allclose(weights[name], p.float(), rtol=1e-2, atol=1e-3), name)

    def test_safetensors_rejects_bad_offsets(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.safetensors")
            write_safetensors(path, {"a": torch.ones(4)})
            with open(path, "r+b") as f:
                f.truncate(os.path.getsize(path) - 4)
            with self.assertRaisesRegex(ValueError, "inconsistent offsets"):
                read_safetensors(path)


class PasskeyRows(unittest.TestCase):
    def _data_dir(self, tmp):
        import array, json, lzma
        tokens = array.array("H", [(i % 50) + 10 for i in range(20000)])
        for name in ("train.u16.xz", "val.u16.xz"):
            with lzma.open(os.path.join(tmp, name), "wb") as f:
                f.write(tokens.tobytes())
        keys = 30
        parts = {"header": [3, 4, 5], "question": [6, 7], "filler": [8, 9] * 2000, "newline": 13,
                 "needle": [[100 + k, 101, 102] for k in range(1, keys + 1)],
                 "answer": [[200 + k, 201] for k in range(1, keys + 1)]}
        with lzma.open(os.path.join(tmp, "passkey.json.xz"), "wt") as f:
            json.dump(parts, f)
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump({"vocab_size": 300, "eos_id": 2, "val_bytes_per_token": 3.0}, f)
        with open(os.path.join(tmp, "samples.json"), "w") as f:
            json.dump([], f)

    def test_prompt_layout_and_answer_weights(self):
        from data import TrainingData
        with tempfile.TemporaryDirectory() as tmp:
            self._data_dir(tmp)
            data = TrainingData(tmp)
            prompt = data.passkey.prompt(40, 0.5, 7)
            self.assertEqual(len(prompt), 40)
            nl = [i for i, t in enumerate(prompt) if t == 13]
            self.assertEqual(len(nl), 4)                        # five parts joined by newlines
            self.assertEqual(prompt[nl[1] + 1:nl[2]], [107, 101, 102])   # the needle for K = 7
            self.assertEqual(nl[1] - nl[0] - 1, nl[3] - nl[2] - 1)       # depth 0.5: equal filler
            gen = torch.Generator().manual_seed(0)
            x, y, w = data.batch(3, 2048, gen, passkey_fraction=1.0, answer_weight=5.0)
            self.assertEqual(x.shape, (3, 2048))
            self.assertTrue(torch.equal(x[:, 1:], y[:, :-1]))
            for r in range(3):
                heavy = (w[r] == 5.0).nonzero().flatten().tolist()
                self.assertEqual(len(heavy), 3)                  # " K." (2 ids) and </s>
                self.assertEqual(y[r, heavy[-1]].item(), 2)
                key = y[r, heavy[0]].item() - 200                  # the answer names key K ...
                self.assertTrue(1 <= key <= 30)
                self.assertIn(100 + key, x[r, :heavy[0]].tolist())  # ... whose needle came before it


if __name__ == "__main__":
    unittest.main()
