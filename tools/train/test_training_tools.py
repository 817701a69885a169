"""Tests of the training tools (CPU, torch 1.13 or later):
  /usr/bin/python3 -m unittest discover -s tools/train -p 'test_*.py'
(ctest runs the same as tools.train_unittests, tests/tools/CMakeLists.txt.)

The training model is checked against a token-by-token decoder written here
directly from model-spec.md section 1 (conv taps with conv_w[3] on the current
token, the sequential selective scan, W keys including the query, NeoX RoPE,
w1 = gate / w2 = up), in float64, reading only the exported weights by name.
"""
import contextlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import export_model, load_model_folder  # noqa: E402
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402
from samba_model import Samba, SambaConfig, sliding_window_attention  # noqa: E402
from selective_scan import selective_scan, selective_scan_reference  # noqa: E402
from triton_cpu_emulator import import_with_emulator  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


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


class LongRowMemory(unittest.TestCase):
    """The sliced loss and block checkpointing change memory, not results."""

    def tiny_model_and_batch(self):
        torch.manual_seed(6)
        cfg = SambaConfig(n_layer=2, d_model=16, n_head=2, n_query_groups=2, intermediate_size=24,
                          sliding_window=8, vocab_size=50)
        model = Samba(cfg)  # fp32, as trained (the model keeps its residual stream in fp32)
        x = torch.randint(0, 50, (2, 23))
        y = torch.randint(0, 50, (2, 23))
        w = torch.rand(2, 23) * 3
        return model, x, y, w

    def gradients(self, model, loss):
        model.zero_grad()
        loss.backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    def test_sliced_loss_equals_the_whole_rows_loss_and_gradients(self):
        from token_loss import token_loss_sum, weighted_token_loss
        model, x, y, w = self.tiny_model_and_batch()
        per_token = torch.nn.functional.cross_entropy(model(x).view(-1, 50), y.view(-1), reduction="none")
        whole = (per_token * w.view(-1)).sum() / w.sum()
        g_whole = self.gradients(model, whole)
        for slice_tokens in (7, 23, 46, 1000):  # several slices, one per row, one for all, one too big
            sliced = weighted_token_loss(model, model.hidden(x), y, w, slice_tokens=slice_tokens)
            self.assertAlmostEqual(sliced.item(), whole.item(), places=5)
            g_sliced = self.gradients(model, sliced)
            self.assertLess(((g_sliced - g_whole).norm() / g_whole.norm()).item(), 1e-5)
            with torch.no_grad():
                self.assertAlmostEqual(token_loss_sum(model, model.hidden(x), y, slice_tokens=slice_tokens),
                                       per_token.sum().item(), places=3)

    def test_block_checkpointing_gives_the_same_step(self):
        from train_samba import training_step
        results = []
        for checkpointing in (False, True):
            model, x, y, w = self.tiny_model_and_batch()
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            loss, norm = training_step(model, optimizer, x, y, w, contextlib.nullcontext, checkpointing)
            results.append((loss.item(), float(norm), torch.cat([p.detach().flatten() for p in model.parameters()])))
        self.assertAlmostEqual(results[0][0], results[1][0], places=6)
        self.assertAlmostEqual(results[0][1], results[1][1], places=5)
        self.assertLess((results[0][2] - results[1][2]).abs().max().item(), 1e-6)

    def test_out_of_memory_switches_on_checkpointing_once(self):
        from train_samba import step_with_memory_fallback
        calls, cleaned, logged = [], [], []

        def run(checkpointing):
            calls.append(checkpointing)
            if not checkpointing:
                raise RuntimeError("CUDA out of memory. Tried to allocate 31.00 GiB")
            return "done"
        result = step_with_memory_fallback(run, False, True, lambda: cleaned.append(1), "1 rows of 262,144 tokens",
                                           1, log=logged.append)
        self.assertEqual(result, ("done", True))
        self.assertEqual(calls, [False, True])
        self.assertEqual(len(cleaned), 1)
        self.assertIn("recomputing block activations", logged[0])
        # Already checkpointing, or --checkpoint-blocks off: a clear stop, not a retry.
        for checkpointing, may_switch, text in ((True, True, "even with --checkpoint-blocks"),
                                                (False, False, "do not fit")):
            calls.clear()
            with self.assertRaisesRegex(SystemExit, text):
                step_with_memory_fallback(lambda c: run(False), checkpointing, may_switch, lambda: None,
                                          "1 rows of 262,144 tokens", 1, log=logged.append)
            self.assertEqual(calls, [False])
        # Other errors pass through untouched.
        with self.assertRaisesRegex(RuntimeError, "shape mismatch"):
            step_with_memory_fallback(lambda c: (_ for _ in ()).throw(RuntimeError("shape mismatch")), False, True,
                                      lambda: None, "", 1, log=logged.append)


