"""Compares per-position attention entropy written by two `samba-cli entropy --csv` runs
(one bucket per position, `--buckets` at least the token count): prints the mean and the
largest |a - b| over all (layer, head, position), and where the largest one is.

    python3 tools/bench/compare_entropy_csv.py A.csv B.csv [--label-a cuda] [--label-b cpu]
"""
import argparse
import csv
import sys


def read(path):
    values = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = (int(row["layer"]), int(row["head"]), int(row["position_from"]), int(row["position_to"]))
            values[key] = float(row["mean_nats"])
    return values


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--label-a", default="a")
    p.add_argument("--label-b", default="b")
    args = p.parse_args()
    a, b = read(args.a), read(args.b)
    if a.keys() != b.keys():
        sys.exit(f"compare_entropy_csv: the files cover different (layer, head, positions): "
                 f"{len(a)} vs {len(b)} rows, {len(a.keys() ^ b.keys())} differ")
    diffs = [(abs(a[k] - b[k]), k) for k in a]
    worst, where = max(diffs)
    mean = sum(d for d, _ in diffs) / len(diffs)
    wide = sum(1 for _, k in diffs if k[3] - k[2] != 1)
    print(f"{args.label_a} vs {args.label_b}: {len(diffs)} (layer, head, bucket) values"
          f"{'' if wide == 0 else f' ({wide} buckets span more than one position)'}; "
          f"mean |diff| {mean:.2e} nats, max {worst:.2e} at layer {where[0]} head {where[1]} "
          f"positions {where[2]}..{where[3] - 1} ({args.label_a} {a[where]:.6f}, {args.label_b} {b[where]:.6f})")


if __name__ == "__main__":
    main()
