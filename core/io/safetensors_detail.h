// SPDX-License-Identifier: MIT
// Helpers shared by the safetensors reader and writer (not part of the public API): checked
// byte counts and shape formatting for error messages. Kept in st_detail so that unity builds
// never see two helpers with the same name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/io/safetensors.h"

namespace attn::st::st_detail {

/// numel * dtype_size of `shape`; false when a dimension is negative or the product overflows
/// uint64. A shape with a zero dimension has 0 bytes whatever its other dimensions are.
bool checked_nbytes(DType dtype, const std::vector<int64_t>& shape, uint64_t* out);

/// "[8, 8]" (and "[]" for a scalar), as shapes appear in error messages.
std::string shape_text(const std::vector<int64_t>& shape);

/// What a validated header holds: the tensors in header order and the metadata.
struct HeaderContents {
  std::map<std::string, std::string> metadata;
  std::vector<TensorInfo> tensors;
};

/// Parses and validates the JSON header in [first, last): duplicate keys, entry fields, dtype,
/// shape, data_offsets against a data section of `data_bytes` bytes, "__metadata__", the tensor
/// count limit. Throws FormatError prefixed with `label`. Does not check overlaps.
HeaderContents parse_header(const uint8_t* first, const uint8_t* last, const std::string& label,
                            const Limits& limits, uint64_t data_bytes);

}  // namespace attn::st::st_detail
