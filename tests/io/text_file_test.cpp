// SPDX-License-Identifier: MIT
// Reading the gzip-compressed corpus, and clear errors for damaged or mislabelled files.
#include <filesystem>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/text_file.h"

namespace attn {
namespace {

namespace fs = std::filesystem;

const std::string kValidation =
    std::string(ATTN_SOURCE_DIR) + "/resources/corpus/brown/validation.txt.gz";

std::string error_of(const std::string& path) {
  try {
    read_text(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class TextFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("attn_text_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TextFileTest, ReadsTheShippedCorpus) {
  if (!gzip_supported()) GTEST_SKIP() << "built without zlib";
  const std::string text = read_text(kValidation);
  EXPECT_EQ(text.size(), 595670u);  // scripts/make_corpus.py reports the same byte count
  EXPECT_EQ(text.rfind("City Controller Alexander Hemphill", 0), 0u);
  EXPECT_EQ(text.back(), '\n');
}

TEST_F(TextFileTest, DamagedOrMislabelledFilesAreNamed) {
  if (!gzip_supported()) GTEST_SKIP() << "built without zlib";
  const std::string whole = read_file(kValidation);
  const std::string cut = (dir_ / "cut.txt.gz").string();
  write_file_atomic(cut, whole.substr(0, whole.size() / 2));
  EXPECT_NE(error_of(cut).find("cut.txt.gz"), std::string::npos) << error_of(cut);
  const std::string plain = (dir_ / "plain.gz").string();
  write_file_atomic(plain, "not compressed at all");
  EXPECT_NE(error_of(plain).find("not a gzip file"), std::string::npos) << error_of(plain);
  std::string flipped = whole;
  flipped[flipped.size() / 2] ^= 0x55;
  const std::string bad = (dir_ / "flipped.txt.gz").string();
  write_file_atomic(bad, flipped);
  EXPECT_NE(error_of(bad).find("flipped.txt.gz"), std::string::npos);
}

TEST_F(TextFileTest, PlainFilesAndMissingFiles) {
  const std::string p = (dir_ / "a.txt").string();
  write_file_atomic(p, "hello\n");
  EXPECT_EQ(read_text(p), "hello\n");
  EXPECT_NE(error_of((dir_ / "missing.txt.gz").string()).find("missing.txt.gz"), std::string::npos);
  EXPECT_NE(error_of((dir_ / "missing.txt").string()).find("missing.txt"), std::string::npos);
}

}  // namespace
}  // namespace attn
