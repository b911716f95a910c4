#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One run on a GPU machine: configure against the LibTorch inside the installed PyTorch (CUDA),
# without the window (no Qt there), build, and run every test, GPU tests included.
# nlohmann/json and GoogleTest come from Debian packages or, where those are absent, from
# folders given by ATTN_JSON_INCLUDE_DIR and ATTN_GTEST_SOURCE_DIR (see scripts/pack_deps.sh).
# The CUDA kernels' tests (tests/kernels, label gpu) run with the rest; ATTN_DAPE_BENCH=1 also
# runs the fused DAPE V2 benchmark and writes its JSON to ATTN_DAPE_BENCH_JSON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTN_BUILD_DIR:-/tmp/attn-gpu-build}
. "$root/scripts/gpu_configure.sh"
gpu_configure "$root" "$build" "$@"
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j 4
if [ "${ATTN_DAPE_BENCH:-0}" = 1 ]; then
  "$build/tests/bench/dape_fused_bench" --json "${ATTN_DAPE_BENCH_JSON:-$build/dape_fused_bench.json}"
fi
