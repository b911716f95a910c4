#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configures and builds AttnScope into build/ (or $ATTN_BUILD_DIR) with Ninja, in Release mode.
# Extra arguments are passed to CMake's configure step (e.g. -DATTN_BUILD_UI=OFF).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTN_BUILD_DIR:-$root/build}
jobs=${ATTN_JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" -j "$jobs"
