"""Step 2 of the corpus: remove duplicates and hold out a validation split.

- Exact duplicates: documents whose whitespace-normalised text hashes alike
  (the same page shipped by two packages, -dev / -doc packages sharing one
  description) are kept once.
- Near duplicates at paragraph level (prose only: HTML pages, man pages):
  a paragraph whose normalised form (lower case, letters and digits only) was
  already seen is dropped (licence blurbs, "see also" boilerplate, the same
  option text in several pages). A page left with less than half its text is
  dropped whole. Code is never cut into paragraphs: a partial file is worse
  than a repeated one.
- Validation split: 2% of documents, chosen by a hash of the document id, so
  the split is stable across rebuilds and no document is on both sides.
Usage: dedup_split.py WORK_DIR   (reads raw.jsonl, writes docs.jsonl)
"""
import hashlib
import json
import os
import re
import sys

VAL_PERCENT = 2
MIN_PARAGRAPH_KEY = 30  # shorter paragraphs (headings, "EXAMPLES") may repeat freely
PROSE_KINDS = {"html", "man"}


def split_of(doc_id):
    bucket = int(hashlib.sha1(doc_id.encode()).hexdigest()[:8], 16) % 100
    return "val" if bucket < VAL_PERCENT else "train"


def _key(text):
    return hashlib.sha1(re.sub(r"\s+", " ", text).strip().encode()).digest()


def _paragraph_key(paragraph):
    return re.sub(r"[^a-z0-9]+", "", paragraph.lower())


def main():
    work = sys.argv[1]
    seen_docs, seen_paragraphs = set(), set()
    stats = {"in": 0, "exact_dup": 0, "near_dup_docs": 0, "paragraphs_dropped": 0, "out": 0}
    with open(os.path.join(work, "raw.jsonl"), encoding="utf-8") as src, \
            open(os.path.join(work, "docs.jsonl"), "w", encoding="utf-8") as dst:
        for line in src:
            doc = json.loads(line)
            stats["in"] += 1
            key = _key(doc["text"])
            if key in seen_docs:
                stats["exact_dup"] += 1
                continue
            seen_docs.add(key)
            if doc["kind"] in PROSE_KINDS:
                paragraphs = re.split(r"\n\s*\n", doc["text"])
                kept = []
                for paragraph in paragraphs:
                    pkey = _paragraph_key(paragraph)
                    if len(pkey) >= MIN_PARAGRAPH_KEY:
                        if pkey in seen_paragraphs:
                            stats["paragraphs_dropped"] += 1
                            continue
                        seen_paragraphs.add(pkey)
                    kept.append(paragraph)
                new_text = "\n\n".join(kept).strip() + "\n"
                if len(new_text) < max(200, len(doc["text"]) // 2):
                    stats["near_dup_docs"] += 1
                    continue
                doc["text"] = new_text
            doc["split"] = split_of(doc["id"])
            dst.write(json.dumps(doc, ensure_ascii=False) + "\n")
            stats["out"] += 1
    print("dedup_split: " + json.dumps(stats), file=sys.stderr)


if __name__ == "__main__":
    main()
