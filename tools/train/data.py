"""Training batches for the default model (issue 5's mixture).

The training stream (prepare_data.py) is documents and mined task examples in
shuffled order, each followed by </s>, no BOS (model-spec: `doc </s> doc </s>`).
A row is a random window of that stream. A fraction of rows also carries one
passkey example (prompt + " K." + </s>) of 1K..8K tokens at a random offset,
with its depth drawn uniformly, so retrieval is trained at every depth and
at distances well beyond the attention window.
"""
import json
import lzma
import math
import os

import torch

from passkey import PasskeyBuilder


def load_tokens(path):
    """A uint16 token file, optionally .xz-compressed, as an int64 tensor."""
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rb") as f:
        raw = bytearray(f.read())
    return torch.frombuffer(raw, dtype=torch.int16).to(torch.int64) & 0xFFFF


class TrainingData:
    def __init__(self, data_dir):
        with open(os.path.join(data_dir, "meta.json"), encoding="utf-8") as f:
            self.meta = json.load(f)
        self.eos = self.meta["eos_id"]
        self.train = load_tokens(os.path.join(data_dir, "train.u16.xz"))
        self.val = load_tokens(os.path.join(data_dir, "val.u16.xz"))
        self.passkey = PasskeyBuilder(os.path.join(data_dir, "passkey.json.xz"))
        with open(os.path.join(data_dir, "samples.json"), encoding="utf-8") as f:
            self.samples = json.load(f)

    def passkey_example(self, generator, max_length, min_length=1024, max_prompt=8192):
        """(ids of one passkey example ending in </s>, number of answer ids incl. </s>)."""
        top = min(max_prompt, max_length - 16)
        low = min(min_length, top)
        length = int(math.exp(math.log(low) + torch.rand(1, generator=generator).item()
                              * (math.log(top) - math.log(low))))
        depth = torch.rand(1, generator=generator).item()
        key = int(torch.randint(1, self.passkey.max_key + 1, (1,), generator=generator).item())
        answer = self.passkey.answer(key) + [self.eos]
        return self.passkey.prompt(length, depth, key) + answer, len(answer)

    def batch(self, rows, seq_len, generator, passkey_fraction, answer_weight=1.0):
        """(inputs, targets, loss weights): int64, int64, float32 [rows, seq_len], on the CPU.
        Targets that are a passkey answer (" K." and its </s>) weigh `answer_weight`,
        all others 1 — a way to make the rare retrieval targets count more."""
        starts = torch.randint(0, self.train.numel() - seq_len - 1, (rows,), generator=generator)
        block = torch.stack([self.train[s:s + seq_len + 1] for s in starts.tolist()])
        weights = torch.ones(rows, seq_len + 1)
        for r in range(rows):
            if torch.rand(1, generator=generator).item() >= passkey_fraction:
                continue
            ids, answer_len = self.passkey_example(generator, seq_len)
            example = torch.tensor(ids, dtype=torch.int64)
            offset = int(torch.randint(1, seq_len + 1 - example.numel() + 1, (1,), generator=generator).item())
            block[r, offset - 1] = self.eos  # the example starts a new document
            block[r, offset:offset + example.numel()] = example
            end = offset + example.numel()
            weights[r, end - answer_len:end] = answer_weight
        return block[:, :-1].contiguous(), block[:, 1:].contiguous(), weights[:, 1:].contiguous()
