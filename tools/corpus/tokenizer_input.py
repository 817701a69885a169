"""Prints the training split's text, one line per line, as spm_train input.

Documents and the documents of mined tasks (with their summaries/answers), so
the pieces cover prose, man pages, code and the prompt words alike. Empty
lines are left out (spm_train learns nothing from them).
Usage: tokenizer_input.py SHARD_DIR > spm_input.txt
"""
import glob
import json
import lzma
import os
import sys


def main():
    shard_dir = sys.argv[1]
    paths = sorted(glob.glob(os.path.join(shard_dir, "docs-train-*.jsonl.xz")))
    paths.append(os.path.join(shard_dir, "tasks-train.jsonl.xz"))
    out = sys.stdout
    for path in paths:
        with lzma.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                text = record.get("text") or record["document"] + "\n" + \
                    (record.get("summary") or record.get("question", "") + "\n" + record.get("answer", ""))
                for row in text.split("\n"):
                    if row.strip():
                        out.write(row + "\n")


if __name__ == "__main__":
    main()
