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
