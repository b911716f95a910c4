#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The quick kernel loop, on a GPU machine (minutes instead of a full build per idea):
#   scripts/kernel_variants.sh VARIANT...
# "cur" is the working tree's core/kernels; any other name is a folder (untracked, e.g.
# exp/NAME) whose files replace those of core/kernels. Each variant is copied to /tmp, cut down
# to the head_dim 64 / H 1..12 instantiations (bf16 and fp16) and built with nvcc against the
# installed PyTorch's LibTorch, all in parallel; then scripts/kernel_variants_bench.cpp runs for
# each: its worst error against the float64 reference and its times at N = 8192 and 16384.
# A variant folder may hold a file nvcc_flags: its words are added to that variant's nvcc line
# (e.g. -Xptxas --register-usage-level=0). The kernel tests (scripts/kernel_check.sh) still
# decide whether a variant is correct.
set -uo pipefail
T=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')
ABI=$(python3 -c 'import torch;print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
for v in "$@"; do
  w=/tmp/kernel_variant_$(basename "$v")
  rm -rf "$w"; mkdir -p "$w/core"; cp -r core/kernels "$w/core/"
  flags=()
  if [ "$v" != cur ]; then
    find "$v" -maxdepth 1 -type f ! -name nvcc_flags -exec cp {} "$w/core/kernels/" \;
    [ -f "$v/nvcc_flags" ] && read -r -a flags <"$v/nvcc_flags"
  fi
  sed -i -e 's/ATTN_DAPE_CASE(16, 8) ATTN_DAPE_CASE(16, 12) ATTN_DAPE_CASE(16, 16)//' \
    -e 's/ATTN_DAPE_CASE(32, 8) ATTN_DAPE_CASE(32, 12) ATTN_DAPE_CASE(32, 16)//' \
    -e 's/ATTN_DAPE_CASE(128, 8) ATTN_DAPE_CASE(128, 12) ATTN_DAPE_CASE(128, 16)//' \
    -e 's/ATTN_DAPE_CASE(64, 8) ATTN_DAPE_CASE(64, 12) ATTN_DAPE_CASE(64, 16)/ATTN_DAPE_CASE(64, 8) ATTN_DAPE_CASE(64, 12)/' \
    "$w/core/kernels/dape_v2_fused.cu"
  ( cd "$w" && "$NVCC" -O3 -std=c++17 -arch=sm_90 -lineinfo --split-compile=0 -I. -I"$T/include" \
      -I"$T/include/torch/csrc/api/include" -D_GLIBCXX_USE_CXX11_ABI=$ABI -Xptxas -v "${flags[@]}" \
      "$OLDPWD/scripts/kernel_variants_bench.cpp" core/kernels/dape_v2_fused.cu \
      core/kernels/dape_v2_fused_tables.cu core/kernels/dape_v2_fused_cells.cpp \
      core/kernels/dape_v2_fused_ref.cpp -o kb -L"$T/lib" -ltorch -ltorch_cpu -ltorch_cuda -lc10 \
      -lc10_cuda -lcuda -Xlinker -rpath="$T/lib" >build.log 2>&1 ||
      { echo "$v: build failed"; tail -20 build.log; } ) &
done
wait
for v in "$@"; do
  w=/tmp/kernel_variant_$(basename "$v")
  grep -A2 "bfloat16Li64ELi12ELb0" "$w/build.log" | grep -oE "[0-9]+ bytes spill stores" | head -1 | sed "s|^|$(basename "$v"): |"
  if [ -x "$w/kb" ]; then "$w/kb" "$(basename "$v")"; fi
done
