#!/usr/bin/env bash
# The hybrid against the SWA-only baseline at the same budget (issue 5), on the GPU
# machine, from the repository root, with the token data carried as .device-carry/data:
#   bash tools/train/compare_swa.sh SECONDS [--match-params] [train_samba.py options for both runs]
# Trains both from scratch with identical options, data order, seed and SECONDS of
# training wall clock each, evaluates both with the same code on the same held-out
# tokens (perplexity) and the same passkey probe, and prints a Markdown table.
#   --match-params  widen the SWA-only model's SwiGLU so its parameter count matches
#                   the hybrid's (default: the same shape without Mamba, which has
#                   fewer parameters; the table shows both counts either way)
# Writes into $OUT only logs and metrics: hybrid.log, swa-only.log, hybrid/ and
# swa-only/ (metrics.json, train_state.json; no weights), comparison.md.
# Both runs plus start-up and evaluation must fit the machine's 10-minute limit:
# SECONDS up to ~240.
set -uo pipefail
usage="usage: compare_swa.sh SECONDS [--match-params] [train_samba.py options...]"
seconds=${1:-}
if [[ ! $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "compare_swa: SECONDS must be a positive whole number of seconds, got '${seconds}'" >&2
  echo "$usage" >&2
  exit 2
fi
shift
match=()
if [[ ${1:-} == --match-params ]]; then
  match=(--swa-match-params)
  shift
fi
out=${OUT:?compare_swa: OUT must name the output folder}
data=${DATA:-.device-carry/data}
if [[ ! -f $data/meta.json ]]; then
  echo "compare_swa: no token data at $data (expected meta.json from prepare_data.py; set DATA=...)" >&2
  exit 2
fi
if ((seconds > 240)); then
  echo "compare_swa: warning: 2 x ${seconds}s of training plus evaluation may pass a 10-minute limit" >&2
fi
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
mkdir -p "$out"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

# Identical for both runs: options after the fixed ones override them (argparse keeps the last).
common=(--data "$data" --run-seconds "$seconds" --total-seconds "$seconds" --seed "${SEED:-1}" --no-export "$@")
status=0
for variant in hybrid swa-only; do
  extra=()
  [[ $variant == swa-only ]] && extra=(--swa-only "${match[@]}")
  echo "=== $variant: ${seconds}s of training ===" | tee "$out/$variant.log"
  PYTHONUNBUFFERED=1 "$python" "$here/train_samba.py" "${common[@]}" "${extra[@]}" --out "$out/$variant" \
    2>&1 | tee -a "$out/$variant.log"
  run_status=${PIPESTATUS[0]}
  if ((run_status != 0)); then
    echo "compare_swa: the $variant run failed (exit $run_status); see $out/$variant.log" >&2
    status=1
  fi
done

"$python" "$here/compare_table.py" "hybrid=$out/hybrid/metrics.json" "SWA-only=$out/swa-only/metrics.json" \
  > "$out/comparison.md" || status=1
{
  echo
  echo "Same options for both: ${common[*]}${match:+ (SWA-only: ${match[*]})}"
  echo "Held-out: the validation tokens of $data, in windows of the training length; passkey probe:"
  echo "teacher-forced exact answer, depths 0-100%; 'beyond window' counts trials whose needle lay"
  echo "at least one attention window before the question."
} >> "$out/comparison.md"
cat "$out/comparison.md"
exit "$status"
