// SPDX-License-Identifier: MIT
// The project's own safetensors reader and writer: 8-byte little-endian header length, a JSON
// header (dtype, shape, data_offsets per tensor, optional "__metadata__" of string pairs), then
// raw little-endian data. Every field is bounds-checked before any byte is used. No LibTorch.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace attn::st {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

/// "F32", "BF16", ... as in the safetensors header.
const char* dtype_name(DType dtype);
/// Bytes per element.
std::size_t dtype_size(DType dtype);
/// Parses a header dtype name ("F32", "BF16", ...); false when it is not a known name.
bool dtype_from_name(std::string_view name, DType* out);
/// "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL": the known names, for error messages.
std::string known_dtype_names();

/// Limits on what a file may make the reader allocate; each violation names the limit.
struct Limits {
  uint64_t max_header_bytes = 100ull << 20;  // 100 MiB of JSON
  uint64_t max_tensors = 1u << 20;
  uint64_t max_rank = 8;
  uint64_t max_file_bytes = 64ull << 30;
};

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data section, [begin, end)
  uint64_t end = 0;
  int64_t numel() const;
};

/// A whole safetensors file read into memory and validated.
class Reader {
 public:
  /// Throws FormatError naming the file and the tensor or field that is wrong.
  static Reader open(const std::string& path, const Limits& limits = {});
  /// Parses bytes already in memory; `label` names them in error messages.
  static Reader parse(std::vector<uint8_t> bytes, const std::string& label,
                      const Limits& limits = {});

  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  /// Tensors sorted by name.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  /// nullptr when absent.
  const TensorInfo* find(const std::string& name) const;
  /// Pointer to the tensor's first byte (no alignment guaranteed; copy before typed use).
  const uint8_t* data(const TensorInfo& info) const;

 private:
  std::string path_;
  std::vector<uint8_t> bytes_;
  uint64_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorInfo> tensors_;
};

/// One tensor to write: `data` points at numel * dtype_size little-endian bytes.
struct TensorData {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  std::size_t nbytes = 0;
};

/// Writes a safetensors file atomically (a temporary file beside it, then rename). Tensors are
/// laid out in the order given; the header is padded with spaces to a multiple of 8 bytes.
/// Throws FormatError on duplicate names or a size mismatch, naming the tensor.
void write(const std::string& path, const std::vector<TensorData>& tensors,
           const std::map<std::string, std::string>& metadata = {});

}  // namespace attn::st
