#!/usr/bin/env python3
"""Per-kernel table of a decode step from Nsight Compute's CSV.

On the GPU machine:
    ncu --profile-from-start off --clock-control none --cache-control none \
        --metrics gpu__time_duration.sum,dram__bytes_read.sum --csv \
        samba-bench --trace-decode 1.3B --decode-steps 2 > decode.csv
    python3 tools/bench/ncu_kernel_table.py decode.csv --steps 2

Each kernel runs alone under ncu (no overlap with its neighbours), so the
sum is an upper bound of the step, not its time in the CUDA graph. Kernels
are grouped by name (template arguments kept: they tell the GEMV's split and
batch apart); times in microseconds and bytes in MB are per decode step.
"""
import argparse
import collections
import csv
import sys

UNITS = {"ns": 1e-3, "us": 1.0, "usecond": 1.0, "nsecond": 1e-3, "msecond": 1e3, "ms": 1e3,
         "byte": 1e-6, "Kbyte": 1e-3, "Mbyte": 1.0, "Gbyte": 1e3, "KB": 1e-3, "MB": 1.0, "GB": 1e3}


def short_name(name):
    """Drop the namespace and the argument list, keep the template arguments."""
    name = name.replace("(anonymous namespace)::", "").replace("samba::cuda::", "")
    if name.startswith("void "):
        name = name[5:]
    return name.split("(")[0]


def read(path):
    rows = collections.defaultdict(dict)  # kernel id -> {metric: value}
    names = {}
    with open(path, newline="") as f:
        # ncu prints its own lines ("==PROF==") before the CSV header.
        lines = [line for line in f if line.startswith('"')]
    for row in csv.DictReader(lines):
        kid = row["ID"]
        names[kid] = short_name(row["Kernel Name"])
        value = float(row["Metric Value"].replace(",", ""))
        rows[kid][row["Metric Name"]] = value * UNITS.get(row["Metric Unit"], 1.0)
    return names, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("--steps", type=int, default=1, help="decode steps the trace holds")
    args = ap.parse_args()
    names, rows = read(args.csv)
    groups = collections.OrderedDict()
    for kid, metrics in rows.items():
        g = groups.setdefault(names[kid], [0, 0.0, 0.0])
        g[0] += 1
        g[1] += metrics.get("gpu__time_duration.sum", 0.0)
        g[2] += metrics.get("dram__bytes_read.sum", 0.0)
    total_us = sum(g[1] for g in groups.values()) / args.steps
    total_mb = sum(g[2] for g in groups.values()) / args.steps
    print(f"| kernel | launches | us | MB read | TB/s |\n|---|---|---|---|---|")
    for name, (n, us, mb) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        us, mb = us / args.steps, mb / args.steps
        rate = f"{mb / us:.2f}" if us > 0 and mb > 1 else "-"
        print(f"| `{name}` | {n / args.steps:g} | {us:.1f} | {mb:.1f} | {rate} |")
    print(f"| all | {sum(g[0] for g in groups.values()) / args.steps:g} | {total_us:.1f} | {total_mb:.1f} | "
          f"{total_mb / total_us:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