class AttentionFallback(unittest.TestCase):
    """Fused attention that fails: out of memory goes to the caller (training turns on
    checkpointing), anything else falls back to the explicit softmax."""

    def test_out_of_memory_is_raised_and_other_errors_fall_back(self):
        import samba_model
        q = k = v = torch.randn(1, 2, 4, 8)
        mask = torch.zeros(1, 1, 4, 4)
        saved_flag, saved_fn = samba_model._USE_SDPA[0], getattr(samba_model.F, "scaled_dot_product_attention", None)
        try:
            for message, raises in (("CUDA out of memory. Tried to allocate 2.00 GiB", True),
                                    ("No available kernel. Aborting execution.", False)):
                samba_model._USE_SDPA[0] = True

                def failing(*args, **kwargs):
                    raise RuntimeError(message)
                samba_model.F.scaled_dot_product_attention = failing
                if raises:
                    with self.assertRaisesRegex(RuntimeError, "out of memory"):
                        samba_model._attend(q, k, v, mask, causal=False)
                    self.assertTrue(samba_model._USE_SDPA[0])
                else:
                    with contextlib.redirect_stdout(io.StringIO()):
                        out = samba_model._attend(q, k, v, mask, causal=False)
                    self.assertFalse(samba_model._USE_SDPA[0])
                    want = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(8), -1) @ v
                    self.assertLess((out - want).abs().max().item(), 1e-6)
        finally:
            samba_model._USE_SDPA[0] = saved_flag
            if saved_fn is None:
                del samba_model.F.scaled_dot_product_attention
            else:
                samba_model.F.scaled_dot_product_attention = saved_fn


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


    def test_prompts_longer_than_the_stored_filler_continue_its_period(self):
        import json, lzma
        from passkey import PasskeyBuilder
        with tempfile.TemporaryDirectory() as tmp:
            self._data_dir(tmp)
            path = os.path.join(tmp, "passkey.json.xz")
            with lzma.open(path, "rt") as f:
                parts = json.load(f)
            parts["filler"] = [7] + [8, 9, 10] * 100    # a first group unlike the rest, then period 3
            with lzma.open(path, "wt") as f:
                json.dump(parts, f)
            builder = PasskeyBuilder(path)
            self.assertEqual(builder.period, 3)
            fixed = builder.fixed_length(5)
            prompt = builder.prompt_split(fixed + 1000, 10, 5)   # 990 filler tokens after the needle
            self.assertEqual(len(prompt), fixed + 1000)
            after = prompt[-(len(parts["question"]) + 1 + 990):-(len(parts["question"]) + 1)]
            self.assertEqual(after[:4], [7, 8, 9, 10])
            self.assertTrue(all(after[i] == after[i + 3] for i in range(1, 987)))
            parts["filler"] = [8, 9, 11, 12] * 2 + [5]         # no period: a long prompt is an error
            with lzma.open(path, "wt") as f:
                json.dump(parts, f)
            with self.assertRaisesRegex(ValueError, "more filler"):
                PasskeyBuilder(path).prompt(fixed + 100, 0.5, 5)

    def test_passkey_lengths_option_bounds_the_prompts(self):
        from data import PasskeyCurriculum, TrainingData
        with tempfile.TemporaryDirectory() as tmp:
            self._data_dir(tmp)
            data = TrainingData(tmp)
            gen = torch.Generator().manual_seed(1)
            curriculum = PasskeyCurriculum(min_length=600, max_length=900)
            lengths = [data.passkey_layout(gen, 4096, curriculum)[0] for _ in range(300)]
            self.assertGreaterEqual(min(lengths), 600)
            self.assertLessEqual(max(lengths), 900)
            self.assertLess(min(lengths), 650)              # log-uniform: both ends are reached
            self.assertGreater(max(lengths), 850)
            # MAX beyond the row is capped so the example still fits.
            capped = [data.passkey_layout(gen, 1024, PasskeyCurriculum(600, 8192))[0] for _ in range(100)]
            self.assertLessEqual(max(capped), 1024 - 16)

    def test_several_length_ranges_are_all_drawn_and_nothing_between(self):
        from data import PasskeyCurriculum, TrainingData
        with tempfile.TemporaryDirectory() as tmp:
            self._data_dir(tmp)
            data = TrainingData(tmp)
            gen = torch.Generator().manual_seed(3)
            curriculum = PasskeyCurriculum(600, 700, more_ranges=((1500, 1600), (3000, 3100)))
            lengths = [data.passkey_layout(gen, 4096, curriculum)[0] for _ in range(600)]
            counts = [sum(low <= n <= high for n in lengths) for low, high in curriculum.ranges]
            self.assertEqual(sum(counts), len(lengths))      # every length inside one of the ranges
            for count in counts:                              # each range about a third of the draws
                self.assertGreater(count, 150)
            with self.assertRaisesRegex(ValueError, "MIN <= MAX"):
                PasskeyCurriculum(600, 700, more_ranges=((900, 800),))

    def test_beyond_window_share_and_several_examples_per_row(self):
        from data import PasskeyCurriculum, TrainingData
        with tempfile.TemporaryDirectory() as tmp:
            self._data_dir(tmp)
            data = TrainingData(tmp)
            window = 128
            uniform = data.curriculum_summary(2048, PasskeyCurriculum(150, 300, window=window))
            far = data.curriculum_summary(2048, PasskeyCurriculum(150, 300, beyond_fraction=1.0, window=window))
            self.assertLess(uniform["beyond_window_share"], 0.7)
            self.assertEqual(far["beyond_window_share"], 1.0)
            gen = torch.Generator().manual_seed(0)
            curriculum = PasskeyCurriculum(150, 300, per_row=4, beyond_fraction=1.0, window=window)
            x, y, w = data.batch(2, 2048, gen, passkey_fraction=1.0, answer_weight=3.0, curriculum=curriculum)
            for r in range(2):
                heavy = (w[r] == 3.0).nonzero().flatten().tolist()
                self.assertEqual(len(heavy), 4 * 3)              # four examples, " K." + </s> each
                ends = [i for i in heavy if y[r, i].item() == 2]
                self.assertEqual(len(ends), 4)
                for end in ends:                                 # each answer's needle is > window back
                    key = y[r, end - 2].item() - 200
                    needle_at = max(i for i in range(end - 2) if x[r, i].item() == 100 + key)
                    self.assertGreaterEqual(end - 2 - needle_at, window)

    def test_passkey_lengths_argument_is_validated(self):
        import train_samba
        args = train_samba.parse_args(["--data", "d", "--out", "o", "--run-seconds", "1",
                                       "--passkey-lengths", "600,4096"])
        self.assertEqual(args.passkey_lengths, ((600, 4096),))
        args = train_samba.parse_args(["--data", "d", "--out", "o", "--run-seconds", "1",
                                       "--passkey-lengths", "1024,8192+131072,262144"])
        self.assertEqual(args.passkey_lengths, ((1024, 8192), (131072, 262144)))
        for bad in ("4096,600", "600", "a,b", "0,10", "600,4096+", "600,4096+8192,4096"):
            with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as err:
                train_samba.parse_args(["--data", "d", "--out", "o", "--run-seconds", "1",
                                        "--passkey-lengths", bad])
            self.assertIn("--passkey-lengths", err.getvalue())


