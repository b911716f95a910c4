// SPDX-License-Identifier: MIT
// GPT-2's pre-tokenization: the text is split into words, numbers, punctuation runs and
// whitespace runs before BPE runs inside each piece. Implemented by hand over UTF-8 code points
// because std::regex has no \p{L}; the classes come from unicode_tables.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace attn {

/// A byte range [begin, end) of a text.
struct ByteSpan {
  int64_t begin = 0;
  int64_t end = 0;
};

/// Splits `text` exactly like GPT-2's regex
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// with \s = Unicode White_Space. The spans cover the whole text, in order, without gaps.
/// Throws TokenizerError naming the byte offset when the text is not valid UTF-8.
std::vector<ByteSpan> pretokenize_gpt2(std::string_view text);

/// Same split, calling `on_span(begin, end)` for each piece instead of building a vector.
void for_each_gpt2_pretoken(std::string_view text,
                            const std::function<void(int64_t begin, int64_t end)>& on_span);

}  // namespace attn
