#!/bin/bash
# Mutation check: each deliberate bug must make the parity tests fail.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Usage: tools/check/mutation_check.sh [WORK_DIR]. Copies the tree, applies one
# deliberate bug at a time to the CPU backend (conv tap order, interleaved RoPE,
# swapped SwiGLU w1/w2) and runs the parity tests, which must FAIL for each.
M=${1:-/tmp/samba-mutation-check}
rm -rf $M/src; mkdir -p $M/src
cd "$ROOT" && git ls-files -co --exclude-standard | grep -vE '^(build|app/|ui/|plugins/|resources/|tools/corpus|tools/train|tests/app)' | grep -v _gpu.cpp | tar cf - -T - | tar xf - -C $M/src
cd $M/src
sed -i 's/add_subdirectory(app)//' tests/CMakeLists.txt
cmake -S . -B b -G Ninja -DSAMBALENS_GUI=OFF -DSAMBALENS_CUDA=OFF >/dev/null || exit 1
apply() {
  case $1 in
    conv) sed -i 's/acc += wk\[k\] \* input(t - keep + k)/acc += wk[K - 1 - k] * input(t - keep + k)/' engine/src/cpu/cpu_mamba.cpp ;;
    rope) python3 - <<'PY'
p='engine/src/cpu/cpu_ops.cpp'; s=open(p).read()
s=s.replace("const float x1 = head[j];\n        const float x2 = head[j + half];\n        head[j] = x1 * c - x2 * s;\n        head[j + half] = x1 * s + x2 * c;",
"const float x1 = head[2 * j];\n        const float x2 = head[2 * j + 1];\n        head[2 * j] = x1 * c - x2 * s;\n        head[2 * j + 1] = x1 * s + x2 * c;")
open(p,'w').write(s)
PY
    ;;
    swiglu) sed -i 's/l.w1 = get(p + "mlp.swiglu.w1.weight");/l.w1 = get(p + "mlp.swiglu.w2.weight");/; s/l.w2 = get(p + "mlp.swiglu.w2.weight");/l.w2 = get(p + "mlp.swiglu.w1.weight");/' engine/src/cpu/cpu_weights.cpp ;;
  esac
}
for m in none conv rope swiglu; do
  cp $ROOT/engine/src/cpu/*.cpp engine/src/cpu/
  apply $m
  echo "== mutation: $m (changed lines: $(diff -r $ROOT/engine/src/cpu engine/src/cpu | grep -c '^[<>]'))"
  cmake --build b -j2 --target test_cpu_parity >/dev/null 2>&1 || { echo build failed; continue; }
  ./b/tests/engine/test_cpu_parity --gtest_filter='Configs/FullSequence.LogitsMatchReference/L4_d64_h4_kv2_i128_w16_v512_s1_f32_split:*Decode*' 2>&1 | grep -E "PASSED|FAILED TEST|tests ran|relative error" | head -5
done