class TritonScanOnEmulator(unittest.TestCase):
    """The Triton kernels' indexing and maths, run by triton_cpu_emulator.py."""

    def test_forward_and_gradients_match_sequential_definition(self):
        sst = import_with_emulator("selective_scan_triton")
        for spec in ("block_d=16,chunk=64", "block_d=8,chunk=16", "block_d=4,chunk=8"):
            sst.configure(spec)
            ok, lines = sst.compare_with_reference(
                sst.selective_scan_triton, torch.device("cpu"),
                [(2, 37, 11, 16), (1, 1, 3, 16), (2, 40, 8, 5), (1, 2 * sst.CONFIG.chunk + 3, 6, 4)])
            self.assertTrue(ok, f"{spec}: {lines}")
        ok, text = sst.self_check(torch.device("cpu"))
        self.assertTrue(ok, text)
        self.assertIn("segments=3", text)

    def test_time_segments_give_the_single_walks_results(self):
        sst = import_with_emulator("selective_scan_triton")
        shapes = [(2, 37, 11, 16), (1, 5 * 8 + 3, 6, 4), (2, 64, 8, 16), (1, 1, 3, 16)]
        for spec in ("block_d=8,chunk=8,segments=2", "block_d=4,chunk=8,segments=3",
                     "block_d=8,chunk=4,segments=7", "block_d=8,chunk=8,segments=64"):
            sst.configure(spec)
            ok, lines = sst.compare_with_reference(sst.selective_scan_triton, torch.device("cpu"), shapes)
            self.assertTrue(ok, f"{spec}: {lines}")

    def test_segment_plan_fills_the_gpu_and_never_leaves_a_segment_empty(self):
        sst = import_with_emulator("selective_scan_triton")
        cfg = sst.ScanConfig()
        cpu = torch.device("cpu")
        # Asked for: 5 chunks in 3 segments of 2, 2 and 1; never more segments than chunks.
        self.assertEqual(sst.segment_plan(1, 48, 5, sst.replace(cfg, segments=3), cpu), (3, 2))
        self.assertEqual(sst.segment_plan(1, 48, 5, sst.replace(cfg, segments=9), cpu), (5, 1))
        self.assertEqual(sst.segment_plan(1, 48, 4096, sst.replace(cfg, segments=1), cpu), (1, 4096))
        # Chosen: as many programs as PROGRAMS_PER_SM per SM, segments of at least MIN_SEGMENT_CHUNKS.

        class Props:
            multi_processor_count = 132
        real = torch.cuda.get_device_properties
        torch.cuda.get_device_properties = lambda device: Props()
        try:
            gpu = torch.device("cuda")
            segs, per = sst.segment_plan(1, 48, 4096, cfg, gpu)   # one 256K-token row
            self.assertEqual(segs, sst.PROGRAMS_PER_SM * 132 // 48)
            self.assertGreaterEqual(segs * per, 4096)
            self.assertEqual(sst.segment_plan(16, 48, 64, cfg, gpu), (1, 64))  # 16 rows of 4K: full already
            self.assertEqual(sst.segment_plan(1, 48, 8, cfg, gpu), (2, 4))     # short row: segments of 4 chunks
        finally:
            torch.cuda.get_device_properties = real
        for spec in ("segments=auto", "segments=0", "segments=5"):
            sst.configure(spec)
        with self.assertRaisesRegex(ValueError, "cannot read"):
            sst.configure("segments=-1")

    def test_self_check_catches_broken_kernels(self):
        with open(os.path.join(HERE, "selective_scan_triton.py"), encoding="utf-8") as f:
            source = f.read()
        mutations = [("carry = decay * g", "carry = g"),                               # adjoint decay
                     ("gA_acc += g_log_decay * dt_t[:, None]", "gA_acc += g_log_decay"),  # dA
                     ("t1 = tl.minimum(t0 + CHUNK, T)", "t1 = tl.minimum(t0 + CHUNK - 1, T)"),  # a step lost
                     ("gC_t = tl.sum(h * gy_t[:, None], axis=0)", "gC_t = tl.sum(h, axis=0)"),
                     # the segments' entering states and carries
                     ("h0[:, seg] = decay[:, seg - 1] * h0[:, seg - 1] + ends[:, seg - 1]",
                      "h0[:, seg] = h0[:, seg - 1] + ends[:, seg - 1]"),
                     ("carry[:, seg] = handed[:, seg + 1] + decay[:, seg + 1] * carry[:, seg + 1]",
                      "carry[:, seg] = handed[:, seg + 1]"),
                     ("carry = decay * (gy_t[:, None] * C_t[None, :] + carry)",
                      "carry = decay * gy_t[:, None] * C_t[None, :] + carry")]
        for old, new in mutations:
            self.assertIn(old, source)
            with tempfile.TemporaryDirectory() as tmp:
                with open(os.path.join(tmp, "mutated_scan.py"), "w", encoding="utf-8") as f:
                    f.write(source.replace(old, new))
                sys.path.insert(0, tmp)
                try:
                    module = import_with_emulator("mutated_scan")
                finally:
                    sys.path.remove(tmp)
                ok, text = module.self_check(torch.device("cpu"))
                self.assertFalse(ok, f"mutation {new!r} passed the self-check: {text}")
                self.assertIn("FAIL", text)

    def test_bad_configuration_and_inputs_are_refused(self):
        sst = import_with_emulator("selective_scan_triton")
        with self.assertRaisesRegex(ValueError, "power of two"):
            sst.configure("block_d=12")
        with self.assertRaisesRegex(ValueError, "cannot read"):
            sst.configure("blocks=16")
        u = torch.randn(1, 5, 4)
        with self.assertRaisesRegex(ValueError, "float32"):
            sst.selective_scan_triton(u.double(), u.double(), torch.randn(4, 16).double(),
                                      torch.randn(1, 5, 16).double(), torch.randn(1, 5, 16).double())
        with self.assertRaisesRegex(ValueError, "Bm must be"):
            sst.selective_scan_triton(u, u, torch.randn(4, 16), torch.randn(1, 4, 16), torch.randn(1, 5, 16))


class ScanSelection(unittest.TestCase):
    """train_samba.py --scan: triton only after its self-check, otherwise a stated reason."""

    def test_without_triton_auto_falls_back_with_the_reason(self):
        from scan_select import choose_scan
        logged = []
        scan, name = choose_scan("auto", torch.device("cpu"), log=logged.append)
        self.assertEqual(name, "torch")
        self.assertIs(scan, selective_scan)
        self.assertRegex(logged[0], "triton is not importable")
        with self.assertRaisesRegex(SystemExit, "--scan triton, but triton is not importable"):
            choose_scan("triton", torch.device("cpu"), log=logged.append)
        self.assertEqual(choose_scan("torch", torch.device("cpu"), log=logged.append)[1], "torch")

    def test_triton_is_used_only_on_cuda_and_after_a_passing_self_check(self):
        from scan_select import choose_scan, triton_scan_or_reason

        class FakeModule:
            def __init__(self, result):
                self.result = result

            def configure(self, spec):
                pass

            def self_check(self, device):
                if isinstance(self.result, Exception):
                    raise self.result
                return self.result

            def selective_scan_triton(self, *args):
                return None

        cuda = torch.device("cuda")  # never touched: the fake module does no work
        sst = import_with_emulator("selective_scan_triton")
        scan, reason = triton_scan_or_reason(torch.device("cpu"), import_module=lambda name: sst)
        self.assertIsNone(scan)
        self.assertIn("device is cpu", reason)
        scan, reason = triton_scan_or_reason(cuda, import_module=lambda name: FakeModule((False, "dB 3e-01 FAIL")))
        self.assertIsNone(scan)
        self.assertIn("failed its self-check: dB 3e-01 FAIL", reason)
        scan, reason = triton_scan_or_reason(cuda, import_module=lambda name: FakeModule(RuntimeError("ptxas")))
        self.assertIsNone(scan)
        self.assertIn("could not run its self-check (RuntimeError: ptxas)", reason)
        logged = []
        good = FakeModule((True, "all ok"))
        scan, name = choose_scan("auto", cuda, log=logged.append, import_module=lambda name: good)
        self.assertEqual((scan, name), (good.selective_scan_triton, "triton"))
        self.assertIn("all ok", logged[0])
        # Time segments failing their check: the single walk is tried before the torch scan.

        class SegmentsBroken(FakeModule):
            def configure(self, spec):
                if "segments=1" in spec:
                    self.result = (True, "single walk ok")
        scan, name = choose_scan("auto", cuda, log=logged.append,
                                 import_module=lambda name: SegmentsBroken((False, "segments=3 y 2e-01 FAIL")))
        self.assertEqual(name, "triton")
        self.assertIn("single walk ok (time segments off: the triton scan failed its self-check: segments=3", logged[-1])
        bad = FakeModule((False, "y 1e+00 FAIL"))
        scan, name = choose_scan("auto", cuda, log=logged.append, import_module=lambda name: bad)
        self.assertEqual(name, "torch")
        with self.assertRaisesRegex(SystemExit, "failed its self-check"):
            choose_scan("triton", cuda, log=logged.append, import_module=lambda name: bad)

    def test_time_segments_are_kept_only_where_faster(self):
        from scan_select import pick_segments
        sst = import_with_emulator("selective_scan_triton")
        shape = (1, 262144, 768, 16)
        for auto_s, single_s, kept in ((0.2, 0.6, 0), (0.9, 0.6, 1)):
            sst.configure("segments=auto")

            def timer(scan, shape, device):
                return auto_s if sst.CONFIG.segments == 0 else single_s
            logged = []
            text = pick_segments(sst, sst.selective_scan_triton, torch.device("cuda"), shape, log=logged.append,
                                 timer=timer)
            self.assertEqual(sst.CONFIG.segments, kept)
            self.assertIn("time segments" if kept == 0 else "the single walk", text.split("using")[-1])
            self.assertIn(f"{auto_s * 1e3:.1f} ms", logged[0])
        sst.configure("segments=3")  # asked for: not second-guessed
        self.assertEqual(pick_segments(sst, None, torch.device("cuda"), shape, timer=None), "segments=3 as configured")

    def test_scan_timer_runs_forward_and_backward(self):
        from scan_select import time_forward_backward
        self.assertGreater(time_forward_backward(selective_scan, (1, 40, 4, 4), torch.device("cpu"), reps=1), 0)

    def test_model_trains_through_the_emulated_triton_scan(self):
        sst = import_with_emulator("selective_scan_triton")
        sst.configure("block_d=16,chunk=8")
        torch.manual_seed(4)
        cfg = SambaConfig(n_layer=2, d_model=16, n_head=2, n_query_groups=2, intermediate_size=24,
                          sliding_window=8, vocab_size=40)
        model = Samba(cfg)
        tokens = torch.randint(0, 40, (2, 21))
        grads = []
        for scan in (selective_scan, sst.selective_scan_triton):
            model.set_scan(scan)
            model.zero_grad()
            model(tokens).float().pow(2).mean().backward()
            grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
        self.assertLess(((grads[0] - grads[1]).norm() / grads[0].norm()).item(), 1e-5)


class SwaOnlyComparison(unittest.TestCase):
    def test_swa_only_has_no_mamba_and_matched_parameters_when_asked(self):
        import train_samba
        base = ["--data", "d", "--out", "o", "--run-seconds", "1", "--preset", "tiny"]
        hybrid = Samba(train_samba.build_config(train_samba.parse_args(base), 500))
        narrow = Samba(train_samba.build_config(train_samba.parse_args(base + ["--swa-only"]), 500))
        matched = Samba(train_samba.build_config(
            train_samba.parse_args(base + ["--swa-only", "--swa-match-params"]), 500))
        self.assertEqual(hybrid.mamba_block_count(), 2)
        self.assertEqual(narrow.mamba_block_count(), 0)
        self.assertEqual(matched.mamba_block_count(), 0)
        self.assertLess(narrow.parameter_count(), hybrid.parameter_count())
        per_unit = 3 * 64 * 4  # one more SwiGLU unit in each of 4 blocks
        self.assertLessEqual(abs(matched.parameter_count() - hybrid.parameter_count()), per_unit // 2)
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as err:
            train_samba.parse_args(base + ["--swa-match-params"])
        self.assertIn("only applies with --swa-only", err.getvalue())

    def test_step_schedule_gives_equal_rates_at_equal_steps(self):
        import train_samba
        base = ["--data", "d", "--out", "o", "--run-seconds", "100", "--lr", "1e-3"]
        args = train_samba.parse_args(base + ["--max-steps", "200", "--lr-schedule", "steps"])
        rates = [train_samba.lr_at_step(step, args) for step in range(200)]
        self.assertAlmostEqual(rates[0], 1e-3 / 6)  # warm-up: 3% of 200 steps
        self.assertAlmostEqual(max(rates), 1e-3)
        self.assertAlmostEqual(rates[-1], 1e-4, delta=1e-6)  # cosine down to 10%
        peak = rates.index(max(rates))
        self.assertTrue(all(a >= b for a, b in zip(rates[peak:], rates[peak + 1:])))
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as err:
            train_samba.parse_args(base + ["--lr-schedule", "steps"])
        self.assertIn("needs --max-steps", err.getvalue())

    def test_table_shows_both_runs_and_a_missing_one(self):
        from compare_table import table
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "metrics.json")
            with open(path, "w") as f:
                json.dump({"config": {"n_layer": 8}, "parameters": 20266368, "mamba_blocks": 4,
                           "run": {"tokens": 1000, "seconds": 200.4, "tokens_per_second": 5.0, "scan": "triton"},
                           "held_out": {"loss": 2.9, "perplexity": 18.17, "bits_per_byte": 1.2},
                           "passkey_probe": {"1024/0.00": 0.5, "1024/1.00": 1.0, "2048/0.00": 0.0},
                           "passkey_probe_beyond_window": {"window": 512, "trials": 6, "correct": 1}}, f)
            text = table([("hybrid", path), ("SWA-only", os.path.join(tmp, "absent.json"))])
        lines = text.splitlines()
        self.assertEqual(len(lines), 4)
        self.assertEqual(lines[0].count("|"), lines[2].count("|"))
        self.assertEqual(lines[0].count("|"), lines[3].count("|"))
        self.assertIn("| hybrid | 4 Mamba + 4 SWA | 20,266,368 | 1,000 | 200 |", lines[2])
        self.assertIn("1K 75% · 2K 0%", lines[2])
        self.assertIn("1/6 (window 512)", lines[2])
        self.assertIn("no metrics", lines[3])

    def test_compare_script_refuses_bad_arguments(self):
        script = os.path.join(HERE, "compare_swa.sh")
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, OUT=tmp, DATA=os.path.join(tmp, "nothing"))
            for args, message in ((["x"], "SECONDS must be a positive whole number"),
                                  ([], "SECONDS must be a positive whole number"),
                                  (["0"], "SECONDS must be a positive whole number"),
                                  (["100"], "no token data at")):
                run = subprocess.run(["bash", script] + args, env=env, capture_output=True, text=True)
                self.assertEqual(run.returncode, 2, run.stderr)
                self.assertIn(message, run.stderr)


