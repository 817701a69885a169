#!/usr/bin/env bash
# One training call on the GPU machine (one H200), run from the repository
# root with .device-carry carried: token data in .device-carry/data and
# samba-cli (built on the build machine) in .device-carry/bin. The run resumes
# the bundled model with its train_state.json (a newer one in
# .device-carry/state, if there is one, takes its place).
#  0. with COMPARE_STEPS=N: the hybrid and the SWA-only baseline from scratch,
#     N steps each (equal tokens, the same learning rate at every step:
#     --lr-schedule steps), through compare_swa.sh; COMPARE_ARGS adds options;
#  1. the bundled model resumes for RUN_SECONDS (passkey curriculum, fused
#     Triton scan checked against the sequential definition first);
#  2. the exported model replaces the bundled one (on that machine), and our
#     engine sweeps the passkey grid 1K-256K x 11 depths x 5 trials on CUDA,
#     then the stretch lengths 512K and 1M the same way (passkey-long.csv).
# RESUME_FROM=DIR resumes from a model an earlier call left on the warm machine.
# Extra arguments go to train_samba.py after these (the last of a repeated option wins).
# The device tool returns at most 8 files: the model in 15 MiB parts, its
# config/state/metrics, and two archives: run-logs.tar.xz (training log,
# passkey CSV and log) and compare.tar.xz (the comparison's logs, metrics, table).
set -u
out=${OUT:?}
py=python3
model=resources/models/samba-lens-default
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
if [[ -n "${COMPARE_STEPS:-}" ]]; then
  # shellcheck disable=SC2086  # COMPARE_ARGS is a list of options
  OUT=/tmp/compare bash tools/train/compare_swa.sh "${COMPARE_SECONDS:-200}" --max-steps "$COMPARE_STEPS" \
    --lr-schedule steps ${COMPARE_ARGS:-} > /tmp/compare.log 2>&1
  echo "compare exit $?"; cat /tmp/compare/comparison.md 2>/dev/null
  mv /tmp/compare.log /tmp/compare/
  tar -C /tmp -cJf "$out/compare.tar.xz" compare
fi
logs=/tmp/run-logs
mkdir -p "$logs"
[ -f .device-carry/state/train_state.json ] && cp .device-carry/state/train_state.json "$model/"
# RESUME_FROM=/tmp/next: a second call on the same warm machine goes on from the
# model the first call left there instead of the bundled one (its /tmp survives
# while the machine stays warm; the checkout is copied afresh on every call).
if [[ -n "${RESUME_FROM:-}" ]]; then
  if [[ ! -f "$RESUME_FROM/model.safetensors" || ! -f "$RESUME_FROM/train_state.json" ]]; then
    echo "RESUME_FROM=$RESUME_FROM holds no model.safetensors and train_state.json (machine not warm?)" >&2
    exit 1
  fi
  cp "$RESUME_FROM/model.safetensors" "$RESUME_FROM/train_state.json" "$model/"
  rm -rf /tmp/prev-run && mv "$RESUME_FROM" /tmp/prev-run  # /tmp/next is written afresh below
fi
PYTHONUNBUFFERED=1 $py tools/train/train_samba.py --data .device-carry/data --resume "$model" \
  --out /tmp/next --run-seconds "${RUN_SECONDS:-300}" --total-seconds "${TOTAL_SECONDS:-1000}" --lr 1e-3 \
  --seq-len 4096 --rows 16 --passkey-lengths 600,4096 --passkey-beyond 0.75 --passkeys-per-row 2 \
  --passkey-fraction 0.6 --answer-weight 5 --probe-lengths 1024,2048,4096 --probe-trials 3 \
  --scan auto --scan-config block_d=16,chunk=64,stages=3,warps=1 "$@" > "$logs/train.log" 2>&1
echo "train exit $?"; tail -n 12 "$logs/train.log"
if [ -f /tmp/next/model.safetensors ]; then
  cp /tmp/next/train_state.json /tmp/next/metrics.json /tmp/next/config.json "$out/"
  cp /tmp/next/model.safetensors "$model/model.safetensors"
  export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
  xz -dkf .device-carry/bin/samba-cli.xz && chmod +x .device-carry/bin/samba-cli
  timeout 120 .device-carry/bin/samba-cli passkey --model "$model" --backend cuda \
    --lengths 1024,2048,4096,8192,16384,32768,65536,131072,262144 --depths 0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1 \
    --trials 5 --csv "$logs/passkey.csv" > "$logs/passkey.log" 2>&1
  echo "passkey exit $?"; tail -n 25 "$logs/passkey.log"
  # The stretch lengths (512K, 1M) on their own, so a slow one cannot cost the grid above
  # (~45 M tokens read with prefix reuse: ~40 s at the last sweep's 1.3 M tokens/s).
  timeout 100 .device-carry/bin/samba-cli passkey --model "$model" --backend cuda \
    --lengths 524288,1048576 --depths 0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1 \
    --trials 5 --csv "$logs/passkey-long.csv" > "$logs/passkey-long.log" 2>&1
  echo "passkey (512K, 1M) exit $?"; tail -n 14 "$logs/passkey-long.log"
  split -b 15M -d /tmp/next/model.safetensors "$out/model.safetensors.part-"
fi
tar -C /tmp -cJf "$out/run-logs.tar.xz" run-logs
ls -la "$out"
