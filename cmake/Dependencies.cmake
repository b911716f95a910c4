# SPDX-License-Identifier: MIT
# Finds LibTorch, nlohmann/json, GoogleTest and (for the UI) Qt 6 with QCustomPlot's Qt 6 build.
# On machines without Debian's packages (the GPU machine), nlohmann/json and GoogleTest can come
# from source folders given as ATTN_JSON_INCLUDE_DIR and ATTN_GTEST_SOURCE_DIR.
if(NOT ATTN_FUZZ)
  find_package(Torch REQUIRED)
endif()

find_package(nlohmann_json 3.11 QUIET)
if(NOT nlohmann_json_FOUND)
  set(ATTN_JSON_INCLUDE_DIR "" CACHE PATH "Folder holding nlohmann/json.hpp")
  if(NOT EXISTS "${ATTN_JSON_INCLUDE_DIR}/nlohmann/json.hpp")
    message(FATAL_ERROR "nlohmann/json not found: install nlohmann-json3-dev (scripts/setup.sh) "
                        "or pass -DATTN_JSON_INCLUDE_DIR=<folder with nlohmann/json.hpp>")
  endif()
  add_library(nlohmann_json INTERFACE)
  target_include_directories(nlohmann_json SYSTEM INTERFACE ${ATTN_JSON_INCLUDE_DIR})
  add_library(nlohmann_json::nlohmann_json ALIAS nlohmann_json)
endif()

if(ATTN_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    set(ATTN_GTEST_SOURCE_DIR "" CACHE PATH "GoogleTest source folder (with CMakeLists.txt)")
    if(NOT EXISTS "${ATTN_GTEST_SOURCE_DIR}/CMakeLists.txt")
      message(FATAL_ERROR "GoogleTest not found: install libgtest-dev (scripts/setup.sh) or pass "
                          "-DATTN_GTEST_SOURCE_DIR=<googletest source folder>")
    endif()
    set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
    set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
    add_subdirectory(${ATTN_GTEST_SOURCE_DIR} ${CMAKE_BINARY_DIR}/_gtest EXCLUDE_FROM_ALL)
    add_library(GTest::gtest ALIAS gtest)
    add_library(GTest::gtest_main ALIAS gtest_main)
  endif()
  include(GoogleTest)
  if(ATTN_SANITIZE)
    # Under ASan each process spends 2-3 s starting LibTorch and checking for leaks at exit, so a
    # sanitizer build (scripts/sanitize.sh) registers each GoogleTest binary as one ctest test that
    # runs all its cases, instead of one process per case listed by running it at build time.
    function(gtest_discover_tests target)
      set(one WORKING_DIRECTORY TEST_PREFIX TEST_SUFFIX TEST_FILTER TEST_LIST DISCOVERY_TIMEOUT
              XML_OUTPUT_DIR DISCOVERY_MODE)
      cmake_parse_arguments(PARSE_ARGV 1 arg "NO_PRETTY_TYPES;NO_PRETTY_VALUES" "${one}"
                            "EXTRA_ARGS;PROPERTIES")
      set(filter)
      if(arg_TEST_FILTER)
        set(filter "--gtest_filter=${arg_TEST_FILTER}")
      endif()
      if(NOT arg_WORKING_DIRECTORY)
        set(arg_WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
      endif()
      add_test(NAME ${arg_TEST_PREFIX}${target}${arg_TEST_SUFFIX}
               COMMAND ${target} ${filter} ${arg_EXTRA_ARGS}
               WORKING_DIRECTORY ${arg_WORKING_DIRECTORY})
      if(arg_PROPERTIES)
        set_tests_properties(${arg_TEST_PREFIX}${target}${arg_TEST_SUFFIX}
                             PROPERTIES ${arg_PROPERTIES})
      endif()
    endfunction()
  endif()
endif()

if(ATTN_BUILD_UI)
  find_package(Qt6 6.4 QUIET COMPONENTS Widgets PrintSupport Svg Test)
  find_package(QCustomPlotQt6 QUIET)
  if(NOT Qt6_FOUND OR NOT QCustomPlotQt6_FOUND)
    message(WARNING "Qt 6 or QCustomPlot (Qt 6 build) not found: the window is not built. "
                    "Run scripts/setup.sh, or configure with -DATTN_BUILD_UI=OFF to silence this.")
    set(ATTN_BUILD_UI OFF)
  endif()
endif()