class HeldOutScoring(unittest.TestCase):
    def test_reads_the_engines_summary_after_progress_lines(self):
        import score_heldout
        with tempfile.TemporaryDirectory() as tmp:
            cli = os.path.join(tmp, "fake-cli")
            with open(cli, "w") as f:
                f.write("#!/bin/sh\nprintf '1\\t5\\t2.0\\n'\n"
                        "printf 'scored 256/538 tokens\\rscored 538/538 tokens\\n"
                        "538 tokens; mean surprisal 2.2717 nats; perplexity 9.696\\n' >&2\n")
            os.chmod(cli, 0o755)
            self.assertEqual(score_heldout.score(cli, "model", "doc.txt"), (538, 2.2717))
            with open(cli, "w") as f:
                f.write("#!/bin/sh\necho 'cannot open model' >&2\nexit 1\n")
            with self.assertRaises(SystemExit) as failed:
                score_heldout.score(cli, "model", "doc.txt")
            self.assertIn("cannot open model", str(failed.exception))

    def test_model_arguments_are_checked(self):
        import score_heldout
        with tempfile.TemporaryDirectory() as tmp:
            for bad in ("no-equals-sign", f"name={tmp}"):  # the second: no config.json there
                with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as err:
                    score_heldout.main(["--cli", "x", "--shards", tmp, bad])
                self.assertIn("NAME=MODEL_DIR", err.getvalue())



