"""Step 1 of the corpus: turn every source item into a plain-text record.

Writes one JSON object per line to <work>/raw.jsonl:
  {"id", "kind", "package", "path", "text"}            for documents and code
  {"id", "kind": "pkgdesc", "package", "short", "text"} for package descriptions
Man pages are rendered by man-db (`man -l`, no hyphenation, no justification)
so that tables and preprocessors are handled exactly as a reader sees them.
Usage: extract.py WORK_DIR
"""
import gzip
import json
import os
import re
import subprocess
import sys
from multiprocessing import Pool

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sources  # noqa: E402
from html_text import html_to_text  # noqa: E402

MAX_SOURCE_BYTES = 200_000  # larger files are generated tables, not prose or code
CODE_HEADER = "File: {path}\n"  # the same header the code Q&A prompts use


def _read(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read()


def _render_man(path):
    env = dict(os.environ, MANWIDTH="100", LANG="C.UTF-8", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    proc = subprocess.run(["man", "--nh", "--nj", "-l", path], capture_output=True, text=True,
                          errors="replace", env=env, timeout=60)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    lines = proc.stdout.rstrip("\n").split("\n")
    # Drop the running header and footer lines ("open(2)  System Calls Manual  open(2)").
    if len(lines) > 2:
        lines = lines[1:-1]
    # man indents body text by 7 columns; remove that common indent to save tokens.
    out = []
    for line in lines:
        lead = len(line) - len(line.lstrip(" "))
        out.append(line[min(lead, 7):].rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def _convert(item):
    kind, package, path = item
    try:
        if kind == "html":
            text = html_to_text(_read(path))
        elif kind == "man":
            text = _render_man(path)
        else:  # python, c-header: code kept verbatim, prefixed by its path
            if os.path.getsize(path) > MAX_SOURCE_BYTES:
                return None
            rel = os.path.relpath(path, sources.PYTHON_STDLIB) if kind == "python" \
                else os.path.relpath(path, "/usr/include")
            text = CODE_HEADER.format(path=rel) + _read(path)
    except (OSError, subprocess.TimeoutExpired, UnicodeError) as err:
        print(f"extract: skipped {path}: {err}", file=sys.stderr)
        return None
    if not text or len(text.strip()) < 200:
        return None
    return {"id": f"{kind}:{path}", "kind": kind, "package": package, "path": path, "text": text}


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    owners = sources.dpkg_owner_map()
    archive = sources.archive_packages()
    items = (sources.html_doc_items(owners) + sources.man_page_items(owners, archive)
             + sources.python_source_items(owners) + sources.c_header_items(owners))
    print(f"extract: {len(items)} files to convert", file=sys.stderr)
    counts = {}
    with open(os.path.join(work, "raw.jsonl"), "w", encoding="utf-8") as out, Pool(2) as pool:
        for record in pool.imap(_convert, items, chunksize=16):
            if record:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                counts[record["kind"]] = counts.get(record["kind"], 0) + 1
        for package, short, long_text in sources.package_descriptions(os.path.join(work, "translations")):
            record = {"id": f"pkgdesc:{package}", "kind": "pkgdesc", "package": package,
                      "short": short, "text": long_text}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            counts["pkgdesc"] = counts.get("pkgdesc", 0) + 1
    print("extract: records per kind: " + json.dumps(counts), file=sys.stderr)


if __name__ == "__main__":
    main()
