"""Model folder export/import in the engine's layout (engine/include/samba/config.h
and weights.h): config.json with our keys + model.safetensors.

Matrices and the embedding are stored as BF16 (the size budget: <= 48 MiB for
the folder). The small precision-sensitive tensors the spec keeps in fp32
(A_log, D, dt_proj.bias, the conv taps, the norm weights: under 1% of the
bytes) are stored as F32.
"""
import json
import os

import torch

from safetensors_io import read_safetensors, write_safetensors
from samba_model import SambaConfig

_FP32_SUFFIXES = ("A_log", ".D", "dt_proj.bias", "conv1d.weight", "conv1d.bias",
                  "norm_1.weight", "norm_2.weight", "ln_f.weight")


def config_json(cfg: SambaConfig, train_length):
    return {
        "model_type": "samba",
        "name": cfg.name,
        "n_layer": cfg.n_layer,
        "d_model": cfg.d_model,
        "n_head": cfg.n_head,
        "n_query_groups": cfg.n_query_groups,
        "head_size": cfg.head_size,
        "intermediate_size": cfg.intermediate_size,
        "sliding_window": cfg.sliding_window,
        "vocab_size": cfg.vocab_size,
        "rms_norm_eps": cfg.rms_norm_eps,
        "tie_word_embeddings": True,
        "rope_theta": cfg.rope_theta,
        "mamba_d_state": cfg.mamba_d_state,
        "mamba_d_conv": cfg.mamba_d_conv,
        "mamba_d_inner": cfg.d_inner,
        "mamba_dt_rank": cfg.dt_rank,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "train_length": train_length,
    }


def export_model(model, folder, train_length, metadata=None):
    cfg = model.config
    if cfg.swa_only:
        raise ValueError("export: an SWA-only baseline does not have the engine's layout")
    os.makedirs(folder, exist_ok=True)
    tensors = {}
    for name, p in model.state_dict().items():
        keep32 = name.endswith(_FP32_SUFFIXES)
        tensors[name] = p.detach().float() if keep32 else p.detach().to(torch.bfloat16)
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors, metadata)
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config_json(cfg, train_length), f, indent=2)
        f.write("\n")


def load_model_folder(folder):
    """(SambaConfig, fp32 state_dict) from an exported folder (for resuming)."""
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    cfg = SambaConfig(name=c["name"], n_layer=c["n_layer"], d_model=c["d_model"], n_head=c["n_head"],
                      n_query_groups=c["n_query_groups"], intermediate_size=c["intermediate_size"],
                      sliding_window=c["sliding_window"], vocab_size=c["vocab_size"],
                      rms_norm_eps=c["rms_norm_eps"], rope_theta=c["rope_theta"],
                      mamba_d_state=c["mamba_d_state"], mamba_d_conv=c["mamba_d_conv"])
    tensors, _ = read_safetensors(os.path.join(folder, "model.safetensors"))
    return cfg, {k: v.float() for k, v in tensors.items()}
