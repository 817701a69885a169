#!/usr/bin/python3
"""Converts a microsoft/Samba training checkpoint (.pth) into a SambaLens model folder.

The checkpoint is what the reference training code saves with torch.save: a
dict with "model" (the state dict, fp32, names of docs/model-spec.md §1),
"optimizer", "hparams", "iter_num". Only "model" is read. The output folder
holds config.json (the keys of engine/include/samba/config.h) and
model.safetensors (f32, or bf16 with --dtype bf16) with the fused grouped QKV
split into attn.q_proj / k_proj / v_proj.

Shapes give n_layer, d_model, vocab, intermediate size, d_inner, d_state,
d_conv and dt_rank. The head count is not in the weights: it comes from
--n-head / --n-query-groups, else from hparams when they record it (or name a
released configuration), else the released models' head size of 128 is assumed.

Safety: a .pth is a pickle, and unpickling can run any code the file names.
This script reads the zip itself with a restricted unpickler that only builds
tensors and plain containers, so it needs numpy but not torch; --trust-pickle
uses torch.load instead (trusted files only; also reads legacy-format files).

Usage: /usr/bin/python3 samba_pth_to_hf.py CKPT.pth --out DIR [--dtype bf16]
"""

import argparse
import collections
import io
import os
import pickle
import re
import shutil
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import samba_folder as sf  # noqa: E402

# Heads of the released configurations (model-spec §1), found by hparams["model_name"].
RELEASED_HEADS = {"Samba_421M": (12, 12), "Samba_1.3B": (18, 18)}
RELEASED_HEAD_SIZE = 128
DEFAULT_WINDOW = 2048
# Prefixes wrappers add to state-dict names (DDP, torch.compile, Lightning Fabric).
WRAPPER_PREFIXES = ("module.", "_orig_mod.", "_forward_module.")


class ConversionError(Exception):
    pass


# ---------------------------------------------------------------- loading
# A torch.save file (PyTorch >= 1.6) is a zip: <archive>/data.pkl, a pickle
# whose tensors refer by key to raw little-endian storages <archive>/data/<key>.
# It is read here without torch.load: torch 1.13 ignores a custom pickle_module
# and its weights_only mode rejects floats, so neither gives a safe load of a
# real checkpoint. The unpickler below builds only containers and lazy tensor
# handles; storages are read only for the tensors converted (not the optimizer's).

STORAGE_DTYPES = {
    "FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "BFloat16Storage": "bf16",
    "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1",
    "ByteStorage": "u1", "BoolStorage": "?",
}


class StoredTensor:
    """A tensor of the checkpoint, read from its storage when asked for."""

    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, tuple(shape), tuple(stride)

    @property
    def dtype(self):
        return self.storage.dtype

    def is_floating_point(self):
        return self.dtype in ("<f4", "<f8", "<f2", "bf16")

    def array(self):
        """The values as a contiguous float32 numpy array."""
        data = self.storage.values()
        count = int(np.prod(self.shape)) if self.shape else 1
        last = self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride))
        if count and (self.offset < 0 or min(self.stride, default=0) < 0 or last >= len(data)):
            raise ConversionError(f"tensor of shape {list(self.shape)} reaches past its storage "
                                  f"of {len(data)} elements")
        view = np.lib.stride_tricks.as_strided(data[self.offset:], shape=self.shape,
                                               strides=[s * data.itemsize for s in self.stride])
        return np.ascontiguousarray(view, dtype=np.float32)


class _Storage:
    def __init__(self, archive, record, dtype, numel):
        self.archive, self.record, self.dtype, self.numel = archive, record, dtype, numel
        self._values = None

    def values(self):
        if self._values is None:
            raw = self.archive.read(self.record)
            if self.dtype == "bf16":
                values = sf.bf16_bits_to_f32(np.frombuffer(raw, dtype="<u2"))
            else:
                values = np.frombuffer(raw, dtype=self.dtype)
            if len(values) < self.numel:
                raise ConversionError(f"storage {self.record} holds {len(values)} elements, {self.numel} expected")
            self._values = values
        return self._values


class _StorageType:
    def __init__(self, name):
        self.name, self.dtype = name, STORAGE_DTYPES[name]


def _rebuild_tensor(storage, offset, shape, stride, *unused):
    return StoredTensor(storage, offset, shape, stride)


def _rebuild_parameter(data, *unused):
    return data


