// SPDX-License-Identifier: MIT
// The dtype table of the safetensors format and the small pieces shared by the reader
// (safetensors_reader.cpp) and the writer (safetensors_writer.cpp): names, element sizes,
// checked byte counts, tensor lookup.
#include "core/io/safetensors.h"

#include <algorithm>

#include "core/io/safetensors_detail.h"
#include "core/util/error.h"

namespace attn::st {

namespace st_detail {

struct DTypeEntry {
  DType dtype;
  const char* name;
  std::size_t size;
};

/// Every dtype the format knows here, in the order error messages list them.
constexpr DTypeEntry kDTypeTable[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
    {DType::I16, "I16", 2}, {DType::I8, "I8", 1}, {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1},
};

const DTypeEntry& dtype_entry(DType dtype) {
  for (const DTypeEntry& entry : kDTypeTable) {
    if (entry.dtype == dtype) return entry;
  }
  throw FormatError("safetensors: invalid DType value " +
                    std::to_string(static_cast<int>(dtype)));
}

bool checked_nbytes(DType dtype, const std::vector<int64_t>& shape, uint64_t* out) {
  for (int64_t dim : shape) {
    if (dim < 0) return false;
    if (dim == 0) {
      *out = 0;
      return true;
    }
  }
  uint64_t total = dtype_entry(dtype).size;
  for (int64_t dim : shape) {
    if (__builtin_mul_overflow(total, static_cast<uint64_t>(dim), &total)) return false;
  }
  *out = total;
  return true;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

}  // namespace st_detail

const char* dtype_name(DType dtype) { return st_detail::dtype_entry(dtype).name; }

std::size_t dtype_size(DType dtype) { return st_detail::dtype_entry(dtype).size; }

bool dtype_from_name(std::string_view name, DType* out) {
  for (const st_detail::DTypeEntry& entry : st_detail::kDTypeTable) {
    if (name == entry.name) {
      *out = entry.dtype;
      return true;
    }
  }
  return false;
}

std::string known_dtype_names() {
  std::string names;
  for (const st_detail::DTypeEntry& entry : st_detail::kDTypeTable) {
    if (!names.empty()) names += ", ";
    names += entry.name;
  }
  return names;
}

int64_t TensorInfo::numel() const {
  // Unsigned arithmetic: an unvalidated shape may wrap, but never invokes undefined behaviour.
  uint64_t count = 1;
  for (int64_t dim : shape) {
    if (dim <= 0) return 0;
    count *= static_cast<uint64_t>(dim);
  }
  return static_cast<int64_t>(count);
}

const TensorInfo* Reader::find(const std::string& name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const TensorInfo& t, const std::string& n) { return t.name < n; });
  if (it == tensors_.end() || it->name != name) return nullptr;
  return &*it;
}

const uint8_t* Reader::data(const TensorInfo& info) const {
  const uint64_t data_bytes = bytes_.size() - data_start_;
  if (info.begin > info.end || info.end > data_bytes) {
    throw FormatError(path_ + ": tensor '" + info.name + "': data_offsets [" +
                      std::to_string(info.begin) + ", " + std::to_string(info.end) +
                      "] lie outside the data section of " + std::to_string(data_bytes) +
                      " bytes (is this TensorInfo from another file?)");
  }
  return bytes_.data() + data_start_ + info.begin;
}

}  // namespace attn::st
