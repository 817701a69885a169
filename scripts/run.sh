#!/usr/bin/env bash
# Installs the dependencies, builds, and runs the main job on the bundled
# default model: streams a summary of a document to stdout (progress on
# stderr). With no display this is the headless command line.
#   scripts/run.sh [FILE...]          (default: this project's README.md)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SAMBALENS_BUILD:-$root/build}

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target samba-cli

model=$root/resources/models/samba-lens-default
if [[ ! -f $model/config.json ]]; then
  # No trained default model in this checkout yet: make a small random-weight
  # model with the independent reference so the engine still runs end to end.
  model=$build/run-model
  if [[ ! -f $model/config.json ]]; then
    echo "run: no bundled model; making a random-weight demo model in $model" >&2
    tok=$build/run-tokenizer
    mkdir -p "$tok"
    spm_train --input=/usr/share/common-licenses/GPL-3 --model_prefix="$tok/spm" --vocab_size=512 \
      --model_type=bpe --byte_fallback=true --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 \
      --minloglevel=2 >/dev/null
    /usr/bin/python3 "$root/tools/reference/samba_reference.py" make-model --out "$model" \
      --layers 4 --d-model 128 --heads 4 --kv-heads 4 --intermediate 256 --window 64 --vocab 512 \
      --seed 7 --tokenizer "$tok/spm.model"
  fi
fi
files=("$@")
((${#files[@]})) || files=("$root/README.md")
prompt=$(cat "${files[@]}")
exec "$build/engine/samba-cli" generate --model "$model" --prompt "$prompt" --max-tokens 96 \
  --temperature 0.8 --top-p 0.95 --seed 1
