#!/usr/bin/env bash
# Installs the dependencies, builds, and runs the main job on the bundled
# default model: streams a summary of the given documents (PDF, text,
# Markdown, source files or code folders) to stdout, with import and reading
# progress on stderr. This is the app's headless command line, so it works on
# a machine with no display; `build/bin/sambalens` alone opens the window.
#   scripts/run.sh [FILE...]          (default: this project's README.md)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SAMBALENS_BUILD:-$root/build}

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target sambalens

files=("$@")
((${#files[@]})) || files=("$root/README.md")
exec "$build/bin/sambalens" summarize "${files[@]}" --model "$root/resources/models/samba-lens-default"
