// SPDX-License-Identifier: MIT
// Byte-level BPE as in GPT-2: bytes are mapped to printable code points (byte-to-unicode), the
// text is pre-tokenized with GPT-2's regex and each piece is merged by merge rank. Reads and
// writes Hugging Face's tokenizer.json so models trained here and in Python can share files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace attn {

/// A token outside the merge model (e.g. "<|endoftext|>"): it has an id but is never produced
/// by encode; its bytes are its content.
struct AddedToken {
  int64_t id = 0;
  std::string content;
  bool special = true;
};

/// The 256 printable code points GPT-2 uses for the bytes 0..255, as UTF-8 strings.
const std::vector<std::string>& gpt2_byte_symbols();

/// Raw bytes -> GPT-2's byte-level string (e.g. " the" -> "Ġthe").
std::string bytes_to_bpe_symbols(std::string_view bytes);

/// GPT-2's byte-level string -> raw bytes. Returns false if a code point is not one of the
/// 256 byte symbols (then `out` is unspecified).
bool bpe_symbols_to_bytes(std::string_view symbols, std::string* out);

class BpeTokenizer final : public Tokenizer {
 public:
  using Merge = std::pair<std::string, std::string>;

  /// `tokens[i]` is the byte-level string of id i; `merges` are in rank order (rank = index) and
  /// both parts and their concatenation must be tokens. Added tokens either repeat a token
  /// with its id or take the ids vocab_size.. in order. Throws TokenizerError on inconsistency.
  BpeTokenizer(std::vector<std::string> tokens, std::vector<Merge> merges,
               std::vector<AddedToken> added_tokens = {});
  BpeTokenizer(BpeTokenizer&&) noexcept;
  BpeTokenizer& operator=(BpeTokenizer&&) noexcept;
  ~BpeTokenizer() override;

  /// Parses tokenizer.json text; `origin` (a path) prefixes every error message.
  static BpeTokenizer from_json(std::string_view json_text, const std::string& origin);
  /// Loads a Hugging Face tokenizer.json file. Throws TokenizerError naming file and field.
  static BpeTokenizer load(const std::string& path);

  std::string kind() const override { return "bpe"; }
  int64_t vocab_size() const override { return static_cast<int64_t>(token_strings_.size()); }
  std::vector<Token> encode_with_offsets(std::string_view text) const override;
  std::string token_bytes(int64_t id) const override;

  /// The id of a byte-level token string (vocab key or added token content), or -1.
  int64_t token_to_id(std::string_view token) const;
  /// The byte-level string of an id (the vocab key). Throws TokenizerError when out of range.
  const std::string& id_to_token(int64_t id) const;
  const std::vector<Merge>& merges() const { return merges_; }
  const std::vector<AddedToken>& added_tokens() const { return added_; }

  /// The tokenizer as Hugging Face tokenizer.json text (loadable by tokenizers.Tokenizer).
  std::string to_json() const;
  /// Writes to_json() to `path` atomically.
  void save(const std::string& path) const;

 private:
  struct EncodeCache;
  using VocabEntry = std::pair<std::string, int64_t>;
  /// The common constructor: `where` (e.g. "'tokenizer.json': ") prefixes error messages.
  BpeTokenizer(std::vector<VocabEntry> vocab, std::vector<Merge> merges,
               std::vector<AddedToken> added_tokens, const std::string& where);
  void assign_ids(std::vector<VocabEntry> vocab, const std::string& where);
  void build_merge_table(const std::string& where);
  void encode_piece(std::string_view piece, int64_t offset, std::vector<int64_t>* ids) const;
  void merge_symbols(std::vector<int64_t>* symbols) const;

  std::vector<std::string> token_strings_;  // id -> byte-level string (added: content)
  std::vector<std::string> token_bytes_;    // id -> raw bytes
  std::unordered_map<std::string, int64_t> ids_;
  std::vector<Merge> merges_;
  std::vector<AddedToken> added_;
  std::vector<bool> added_only_;                        // id -> only an added token, not in vocab
  std::unordered_map<uint64_t, uint64_t> merge_table_;  // (left id, right id) -> (rank, merged id)
  int64_t byte_ids_[256] = {};                          // byte -> id, -1 if not in vocab
  std::unique_ptr<EncodeCache> cache_;
};

}  // namespace attn
