#!/usr/bin/env bash
# Installs the dependencies, configures, builds and runs the whole test
# suite. GPU tests (label `gpu`) run where a CUDA device is present and are
# reported as skipped, with the reason, where there is none.
#   scripts/test.sh [BUILD_DIR]       (default: build)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
jobs=$(nproc)

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"
cd "$build"
# Tests build their reference models on first use; two at a time keeps the
# 2-core CI machine responsive while the reference (torch) runs.
# Two test programs share 2 cores: OpenMP threads that spin while waiting
# would steal each other's cores, so they sleep instead.
OMP_WAIT_POLICY=PASSIVE QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j 2 --timeout 1200
