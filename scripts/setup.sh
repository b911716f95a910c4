#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs AttnScope's build and test dependencies from Debian 12's packages. Idempotent and
# non-interactive: packages already present are left alone, and apt runs only when one is missing.
set -euo pipefail

packages=(
  cmake ninja-build g++ ccache python3
  qt6-base-dev qt6-svg-dev libqcustomplot-dev libqcustomplot2.1-qt6
  libtorch-dev nlohmann-json3-dev libgtest-dev zlib1g-dev
  libopenblas0-openmp   # without it LibTorch uses the reference BLAS, about 10x slower
  xvfb xauth poppler-utils   # headless window tests and figure checks
  clang libclang-rt-14-dev   # libFuzzer and sanitizers for scripts/fuzz.sh
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
