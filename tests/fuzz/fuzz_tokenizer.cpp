// SPDX-License-Identifier: MIT
// tokenizer.json on arbitrary text: a tokenizer or a TokenizerError; a tokenizer that loads must
// encode and decode a text (the input itself, when it is UTF-8) without failing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/tokenizer/bpe_tokenizer.h"
#include "core/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto tok = attn::BpeTokenizer::from_json(text, "fuzz");
    const auto ids = tok.encode("The cat sat on the mat, 42 times.\n");
    (void)tok.decode(ids);
    try {
      attn::check_utf8(text);
    } catch (const attn::Error&) {
      return 0;
    }
    (void)tok.encode(text.substr(0, 4096));
  } catch (const attn::Error&) {
  }
  return 0;
}
