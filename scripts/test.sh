#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds everything and runs the whole test suite (ctest), skipping
# tests labelled gpu when no GPU is present. This is the command CI runs (.ci/run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$@"
build=${ATTN_BUILD_DIR:-$root/build}
label_args=(-LE gpu)
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then label_args=(); fi
ctest --test-dir "$build" --output-on-failure -j "${ATTN_JOBS:-$(nproc)}" "${label_args[@]}"
