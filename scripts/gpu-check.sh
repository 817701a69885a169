#!/usr/bin/env bash
# Runs on the GPU machine (docs: ../shared/docs/gpu-machine.md): the tests
# labelled `gpu`, samba-bench and the PyTorch baselines, writing every log and
# table into OUTDIR. The engine is built on the build machine (engine only,
# -DSAMBALENS_GUI=OFF) and the build folder travels with the checkout:
#
#   cmake -S . -B build-cuda -G Ninja -DSAMBALENS_GUI=OFF && ninja -C build-cuda
#   scripts/gpu-pack.sh build-cuda build-gpu-carry      (only what this script needs)
#   (GPU machine)  scripts/gpu-check.sh "$OUT" build-gpu-carry
#   or, through the device tool (8 files back at most):
#                  GPU_CHECK_PACK="$OUT" scripts/gpu-check.sh /tmp/gpu-check build-gpu-carry
#
# Finishes in about 9 minutes: each step has its own time limit, and the steps
# after the benchmark also stop at the 9-minute budget (budget()). Exit status:
# 0 when every GPU test passed, 1 otherwise (the benchmark still runs).
set -uo pipefail

out_dir=${1:?usage: scripts/gpu-check.sh OUTDIR [BUILD_DIR]}
build=${2:-build-cuda}
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 2
mkdir -p "$out_dir"
[ -d "$build" ] || { echo "no build folder $build: build it on the build machine and carry it" >&2; exit 2; }
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/local/cuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# cuBLAS 13 from the CUDA install, or else from PyTorch's wheels.
if [ ! -e /usr/local/cuda/lib64/libcublas.so.13 ] && [ ! -e /usr/local/cuda/lib/libcublas.so.13 ]; then
  cublas=$(find /usr/local /opt -name 'libcublas.so.13' 2>/dev/null | head -n 1)
  [ -n "$cublas" ] && export LD_LIBRARY_PATH=$(dirname "$cublas"):$LD_LIBRARY_PATH
fi
export PYTHONUNBUFFERED=1
start=$(date +%s)
elapsed() { echo $(( $(date +%s) - start )); }
# Seconds a step may take: its own limit, or what is left of the 9-minute
# budget if that is less; 1 when nothing is left (the step is stopped at
# once: `timeout 0` would mean no limit at all).
budget() {
  local left=$(( 540 - $(elapsed) ))
  [ "$left" -gt 15 ] || { echo 1; return; }
  echo $(( left < $1 ? left : $1 ))
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --verify -q HEAD || echo 'none yet') $(git status --porcelain 2>/dev/null | grep -q . && echo '(with uncommitted changes)')"
  echo "host: $(uname -srm)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
} > "$out_dir/environment.txt"
cat "$out_dir/environment.txt"

# ctest's files name the build machine's absolute paths; make the source
# path resolve here (a link at the same path).
source_dir=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
build_dir=$(sed -n 's/^SambaLens_BINARY_DIR:STATIC=//p' "$build/CMakeCache.txt")
if [ -n "$source_dir" ] && [ ! -e "$source_dir" ]; then
  mkdir -p "$(dirname "$source_dir")" && ln -s "$repo" "$source_dir"
fi
# The test commands must name this build folder's executables, not whatever
# may sit at the build machine's path here (a stale build folder on the GPU
# machine once ran old test binaries): rewrite the paths in ctest's files.
if [ -n "$build_dir" ] && [ "$build_dir" != "$repo/$build" ]; then
  find "$build" -name CTestTestfile.cmake -exec sed -i "s|$build_dir|$repo/$build|g" {} +
fi

