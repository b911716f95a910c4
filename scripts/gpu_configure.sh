# SPDX-License-Identifier: MIT
# Sourced by scripts/gpu_check.sh and scripts/kernel_check.sh: gpu_configure ROOT BUILD [ARGS...]
# configures ROOT into BUILD (Ninja, Release, no window) against the LibTorch inside the
# installed PyTorch, with nlohmann/json and GoogleTest from Debian packages or, where those are
# absent, from the folders under $ATTN_DEPS_DIR (default ROOT/.deps, see scripts/pack_deps.sh).
gpu_configure() {
  local root=$1 build=$2
  shift 2
  local prefix deps=${ATTN_DEPS_DIR:-$root/.deps}
  prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  local extra=()
  [ -f "$deps/json/nlohmann/json.hpp" ] && extra+=(-DATTN_JSON_INCLUDE_DIR="$deps/json")
  [ -f "$deps/googletest/CMakeLists.txt" ] && extra+=(-DATTN_GTEST_SOURCE_DIR="$deps/googletest")
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DATTN_BUILD_UI=OFF \
    -DCMAKE_PREFIX_PATH="$prefix" "${extra[@]}" "$@"
}
