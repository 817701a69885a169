"""A minimal safetensors writer and reader (the format: 8-byte little-endian
header length, a JSON header {name: {dtype, shape, data_offsets}} padded with
spaces to a multiple of 8, then the raw little-endian tensor bytes).

Our own code so the training tools need no package beyond torch; the engine's
loader (engine/src/safetensors.cpp) is the other side of this contract.
"""
import json
import struct

import torch

_DTYPES = {torch.bfloat16: "BF16", torch.float32: "F32", torch.float16: "F16"}
_TORCH = {v: k for k, v in _DTYPES.items()}
_SIZES = {"BF16": 2, "F16": 2, "F32": 4}


def _tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # numpy has no bfloat16: move the raw 16-bit patterns
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: tensor of bf16/f32/f16}. Writes tensors in name order."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in _DTYPES:
            raise ValueError(f"safetensors: tensor {name} has unsupported dtype {t.dtype}")
        data = _tensor_bytes(t)
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((-len(raw)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for data in blobs:
            f.write(data)


def read_safetensors(path):
    """Returns {name: tensor} (dtype as stored) and the metadata dict."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short to be a safetensors file")
    (size,) = struct.unpack("<Q", blob[:8])
    if 8 + size > len(blob):
        raise ValueError(f"{path}: header length {size} runs past the end of the file")
    header = json.loads(blob[8:8 + size])
    metadata = header.pop("__metadata__", {})
    base = 8 + size
    out = {}
    for name, info in header.items():
        dtype = info["dtype"]
        if dtype not in _TORCH:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {dtype}")
        start, end = info["data_offsets"]
        count = 1
        for dim in info["shape"]:
            count *= dim
        if end - start != count * _SIZES[dtype] or base + end > len(blob):
            raise ValueError(f"{path}: tensor {name} has inconsistent offsets")
        raw = bytearray(blob[base + start:base + end])
        if dtype == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype=_TORCH[dtype])
        out[name] = t.reshape(info["shape"]) if count else torch.empty(info["shape"], dtype=_TORCH[dtype])
    return out, metadata