status=0
echo "== gpu tests ($(elapsed) s)"
timeout 300 ctest --test-dir "$build" -L gpu -V --timeout 240 2>&1 | tee "$out_dir/gpu-tests.log"
test_status=${PIPESTATUS[0]}
[ "$test_status" -eq 0 ] || status=1
# A new kernel that fails its unit test has a validated alternative: name it
# and run the backend tests and the benchmark on that alternative instead.
if [ "$test_status" -ne 0 ]; then
  fallback=""
  if grep -qE 'FAILED  \] .*SelectiveScan' "$out_dir/gpu-tests.log"; then
    export SAMBA_CUDA_SCAN=blocked   # the prefill scan before the time-split one
    fallback+=" SAMBA_CUDA_SCAN=blocked"
  fi
  if grep -qE 'FAILED  \] .*PrefillAttention\.' "$out_dir/gpu-tests.log"; then
    export SAMBA_CUDA_ATTENTION=simple   # the prefill attention before the pipelined one
    fallback+=" SAMBA_CUDA_ATTENTION=simple"
  fi
  if grep -qE 'FAILED  \] (Shapes|Splits)/Gemv\.' "$out_dir/gpu-tests.log"; then  # the default GEMV's own cases
    export SAMBA_CUDA_DECODE_GEMV=cublas
    fallback+=" SAMBA_CUDA_DECODE_GEMV=cublas"
  fi
  if [ -n "$fallback" ]; then
    echo "== gpu tests again with the fallback:$fallback ($(elapsed) s)"
    timeout 200 ctest --test-dir "$build" -L gpu -V --timeout 180 2>&1 | tee "$out_dir/gpu-tests-fallback.log"
  fi
fi
if [ "$test_status" -ne 0 ] && command -v compute-sanitizer > /dev/null; then
  echo "== kernel tests under compute-sanitizer (a test failed) ($(elapsed) s)"
  timeout 120 compute-sanitizer --tool memcheck --print-limit 20 "$build/tests/engine/test_cuda_kernels_gpu" \
    2>&1 | tail -n 80 | tee "$out_dir/sanitizer.log"
fi

echo "== samba-bench ($(elapsed) s)"
timeout 240 "$build/engine/samba-bench" --backend cuda --models "${SAMBA_BENCH_MODELS:-421M,1.3B,1.7B}" \
  --profile-model 1.3B --max-prefill-seconds 25 --out "$out_dir/bench-gpu-table.md" 2>&1 | tee "$out_dir/bench.log"

# The baselines come right after the benchmark (on a card not measured before,
# the issue's speed-ups need them from the same run), before the studies below.
echo "== torch baselines ($(elapsed) s)"
if [ "${SAMBA_SKIP_BASELINES:-0}" = 1 ]; then
  echo "skipped: SAMBA_SKIP_BASELINES=1" | tee "$out_dir/torch-baselines.log"
else
  timeout "$(budget 180)" python3 tools/bench/torch_baselines.py --models "${SAMBA_BASELINE_MODELS:-1.3B,1.7B}" \
    --out "$out_dir/torch-baselines.md" 2>&1 | tee "$out_dir/torch-baselines.log"
fi

# Where the decode step loses its bandwidth: each projection's GEMV in a row
# of 18 launches (as decode runs it) against one launch of the same bytes.
echo "== GEMV study ($(elapsed) s)"
timeout "$(budget 60)" "$build/engine/samba-bench" --gemv-study --out "$out_dir/gemv-study.md" > "$out_dir/gemv-study.log" 2>&1
cat "$out_dir/gemv-study.md" 2>/dev/null || tail -n 5 "$out_dir/gemv-study.log"

# The opt-in kernels, in one run (they touch different steps): the fused
# decode steps (decode rows) and the lean prefill attention (prefill rows and
# the entropy cost).
echo "== opt-in kernels: SAMBA_CUDA_DECODE_FUSED=1 SAMBA_CUDA_ATTENTION=lean ($(elapsed) s)"
SAMBA_CUDA_DECODE_FUSED=1 SAMBA_CUDA_ATTENTION=lean timeout "$(budget 120)" "$build/engine/samba-bench" --backend cuda \
  --models "${SAMBA_BENCH_MODELS:-421M,1.3B,1.7B}" --contexts 4096,65536 --max-prefill-seconds 10 \
  --out "$out_dir/bench-fused-table.md" > "$out_dir/bench-fused.log" 2>&1
