#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The CUDA kernels alone, on a GPU machine: configure against the LibTorch inside the installed
# PyTorch (as scripts/gpu_check.sh), build only the kernel tests and the fused DAPE V2 benchmark,
# run the tests, then the benchmark (its JSON into $ATTN_OUT or the build folder). With
# ATTN_PROFILE=1 also a SASS instruction histogram of the bf16 / head_dim 64 / H 12 kernel and an
# Nsight Compute profile of one launch at N = 8192 (when cuobjdump and ncu are there).
# Usage: scripts/kernel_check.sh [BENCH ARGS...]   (env: ATTN_BUILD_DIR, ATTN_OUT, ATTN_PROFILE)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTN_BUILD_DIR:-/tmp/attn-kernel-build}
out=${ATTN_OUT:-$build}
mkdir -p "$out"
. "$root/scripts/gpu_configure.sh"
gpu_configure "$root" "$build" -DCMAKE_CUDA_ARCHITECTURES=90 >"$out/cmake.log"
cmake --build "$build" -j "$(nproc)" --target kernel_tests dape_fused_bench >"$out/build.log" 2>&1 ||
  { tail -60 "$out/build.log"; exit 1; }
timeout 600 "$build/tests/kernels/kernel_tests" --gtest_brief=1
"$build/tests/bench/dape_fused_bench" --json "$out/dape_fused_bench.json" "$@"
if [ "${ATTN_PROFILE:-0}" = 1 ]; then
  obj=$(find "$build" -name 'dape_v2_fused.cu.o' | head -1)
  if command -v cuobjdump >/dev/null && [ -n "$obj" ]; then
    cuobjdump -sass "$obj" |
      awk '/Function : /{f = ($0 ~ /dape_v2_fused_kernelI13__nv_bfloat16Li64ELi12/)} f' >"$out/kernel.sass"
    echo "SASS of the bf16 / 64 / 12 kernel: $(grep -cE '^\s+/\*[0-9a-f]{4,}\*/' "$out/kernel.sass") instructions"
    grep -E '^\s+/\*[0-9a-f]{4,}\*/' "$out/kernel.sass" |
      sed -E 's/^\s+\/\*[0-9a-f]+\*\/\s+//; s/^@!?U?P[0-9T]+ //' | awk '{print $1}' |
      sed 's/\..*//' | sort | uniq -c | sort -rn | head -25
  fi
  if command -v ncu >/dev/null; then
    ncu --kernel-name regex:dape_v2_fused_kernel --launch-skip 3 --launch-count 1 \
      --section SpeedOfLight --section SchedulerStats --section WarpStateStats \
      --section InstructionStats --section Occupancy --section MemoryWorkloadAnalysis_Tables \
      "$build/tests/bench/dape_fused_bench" --lengths 8192 --repeats 1 --eager-max 0 \
      --views none >"$out/ncu.txt" 2>&1 || true
    grep -E "Duration|Executed Ipc|Issue Slots|Eligible|Active Warps|Bank Conflicts|Instructions|No Eligible|Registers|Stall" "$out/ncu.txt" | head -40
    # Executed instructions per SASS line (CSV), to attribute them to the kernel's stages.
    ncu --kernel-name regex:dape_v2_fused_kernel --launch-skip 3 --launch-count 1 \
      --section SourceCounters --page source --print-source sass --csv \
      "$build/tests/bench/dape_fused_bench" --lengths 8192 --repeats 1 --eager-max 0 \
      --views none >"$out/ncu_source.csv" 2>&1 || true
  fi
fi
