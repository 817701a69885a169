"""Prints the corpus's sources and licences (shards/SOURCES.json) as Markdown
tables for docs/MODEL_CARD.md: documentation and code packages one per row;
man pages for the packages with the most text, the rest summed up.
Usage: sources_table.py SHARD_DIR
"""
import json
import os
import sys

TOP_MAN_PACKAGES = 20


def main():
    with open(os.path.join(sys.argv[1], "SOURCES.json"), encoding="utf-8") as f:
        sources = json.load(f)
    print("| package | what | documents | characters | licence (from its copyright file) |")
    print("|---|---|---|---|---|")
    man_pages = {}
    for package in sorted(sources):
        entry = sources[package]
        kinds = entry["kinds"]
        if set(kinds) == {"man"}:
            man_pages[package] = entry
            continue
        what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        print(f"| {package} | {what} | {entry['documents']} | {entry['characters']:,} | {entry['licence']} |")
    ranked = sorted(man_pages.items(), key=lambda kv: -kv[1]["characters"])
    for package, entry in ranked[:TOP_MAN_PACKAGES]:
        print(f"| {package} | {entry['kinds']['man']} man | {entry['documents']} | {entry['characters']:,} "
              f"| {entry['licence']} |")
    rest = ranked[TOP_MAN_PACKAGES:]
    if rest:
        print(f"| {len(rest)} further packages | {sum(e['kinds']['man'] for _, e in rest)} man "
              f"| {sum(e['documents'] for _, e in rest)} | {sum(e['characters'] for _, e in rest):,} "
              f"| each its own (SOURCES.json names them) |")


if __name__ == "__main__":
    main()
