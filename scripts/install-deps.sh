#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the tools need.
# Idempotent; works as root or through sudo. Set SAMBALENS_NO_GUI=1 to skip
# the Qt/poppler packages (engine-only machines).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libopenblas-dev libsentencepiece-dev sentencepiece nlohmann-json3-dev
  libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev googletest
  python3 python3-torch python3-numpy   # the independent reference (tools/reference)
)
if [[ "${SAMBALENS_NO_GUI:-0}" != 1 ]]; then
  packages+=(
    qt6-base-dev qt6-base-dev-tools libqt6sql6-sqlite
    libpoppler-qt6-dev poppler-utils
    xvfb xauth   # offscreen / screenshot tests
    qpdf         # makes encrypted PDFs for the importer tests
  )
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
