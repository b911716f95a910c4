#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets of tests/fuzz with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer on the parsers too) and runs each for SECONDS (default 15) from a
# copy of its seed corpus. Fails on any crash, sanitizer report, uncaught exception, input
# that takes over 10 s, or over 2 GB of memory; the failing input is kept in build-fuzz/.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET ...]   (targets: safetensors tokenizer config results
# workspace)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-15}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors tokenizer config results workspace)
build=${ATTN_FUZZ_BUILD_DIR:-$root/build-fuzz}
clangxx=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$clangxx" ]; then
  echo "fuzz: clang++ not found (Debian: apt-get install clang); skipped" >&2
  exit 0
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTN_FUZZ=ON \
  -DCMAKE_CXX_COMPILER="$clangxx" -DATTN_SANITIZE=address,undefined,fuzzer-no-link \
  -DCMAKE_CXX_FLAGS="-fno-sanitize-recover=undefined" >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"
status=0
for t in "${targets[@]}"; do
  work="$build/run-$t"
  rm -rf "$work" && mkdir -p "$work/corpus"
  cp "$root/tests/fuzz/corpus/$t"/* "$work/corpus/"
  if (cd "$work" && "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 corpus >"$work/log" 2>&1); then
    echo "fuzz_$t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" |
                     grep -o '[0-9]*$') runs in ${seconds}s, no failure"
  else
    echo "fuzz_$t: FAILED (log and input in $work)"; tail -30 "$work/log"; status=1
  fi
done
exit $status
