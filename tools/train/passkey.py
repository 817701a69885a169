"""Passkey prompts in the exact format of shared/docs/passkey-and-entropy.md,
assembled from pre-tokenised parts (tools/train/prepare_data.py):

    There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz you about the important information there.
    <prefix filler>
    The pass key is {K}. Remember it. {K} is the pass key.
    <suffix filler>
    What is the pass key? The pass key is

Parts are joined by "\\n". The tokenizer (no dummy prefix, "\\n" only as the
byte piece <0x0A>) encodes such a string as the concatenation of its lines'
encodings joined by the newline piece, so assembling token lists here gives
the same ids as encoding the whole prompt. The filler is cut to length in
tokens; the needle's depth is the fraction of filler tokens before it.

The stored filler is one group of sentences repeated (prepare_data.py); its
ids repeat with the group's period from the second group on (the first lacks
the leading space). Prompts longer than the stored filler (training rows of
128K tokens) continue it by that period, which is what tokenising a longer
repetition gives.
"""
import json
import lzma


class PasskeyBuilder:
    def __init__(self, path):
        with lzma.open(path, "rt", encoding="utf-8") as f:
            parts = json.load(f)
        self.header = parts["header"]
        self.question = parts["question"]
        self.filler = parts["filler"]
        self.newline = parts["newline"]
        self.needles = parts["needle"]    # index K-1 -> ids of the needle line
        self.answers = parts["answer"]    # index K-1 -> ids of " K." after the question
        self.max_key = len(self.needles)
        self.period = self._period(self.filler)

    @staticmethod
    def _period(filler):
        """The smallest p with filler[i] == filler[i + p] for every i >= p (0: none)."""
        n = len(filler)
        for p in range(1, n // 3 + 1):
            if filler[p:n - p] == filler[2 * p:]:
                return p
        return 0

    def filler_ids(self, n):
        """The first n filler ids, the stored ones continued by their period."""
        if n > len(self.filler) and self.period:
            tail = self.filler[len(self.filler) - self.period:]   # one period, in phase with the end
            reps = (n - len(self.filler)) // self.period + 1
            self.filler = self.filler + tail * reps
        return self.filler[:n]

    def fixed_length(self, key):
        return len(self.header) + len(self.needles[key - 1]) + len(self.question) + 4

    def prompt(self, length, depth, key):
        """Token ids of a prompt of `length` tokens (up to and including
        "The pass key is") with the needle at `depth` in [0, 1] of the filler."""
        return self.prompt_split(length, int(round(depth * self.filler_length(length, key))), key)

    def filler_length(self, length, key):
        """Filler tokens in a `length`-token prompt for `key`."""
        n_filler = length - self.fixed_length(key)
        if n_filler < 0:
            raise ValueError(f"passkey: a {length}-token prompt is shorter than its fixed parts")
        if n_filler > len(self.filler) and not self.period:
            raise ValueError(f"passkey: {length} tokens needs more filler than the {len(self.filler)} stored")
        return n_filler

    def needle_distance(self, length, before, key):
        """Positions from the needle line's last token to the prompt's last token (the
        position that predicts the answer): the needle is outside a sliding window of W
        keys (W including the query) exactly when this is >= W."""
        return (self.filler_length(length, key) - before) + 2 + len(self.question)

    def prompt_split(self, length, before, key):
        """As prompt(), with exactly `before` filler tokens ahead of the needle."""
        n_filler = self.filler_length(length, key)
        if not 0 <= before <= n_filler:
            raise ValueError(f"passkey: {before} filler tokens before the needle, of {n_filler}")
        nl = [self.newline]
        return (self.header + nl + self.filler_ids(before) + nl + self.needles[key - 1] + nl
                + self.filler_ids(n_filler - before) + nl + self.question)

    def answer(self, key):
        return list(self.answers[key - 1])
