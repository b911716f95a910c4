// SPDX-License-Identifier: MIT
// Tests that the safetensors reader rejects every kind of malformed file with a FormatError
// naming the file and the tensor or field (one test per case), never crashes on truncated or
// randomly mutated files, and that the writer rejects inconsistent tensors by name.
#include <random>

#include "core/io/safetensors.h"
#include "tests/io/safetensors_test_util.h"

namespace attn::st::test {
namespace {

const std::string kGood = R"("dtype":"F32","shape":[2],"data_offsets":[0,8])";
const std::vector<uint8_t> kEight(8, 0);

std::vector<uint8_t> entry_file(const std::string& fields, std::size_t data_bytes = 8) {
  return make_file(one_entry("w", fields), std::vector<uint8_t>(data_bytes, 0));
}

TEST(InvalidFileTest, ShorterThanEightBytes) {
  for (std::size_t n = 0; n < 8; ++n) {
    EXPECT_TRUE(parse_fails(std::vector<uint8_t>(n, 0), {"8-byte"})) << n;
  }
}

TEST(InvalidFileTest, HeaderLengthOverLimit) {
  Limits limits;
  limits.max_header_bytes = 16;
  EXPECT_TRUE(parse_fails(make_file(one_entry("w", kGood), kEight),
                          {"Limits::max_header_bytes"}, limits));
}

TEST(InvalidFileTest, HugeHeaderLengthDoesNotAllocate) {
  std::vector<uint8_t> bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
  EXPECT_TRUE(parse_fails(bytes, {"header length 18446744073709551615"}));
}

TEST(InvalidFileTest, HeaderLengthBeyondFile) {
  std::vector<uint8_t> bytes = make_file("{}");
  bytes[0] = 100;
  EXPECT_TRUE(parse_fails(bytes, {"header length 100", "beyond the end of the file"}));
}

TEST(InvalidFileTest, FileOverMaxFileBytes) {
  Limits limits;
  limits.max_file_bytes = 12;
  EXPECT_TRUE(parse_fails(make_file("{}   "), {"Limits::max_file_bytes"}, limits));
}

TEST(InvalidFileTest, HeaderNotJsonGivesBytePosition) {
  EXPECT_TRUE(parse_fails(make_file(R"({"w": {"dtype": })"), {"not valid UTF-8 JSON", "byte 17"}));
  EXPECT_TRUE(parse_fails(make_file(""), {"not valid UTF-8 JSON", "byte"}));
}

TEST(InvalidFileTest, NumberTooLargeIsAnErrorNotACrash) {
  // Found by tests/fuzz: nlohmann::json throws out_of_range (not parse_error) for 1e999.
  EXPECT_TRUE(parse_fails(make_file(R"({"__metadata__": {}, "w": 1e999})"),
                          {"not usable JSON", "number overflow"}));
}

TEST(InvalidFileTest, HeaderNotUtf8) {
  EXPECT_TRUE(parse_fails(make_file("{\"w\xff\":{" + kGood + "}}", kEight),
                          {"not valid UTF-8 JSON", "byte"}));
}

TEST(InvalidFileTest, HeaderNotAnObject) {
  EXPECT_TRUE(parse_fails(make_file("[1, 2]"), {"header is a JSON array", "expected an object"}));
  EXPECT_TRUE(parse_fails(make_file("\"w\""), {"header is a JSON string"}));
}

TEST(InvalidFileTest, HeaderNestedTooDeep) {
  const std::string deep = "{\"w\":" + std::string(200, '[') + std::string(200, ']') + "}";
  EXPECT_TRUE(parse_fails(make_file(deep), {"nests deeper"}));
}

TEST(InvalidEntryTest, EntryNotAnObject) {
  EXPECT_TRUE(parse_fails(make_file(R"({"w": [1]})"), {"tensor 'w'", "expected an object"}));
}

TEST(InvalidEntryTest, UnknownDtypeListsKnownOnes) {
  EXPECT_TRUE(parse_fails(entry_file(R"("dtype":"F8","shape":[2],"data_offsets":[0,8])"),
                          {"tensor 'w'", "unknown dtype \"F8\"", "F32", "BF16", "BOOL"}));
  EXPECT_TRUE(parse_fails(entry_file(R"("dtype":4,"shape":[2],"data_offsets":[0,8])"),
                          {"tensor 'w'", "unknown dtype 4"}));
}

TEST(InvalidEntryTest, ShapeNotAnArray) {
  EXPECT_TRUE(parse_fails(entry_file(R"("dtype":"F32","shape":2,"data_offsets":[0,8])"),
                          {"tensor 'w'", "shape 2"}));
}

TEST(InvalidEntryTest, ShapeEntryNegative) {
  EXPECT_TRUE(parse_fails(entry_file(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"),
                          {"tensor 'w'", "shape [-2]"}));
}

TEST(InvalidEntryTest, ShapeEntryNotAnInteger) {
  EXPECT_TRUE(parse_fails(entry_file(R"("dtype":"F32","shape":[2.0],"data_offsets":[0,8])"),
                          {"tensor 'w'", "shape"}));
  EXPECT_TRUE(parse_fails(entry_file(R"("dtype":"F32","shape":["2"],"data_offsets":[0,8])"),
                          {"tensor 'w'", "shape"}));
  EXPECT_TRUE(parse_fails(
      entry_file(R"("dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,8])"),
      {"tensor 'w'", "shape"}));
}

TEST(InvalidEntryTest, RankOverLimit) {
  EXPECT_TRUE(parse_fails(
      entry_file(R"("dtype":"F32","shape":[1,1,1,1,1,1,1,1,2],"data_offsets":[0,8])"),
      {"tensor 'w'", "rank 9", "Limits::max_rank"}));
}

TEST(InvalidEntryTest, ByteCountOverflows) {
  EXPECT_TRUE(parse_fails(
      entry_file(R"("dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8])"),
      {"tensor 'w'", "2^64"}));
}

TEST(InvalidEntryTest, OffsetsNotTwoIntegers) {
  for (const std::string offsets : {"[0]", "[0,4,8]", "[\"0\",\"8\"]", "[0,8.0]", "8", "null"}) {
    EXPECT_TRUE(parse_fails(entry_file(R"("dtype":"F32","shape":[2],"data_offsets":)" + offsets),
                            {"tensor 'w'", "data_offsets"}))
        << offsets;
  }
}

TEST(InvalidEntryTest, OffsetsNegative) {
  EXPECT_TRUE(parse_fails(entry_file(R"("dtype":"F32","shape":[2],"data_offsets":[-8,0])"),
                          {"tensor 'w'", "data_offsets [-8,0]", "non-negative"}));
}

TEST(InvalidEntryTest, OffsetsBeginAfterEnd) {
  EXPECT_TRUE(parse_fails(entry_file(R"("dtype":"F32","shape":[0],"data_offsets":[8,0])"),
                          {"tensor 'w'", "begin > end"}));
}

TEST(InvalidEntryTest, OffsetsEndBeyondData) {
  EXPECT_TRUE(parse_fails(entry_file(R"("dtype":"F32","shape":[4],"data_offsets":[0,16])"),
                          {"tensor 'w'", "data_offsets [0, 16] reach beyond the end of the "
                                         "8-byte data section"}));
}

TEST(InvalidEntryTest, OffsetsDoNotMatchShape) {
  const std::vector<uint8_t> bytes = make_file(
      one_entry("blocks.0.attn.q_proj.weight",
                R"("dtype":"F32","shape":[8,8],"data_offsets":[0,100])"),
      std::vector<uint8_t>(256, 0));
  try {
    Reader::parse(bytes, "model.safetensors");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_STREQ(e.what(),
                 "model.safetensors: tensor 'blocks.0.attn.q_proj.weight': data_offsets [0, 100] "
                 "do not match shape [8, 8] of F32 (256 bytes)");
  }
}

TEST(InvalidEntryTest, UnknownField) {
  EXPECT_TRUE(parse_fails(entry_file(kGood + R"(,"extra":1)"),
                          {"tensor 'w'", "unknown field 'extra'"}));
}

TEST(InvalidEntryTest, MissingField) {
  EXPECT_TRUE(parse_fails(entry_file(R"("dtype":"F32","data_offsets":[0,8])"),
                          {"tensor 'w'", "missing field 'shape'"}));
}

TEST(InvalidEntryTest, DuplicateField) {
  EXPECT_TRUE(parse_fails(entry_file(kGood + R"(,"dtype":"I32")"),
                          {"tensor 'w'", "duplicate field 'dtype'"}));
}

TEST(InvalidHeaderTest, DuplicateTensorName) {
  const std::string header = "{\"w\":{" + kGood + "},\"w\":{" + kGood + "}}";
  EXPECT_TRUE(parse_fails(make_file(header, kEight), {"duplicate tensor name 'w'"}));
}

TEST(InvalidHeaderTest, OverlappingTensorsNameBoth) {
  const std::string header = R"({"first":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},)"
                             R"("second":{"dtype":"U8","shape":[8],"data_offsets":[4,12]}})";
  EXPECT_TRUE(parse_fails(make_file(header, std::vector<uint8_t>(12, 0)),
                          {"'first'", "'second'", "overlap"}));
}

TEST(InvalidHeaderTest, TooManyTensors) {
  Limits limits;
  limits.max_tensors = 2;
  const std::string header = R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                             R"("b":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                             R"("c":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                             R"("__metadata__":{}})";
  EXPECT_TRUE(parse_fails(make_file(header), {"3 tensors", "Limits::max_tensors"}, limits));
  limits.max_tensors = 3;
  EXPECT_EQ(Reader::parse(make_file(header), "ok", limits).tensors().size(), 3u);
}

TEST(InvalidHeaderTest, MetadataNotAnObject) {
  EXPECT_TRUE(parse_fails(make_file(R"({"__metadata__":["a"]})"), {"\"__metadata__\""}));
}

TEST(InvalidHeaderTest, MetadataValueNotAString) {
  EXPECT_TRUE(parse_fails(make_file(R"({"__metadata__":{"epoch":3}})"),
                          {"\"__metadata__\"", "'epoch'", "expected a string"}));
}

TEST(InvalidHeaderTest, MetadataDuplicateKey) {
  EXPECT_TRUE(parse_fails(make_file(R"({"__metadata__":{"k":"a","k":"b"}})"),
                          {"\"__metadata__\"", "duplicate key 'k'"}));
}

TEST(InvalidFileTest, OpenNamesTheMissingFile) {
  try {
    Reader::open("/nonexistent/folder/model.safetensors");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/folder/model.safetensors"),
              std::string::npos);
  }
  EXPECT_THROW(Reader::open("/"), FormatError);
}

/// A small valid file: three tensors (one empty, last) and metadata.
std::vector<uint8_t> small_valid_file() {
  const std::string header =
      R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"I8","shape":[3],"data_offsets":[8,11]},)"
      R"("c":{"dtype":"BF16","shape":[0,4],"data_offsets":[11,11]}})";
  return make_file(header + "     ", std::vector<uint8_t>(11, 7));
}