class MemoryHorizon(unittest.TestCase):
    def test_retention_is_the_product_of_the_per_token_decays(self):
        from memory_horizon import mean_log_decay, retention
        g = torch.Generator().manual_seed(0)
        period, D, N, warm = 5, 3, 4, 7
        one = torch.rand(period, D, generator=g) * 0.1
        dt = torch.cat([torch.rand(warm, D, generator=g)] + [one] * 12)  # warm-up, then 12 periods
        A = -torch.rand(D, N, generator=g) * 2
        h = torch.ones(D, N)
        for t in range(warm, warm + 4 * period):
            h = h * torch.exp(dt[t][:, None] * A)
        got = retention(mean_log_decay(dt, A, warm, period), 4 * period)
        self.assertTrue(torch.allclose(got, h, rtol=1e-5), (got - h).abs().max())
        with self.assertRaisesRegex(ValueError, "whole period"):
            mean_log_decay(dt[:warm + 3], A, warm, period)

    def test_dt_is_read_from_every_mamba_block(self):
        from memory_horizon import dt_on
        from samba_model import Samba, SambaConfig
        cfg = SambaConfig(n_layer=4, d_model=32, n_head=2, n_query_groups=2, intermediate_size=64,
                          sliding_window=8, vocab_size=50)
        torch.manual_seed(0)
        layers = dt_on(Samba(cfg).eval(), list(range(3, 40)))
        self.assertEqual(len(layers), 2)                       # blocks 0 and 2
        for dt, A in layers:
            self.assertEqual(tuple(dt.shape), (37, cfg.d_inner))
            self.assertEqual(tuple(A.shape), (cfg.d_inner, cfg.mamba_d_state))
            self.assertTrue(bool((dt > 0).all()) and bool((A < 0).all()))

if __name__ == "__main__":
    unittest.main()
