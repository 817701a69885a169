"""Reading and writing SAMBA model folders from Python (numpy only, no torch).

A model folder is `config.json` (the keys documented at the top of
engine/include/samba/config.h) plus `*.safetensors` files. Shared by the
reference (tools/reference), the .pth converter (tools/convert) and the
training code, so that every Python tool writes exactly the same layout.

safetensors format: 8-byte little-endian header length N, N bytes of JSON
{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
then the data region (offsets are relative to its start).
"""

import json
import math
import os
import struct
import tempfile

import numpy as np

# ---------------------------------------------------------------- bf16 / dtypes

SAFETENSORS_DTYPES = {"F32": 4, "BF16": 2, "F16": 2}


def f32_to_bf16_bits(values):
    """Rounds float32 values to bf16 (round to nearest, ties to even) and
    returns the uint16 bit patterns. NaN stays a (quiet) NaN."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounding = np.uint64(0x7FFF) + ((bits >> np.uint64(16)) & np.uint64(1))
    rounded = ((bits + rounding) >> np.uint64(16)).astype(np.uint16)
    nan = np.isnan(np.asarray(values, dtype=np.float32))
    if nan.any():
        rounded[nan] = ((bits[nan] >> np.uint64(16)).astype(np.uint16)) | np.uint16(0x0040)
    return rounded


def bf16_bits_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def round_to_bf16(values):
    """float32 values rounded to the nearest bf16, returned as float32."""
    return bf16_bits_to_f32(f32_to_bf16_bits(values))


# ---------------------------------------------------------------- safetensors


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """Writes {name: float array} as `dtype` ("F32" or "BF16"). Writes to a
    temporary file in the same folder and renames it, so a failure never
    leaves a half-written file under `path`."""
    if dtype not in ("F32", "BF16"):
        raise ValueError(f"write_safetensors: unsupported dtype {dtype!r} (F32 or BF16)")
    header = {"__metadata__": dict(metadata or {"format": "pt"})}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        array = np.asarray(tensors[name], dtype=np.float32)
        if dtype == "F32":
            blob = np.ascontiguousarray(array).astype("<f4").tobytes()
        else:
            blob = f32_to_bf16_bits(array).astype("<u2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # keep the data region 8-byte aligned
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(struct.pack("<Q", len(header_bytes)))
            out.write(header_bytes)
            for blob in blobs:
                out.write(blob)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_safetensors(path):
    """Returns {name: float32 numpy array} of every tensor in the file
    (F32, BF16 and F16 are converted to float32 exactly)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (header_len,) = struct.unpack("<Q", data[:8])
    if 8 + header_len > len(data):
        raise ValueError(f"{path}: header length {header_len} exceeds the file size {len(data)}")
    header = json.loads(data[8:8 + header_len].decode("utf-8"))
    region = data[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        if dtype not in SAFETENSORS_DTYPES:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        begin, end = info["data_offsets"]
        shape = tuple(int(s) for s in info["shape"])
        numel = int(np.prod(shape)) if shape else 1
        if end - begin != numel * SAFETENSORS_DTYPES[dtype] or end > len(region) or begin < 0:
            raise ValueError(f"{path}: tensor {name}: data_offsets {begin}..{end} do not fit "
                             f"shape {list(shape)} {dtype} in a data region of {len(region)} bytes")
        raw = region[begin:end]
        if dtype == "F32":
            array = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif dtype == "BF16":
            array = bf16_bits_to_f32(np.frombuffer(raw, dtype="<u2"))
        else:
            array = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        tensors[name] = array.reshape(shape)
    return tensors


def read_folder_tensors(folder):
    """Every tensor of every *.safetensors file in `folder`."""
    tensors = {}
    files = sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
    if not files:
        raise ValueError(f"{folder}: no *.safetensors file")
    for file in files:
        for name, array in read_safetensors(os.path.join(folder, file)).items():
            if name in tensors:
                raise ValueError(f"{folder}: tensor {name} is stored twice")
            tensors[name] = array
    return tensors


# ---------------------------------------------------------------- config.json


def full_config(cfg):
    """Fills in the defaults of config.h for a partial config dict."""
    c = dict(cfg)
    c.setdefault("model_type", "samba")
    c.setdefault("name", "samba")
    c.setdefault("n_query_groups", c["n_head"])
    c.setdefault("head_size", c["d_model"] // c["n_head"])
    c.setdefault("sliding_window", 2048)
    c.setdefault("rms_norm_eps", 1e-5)
    c.setdefault("tie_word_embeddings", True)
    c.setdefault("rope_theta", 10000.0)
    c.setdefault("mamba_d_state", 16)
    c.setdefault("mamba_d_conv", 4)
    c.setdefault("mamba_d_inner", 2 * c["d_model"])
    c.setdefault("mamba_dt_rank", math.ceil(c["d_model"] / 16))
    c.setdefault("bos_token_id", 1)
    c.setdefault("eos_token_id", 2)
    c.setdefault("train_length", 0)
    return c


CONFIG_KEY_ORDER = [
    "model_type", "name", "n_layer", "d_model", "n_head", "n_query_groups", "head_size",
    "intermediate_size", "sliding_window", "vocab_size", "rms_norm_eps", "tie_word_embeddings",
    "rope_theta", "mamba_d_state", "mamba_d_conv", "mamba_d_inner", "mamba_dt_rank",
    "bos_token_id", "eos_token_id", "train_length",
]


def write_config(folder, cfg):
    c = full_config(cfg)
    ordered = {key: c[key] for key in CONFIG_KEY_ORDER}
    path = os.path.join(folder, "config.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(ordered, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def read_config(folder):
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        return full_config(json.load(f))


# ---------------------------------------------------------------- tensor names


def layer_prefix(i):
    return f"transformer.h.{i}."


def expected_shapes(cfg, fused_qkv=False):
    """{name: shape} of our folder layout (weights.h); with fused_qkv the
    reference's attn.attn.weight replaces q/k/v."""
    c = full_config(cfg)
    d, V, I = c["d_model"], c["vocab_size"], c["intermediate_size"]
    H, G, hs = c["n_head"], c["n_query_groups"], c["head_size"]
    di, n, k, r = c["mamba_d_inner"], c["mamba_d_state"], c["mamba_d_conv"], c["mamba_dt_rank"]
    shapes = {"transformer.wte.weight": (V, d), "transformer.ln_f.weight": (d,)}
    for i in range(c["n_layer"]):
        p = layer_prefix(i)
        shapes[p + "norm_1.weight"] = (d,)
        shapes[p + "norm_2.weight"] = (d,)
        if i % 2 == 0:
            shapes.update({
                p + "attn.A_log": (di, n), p + "attn.D": (di,),
                p + "attn.in_proj.weight": (2 * di, d),
                p + "attn.conv1d.weight": (di, 1, k), p + "attn.conv1d.bias": (di,),
                p + "attn.x_proj.weight": (r + 2 * n, di),
                p + "attn.dt_proj.weight": (di, r), p + "attn.dt_proj.bias": (di,),
                p + "attn.out_proj.weight": (d, di),
            })
        else:
            if fused_qkv:
                shapes[p + "attn.attn.weight"] = ((H + 2 * G) * hs, d)
            else:
                shapes[p + "attn.q_proj.weight"] = (H * hs, d)
                shapes[p + "attn.k_proj.weight"] = (G * hs, d)
                shapes[p + "attn.v_proj.weight"] = (G * hs, d)
            shapes[p + "attn.proj.weight"] = (d, H * hs)
        shapes[p + "mlp.swiglu.w1.weight"] = (I, d)
        shapes[p + "mlp.swiglu.w2.weight"] = (I, d)
        shapes[p + "mlp.swiglu.w3.weight"] = (d, I)
    return shapes


# ---------------------------------------------------------------- fused QKV
# model-spec §1: the fused attn.attn.weight [(H+2G)*hs, d] is grouped: for
# each KV group g, the q rows of its H/G query heads, then k_g, then v_g.


def fuse_qkv(q, k, v, n_head, n_groups, head_size):
    if n_head % n_groups:
        raise ValueError(f"n_head {n_head} is not a multiple of n_query_groups {n_groups}")
    per_group = n_head // n_groups
    d = q.shape[1]
    qg = q.reshape(n_groups, per_group * head_size, d)
    kg = k.reshape(n_groups, head_size, d)
    vg = v.reshape(n_groups, head_size, d)
    return np.concatenate([qg, kg, vg], axis=1).reshape((n_head + 2 * n_groups) * head_size, d)


def split_qkv(fused, n_head, n_groups, head_size):
    if n_head % n_groups:
        raise ValueError(f"n_head {n_head} is not a multiple of n_query_groups {n_groups}")
    per_group = n_head // n_groups
    rows, d = fused.shape
    if rows != (n_head + 2 * n_groups) * head_size:
        raise ValueError(f"fused QKV has {rows} rows, expected (n_head + 2*n_query_groups)*head_size"
                         f" = ({n_head} + 2*{n_groups})*{head_size} = {(n_head + 2 * n_groups) * head_size}")
    grouped = fused.reshape(n_groups, (per_group + 2) * head_size, d)
    q = grouped[:, : per_group * head_size].reshape(n_head * head_size, d)
    k = grouped[:, per_group * head_size: (per_group + 1) * head_size].reshape(n_groups * head_size, d)
    v = grouped[:, (per_group + 1) * head_size:].reshape(n_groups * head_size, d)
    return np.ascontiguousarray(q), np.ascontiguousarray(k), np.ascontiguousarray(v)