TEST(RobustnessTest, EveryTruncationThrows) {
  const std::vector<uint8_t> full = small_valid_file();
  ASSERT_EQ(Reader::parse(full, "full").tensors().size(), 3u);
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(Reader::parse(std::move(cut), "cut"), FormatError) << "length " << n;
  }
}

TEST(RobustnessTest, RandomHeaderMutationsNeverCrash) {
  const std::vector<uint8_t> full = small_valid_file();
  const std::size_t header_end = 8 + full[0];
  std::mt19937 rng(42);
  int accepted = 0;
  for (int round = 0; round < 5000; ++round) {
    std::vector<uint8_t> bytes = full;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      const std::size_t at = rng() % header_end;
      bytes[at] = (rng() % 2) ? static_cast<uint8_t>(rng()) : bytes[at] ^ (1u << (rng() % 8));
    }
    try {
      const Reader reader = Reader::parse(std::move(bytes), "fuzz");
      unsigned sum = 0;  // touch every byte handed out, so ASan sees any overrun
      for (const TensorInfo& t : reader.tensors()) {
        for (uint64_t k = 0; k < t.end - t.begin; ++k) sum += reader.data(t)[k];
      }
      EXPECT_LE(sum, 11u * 255u);
      ++accepted;
    } catch (const FormatError&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "round " << round << ": not a FormatError: " << e.what();
    }
  }
  EXPECT_GT(accepted, 0);  // some mutations (e.g. inside metadata strings) stay valid
}

