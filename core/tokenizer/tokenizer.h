// SPDX-License-Identifier: MIT
// The tokenizer interface: byte-level BPE in Hugging Face's tokenizer.json format (GPT-2 style
// pre-tokenization and byte mapping) and a plain 256-symbol byte tokenizer. No LibTorch, no Qt.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace attn {

/// One token of an encoded text: its id and the bytes [begin, end) of the input it covers.
struct Token {
  int64_t id = 0;
  int64_t begin = 0;
  int64_t end = 0;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  /// "bpe" or "byte", as written in a checkpoint's config.json.
  virtual std::string kind() const = 0;
  virtual int64_t vocab_size() const = 0;
  /// Tokens of a UTF-8 text with their byte spans. Throws TokenizerError naming the byte offset
  /// of the first invalid UTF-8 sequence.
  virtual std::vector<Token> encode_with_offsets(std::string_view text) const = 0;
  /// The raw bytes a token stands for. Throws TokenizerError for an id outside the vocabulary.
  virtual std::string token_bytes(int64_t id) const = 0;

  std::vector<int64_t> encode(std::string_view text) const;
  /// Concatenated bytes of the tokens (may end inside a UTF-8 sequence).
  std::string decode(const std::vector<int64_t>& ids) const;
  /// A readable one-line label for axes: spaces as "␣", newline "↵", tab "⇥", other control
  /// bytes and bytes that are not complete UTF-8 as "<0xNN>".
  std::string display(int64_t id) const;
};

/// The 256-symbol byte tokenizer: id = byte value.
std::unique_ptr<Tokenizer> make_byte_tokenizer();

/// Loads a Hugging Face tokenizer.json (model type BPE, ByteLevel pre-tokenizer). Throws
/// TokenizerError naming the file and the field that is wrong.
std::unique_ptr<Tokenizer> load_bpe_tokenizer(const std::string& path);

/// Checks that text is valid UTF-8; throws TokenizerError naming the byte offset otherwise.
void check_utf8(std::string_view text);

}  // namespace attn
