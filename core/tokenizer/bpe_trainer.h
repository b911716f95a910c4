// SPDX-License-Identifier: MIT
// Byte-level BPE training: GPT-2 pre-tokenization, then the most frequent adjacent pair is
// merged repeatedly, with pair counts updated incrementally so that a few thousand merges on
// megabytes of text take seconds. The result is a BpeTokenizer that can be saved as JSON.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/bpe_tokenizer.h"

namespace attn {

struct BpeTrainOptions {
  /// A pair is merged only if it occurs at least this often; training stops earlier otherwise.
  int64_t min_frequency = 2;
  /// Added tokens (e.g. "<|endoftext|>") given the last ids; they count towards vocab_size.
  std::vector<std::string> special_tokens;
  /// Called after each merge with (merges done, merges wanted); return false to cancel, which
  /// makes train_bpe throw attn::Cancelled.
  std::function<bool(int64_t done, int64_t total)> progress;
};

/// Trains a byte-level BPE tokenizer on UTF-8 `text`. Ids 0..255 are the bytes (id = byte
/// value), then one id per merge, then the special tokens. Ties between equally frequent pairs
/// go to the pair whose (left bytes, right bytes) is lexicographically smallest, so results are
/// deterministic. Throws TokenizerError for invalid UTF-8 or vocab_size < 256 + specials.
BpeTokenizer train_bpe(std::string_view text, int64_t vocab_size, const BpeTrainOptions& opts = {});

}  // namespace attn
