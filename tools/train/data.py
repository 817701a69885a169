"""Training batches for the default model (issue 5's mixture).

The training stream (prepare_data.py) is documents and mined task examples in
shuffled order, each followed by </s>, no BOS (model-spec: `doc </s> doc </s>`).
A row is a random window of that stream. A fraction of rows also carries
passkey examples (prompt + " K." + </s>, each after a </s>) at random offsets.
The curriculum (train_samba.py --passkey-lengths, --passkeys-per-row,
--passkey-beyond) sets the prompt lengths (log-uniform in MIN..MAX, by default
1K..8K; with several ranges, MIN,MAX+MIN2,MAX2, each example first picks one
of them at random, so one run trains short and long prompts), how many
examples a row carries, and which share of them puts the needle beyond the
attention window; otherwise the depth is uniform, so retrieval is trained at
every depth.
"""
import json
import lzma
import math
import os
from dataclasses import dataclass

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

    def passkey_layout(self, generator, seq_len, curriculum):
        """(prompt length, filler tokens before the needle, key) of one example that fits
        a row of `seq_len` tokens, drawn as `curriculum` says."""
        low, high = curriculum.min_length, curriculum.max_length
        if curriculum.more_ranges:  # one draw more only then, so one-range runs repeat exactly
            ranges = curriculum.ranges
            low, high = ranges[int(torch.randint(0, len(ranges), (1,), generator=generator).item())]
        top = min(high, seq_len - 16)
        low = min(low, top)
        length = int(math.exp(math.log(low) + torch.rand(1, generator=generator).item()
                              * (math.log(top) - math.log(low))))
        key = int(torch.randint(1, self.passkey.max_key + 1, (1,), generator=generator).item())
        n_filler = self.passkey.filler_length(length, key)
        far = torch.rand(1, generator=generator).item() < curriculum.beyond_fraction
        # Largest `before` with the needle at least `window` positions back.
        most = self.passkey.needle_distance(length, 0, key) - curriculum.window
        if far and most >= 0:
            before = int(torch.randint(0, min(most, n_filler) + 1, (1,), generator=generator).item())
        else:  # uniform depth (also when the prompt is too short to hide the needle)
            before = int(round(torch.rand(1, generator=generator).item() * n_filler))
        return length, before, key

    def passkey_example(self, generator, seq_len, curriculum):
        """(ids of one passkey example ending in </s>, number of answer ids incl. </s>)."""
        length, before, key = self.passkey_layout(generator, seq_len, curriculum)
        answer = self.passkey.answer(key) + [self.eos]
        return self.passkey.prompt_split(length, before, key) + answer, len(answer)

    def curriculum_summary(self, seq_len, curriculum, samples=4000, seed=12345):
        """What `curriculum` yields in rows of `seq_len`, measured on sampled layouts:
        prompt lengths and the share of examples whose needle is >= window tokens back."""
        gen = torch.Generator().manual_seed(seed)
        lengths, far = [], 0
        for _ in range(samples):
            length, before, key = self.passkey_layout(gen, seq_len, curriculum)
            lengths.append(length)
            far += self.passkey.needle_distance(length, before, key) >= curriculum.window
        lengths.sort()
        return {"min_length": lengths[0], "median_length": lengths[len(lengths) // 2],
                "max_length": lengths[-1], "beyond_window_share": far / samples,
                "window": curriculum.window}

    def batch(self, rows, seq_len, generator, passkey_fraction, answer_weight=1.0, curriculum=None):
        """(inputs, targets, loss weights): int64, int64, float32 [rows, seq_len], on the CPU.
        Targets that are a passkey answer (" K." and its </s>) weigh `answer_weight`,
        all others 1 — a way to make the rare retrieval targets count more."""
        curriculum = curriculum or PasskeyCurriculum()
        starts = torch.randint(0, self.train.numel() - seq_len - 1, (rows,), generator=generator)
        block = torch.stack([self.train[s:s + seq_len + 1] for s in starts.tolist()])
        weights = torch.ones(rows, seq_len + 1)
        for r in range(rows):
            if torch.rand(1, generator=generator).item() >= passkey_fraction:
                continue
            # Up to per_row examples, each preceded by </s>, as many as fit in the row.
            examples, footprint = [], 0
            for _ in range(curriculum.per_row):
                ids, answer_len = self.passkey_example(generator, seq_len, curriculum)
                if footprint + len(ids) + 1 > seq_len + 1:
                    break
                examples.append((torch.tensor(ids, dtype=torch.int64), answer_len))
                footprint += len(ids) + 1
            # The free positions go into the gaps before, between and after the examples.
            slack = seq_len + 1 - footprint
            cuts = torch.randint(0, slack + 1, (len(examples),), generator=generator).sort().values.tolist()
            cursor, used = 0, 0
            for (example, answer_len), cut in zip(examples, cuts):
                cursor += cut - used
                used = cut
                block[r, cursor] = self.eos  # the example starts a new document
                offset = cursor + 1
                end = offset + example.numel()
                block[r, offset:end] = example
                weights[r, end - answer_len:end] = answer_weight
                cursor = end
        return block[:, :-1].contiguous(), block[:, 1:].contiguous(), weights[:, 1:].contiguous()


@dataclass(frozen=True)
class PasskeyCurriculum:
    """How passkey examples are drawn (see the module docstring)."""
    min_length: int = 1024       # prompt tokens, log-uniform in [min_length, max_length]
    max_length: int = 8192       # (both capped so an example fits its row)
    more_ranges: tuple = ()      # further (min, max) ranges; each example picks one range at random
    per_row: int = 1             # examples per passkey-carrying row, as many as fit
    beyond_fraction: float = 0.0  # share of examples with the needle >= window positions back
    window: int = 512            # the model's attention window (for beyond_fraction)

    @property
    def ranges(self):
        return ((self.min_length, self.max_length),) + tuple(tuple(r) for r in self.more_ranges)

    def __post_init__(self):
        for low, high in self.ranges:
            if not 0 < low <= high:
                raise ValueError(f"passkey lengths: need 0 < MIN <= MAX, got {low},{high}")
        if self.per_row < 1:
            raise ValueError(f"passkeys per row must be >= 1, got {self.per_row}")
        if not 0.0 <= self.beyond_fraction <= 1.0:
            raise ValueError(f"passkey beyond-window share must be in [0, 1], got {self.beyond_fraction}")


def parse_length_range(text):
    """"MIN,MAX" -> (MIN, MAX), with a message naming the option on bad input."""
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"--passkey-lengths wants MIN,MAX in tokens (e.g. 600,4096), got {text!r}")
    low, high = (int(p) for p in parts)
    if not 0 < low <= high:
        raise ValueError(f"--passkey-lengths wants 0 < MIN <= MAX, got {text!r}")
    return low, high


def parse_length_ranges(text):
    """"MIN,MAX" or "MIN,MAX+MIN2,MAX2+..." -> ((MIN, MAX), ...)."""
    return tuple(parse_length_range(part) for part in text.split("+"))
