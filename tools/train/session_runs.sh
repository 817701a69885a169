#!/usr/bin/env bash
# Session-2 training call on the GPU machine (one H200), run from the
# repository root with .device-carry carried: token data in .device-carry/data,
# the previous run's train_state.json in .device-carry/state, and samba-cli
# (built on the build machine) in .device-carry/bin.
#  1. the bundled model resumes with the passkey curriculum (needles beyond the
#     512-token window) and the fused Triton scan (train_samba.py checks it
#     against the sequential definition first);
#  2. the exported model replaces the bundled one (on that machine), and our
#     engine sweeps the passkey grid 1K-256K x 11 depths x 5 trials on CUDA.
# Extra arguments go to train_samba.py after these (the last of a repeated option wins).
# Returns at most 8 files (the device tool's limit): the model in 15 MiB
# parts, its config/state/metrics, the training log and the sweep's CSV + log.
set -u
out=${OUT:?}
py=python3
model=resources/models/samba-lens-default
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
cp .device-carry/state/train_state.json "$model/"
PYTHONUNBUFFERED=1 $py tools/train/train_samba.py --data .device-carry/data --resume "$model" \
  --out /tmp/next --run-seconds "${RUN_SECONDS:-300}" --total-seconds "${TOTAL_SECONDS:-1000}" --lr 1e-3 \
  --seq-len 4096 --rows 16 --passkey-lengths 600,4096 --passkey-beyond 0.75 --passkeys-per-row 2 \
  --passkey-fraction 0.6 --answer-weight 5 --probe-lengths 1024,2048,4096 --probe-trials 3 \
  --scan auto --scan-config block_d=16,chunk=64,stages=3,warps=1 "$@" > "$out/train.log" 2>&1
echo "train exit $?"; tail -n 12 "$out/train.log"
[ -f /tmp/next/model.safetensors ] || exit 1
cp /tmp/next/train_state.json /tmp/next/metrics.json "$out/"
cp /tmp/next/model.safetensors "$model/model.safetensors"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
xz -dkf .device-carry/bin/samba-cli.xz && chmod +x .device-carry/bin/samba-cli
timeout 120 .device-carry/bin/samba-cli passkey --model "$model" --backend cuda \
  --lengths 1024,2048,4096,8192,16384,32768,65536,131072,262144 --depths 0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1 \
  --trials 5 --csv "$out/passkey.csv" > "$out/passkey.log" 2>&1
echo "passkey exit $?"; tail -n 25 "$out/passkey.log"
split -b 15M -d /tmp/next/model.safetensors "$out/model.safetensors.part-"
ls -la "$out"