class _CheckpointUnpickler(pickle.Unpickler):
    """Builds plain containers and StoredTensors; refuses any other global
    (a pickle can name any callable, which a plain unpickler would run)."""

    def __init__(self, file, archive, prefix):
        super().__init__(file, encoding="utf-8")
        self.archive, self.prefix, self.storages = archive, prefix, {}

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(
            f"refusing to unpickle {module}.{name}: the checkpoint holds more than tensors and plain "
            f"values (re-run with --trust-pickle if the file comes from a trusted source)")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid
        if key not in self.storages:
            self.storages[key] = _Storage(self.archive, f"{self.prefix}data/{key}", storage_type.dtype, numel)
        return self.storages[key]


def load_checkpoint(path, trust_pickle):
    if not os.path.isfile(path):
        raise ConversionError(f"{path}: no such file")
    if trust_pickle:
        return _load_with_torch(path)
    if not zipfile.is_zipfile(path):
        raise ConversionError(f"{path}: not a zip-format torch.save file (PyTorch >= 1.6); a legacy-format "
                              f"checkpoint can be read with --trust-pickle if it comes from a trusted source")
    try:
        archive = zipfile.ZipFile(path)
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ConversionError(f"{path}: expected one <archive>/data.pkl in the zip, found {len(pickles)}")
        prefix = pickles[0][: -len("data.pkl")]
        if prefix + "byteorder" in archive.namelist() and archive.read(prefix + "byteorder").strip() != b"little":
            raise ConversionError(f"{path}: big-endian checkpoints are not supported")
        with archive.open(pickles[0]) as f:
            return _CheckpointUnpickler(io.BytesIO(f.read()), archive, prefix).load()
    except ConversionError:
        raise
    except pickle.UnpicklingError as e:
        raise ConversionError(f"{path}: {e}")
    except Exception as e:  # zip / pickle corruption: name the file, never a traceback
        raise ConversionError(f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: {e})")


class _TorchTensor(StoredTensor):
    """A tensor from torch.load (--trust-pickle), behind StoredTensor's interface."""

    def __init__(self, tensor):
        self.tensor, self.shape = tensor, tuple(tensor.shape)

    @property
    def dtype(self):
        return str(self.tensor.dtype)

    def is_floating_point(self):
        return self.tensor.is_floating_point()

    def array(self):
        return self.tensor.detach().float().contiguous().numpy()


def _load_with_torch(path):
    import torch  # only here: the default path reads the zip without torch
    try:
        checkpoint = torch.load(path, map_location="cpu")
    except Exception as e:
        raise ConversionError(f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: {e})")
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("model"), dict):
        checkpoint = dict(checkpoint)
        checkpoint["model"] = {n: _TorchTensor(t) if isinstance(t, torch.Tensor) else t
                               for n, t in checkpoint["model"].items()}
    return checkpoint


def model_state(checkpoint, path):
    if not isinstance(checkpoint, dict) or "model" not in checkpoint:
        found = sorted(map(str, checkpoint)) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise ConversionError(
            f"{path}: no 'model' entry (found {found}); expected a microsoft/Samba training checkpoint, "
            f"a dict with 'model', 'optimizer', 'hparams', 'iter_num'")
    state = checkpoint["model"]
    if not isinstance(state, dict) or not all(isinstance(v, StoredTensor) for v in state.values()):
        raise ConversionError(f"{path}: 'model' is not a state dict of tensors")
    for prefix in WRAPPER_PREFIXES:
        if state and all(n.startswith(prefix) for n in state):
            state = {n[len(prefix):]: v for n, v in state.items()}
    return state


# ---------------------------------------------------------------- the config


def hparam(hparams, *keys):
    """First of `keys` found in hparams or in a nested hparams["config"] dict."""
    for source in (hparams, hparams.get("config") if isinstance(hparams.get("config"), dict) else {}):
        for key in keys:
            if key in source and source[key] is not None:
                return source[key]
    return None


