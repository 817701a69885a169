#!/usr/bin/env bash
# Copies what scripts/gpu-check.sh needs from an engine build folder into a
# small folder to carry to the GPU machine (the whole build folder, object
# files included, is too big to travel next to the checkout): the GPU test
# executables, samba-bench and ctest's files.
# It also writes DEST-xz/DEST.tar.xz: the stripped executables share most of
# their bytes (the engine and its kernels), so xz -9e takes the ~40 MiB to
# ~2.5 MiB, which leaves the device tool's 64 MiB tree limit room for data.
#
#   scripts/gpu-pack.sh build-cuda build-gpu-carry
#   (GPU machine, carrying build-gpu-carry-xz)
#     tar -xJf build-gpu-carry-xz/build-gpu-carry.tar.xz && scripts/gpu-check.sh "$OUT" build-gpu-carry
set -euo pipefail
build=${1:?usage: scripts/gpu-pack.sh BUILD_DIR DEST}
dest=${2:?usage: scripts/gpu-pack.sh BUILD_DIR DEST}
rm -rf "$dest"
mkdir -p "$dest"
(cd "$build" && find . \( -name CTestTestfile.cmake -o -name CMakeCache.txt -o -name DartConfiguration.tcl \
      -o -name 'test_*_gpu' -o -name samba-bench -o -name samba-cli \) -not -path '*/CMakeFiles/*' -print0 |
  xargs -0 -I{} cp --parents {} "$OLDPWD/$dest")
du -sh "$dest"
find "$dest" -type f -perm -u+x -exec strip {} +
rm -rf "$dest-xz"
mkdir -p "$dest-xz"
tar -cf - "$dest" | xz -T1 -9e > "$dest-xz/$(basename "$dest").tar.xz"
du -sh "$dest-xz"
