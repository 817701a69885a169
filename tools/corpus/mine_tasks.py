"""Step 3 of the corpus: mine task examples from the documents (issue 5).

Summary pairs (document -> one line):
  - a package's long description -> its one-line description
  - a man page's DESCRIPTION section -> its NAME line
  - a Python docstring's body -> its first line
Code questions over real source files (several files per prompt, each with a
"File: <path>" header, so the answer has to be found, not guessed):
  - "Where is X defined?" -> the path of the file that defines X
  - "What does X do?"     -> the first line of X's docstring
Every example inherits the split of the document it came from, so nothing
mined from a validation document is trained on.
Usage: mine_tasks.py WORK_DIR   (reads docs.jsonl, writes tasks.jsonl)
"""
import ast
import json
import os
import random
import re
import sys
import textwrap

MAX_DOCUMENT_CHARS = 6000     # ~2K tokens: the summary prompts stay short
MAX_CODE_PROMPT_CHARS = 12000  # ~4K tokens for a code question with its files
CODE_HEADER = "File: {path}\n"


def _clip(text, limit):
    """Cuts at a paragraph (or line) boundary below `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n\n", 0, limit)
    if cut < limit // 2:
        cut = text.rfind("\n", 0, limit)
    return text[:cut if cut > 0 else limit].rstrip()


def _man_sections(text):
    """Splits rendered man text into {HEADING: body}; headings start in column 0."""
    sections, name, body = {}, None, []
    for line in text.split("\n"):
        if line and not line[0].isspace() and re.fullmatch(r"[A-Z][A-Z0-9 ,/&()-]*", line.strip()):
            if name:
                sections.setdefault(name, "\n".join(body).strip())
            name, body = line.strip(), []
        else:
            body.append(line)
    if name:
        sections.setdefault(name, "\n".join(body).strip())
    return sections


def summary_from_pkgdesc(doc):
    if len(doc["text"]) < 120:
        return None
    return {"source": "pkgdesc", "document": _clip(doc["text"], MAX_DOCUMENT_CHARS), "summary": doc["short"]}


def summary_from_man(doc):
    sections = _man_sections(doc["text"])
    name = " ".join(sections.get("NAME", "").split())
    description = sections.get("DESCRIPTION", "")
    if not name or len(name) > 200 or len(description) < 200:
        return None
    body = textwrap.dedent(description)
    return {"source": "man", "document": _clip(body, MAX_DOCUMENT_CHARS), "summary": name}


def _definitions(source):
    """Top-level functions and classes (and methods of those classes) with docstrings."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append((node.name, node))
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and not sub.name.startswith("_"):
                        found.append((f"{node.name}.{sub.name}", sub))
    return found


def summaries_from_docstrings(doc):
    source = doc["text"].split("\n", 1)[1]  # drop the "File:" header
    out = []
    for _, node in _definitions(source):
        docstring = ast.get_docstring(node)
        if not docstring:
            continue
        first, _, body = docstring.partition("\n")
        body = body.strip()
        # The first line must be a whole sentence, not the start of a wrapped one.
        if len(first) < 15 or len(body) < 100 or not first.rstrip().endswith((".", ":")):
            continue
        out.append({"source": "docstring", "document": _clip(body, MAX_DOCUMENT_CHARS), "summary": first.strip()})
    return out


def _excerpt(text, line_number, limit):
    """Up to `limit` characters of `text` around 1-based `line_number`."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    start = max(0, line_number - 40)
    out, size = [], 0
    for line in lines[start:]:
        if size + len(line) + 1 > limit:
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def code_questions(target, others, rng):
    """Up to two questions about definitions in `target`, with distractor files."""
    rel = target["text"].split("\n", 1)[0][len("File: "):]
    source = target["text"].split("\n", 1)[1]
    defs = [(name, node) for name, node in _definitions(source) if "." not in name]
    rng.shuffle(defs)
    out = []
    for name, node in defs[:2]:
        files = [(rel, _excerpt(source, node.lineno, 6000))]
        budget = MAX_CODE_PROMPT_CHARS - len(files[0][1])
        for other in rng.sample(others, min(len(others), 3)):
            other_rel = other["text"].split("\n", 1)[0][len("File: "):]
            other_src = other["text"].split("\n", 1)[1]
            if other_rel == rel or re.search(rf"^\s*(def|class) {re.escape(name)}\b", other_src, re.M):
                continue  # the name must be defined in exactly one of the files shown
            piece = _excerpt(other_src, 1, min(3000, budget))
            if len(piece) < 300:
                continue
            files.append((other_rel, piece))
            budget -= len(piece)
        rng.shuffle(files)
        document = "\n\n".join(CODE_HEADER.format(path=p) + body.rstrip() for p, body in files)
        kind = "class" if isinstance(node, ast.ClassDef) else "function"
        out.append({"source": "code-where", "document": document,
                    "question": f"Where is the {kind} {name} defined?", "answer": rel})
        docstring = ast.get_docstring(node)
        if docstring and len(docstring.split("\n", 1)[0]) >= 15:
            out.append({"source": "code-what", "document": document,
                        "question": f"What does the {kind} {name} do?",
                        "answer": docstring.split("\n", 1)[0].strip()})
    return out


def main():
    work = sys.argv[1]
    rng = random.Random(1234)
    python_docs = {"train": [], "val": []}
    counts = {}
    with open(os.path.join(work, "docs.jsonl"), encoding="utf-8") as src, \
            open(os.path.join(work, "tasks.jsonl"), "w", encoding="utf-8") as dst:
        def emit(task, kind, split):
            task.update({"kind": kind, "split": split})
            dst.write(json.dumps(task, ensure_ascii=False) + "\n")
            counts[task["source"]] = counts.get(task["source"], 0) + 1

        for line in src:
            doc = json.loads(line)
            if doc["kind"] == "pkgdesc":
                task = summary_from_pkgdesc(doc)
                if task:
                    emit(task, "summary", doc["split"])
            elif doc["kind"] == "man":
                task = summary_from_man(doc)
                if task:
                    emit(task, "summary", doc["split"])
            elif doc["kind"] == "python":
                for task in summaries_from_docstrings(doc):
                    emit(task, "summary", doc["split"])
                python_docs[doc["split"]].append(doc)
        for split, docs in python_docs.items():
            for doc in docs:
                for task in code_questions(doc, docs, rng):
                    emit(task, "code_qa", split)
    print("mine_tasks: examples per source: " + json.dumps(counts), file=sys.stderr)


if __name__ == "__main__":
    main()
