// SPDX-License-Identifier: MIT
// Tests of the safetensors reader and writer on valid files: bit-exact round trips of every
// dtype (scalars and zero-sized tensors included), metadata, a file laid out by hand byte by
// byte, the writer's exact bytes, and atomic writes that never leave temp files or clobber.
#include <cstring>
#include <limits>
#include <map>
#include <random>

#include "core/io/safetensors.h"
#include "core/util/atomic_file.h"
#include "tests/io/safetensors_test_util.h"

namespace attn::st::test {
namespace {

using RoundTripTest = ScratchTest;
using WriterTest = ScratchTest;
using AtomicWriteTest = ScratchTest;

constexpr DType kAllDTypes[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                                DType::I32, DType::I16, DType::I8,  DType::U8,   DType::BOOL};

/// Random bytes for `count` elements of `dtype` (0 or 1 for BOOL).
std::vector<uint8_t> random_bytes(DType dtype, std::size_t count, std::mt19937* rng) {
  std::vector<uint8_t> bytes(count * dtype_size(dtype));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>((*rng)() & (dtype == DType::BOOL ? 1 : 0xff));
  return bytes;
}

TEST(DTypeTest, NamesSizesAndParsingAgree) {
  for (DType dtype : kAllDTypes) {
    DType parsed = DType::U8;
    ASSERT_TRUE(dtype_from_name(dtype_name(dtype), &parsed)) << dtype_name(dtype);
    EXPECT_EQ(parsed, dtype);
    EXPECT_NE(known_dtype_names().find(dtype_name(dtype)), std::string::npos);
  }
  EXPECT_EQ(dtype_size(DType::F64), 8u);
  EXPECT_EQ(dtype_size(DType::BF16), 2u);
  EXPECT_EQ(dtype_size(DType::BOOL), 1u);
  DType unused = DType::F32;
  EXPECT_FALSE(dtype_from_name("f32", &unused));
  EXPECT_FALSE(dtype_from_name("F8_E4M3", &unused));
}

TEST_F(RoundTripTest, EveryDTypeAndShapeIsBitExact) {
  const std::vector<std::vector<int64_t>> shapes = {{}, {0}, {2, 0, 3}, {7}, {3, 5}, {2, 1, 3}};
  std::mt19937 rng(1234);
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<TensorData> tensors;
  for (DType dtype : kAllDTypes) {
    for (std::size_t s = 0; s < shapes.size(); ++s) {
      TensorInfo probe;
      probe.shape = shapes[s];
      buffers.push_back(random_bytes(dtype, static_cast<std::size_t>(probe.numel()), &rng));
      tensors.push_back({std::string(dtype_name(dtype)) + ".s" + std::to_string(s), dtype,
                         shapes[s], buffers.back().data(), buffers.back().size()});
    }
  }
  const std::string path = dir_ + "/all.safetensors";
  write(path, tensors);
  const Reader reader = Reader::open(path);
  EXPECT_EQ(reader.path(), path);
  EXPECT_TRUE(reader.metadata().empty());
  ASSERT_EQ(reader.tensors().size(), tensors.size());
  for (std::size_t i = 1; i < reader.tensors().size(); ++i) {
    EXPECT_LT(reader.tensors()[i - 1].name, reader.tensors()[i].name);
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorData& want = tensors[i];
    const TensorInfo* got = reader.find(want.name);
    ASSERT_NE(got, nullptr) << want.name;
    EXPECT_EQ(got->dtype, want.dtype) << want.name;
    EXPECT_EQ(got->shape, want.shape) << want.name;
    ASSERT_EQ(got->end - got->begin, want.nbytes) << want.name;
    if (want.nbytes > 0) {
      EXPECT_EQ(std::memcmp(reader.data(*got), want.data, want.nbytes), 0) << want.name;
    }
  }
  EXPECT_EQ(reader.find("missing"), nullptr);
}

TEST_F(RoundTripTest, SpecialFloatBitsSurvive) {
  const uint16_t half[] = {0x7C00, 0xFC00, 0x7E01, 0x8000, 0x0001, 0x7BFF};  // inf, nan, -0, ...
  const float f32[] = {-0.0f, 1e-45f, 3.4028235e38f, std::numeric_limits<float>::infinity()};
  const std::string path = dir_ + "/special.safetensors";
  write(path, {{"half", DType::F16, {6}, half, sizeof half},
               {"bf", DType::BF16, {2, 3}, half, sizeof half},
               {"f", DType::F32, {4}, f32, sizeof f32}});
  const Reader reader = Reader::open(path);
  EXPECT_EQ(std::memcmp(reader.data(*reader.find("half")), half, sizeof half), 0);
  EXPECT_EQ(std::memcmp(reader.data(*reader.find("bf")), half, sizeof half), 0);
  EXPECT_EQ(std::memcmp(reader.data(*reader.find("f")), f32, sizeof f32), 0);
}

TEST_F(RoundTripTest, MetadataRoundTrips) {
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"},
      {"quote\"and\\slash", "line\nbreak\ttab"},
      {"unicode", "Grüße ✓ 注意"},
      {"empty", ""}};
  const float value = 1.5f;
  const std::string path = dir_ + "/meta.safetensors";
  write(path, {{"x", DType::F32, {}, &value, sizeof value}}, metadata);
  const Reader reader = Reader::open(path);
  EXPECT_EQ(reader.metadata(), metadata);
  ASSERT_EQ(reader.tensors().size(), 1u);
  float back = 0;
  std::memcpy(&back, reader.data(reader.tensors()[0]), sizeof back);
  EXPECT_EQ(back, 1.5f);
}

TEST(ReaderTest, ReadsFileLaidOutByHand) {
  // Entries deliberately out of name and data order, with padding after the JSON.
  const std::string header =
      R"({"b":{"dtype":"I16","shape":[2],"data_offsets":[8,12]},)"
      R"("a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},)"
      R"("z":{"dtype":"BF16","shape":[0],"data_offsets":[12,12]},)"
      R"("__metadata__":{"k":"v"}}   )";
  const std::vector<uint8_t> data = {0x00, 0x00, 0x80, 0x3F,   // 1.0f
                                     0x00, 0x00, 0x00, 0xC0,   // -2.0f
                                     0x01, 0x00, 0xFE, 0xFF};  // 1, -2 as int16
  const Reader reader = Reader::parse(make_file(header, data), "hand.safetensors");
  EXPECT_EQ(reader.path(), "hand.safetensors");
  EXPECT_EQ(reader.metadata(), (std::map<std::string, std::string>{{"k", "v"}}));
  ASSERT_EQ(reader.tensors().size(), 3u);
  const TensorInfo& a = reader.tensors()[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(a.numel(), 2);
  EXPECT_EQ(a.begin, 0u);
  EXPECT_EQ(a.end, 8u);
  float floats[2];
  std::memcpy(floats, reader.data(a), sizeof floats);
  EXPECT_EQ(floats[0], 1.0f);
  EXPECT_EQ(floats[1], -2.0f);
  const TensorInfo& b = reader.tensors()[1];
  EXPECT_EQ(b.dtype, DType::I16);
  EXPECT_EQ(b.begin, 8u);
  EXPECT_EQ(b.end, 12u);
  int16_t ints[2];
  std::memcpy(ints, reader.data(b), sizeof ints);
  EXPECT_EQ(ints[0], 1);
  EXPECT_EQ(ints[1], -2);
  const TensorInfo& z = reader.tensors()[2];
  EXPECT_EQ(z.dtype, DType::BF16);
  EXPECT_EQ(z.numel(), 0);
  EXPECT_EQ(z.begin, 12u);
}

