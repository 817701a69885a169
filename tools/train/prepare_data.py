"""Tokenises the corpus shards into the token files the trainer reads.

Runs here (Debian, /usr/bin/python3 stdlib + Debian's spm_encode), so the GPU
machine needs no tokenizer: its folder is carried there (.device-carry/data).

  train.u16.xz     training stream: documents and task examples, shuffled,
                   each followed by </s> (no BOS), uint16 little-endian
  val.u16.xz       held-out documents (2% split by document), same layout
  passkey.json.xz  token parts of the passkey prompt (passkey.py)
  samples.json     a few held-out task prompts for sample outputs
  meta.json        vocabulary size, special ids, counts, bytes per token

Task examples use the prompt templates in resources/prompts/ (summarize.txt,
ask.txt) — the same text the app sends — followed by " answer</s>".
spm_encode encodes line by line; a document is its lines' ids joined by the
newline byte piece, which equals encoding the whole document with this
tokenizer (no dummy prefix; "\\n" is not inside any piece).
Usage: prepare_data.py SHARD_DIR TOKENIZER PROMPT_DIR OUT_DIR
"""
import array
import glob
import json
import lzma
import os
import random
import subprocess
import sys
import tempfile

FILLER_GROUP = ("The grass is green. The sky is blue. The sun is yellow. "
                "Here we go. There and back again.")
HEADER = ("There is an important info hidden inside a lot of irrelevant text. "
          "Find it and memorize them. I will quiz you about the important information there.")
QUESTION = "What is the pass key? The pass key is"
NEEDLE = "The pass key is {k}. Remember it. {k} is the pass key."
MAX_KEY = 50000
FILLER_GROUPS = 2400  # enough filler for a 40K-token prompt (probes beyond training length)


def read_jsonl_xz(paths):
    for path in paths:
        with lzma.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def format_task(task, templates):
    if task["kind"] == "summary":
        return templates["summarize"].replace("{document}", task["document"]), " " + task["summary"]
    prompt = templates["ask"].replace("{document}", task["document"]).replace("{question}", task["question"])
    return prompt, " " + task["answer"]


def encode_texts(texts, model, newline_id):
    """Token ids (lists) of each text, via spm_encode, joined across lines by the newline piece."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "lines.txt")
        counts = []
        with open(src, "w", encoding="utf-8", newline="\n") as f:
            for text in texts:
                lines = text.split("\n")
                counts.append(len(lines))
                for line in lines:
                    f.write(line.replace("\r", " ") + "\n")
        out = subprocess.run(["spm_encode", f"--model={model}", "--output_format=id", f"--input={src}"],
                             check=True, capture_output=True, text=True).stdout.split("\n")
    if out and out[-1] == "":
        out.pop()
    if len(out) != sum(counts):
        raise SystemExit(f"prepare_data: spm_encode returned {len(out)} lines for {sum(counts)}")
    result, pos = [], 0
    for n in counts:
        ids = []
        for i in range(n):
            if i:
                ids.append(newline_id)
            line = out[pos + i]
            if line:
                ids.extend(int(v) for v in line.split(" "))
        pos += n
        result.append(ids)
    return result


def write_stream(path, docs, eos):
    buf = array.array("H")
    for ids in docs:
        buf.extend(ids)
        buf.append(eos)
    if sys.byteorder != "little":
        buf.byteswap()
    with lzma.open(path, "wb", preset=6) as f:
        f.write(buf.tobytes())
    return len(buf)


def vocabulary(model):
    """The model's pieces in id order (spm_export_vocab, so no .vocab file is needed)."""
    out = subprocess.run(["spm_export_vocab", f"--model={model}"], check=True, capture_output=True,
                         text=True).stdout
    return [line.split("\t")[0] for line in out.split("\n") if line]


