"""Held-out perplexity of model folders with our engine (samba-cli score), on the
same documents for every model, so runs trained at different row lengths (whose
end-of-run PyTorch evaluation used windows of their own training length) can be
compared. Each held-out document of the kinds below is scored from its start.

  /usr/bin/python3 tools/train/score_heldout.py --cli build/engine/samba-cli \\
      --shards tools/corpus/shards NAME=MODEL_DIR [NAME=MODEL_DIR ...]

Prints a Markdown table: documents, predicted tokens, mean surprisal (nats),
perplexity, and the time the scoring took.
"""
import argparse
import json
import lzma
import math
import os
import re
import subprocess
import sys
import tempfile
import time

KINDS = ("html", "man", "python", "c-header")
SUMMARY = re.compile(r"^(\d+) tokens; mean surprisal ([0-9.]+) nats")


def held_out_documents(shards):
    path = os.path.join(shards, "docs-val.jsonl.xz")
    with lzma.open(path, "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    return [d for d in docs if d.get("kind") in KINDS and d.get("text", "").strip()]


def score(cli, model, path):
    run = subprocess.run([cli, "score", "--model", model, "--backend", "cpu", path],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"score_heldout: samba-cli failed on {path}: {run.stderr.strip()}")
    # The summary line goes to stderr, after progress lines ended by carriage returns.
    for line in re.split(r"[\r\n]+", run.stderr + "\n" + run.stdout):
        m = SUMMARY.match(line)
        if m:
            return int(m.group(1)), float(m.group(2))
    raise SystemExit(f"score_heldout: no summary line from samba-cli for {path}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cli", required=True, help="samba-cli executable")
    p.add_argument("--shards", required=True, help="tools/corpus/shards (docs-val.jsonl.xz)")
    p.add_argument("models", nargs="+", help="NAME=MODEL_DIR")
    args = p.parse_args(argv)
    models = []
    for item in args.models:
        name, sep, folder = item.partition("=")
        if not sep or not os.path.isfile(os.path.join(folder, "config.json")):
            p.error(f"expected NAME=MODEL_DIR with a config.json, got {item!r}")
        models.append((name, folder))
    docs = held_out_documents(args.shards)
    if not docs:
        raise SystemExit("score_heldout: no held-out documents of kinds " + ", ".join(KINDS))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, d in enumerate(docs):
            path = os.path.join(tmp, f"doc{i:04d}.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write(d["text"])
            paths.append(path)
        for name, folder in models:
            t0 = time.time()
            tokens, nats = 0, 0.0
            for path in paths:
                n, mean = score(args.cli, folder, path)
                tokens += n
                nats += n * mean
            rows.append((name, tokens, nats / tokens, time.time() - t0))
            print(f"{name}: {tokens} tokens, mean {nats / tokens:.4f} nats", file=sys.stderr, flush=True)
    print(f"{len(docs)} held-out documents ({', '.join(KINDS)}), each scored from its start by "
          f"`samba-cli score --backend cpu`:\n")
    print("| model | predicted tokens | mean surprisal (nats) | perplexity | scoring time |")
    print("|---|---|---|---|---|")
    for name, tokens, mean, seconds in rows:
        print(f"| {name} | {tokens:,} | {mean:.4f} | {math.exp(mean):.2f} | {seconds:.0f} s |")


if __name__ == "__main__":
    main()