TEST(ReaderTest, AcceptsEmptyHeaderAndZeroSizedTensorsAnywhere) {
  EXPECT_TRUE(Reader::parse(make_file("{}"), "empty").tensors().empty());
  // A zero-sized range inside another tensor's range is not an overlap.
  const std::string header = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                             R"("e":{"dtype":"F64","shape":[3,0],"data_offsets":[2,2]}})";
  const Reader reader = Reader::parse(make_file(header, {1, 2, 3, 4}), "zero");
  EXPECT_EQ(reader.find("e")->numel(), 0);
}

TEST_F(WriterTest, ExactBytesOfATinyFile) {
  const float a[] = {1.0f, 2.0f};
  const uint8_t b[] = {1, 2, 3};
  const std::string path = dir_ + "/tiny.safetensors";
  write(path, {{"a", DType::F32, {2}, a, sizeof a}, {"b", DType::U8, {3}, b, sizeof b}},
        {{"k", "v"}});
  const std::string json =
      R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}})";
  ASSERT_EQ(json.size(), 132u);
  std::vector<uint8_t> expected = {136, 0, 0, 0, 0, 0, 0, 0};  // 8 + 136 is a multiple of 8
  expected.insert(expected.end(), json.begin(), json.end());
  expected.insert(expected.end(), 4, ' ');
  expected.insert(expected.end(), {0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40, 1, 2, 3});
  EXPECT_EQ(read_bytes(path), expected);
}

