#!/usr/bin/env bash
# One training run on the GPU machine (run there from the repository root,
# through the device tool, with .device-carry carried):
#   .device-carry/data/     token files from prepare_data.py
#   .device-carry/resume/   optional: the model folder of the previous run
# Writes $OUT/train.log and $OUT/model/ (config.json, train_state.json,
# metrics.json, model.safetensors split into 15 MiB parts because files come
# back from that machine at 16 MiB at most; tools/train/assemble_model.sh
# joins them). Extra arguments go to train_samba.py.
set -uo pipefail
out=${OUT:?OUT must name the output folder}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
resume=()
[[ -f .device-carry/resume/config.json ]] && resume=(--resume .device-carry/resume)
PYTHONUNBUFFERED=1 "${PYTHON:-python3}" tools/train/train_samba.py --data .device-carry/data --out "$out/model" \
  "${resume[@]}" --run-seconds "${RUN_SECONDS:-380}" "$@" 2>&1 | tee "$out/train.log"
status=${PIPESTATUS[0]}
if [[ -f "$out/model/model.safetensors" ]]; then
  split -b 15M -d "$out/model/model.safetensors" "$out/model/model.safetensors.part-" \
    && rm "$out/model/model.safetensors"
fi
exit "$status"
