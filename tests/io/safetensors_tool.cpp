// SPDX-License-Identifier: MIT
// Helper for check_safetensors.py, which compares the C++ reader and writer with files laid out
// in Python: `write OUT` writes a known set of tensors (F32, F16, BF16, I64, a scalar, an empty
// tensor) with metadata; `read IN` prints every tensor's name, dtype, shape, data_offsets, first
// raw bytes and first values as JSON on stdout. Exits 1 with the error on stderr on failure.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/util/error.h"

namespace {

constexpr std::size_t kMaxValues = 16;

/// Widens an IEEE half to float, subnormals, infinities and NaN included.
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const int exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude = mantissa ? std::numeric_limits<float>::quiet_NaN()
                         : std::numeric_limits<float>::infinity();
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  }
  return sign ? -magnitude : magnitude;
}

template <typename T>
T load(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

/// Element `i` of a tensor as JSON (NaN and infinities become the strings "nan", "inf", "-inf").
nlohmann::json element(attn::st::DType dtype, const uint8_t* p) {
  using attn::st::DType;
  double real = 0;
  switch (dtype) {
    case DType::F64: real = load<double>(p); break;
    case DType::F32: real = load<float>(p); break;
    case DType::F16: real = half_to_float(load<uint16_t>(p)); break;
    case DType::BF16: real = load<float>(std::array<uint8_t, 4>{0, 0, p[0], p[1]}.data()); break;
    case DType::I64: return load<int64_t>(p);
    case DType::I32: return load<int32_t>(p);
    case DType::I16: return load<int16_t>(p);
    case DType::I8: return load<int8_t>(p);
    case DType::U8: return load<uint8_t>(p);
    case DType::BOOL: return p[0] != 0;
  }
  if (std::isnan(real)) return "nan";
  if (std::isinf(real)) return real > 0 ? "inf" : "-inf";
  return real;
}

int read_mode(const std::string& path) {
  const attn::st::Reader reader = attn::st::Reader::open(path);
  nlohmann::json out = {{"metadata", reader.metadata()}, {"tensors", nlohmann::json::array()}};
  for (const attn::st::TensorInfo& t : reader.tensors()) {
    const uint8_t* data = reader.data(t);
    const std::size_t size = attn::st::dtype_size(t.dtype);
    const std::size_t count = std::min<std::size_t>(kMaxValues, (t.end - t.begin) / size);
    nlohmann::json values = nlohmann::json::array();
    for (std::size_t i = 0; i < count; ++i) values.push_back(element(t.dtype, data + i * size));
    std::string hex;
    for (uint64_t i = 0; i < std::min<uint64_t>(64, t.end - t.begin); ++i) {
      static const char digits[] = "0123456789abcdef";
      hex += digits[data[i] >> 4];
      hex += digits[data[i] & 15];
    }
    out["tensors"].push_back({{"name", t.name}, {"dtype", attn::st::dtype_name(t.dtype)},
                              {"shape", t.shape}, {"data_offsets", {t.begin, t.end}},
                              {"hex", hex}, {"values", values}});
  }
  std::cout << out.dump() << "\n";
  return 0;
}

int write_mode(const std::string& path) {
  using attn::st::DType;
  const float f32[6] = {0.0f, 1.0f, -2.5f, 3.25f, 1024.0f, -0.125f};
  const uint16_t f16[4] = {0x3C00, 0xC000, 0x3800, 0x7BFF};    // 1, -2, 0.5, 65504
  const uint16_t bf16[4] = {0x3F80, 0xC040, 0x3E20, 0x4380};   // 1, -3, 0.15625, 256
  const int64_t i64[4] = {0, -1, int64_t{1} << 40, std::numeric_limits<int64_t>::min()};
  const float scalar = 42.5f;
  attn::st::write(path,
                  {{"f32", DType::F32, {2, 3}, f32, sizeof f32},
                   {"f16", DType::F16, {4}, f16, sizeof f16},
                   {"bf16", DType::BF16, {2, 2}, bf16, sizeof bf16},
                   {"i64", DType::I64, {4}, i64, sizeof i64},
                   {"scalar", DType::F32, {}, &scalar, sizeof scalar},
                   {"empty", DType::I64, {0, 3}, nullptr, 0}},
                  {{"format", "pt"}, {"note", "AttnScope \"interop\" \xE2\x9C\x93"}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "read" && std::string(argv[1]) != "write")) {
    std::cerr << "usage: safetensors_tool write OUT | read IN\n";
    return 2;
  }
  try {
    return std::string(argv[1]) == "read" ? read_mode(argv[2]) : write_mode(argv[2]);
  } catch (const attn::Error& e) {
    std::cerr << "safetensors_tool: " << e.what() << "\n";
    return 1;
  }
}