TEST_F(WriterTest, EmptyFileAndOrderAsGiven) {
  write(dir_ + "/empty.safetensors", {});
  const std::vector<uint8_t> expected = {8,   0,   0,   0,   0,   0,   0,   0,
                                         '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
  EXPECT_EQ(read_bytes(dir_ + "/empty.safetensors"), expected);

  const int64_t big[3] = {1, 2, 3};
  const uint8_t small = 9;
  write(dir_ + "/order.safetensors", {{"z", DType::U8, {}, &small, 1},
                                      {"e", DType::I32, {0}, nullptr, 0},
                                      {"a", DType::I64, {3}, big, sizeof big}});
  const Reader reader = Reader::open(dir_ + "/order.safetensors");
  EXPECT_EQ(reader.find("z")->begin, 0u);
  EXPECT_EQ(reader.find("e")->begin, 1u);
  EXPECT_EQ(reader.find("e")->end, 1u);
  EXPECT_EQ(reader.find("a")->begin, 1u);
  EXPECT_EQ(reader.find("a")->end, 25u);
  const std::vector<uint8_t> bytes = read_bytes(dir_ + "/order.safetensors");
  uint64_t header_length = 0;
  std::memcpy(&header_length, bytes.data(), 8);
  EXPECT_EQ((8 + header_length) % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + header_length + 25);  // contiguous, no gaps, nothing after
}

TEST_F(AtomicWriteTest, MissingFolderThrowsNamingThePath) {
  const std::string path = dir_ + "/no/such/folder/x.safetensors";
  try {
    write(path, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_TRUE(listing().empty());
}

TEST_F(AtomicWriteTest, FailedWriteKeepsTheOldFileAndLeavesNoTempFile) {
  const std::string path = dir_ + "/model.safetensors";
  const float value = 3.0f;
  write(path, {{"x", DType::F32, {1}, &value, sizeof value}});
  const std::vector<uint8_t> before = read_bytes(path);
  EXPECT_THROW(write(path, {{"x", DType::F32, {2}, &value, sizeof value}}), FormatError);
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(listing(), std::vector<std::string>{"model.safetensors"});
  write(path, {{"y", DType::F32, {1}, &value, sizeof value}});  // overwrite works
  EXPECT_NE(Reader::open(path).find("y"), nullptr);
  EXPECT_EQ(listing(), std::vector<std::string>{"model.safetensors"});
}

TEST(WriteTemporary, NamesOfAtomicWritesTemporariesAndNothingElse) {
  for (const char* name : {"train_state.safetensors.tmp.314.1", "config.json.tmp.27",
                           "a.tmp.1.0"}) {
    EXPECT_TRUE(is_write_temporary(name)) << name;
  }
  for (const char* name : {"model.safetensors", "notes.tmp.txt", ".tmp.12", "x.tmp.", "x.tmp.12.",
                           "x.tmp.12.a", "x.tmp.-3", "x.tmp.1.2.3"}) {
    EXPECT_FALSE(is_write_temporary(name)) << name;
  }
}

TEST_F(AtomicWriteTest, FailedRenameRemovesTheTempFile) {
  // The target is a non-empty folder, so the final rename fails after all bytes were written.
  const std::string path = dir_ + "/taken";
  std::filesystem::create_directory(path);
  std::ofstream(path + "/keep") << "x";
  try {
    write(path, {});
    FAIL() << "expected an error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_EQ(listing(), std::vector<std::string>{"taken"});
}

}  // namespace
}  // namespace attn::st::test