TEST(InvalidWriteTest, RejectsInconsistentTensorsByName) {
  const float v[2] = {1, 2};
  const std::string path = ::testing::TempDir() + "st_invalid_write.safetensors";
  const auto fails = [&](const std::vector<TensorData>& tensors, const std::string& fragment) {
    try {
      write(path, tensors);
    } catch (const FormatError& e) {
      const std::string message = e.what();
      return message.find(fragment) != std::string::npos && message.find(path) != std::string::npos
                 ? ::testing::AssertionSuccess()
                 : ::testing::AssertionFailure() << message;
    }
    return ::testing::AssertionFailure() << "no error";
  };
  EXPECT_TRUE(fails({{"x", DType::F32, {2}, v, 8}, {"x", DType::F32, {2}, v, 8}}, "'x'"));
  EXPECT_TRUE(fails({{"x", DType::F32, {3}, v, 8}}, "tensor 'x': 8 bytes given"));
  EXPECT_TRUE(fails({{"x", DType::F32, {-2}, v, 8}}, "tensor 'x': shape [-2]"));
  EXPECT_TRUE(fails({{"x", DType::F32, {2}, nullptr, 8}}, "tensor 'x': data is null"));
  EXPECT_TRUE(fails({{"__metadata__", DType::F32, {2}, v, 8}}, "reserved"));
  EXPECT_TRUE(fails({{"bad\xff", DType::F32, {2}, v, 8}}, "UTF-8"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace attn::st::test
