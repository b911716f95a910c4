# SPDX-License-Identifier: MIT
# ATTN_ENABLE_CUDA (CUDA kernels in core/kernels) defaults to ON only when both a CUDA toolkit
# and a LibTorch built with CUDA are found; the CPU build is complete without it.
include(CheckLanguage)
set(_attn_cuda_default OFF)
if(TORCH_CUDA_LIBRARIES OR TARGET torch_cuda)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(_attn_cuda_default ON)
  endif()
endif()
option(ATTN_ENABLE_CUDA "Build the CUDA kernels (needs nvcc and a CUDA LibTorch)" ${_attn_cuda_default})
if(ATTN_ENABLE_CUDA)
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)  # Hopper (H100/H200); set explicitly, 'native' needs a GPU
  endif()
  set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
endif()