def infer_config(state, hparams, args, path):
    def shape(name):
        if name not in state:
            raise ConversionError(f"{path}: missing tensor {name}")
        return tuple(state[name].shape)

    vocab, d_model = shape("transformer.wte.weight")
    layers = sorted({int(m.group(1)) for n in state for m in [re.match(r"transformer\.h\.(\d+)\.", n)] if m})
    if not layers:
        raise ConversionError(f"{path}: no transformer.h.<i>.* tensors")
    n_layer = layers[-1] + 1
    missing_layers = sorted(set(range(n_layer)) - set(layers))
    if missing_layers:
        raise ConversionError(f"{path}: missing every tensor of block(s) {missing_layers} "
                              f"(found up to block {n_layer - 1})")
    two_di, _ = shape("transformer.h.0.attn.in_proj.weight")
    _, d_state = shape("transformer.h.0.attn.A_log")
    d_conv = shape("transformer.h.0.attn.conv1d.weight")[-1]
    _, dt_rank = shape("transformer.h.0.attn.dt_proj.weight")
    intermediate, _ = shape("transformer.h.0.mlp.swiglu.w1.weight")
    cfg = {"n_layer": n_layer, "d_model": d_model, "vocab_size": vocab, "intermediate_size": intermediate,
           "mamba_d_inner": two_di // 2, "mamba_d_state": d_state, "mamba_d_conv": d_conv,
           "mamba_dt_rank": dt_rank}

    n_head, n_groups, head_size, source = heads_from(args, hparams)
    if n_layer > 1:
        qkv_rows, _ = shape("transformer.h.1.attn.attn.weight")
        _, proj_cols = shape("transformer.h.1.attn.proj.weight")
        if head_size is None:
            if n_head is None:
                head_size = RELEASED_HEAD_SIZE
                source = f"assumed head size {RELEASED_HEAD_SIZE} of the released models"
            elif proj_cols % n_head:
                raise ConversionError(f"{path}: attn.proj.weight has {proj_cols} columns, not a multiple of "
                                      f"n_head {n_head}")
            else:
                head_size = proj_cols // n_head
        if n_head is None:
            if proj_cols % head_size:
                raise ConversionError(
                    f"{path}: cannot infer the number of heads: attn.proj.weight has {proj_cols} columns, "
                    f"not a multiple of the {source}; pass --n-head (and --n-query-groups for GQA)")
            n_head = proj_cols // head_size
        if n_groups is None:
            extra = qkv_rows - n_head * head_size
            if extra <= 0 or extra % (2 * head_size):
                raise ConversionError(
                    f"{path}: attn.attn.weight has {qkv_rows} rows, which is (n_head + 2*n_query_groups)*head_size "
                    f"for no whole n_query_groups with n_head {n_head}, head size {head_size}; "
                    f"pass --n-head and --n-query-groups")
            n_groups = extra // (2 * head_size)
    else:  # no attention block: the head layout does not matter, pick MHA over d_model
        n_head = n_head or max(1, d_model // RELEASED_HEAD_SIZE)
        n_groups = n_groups or n_head
        head_size = head_size or d_model // n_head
    if n_head % n_groups or head_size % 2:
        raise ConversionError(f"{path}: n_head {n_head} must be a multiple of n_query_groups {n_groups} "
                              f"and head size {head_size} even")
    cfg.update({"n_head": n_head, "n_query_groups": n_groups, "head_size": head_size})

    window = args.window or hparam(hparams, "sliding_window", "local_window") or DEFAULT_WINDOW
    cfg["sliding_window"] = int(window)
    cfg["name"] = args.name or hparam(hparams, "model_name") or os.path.splitext(os.path.basename(path))[0]
    cfg["train_length"] = args.train_length
    return sf.full_config(cfg)


def heads_from(args, hparams):
    """(n_head, n_query_groups, head_size, where they came from); None where unknown."""
    if args.n_head or args.n_query_groups:
        return args.n_head, args.n_query_groups, None, "command line"
    n_head = hparam(hparams, "n_head")
    if n_head is not None:
        return int(n_head), hparam(hparams, "n_query_groups"), hparam(hparams, "head_size"), "hparams"
    released = RELEASED_HEADS.get(str(hparam(hparams, "model_name")))
    if released:
        return released[0], released[1], RELEASED_HEAD_SIZE, "released configuration"
    return None, None, None, None


# ---------------------------------------------------------------- checking


def check_tensors(state, cfg, path, allow_unexpected):
    expected = sf.expected_shapes(cfg, fused_qkv=True)
    problems = []
    missing = [n for n in expected if n not in state]
    if missing:
        problems.append(f"missing tensor(s): {', '.join(missing[:10])}" + (" ..." if len(missing) > 10 else ""))
    for name, want in expected.items():
        if name in state and tuple(state[name].shape) != tuple(want):
            problems.append(f"{name} has shape {list(state[name].shape)}, expected {list(want)} "
                            f"(from the shapes of the other tensors: {describe(cfg)})")
    unexpected = [n for n in state if n not in expected and n != "lm_head.weight"]
    if unexpected and not allow_unexpected:
        problems.append(f"unexpected tensor(s) {', '.join(unexpected[:10])}: not the SAMBA v1 architecture? "
                        f"(--allow-unexpected drops them)")
    for name in expected:
        if name in state and not state[name].is_floating_point():
            problems.append(f"{name} has non-float dtype {state[name].dtype}")
    if problems:
        raise ConversionError(f"{path}: " + "; ".join(problems))
    head = state.get("lm_head.weight")
    if head is not None and not np.array_equal(head.array(), state["transformer.wte.weight"].array()):
        raise ConversionError(f"{path}: lm_head.weight differs from transformer.wte.weight: "
                              f"untied output heads are not supported (the spec ties them)")


def describe(cfg):
    return (f"n_layer {cfg['n_layer']}, d_model {cfg['d_model']}, vocab {cfg['vocab_size']}, "
            f"heads {cfg['n_head']}/{cfg['n_query_groups']} of size {cfg['head_size']}, "
            f"intermediate {cfg['intermediate_size']}, d_inner {cfg['mamba_d_inner']}, "
            f"dt_rank {cfg['mamba_dt_rank']}, window {cfg['sliding_window']}")


# ---------------------------------------------------------------- writing


def folder_tensors(state, cfg):
    out = {}
    for name in sf.expected_shapes(cfg, fused_qkv=True):
        array = state[name].array()
        if name.endswith(".attn.attn.weight"):
            q, k, v = sf.split_qkv(array, cfg["n_head"], cfg["n_query_groups"], cfg["head_size"])
            base = name[: -len("attn.weight")]
            out.update({base + "q_proj.weight": q, base + "k_proj.weight": k, base + "v_proj.weight": v})
        else:
            out[name] = array
    return out


def write_folder(out_dir, cfg, tensors, dtype, tokenizer, force):
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ConversionError(f"{out_dir}: exists and is not a folder")
    if os.path.isdir(out_dir) and os.listdir(out_dir) and not force:
        raise ConversionError(f"{out_dir}: folder is not empty (--force overwrites)")
    os.makedirs(out_dir, exist_ok=True)
    stale = [f for f in os.listdir(out_dir) if f.endswith(".safetensors") and f != "model.safetensors"]
    if stale:
        raise ConversionError(f"{out_dir}: holds {', '.join(stale)}, which the engine would read as part of the model")
    if tokenizer:
        if not os.path.isfile(tokenizer):
            raise ConversionError(f"{tokenizer}: no such tokenizer file")
        shutil.copyfile(tokenizer, os.path.join(out_dir, "tokenizer.model"))
    sf.write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors,
                         dtype={"f32": "F32", "bf16": "BF16"}[dtype])
    sf.write_config(out_dir, cfg)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="microsoft/Samba training checkpoint (.pth)")
    parser.add_argument("--out", required=True, help="model folder to write")
    parser.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    parser.add_argument("--n-head", type=int, help="query heads (default: hparams, else head size 128)")
    parser.add_argument("--n-query-groups", type=int, help="KV heads (default: inferred from the QKV rows)")
    parser.add_argument("--window", type=int, help=f"sliding window W (default: hparams, else {DEFAULT_WINDOW})")
    parser.add_argument("--name", help="model name (default: hparams model_name, else the file name)")
    parser.add_argument("--train-length", type=int, default=0, help="training sequence length, for UI marks")
    parser.add_argument("--tokenizer", help="tokenizer.model to copy into the folder")
    parser.add_argument("--allow-unexpected", action="store_true", help="drop tensors SAMBA v1 does not have")
    parser.add_argument("--trust-pickle", action="store_true",
                        help="load with torch.load, unrestricted (trusted files only)")
    parser.add_argument("--force", action="store_true", help="write into a non-empty folder")
    args = parser.parse_args(argv)
    try:
        checkpoint = load_checkpoint(args.checkpoint, args.trust_pickle)
        state = model_state(checkpoint, args.checkpoint)
        hparams = checkpoint.get("hparams") if isinstance(checkpoint.get("hparams"), dict) else {}
        cfg = infer_config(state, hparams, args, args.checkpoint)
        check_tensors(state, cfg, args.checkpoint, args.allow_unexpected)
        write_folder(args.out, cfg, folder_tensors(state, cfg), args.dtype, args.tokenizer, args.force)
    except ConversionError as e:
        print(f"samba_pth_to_hf: error: {e}", file=sys.stderr)
        return 1
    params = sum(int(np.prod(s)) for s in sf.expected_shapes(cfg).values())
    print(f"wrote {args.out} ({args.dtype}): {cfg['name']}, {describe(cfg)}, {params:,} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
