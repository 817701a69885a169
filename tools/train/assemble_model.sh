#!/usr/bin/env bash
# Joins what a device run brought back into the app's model folder.
#   FETCHED   the run's model folder ($OUT/model as fetched: config.json,
#             model.safetensors.part-NN, train_state.json, metrics.json)
#   TOKENIZER the tokenizer the data was prepared with (tools/corpus/shards/tokenizer.model)
#   DEST      e.g. resources/models/samba-lens-default
# The run's train_state.json goes into DEST too (the next run resumes from DEST
# alone: trained seconds, tokens, steps and runs drive the learning-rate
# schedule); it and metrics.json are also kept in tools/train/runs/ (git-ignored).
set -euo pipefail
fetched=${1:?usage: assemble_model.sh FETCHED TOKENIZER DEST}
tokenizer=${2:?usage: assemble_model.sh FETCHED TOKENIZER DEST}
dest=${3:?usage: assemble_model.sh FETCHED TOKENIZER DEST}
here=$(cd "$(dirname "$0")" && pwd)
shopt -s nullglob
parts=("$fetched"/model.safetensors.part-*)
((${#parts[@]})) || { echo "assemble_model: no model.safetensors.part-* in $fetched" >&2; exit 1; }
mkdir -p "$dest" "$here/runs"
cat "${parts[@]}" > "$dest/model.safetensors"
cp "$fetched/config.json" "$dest/config.json"
cp "$fetched/train_state.json" "$dest/train_state.json"
chmod 644 "$dest/config.json" "$dest/model.safetensors" "$dest/train_state.json"   # fetched files arrive read-only
[[ "$tokenizer" -ef "$dest/tokenizer.model" ]] || cp "$tokenizer" "$dest/tokenizer.model"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$here/runs/$stamp"
cp "$fetched"/train_state.json "$fetched"/metrics.json "$here/runs/$stamp/" 2>/dev/null || true
# Check the joined file: every tensor readable, names and shapes as the config implies.
/usr/bin/python3 -c "
import sys; sys.path.insert(0, '$here')
from export import load_model_folder
from samba_model import Samba
cfg, weights = load_model_folder('$dest')
Samba(cfg).load_state_dict(weights)
print('assemble_model: %d tensors, %d parameters' % (len(weights), sum(w.numel() for w in weights.values())))
"
du -sh "$dest"
echo "assemble_model: $dest ready; run state in $here/runs/$stamp"
