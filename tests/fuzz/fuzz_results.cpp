// SPDX-License-Identifier: MIT
// Results files of attnscope-cli eval on arbitrary text: results or a FormatError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/eval/eval_results.h"
#include "core/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)attn::parse_eval_results(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const attn::Error&) {
  }
  return 0;
}
