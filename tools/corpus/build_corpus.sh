#!/usr/bin/env bash
# Builds the training corpus of the default model (issue 5) from Debian
# packages of free documentation and source, then its tokenizer.
#
#   1. installs (idempotent) the documentation packages read below and fetches
#      apt's English package-description index;
#   2. extract.py       HTML pages -> text, man pages -> text (man -l), the Python
#                       standard library and the C library headers as code,
#                       package long/short descriptions;
#   3. dedup_split.py   exact + paragraph-level near-duplicate removal,
#                       2% of documents held out for validation;
#   4. mine_tasks.py    summary pairs and code questions (issue 5's mixture);
#   5. write_shards.py  xz-compressed JSONL shards (<= 40 MiB) + SOURCES.json
#                       (package -> licence) + STATS.json;
#   6. train_tokenizer.sh  SentencePiece model (spm_train) -> shards/tokenizer.model
#
# Output: tools/corpus/shards/ (git-ignored). Took 18 minutes on 2 busy shared cores.
# Usage: tools/corpus/build_corpus.sh [--no-install]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards="$here/shards"
work="$shards/.work"
py=/usr/bin/python3

# Documentation packages (Debian main). The man pages of every package already
# installed are read too; sentencepiece provides spm_train / spm_encode.
doc_packages=(python3.11-doc cmake-doc git-doc sqlite3-doc bash-doc glibc-doc
              manpages manpages-dev man-db groff-base sentencepiece)

sudo_cmd=()
[[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
translations=(/var/lib/apt/lists/*_main_i18n_Translation-en*)
if [[ "${1:-}" != --no-install || ! -e "${translations[0]}" ]]; then
  # Fetching the English description index also refreshes the package lists.
  "${sudo_cmd[@]}" apt-get -q -c "$here/apt-languages.conf" update
fi
if [[ "${1:-}" != --no-install ]]; then
  missing=()
  for p in "${doc_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "build_corpus: installing ${missing[*]}"
    "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# Copy the description index at once: any later plain `apt-get update` on this
# machine (Acquire::Languages "none") deletes it from apt's lists.
mkdir -p "$work"
rm -rf "$work/translations" && mkdir -p "$work/translations"
i=0
for f in /var/lib/apt/lists/*_main_i18n_Translation-en*; do
  /usr/lib/apt/apt-helper cat-file "$f" > "$work/translations/Translation-en-$i.txt"
  i=$((i + 1))
done
((i)) || { echo "build_corpus: apt fetched no Translation-en index" >&2; exit 1; }
echo "build_corpus: extracting text"
$py "$here/extract.py" "$work"
echo "build_corpus: removing duplicates, holding out validation documents"
$py "$here/dedup_split.py" "$work"
echo "build_corpus: mining summary pairs and code questions"
$py "$here/mine_tasks.py" "$work"
echo "build_corpus: writing shards"
$py "$here/write_shards.py" "$work" "$shards"
echo "build_corpus: training the tokenizer"
"$here/train_tokenizer.sh" "$shards"
rm -f "$work/raw.jsonl" "$work/docs.jsonl" "$work/tasks.jsonl" "$work/spm_input.txt"
echo "build_corpus: done: $(du -sh "$shards" | cut -f1) in $shards"
