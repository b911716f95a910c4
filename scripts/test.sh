#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds everything and runs the whole test suite (ctest), skipping
# tests labelled gpu when no GPU is present, then fuzzes the parsers for about a minute
# (scripts/fuzz.sh) and runs the suite again under ASan and UBSan (scripts/sanitize.sh, about
# 10 minutes on 2 cores). This is the command CI runs (.ci/run).
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
# The suite built with AddressSanitizer and UndefinedBehaviorSanitizer (scripts/sanitize.sh).
ATTN_SANITIZE_BUILD_DIR=${ATTN_SANITIZE_BUILD_DIR:-$build-asan} "$root/scripts/sanitize.sh"
