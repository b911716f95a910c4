#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test suite under AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer: builds
# the core, the window and the tests with GCC into build-asan/ (or $ATTN_SANITIZE_BUILD_DIR), CPU
# only, -O1 -g1 with asserts on and every UB report fatal, then runs `ctest -LE gpu` there. Fails
# on a failing test or on any sanitizer report. ASan and LSan reports go to files under
# build-asan/sanitizer-logs/, so a report from a program whose output a shell test hides still
# counts; UBSan writes to stderr only and exits 86, which no test expects. Only AttnScope's code is
# instrumented; tests/sanitizers/*.supp suppress reports from third-party libraries only, each
# with its reason.
# What runs: every GoogleTest binary (io, tokenizer, core, train; whole, one process each, see
# cmake/Dependencies.cmake), every QtTest binary (presentation models, widgets, figures, soak),
# the window's screenshot test, the Python safetensors interop test and cli_end_to_end (every
# command and its bad-input answers). Left out (ATTN_SANITIZE_ALL=1 runs them too):
#   train_kill_resume  crash safety under SIGKILL: a dozen training processes of 400 steps, about
#                      90 s here; the trainer, checkpoint and resume code it drives runs above in
#                      train_tests.
#   cli_figure         the figure command end to end: about 35 s of process start-ups around the
#                      figure code that figure_test, figure_builder_test and main_window_test run.
# Cost on a 2-core machine without ccache: about 6 min to build, 3.5 min to test (measured on a
# shared machine: a clean run of everything above took 6.2 min to build and 3.3 min to test).
# Usage: scripts/sanitize.sh   (env: ATTN_SANITIZE_BUILD_DIR, ATTN_SANITIZE_ALL, ATTN_JOBS)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTN_SANITIZE_BUILD_DIR:-$root/build-asan}
jobs=${ATTN_JOBS:-$(nproc)}
supp=$root/tests/sanitizers
logs=$build/sanitizer-logs
skip='train_kill_resume|cli_figure'
[ "${ATTN_SANITIZE_ALL:-0}" = 1 ] && skip='^$'   # matches no test
# The window tests wait three times longer for the core (tests/ui/test_wait.h).
export ATTN_TEST_SLOWDOWN=3
# Run alone, after the others: under ASan main_window_test's long-input case takes about 40 s
# with both cores.
alone='main_window_test'

# exitcode 86: a report must not pass for a CLI test's expected "exit 1" on bad input.
common="halt_on_error=1:exitcode=86:log_path=$logs/report:symbolize=1:print_suppressions=0"
export ASAN_OPTIONS="$common:detect_leaks=1:check_initialization_order=1:strict_init_order=1:\
suppressions=$supp/asan.supp"
export LSAN_OPTIONS="$common:suppressions=$supp/lsan.supp"
export UBSAN_OPTIONS="$common:print_stacktrace=1:suppressions=$supp/ubsan.supp"

mkdir -p "$build"
rm -rf "$logs" && mkdir -p "$logs"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=g++ -DATTN_ENABLE_CUDA=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DATTN_SANITIZE=address,undefined -DCMAKE_CXX_FLAGS="-fno-sanitize-recover=undefined" \
  >/dev/null
# Build exactly the programs that the selected tests run, so that a new test binary is picked up
# and benchmarks and gpu-only binaries are not compiled. ctest names a test's command only once its
# executable exists; until then the test is named after its target (gtest_discover_tests under
# ATTN_SANITIZE, see cmake/Dependencies.cmake, and attn_ui_test in tests/ui).
mapfile -t targets < <(ctest --test-dir "$build" -N -LE gpu -E "^($skip)\$" --show-only=json-v1 |
  python3 -c '
import json, os, sys
build = os.path.realpath(sys.argv[1])
for t in json.load(sys.stdin)["tests"]:
    if not t.get("command"):
        print(t["name"])
    for arg in t.get("command") or []:
        p = os.path.realpath(arg)
        if p.startswith(build + os.sep):
            print(os.path.relpath(p, build))' "$build" | sort -u)
[ ${#targets[@]} -gt 0 ] || { echo "sanitize: no tests selected" >&2; exit 1; }
ninja -C "$build" -j "$jobs" "${targets[@]}"

status=0
run_ctest() {  # run_ctest CTEST_ARGS...: the tests, then their output checked for UBSan reports
  ctest --test-dir "$build" --output-on-failure -j "$jobs" -LE gpu "$@" || status=1
  if grep -qE ': runtime error: |ERROR: (AddressSanitizer|LeakSanitizer)' \
       "$build/Testing/Temporary/LastTest.log"; then
    echo "sanitize: sanitizer reports in the output of ctest $*"; status=1
  fi
}
# Two tests at a time with one LibTorch thread each: two 2-thread OpenMP pools on 2 cores spin
# against each other and slow every test several times over under ASan.
OMP_NUM_THREADS=1 run_ctest -E "^($skip|$alone)\$"
run_ctest -R "^($alone)\$"
if compgen -G "$logs/report*" >/dev/null; then
  echo "sanitize: sanitizer reports (in $logs):"
  for f in "$logs"/report*; do echo "== $f"; head -80 "$f"; done
  status=1
fi
[ $status -eq 0 ] && echo "sanitize: all tests pass under ASan and UBSan, no reports"
exit $status