grep -hE '^\| Samba|entropy output costs' "$out_dir/bench-fused-table.md" | head -n 12
cat "$out_dir/bench-fused-table.md" >> "$out_dir/bench-fused.log" && rm -f "$out_dir/bench-fused-table.md"
# The persistent GEMV chain (opt-in), with the fused steps (the longest chains): decode rows.
echo "== opt-in: SAMBA_CUDA_DECODE_CHAIN=1 SAMBA_CUDA_DECODE_FUSED=1 ($(elapsed) s)"
SAMBA_CUDA_DECODE_CHAIN=1 SAMBA_CUDA_DECODE_FUSED=1 timeout "$(budget 90)" "$build/engine/samba-bench" --backend cuda \
  --models "${SAMBA_BENCH_MODELS:-421M,1.3B,1.7B}" --contexts 4096 --max-prefill-seconds 5 \
  --out "$out_dir/bench-chain-table.md" > "$out_dir/bench-chain.log" 2>&1
grep -hE '^\| Samba' "$out_dir/bench-chain-table.md" | head -n 6
cat "$out_dir/bench-chain-table.md" >> "$out_dir/bench-chain.log" && rm -f "$out_dir/bench-chain-table.md"

echo "== attention entropy of the bundled model: CUDA (exact, fast) against the CPU ($(elapsed) s)"
# One bucket per position, so every (layer, head, position) value is compared.
cli="$build/engine/samba-cli"
model=resources/models/samba-lens-default
if [ -x "$cli" ]; then
  cat README.md docs/*.md > "$out_dir/entropy-text.txt"
  {
    for run in "cuda exact" "cuda fast" "cpu exact"; do
      set -- $run
      echo "# samba-cli entropy --model $model entropy-text.txt --buckets 10000000 --backend $1 --precision $2"
      timeout "$(budget 60)" "$cli" entropy --model "$model" "$out_dir/entropy-text.txt" --buckets 10000000 --backend "$1" \
        --precision "$2" --csv "/tmp/entropy-$1-$2.csv" 2>&1 | tail -n 6
    done
    python3 tools/bench/compare_entropy_csv.py /tmp/entropy-cuda-exact.csv /tmp/entropy-cpu-exact.csv \
      --label-a "cuda exact" --label-b cpu
    python3 tools/bench/compare_entropy_csv.py /tmp/entropy-cuda-fast.csv /tmp/entropy-cpu-exact.csv \
      --label-a "cuda fast" --label-b cpu
  } 2>&1 | tee "$out_dir/entropy-cuda-vs-cpu.log"
  rm -f "$out_dir/entropy-text.txt"
else
  echo "skipped: no $cli in the build folder" | tee "$out_dir/entropy-cuda-vs-cpu.log"
fi

# Nsight Compute's per-kernel view of one 1.3B decode step, default and with
# the fused decode steps, when the time budget allows (each ~30-60 s).
if command -v ncu > /dev/null; then
  for variant in default fused; do
    [ "$(budget 90)" -gt 40 ] || break
    echo "== ncu: one 1.3B decode step, $variant ($(elapsed) s)"
    env $([ $variant = fused ] && echo SAMBA_CUDA_DECODE_FUSED=1) timeout "$(budget 90)" \
      ncu --profile-from-start off --clock-control none --cache-control none \
      --metrics gpu__time_duration.sum,dram__bytes_read.sum --csv \
      "$build/engine/samba-bench" --trace-decode 1.3B --decode-steps 2 > "/tmp/ncu-$variant.csv" 2> "/tmp/ncu-$variant.err"
    python3 tools/bench/ncu_kernel_table.py "/tmp/ncu-$variant.csv" --steps 2 > "$out_dir/ncu-decode-$variant.md" 2>&1 \
      || tail -n 5 "/tmp/ncu-$variant.err" >> "$out_dir/ncu-decode-$variant.md"
    head -n 30 "$out_dir/ncu-decode-$variant.md"
  done
fi
echo "== done in $(elapsed) s, gpu tests $([ $status -eq 0 ] && echo passed || echo FAILED)"
# The device tool brings back at most 8 files: GPU_CHECK_PACK=DIR packs every
# log and table of OUTDIR into DIR/gpu-check-logs.tar.xz.
if [ -n "${GPU_CHECK_PACK:-}" ]; then
  mkdir -p "$GPU_CHECK_PACK" && tar -C "$out_dir" -cJf "$GPU_CHECK_PACK/gpu-check-logs.tar.xz" . &&
    echo "packed $(ls "$out_dir" | wc -l) files into $GPU_CHECK_PACK/gpu-check-logs.tar.xz"
fi
exit $status
