// SPDX-License-Identifier: MIT
// The safetensors reader on arbitrary bytes: a valid file or a FormatError, nothing else.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/io/safetensors.h"
#include "core/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  attn::st::Limits limits;
  limits.max_header_bytes = 1 << 20;
  try {
    const auto r = attn::st::Reader::parse(std::vector<uint8_t>(data, data + size), "fuzz", limits);
    for (const auto& t : r.tensors()) {
      volatile uint8_t sink = 0;
      if (t.end > t.begin) sink = r.data(t)[t.end - t.begin - 1];  // every range is readable
      (void)sink;
    }
  } catch (const attn::Error&) {
  }
  return 0;
}
