#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds everything and runs the whole test suite (ctest), skipping
# tests labelled gpu when no GPU is present, then fuzzes the parsers for about a minute
# (scripts/fuzz.sh). This is the command CI runs (.ci/run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$@"
build=${ATTN_BUILD_DIR:-$root/build}
label_args=(-LE gpu)
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then label_args=(); fi
ctest --test-dir "$build" --output-on-failure -j "${ATTN_JOBS:-$(nproc)}" "${label_args[@]}"
# The parsers under libFuzzer with ASan and UBSan, 12 s per target (five targets: a minute).
ATTN_FUZZ_BUILD_DIR=${ATTN_FUZZ_BUILD_DIR:-$build-fuzz} "$root/scripts/fuzz.sh" "${ATTN_FUZZ_SECONDS:-12}"