def main():
    shard_dir, model, prompt_dir, out_dir = sys.argv[1:5]
    os.makedirs(out_dir, exist_ok=True)
    pieces = vocabulary(model)
    newline = pieces.index("<0x0A>")
    eos = pieces.index("</s>")
    if (pieces[0], pieces[1], eos) != ("<unk>", "<s>", 2):
        raise SystemExit(f"prepare_data: {model} does not have unk 0 / bos 1 / eos 2")
    templates = {}
    for name in ("summarize", "ask"):
        with open(os.path.join(prompt_dir, f"{name}.txt"), encoding="utf-8") as f:
            templates[name] = f.read().rstrip("\n")

    rng = random.Random(5)
    train_texts = [d["text"] for d in read_jsonl_xz(sorted(glob.glob(os.path.join(shard_dir, "docs-train-*.jsonl.xz"))))
                   if d["kind"] != "pkgdesc"]  # descriptions enter as summary pairs only
    tasks = list(read_jsonl_xz([os.path.join(shard_dir, "tasks-train.jsonl.xz")]))
    train_texts += ["".join(format_task(t, templates)) for t in tasks]
    rng.shuffle(train_texts)
    val_texts = [d["text"] for d in read_jsonl_xz([os.path.join(shard_dir, "docs-val.jsonl.xz")])
                 if d["kind"] != "pkgdesc"]

    # Held-out task prompts for sample outputs: a few of each kind, short documents.
    val_tasks = [t for t in read_jsonl_xz([os.path.join(shard_dir, "tasks-val.jsonl.xz")]) if len(t["document"]) < 2500]
    rng.shuffle(val_tasks)
    picked, per_source = [], {}
    for t in val_tasks:
        if per_source.get(t["source"], 0) < 2:
            per_source[t["source"]] = per_source.get(t["source"], 0) + 1
            picked.append(t)

    print(f"prepare_data: encoding {len(train_texts)} training texts, {len(val_texts)} held-out", file=sys.stderr)
    train_ids = encode_texts(train_texts, model, newline)
    val_ids = encode_texts(val_texts, model, newline)
    n_train = write_stream(os.path.join(out_dir, "train.u16.xz"), train_ids, eos)
    n_val = write_stream(os.path.join(out_dir, "val.u16.xz"), val_ids, eos)
    val_bytes = sum(len(t.encode("utf-8")) + 1 for t in val_texts)  # +1: the </s> stands for a separator

    # Passkey parts; the answer is what follows the question in a joint encoding.
    filler = " ".join([FILLER_GROUP] * FILLER_GROUPS)
    fixed = [HEADER, QUESTION, filler]
    needles = [NEEDLE.format(k=k) for k in range(1, MAX_KEY + 1)]
    qa = [f"{QUESTION} {k}." for k in range(1, MAX_KEY + 1)]
    enc = encode_texts(fixed + needles + qa, model, newline)
    header_ids, question_ids, filler_ids = enc[0], enc[1], enc[2]
    answers = []
    for k, ids in zip(range(1, MAX_KEY + 1), enc[3 + MAX_KEY:]):
        if ids[:len(question_ids)] != question_ids:
            raise SystemExit(f"prepare_data: the question's tokens change when followed by {k}")
        answers.append(ids[len(question_ids):])
    with lzma.open(os.path.join(out_dir, "passkey.json.xz"), "wt", encoding="utf-8") as f:
        json.dump({"header": header_ids, "question": question_ids, "filler": filler_ids, "newline": newline,
                   "needle": enc[3:3 + MAX_KEY], "answer": answers}, f)

    prompts = encode_texts([format_task(t, templates)[0] for t in picked], model, newline)
    with open(os.path.join(out_dir, "samples.json"), "w", encoding="utf-8") as f:
        json.dump([{"source": t["source"], "prompt": format_task(t, templates)[0],
                    "reference": format_task(t, templates)[1].strip(), "prompt_ids": ids}
                   for t, ids in zip(picked, prompts)], f, indent=1)

    meta = {"vocab_size": len(pieces), "eos_id": eos, "newline_id": newline,
            "train_tokens": n_train, "val_tokens": n_val, "train_texts": len(train_texts),
            "val_texts": len(val_texts), "task_examples": len(tasks),
            "val_bytes_per_token": val_bytes / n_val}
    with open(os.path.join(out_dir, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    print("prepare_data: " + json.dumps(meta), file=sys.stderr)


if __name__ == "__main__":
    main()
