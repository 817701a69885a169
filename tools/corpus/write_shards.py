"""Step 4 of the corpus: write compressed shards and the source/licence table.

Output in SHARD_DIR (git-ignored, rebuilt by build_corpus.sh):
  docs-train-NN.jsonl.xz, docs-val.jsonl.xz    documents (pkgdesc records included)
  tasks-train.jsonl.xz, tasks-val.jsonl.xz     mined summary and code-question examples
  SOURCES.json                                 per package: kinds, documents, characters, licence
  STATS.json                                   totals, for docs/MODEL_CARD.md
Fails when the shards exceed the size limit (issue 5: <= 40 MiB compressed).
Usage: write_shards.py WORK_DIR SHARD_DIR
"""
import glob
import json
import lzma
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sources  # noqa: E402

SHARD_CHARS = 32_000_000   # characters of text per training shard
LIMIT_BYTES = 40 * 1024 * 1024


class _ShardWriter:
    def __init__(self, pattern):
        self.pattern, self.index, self.chars, self.file = pattern, 0, 0, None

    def write(self, record, chars):
        if self.file is None or ("{n" in self.pattern and self.chars >= SHARD_CHARS):
            self.close()
            self.file = lzma.open(self.pattern.format(n=self.index), "wt", encoding="utf-8", preset=9)
            self.index, self.chars = self.index + 1, 0
        self.file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.chars += chars

    def close(self):
        if self.file:
            self.file.close()
            self.file = None


def main():
    work, shard_dir = sys.argv[1], sys.argv[2]
    os.makedirs(shard_dir, exist_ok=True)
    for old in glob.glob(os.path.join(shard_dir, "*.jsonl.xz")):
        os.remove(old)
    writers = {
        ("docs", "train"): _ShardWriter(os.path.join(shard_dir, "docs-train-{n:02d}.jsonl.xz")),
        ("docs", "val"): _ShardWriter(os.path.join(shard_dir, "docs-val.jsonl.xz")),
        ("tasks", "train"): _ShardWriter(os.path.join(shard_dir, "tasks-train.jsonl.xz")),
        ("tasks", "val"): _ShardWriter(os.path.join(shard_dir, "tasks-val.jsonl.xz")),
    }
    per_package, stats = {}, {"docs": {}, "tasks": {}}
    with open(os.path.join(work, "docs.jsonl"), encoding="utf-8") as src:
        for line in src:
            doc = json.loads(line)
            writers[("docs", doc["split"])].write(doc, len(doc["text"]))
            # Package descriptions come from the archive index, not from the packages: one entry.
            owner = "(Debian archive: package descriptions)" if doc["kind"] == "pkgdesc" else doc["package"]
            entry = per_package.setdefault(owner, {"kinds": {}, "documents": 0, "characters": 0})
            entry["kinds"][doc["kind"]] = entry["kinds"].get(doc["kind"], 0) + 1
            entry["documents"] += 1
            entry["characters"] += len(doc["text"])
            key = f"{doc['kind']}/{doc['split']}"
            slot = stats["docs"].setdefault(key, {"documents": 0, "characters": 0})
            slot["documents"] += 1
            slot["characters"] += len(doc["text"])
    with open(os.path.join(work, "tasks.jsonl"), encoding="utf-8") as src:
        for line in src:
            task = json.loads(line)
            writers[("tasks", task["split"])].write(task, len(task["document"]))
            key = f"{task['source']}/{task['split']}"
            stats["tasks"][key] = stats["tasks"].get(key, 0) + 1
    for writer in writers.values():
        writer.close()
    # Licence per package, from the package's own copyright file.
    for package, entry in per_package.items():
        entry["licence"] = sources.licence_of(package) if not entry["kinds"].get("pkgdesc") \
            else "each description is part of its package's debian/control (see that package's copyright file)"
    with open(os.path.join(shard_dir, "SOURCES.json"), "w", encoding="utf-8") as f:
        json.dump(per_package, f, indent=1, sort_keys=True)
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(shard_dir, "*.jsonl.xz")))
    stats["compressed_bytes"] = total
    with open(os.path.join(shard_dir, "STATS.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, indent=1, sort_keys=True)
    print(f"write_shards: {total / 2**20:.1f} MiB compressed in {shard_dir}", file=sys.stderr)
    if total > LIMIT_BYTES:
        raise SystemExit(f"write_shards: shards are {total / 2**20:.1f} MiB, over the 40 MiB limit")


if __name__ == "__main__":
    main()
