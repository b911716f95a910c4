// SPDX-License-Identifier: MIT
// Helpers shared by the safetensors tests: files laid out by hand (length field, header text,
// data bytes), a scratch folder per test, and a check that parsing fails with a FormatError
// whose message names the file and the offending tensor or field.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "core/io/safetensors.h"
#include "core/util/error.h"

namespace attn::st::test {

/// 8-byte little-endian length of `header`, the header text, then `data`.
inline std::vector<uint8_t> make_file(const std::string& header,
                                      const std::vector<uint8_t>& data = {}) {
  std::vector<uint8_t> bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

/// A header holding one tensor entry `name` with the given JSON `fields` text.
inline std::string one_entry(const std::string& name, const std::string& fields) {
  return "{\"" + name + "\":{" + fields + "}}";
}

/// Parses `bytes` as "bad.safetensors" and expects a FormatError mentioning the label and
/// every fragment.
inline ::testing::AssertionResult parse_fails(const std::vector<uint8_t>& bytes,
                                              std::initializer_list<std::string> fragments,
                                              const Limits& limits = {}) {
  try {
    Reader::parse(bytes, "bad.safetensors", limits);
  } catch (const FormatError& e) {
    const std::string message = e.what();
    if (message.find("bad.safetensors") == std::string::npos) {
      return ::testing::AssertionFailure() << "message lacks the file name: " << message;
    }
    for (const std::string& fragment : fragments) {
      if (message.find(fragment) == std::string::npos) {
        return ::testing::AssertionFailure() << "message lacks '" << fragment << "': " << message;
      }
    }
    return ::testing::AssertionSuccess() << message;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "wrong exception type: " << e.what();
  }
  return ::testing::AssertionFailure() << "parsed without error";
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A fresh scratch folder per test, removed afterwards.
class ScratchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "st_test_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Names of the entries in the scratch folder, sorted.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string dir_;
};

}  // namespace attn::st::test
