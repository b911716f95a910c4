# SPDX-License-Identifier: MIT
# Language level, ccache and the warning set shared by project targets (attn_options).
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

find_program(ATTN_CCACHE ccache)
if(ATTN_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${ATTN_CCACHE})
endif()

add_library(attn_options INTERFACE)
target_compile_options(attn_options INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${ATTN_WERROR}>>:-Werror>)
if(ATTN_SANITIZE)
  # C++ only: nvcc does not take -fsanitize (scripts/sanitize.sh builds without CUDA).
  target_compile_options(attn_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${ATTN_SANITIZE} -fno-omit-frame-pointer>)
  target_link_options(attn_options INTERFACE -fsanitize=${ATTN_SANITIZE})
endif()

# attn_unity(target): compile the target's sources in batches, since every LibTorch translation
# unit spends about 20 s parsing <torch/torch.h> on a 2-core machine.
function(attn_unity target)
  if(ATTN_UNITY)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 6)
  endif()
endfunction()
