// SPDX-License-Identifier: MIT
// Byte-level BPE: GPT-2's byte-to-unicode mapping, vocabulary and merge ranks, and encoding by
// merging the lowest-ranked adjacent pair first (leftmost on ties), as Hugging Face tokenizers
// and GPT-2's encoder.py do. Reading and writing tokenizer.json is in bpe_tokenizer_json.cpp.
#include "core/tokenizer/bpe_tokenizer.h"

#include <mutex>
#include <queue>

#include "core/tokenizer/pretokenizer.h"
#include "core/util/error.h"

namespace attn {
namespace bpe_tokenizer_detail {

std::string utf8_of(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

/// GPT-2's bytes_to_unicode(): printable Latin-1 bytes map to themselves, the other 68 bytes
/// to U+0100.. in byte order, so every byte has a visible, non-space symbol.
std::vector<char32_t> make_byte_code_points() {
  std::vector<char32_t> cps(256);
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    cps[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return cps;
}

/// Inverse of make_byte_code_points(): code point (< 0x144) -> byte, or -1.
const std::vector<int>& code_point_to_byte() {
  static const std::vector<int> table = [] {
    std::vector<int> t(0x144, -1);
    const std::vector<char32_t> cps = make_byte_code_points();
    for (int b = 0; b < 256; ++b) t[cps[b]] = b;
    return t;
  }();
  return table;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

/// A candidate merge of the symbol at `pos` with its right neighbour.
struct Candidate {
  uint32_t rank;
  int32_t pos;
  int64_t left;
  int64_t right;
  int64_t merged;
  bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

struct Symbol {
  int64_t id;  // -1 once merged into its left neighbour
  int32_t prev;
  int32_t next;  // -1 at the end
};

uint64_t pair_key(int64_t left, int64_t right) {
  return (static_cast<uint64_t>(left) << 32) | static_cast<uint64_t>(right);
}

}  // namespace bpe_tokenizer_detail

struct BpeTokenizer::EncodeCache {
  static constexpr std::size_t kMaxEntries = 1 << 16;
  static constexpr std::size_t kMaxPieceBytes = 128;
  std::mutex mutex;
  std::unordered_map<std::string, std::vector<int64_t>> pieces;
};

const std::vector<std::string>& gpt2_byte_symbols() {
  static const std::vector<std::string> symbols = [] {
    std::vector<std::string> s;
    for (char32_t cp : bpe_tokenizer_detail::make_byte_code_points()) {
      s.push_back(bpe_tokenizer_detail::utf8_of(cp));
    }
    return s;
  }();
  return symbols;
}

std::string bytes_to_bpe_symbols(std::string_view bytes) {
  const std::vector<std::string>& symbols = gpt2_byte_symbols();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += symbols[static_cast<unsigned char>(c)];
  return out;
}

bool bpe_symbols_to_bytes(std::string_view symbols, std::string* out) {
  const std::vector<int>& table = bpe_tokenizer_detail::code_point_to_byte();
  out->clear();
  std::size_t i = 0;
  while (i < symbols.size()) {
    const auto b0 = static_cast<unsigned char>(symbols[i]);
    char32_t cp = 0;
    if (b0 < 0x80) {
      cp = b0;
      i += 1;
    } else if ((b0 & 0xE0) == 0xC0 && i + 1 < symbols.size()) {
      cp = (static_cast<char32_t>(b0 & 0x1F) << 6) | (symbols[i + 1] & 0x3F);
      i += 2;
    } else {
      return false;  // byte symbols are all below U+0800
    }
    if (cp >= table.size() || table[cp] < 0) return false;
    *out += static_cast<char>(table[cp]);
  }
  return true;
}

BpeTokenizer::BpeTokenizer(std::vector<std::string> tokens, std::vector<Merge> merges,
                           std::vector<AddedToken> added_tokens)
    : BpeTokenizer(
          [&] {
            std::vector<VocabEntry> vocab;
            vocab.reserve(tokens.size());
            for (std::size_t i = 0; i < tokens.size(); ++i) {
              vocab.emplace_back(std::move(tokens[i]), static_cast<int64_t>(i));
            }
            return vocab;
          }(),
          std::move(merges), std::move(added_tokens), "BPE tokenizer: ") {}

BpeTokenizer::BpeTokenizer(std::vector<VocabEntry> vocab, std::vector<Merge> merges,
                           std::vector<AddedToken> added_tokens, const std::string& where)
    : merges_(std::move(merges)),
      added_(std::move(added_tokens)),
      cache_(std::make_unique<EncodeCache>()) {
  assign_ids(std::move(vocab), where);
  build_merge_table(where);
}

BpeTokenizer::BpeTokenizer(BpeTokenizer&&) noexcept = default;
BpeTokenizer& BpeTokenizer::operator=(BpeTokenizer&&) noexcept = default;
BpeTokenizer::~BpeTokenizer() = default;

void BpeTokenizer::assign_ids(std::vector<VocabEntry> vocab, const std::string& where) {
  using bpe_tokenizer_detail::quoted;
  std::size_t new_added = 0;
  std::unordered_map<std::string, int64_t> vocab_ids;
  for (const VocabEntry& e : vocab) vocab_ids.emplace(e.first, e.second);
  for (const AddedToken& t : added_) new_added += vocab_ids.count(t.content) == 0 ? 1 : 0;
  const auto n = static_cast<int64_t>(vocab.size() + new_added);
  token_strings_.assign(static_cast<std::size_t>(n), std::string());
  added_only_.assign(static_cast<std::size_t>(n), false);
  std::vector<bool> used(static_cast<std::size_t>(n), false);
  auto place = [&](const std::string& token, int64_t id, const std::string& field) {
    if (id < 0 || id >= n) {
      throw TokenizerError(where + field + " = " + std::to_string(id) + ": ids must be 0.." +
                           std::to_string(n - 1) + " (one per token, no gaps)");
    }
    if (ids_.count(token)) {
      throw TokenizerError(where + field + ": token " + quoted(token) +
                           " appears twice; every token must be listed once");
    }
    if (used[id]) {
      throw TokenizerError(where + field + ": id " + std::to_string(id) + " is also used by " +
                           quoted(token_strings_[id]) + "; every id must be used once");
    }
    used[id] = true;
    token_strings_[id] = token;
    ids_.emplace(token, id);
  };
  for (const VocabEntry& e : vocab) {
    place(e.first, e.second, "model.vocab[" + quoted(e.first) + "]");
  }
  for (std::size_t i = 0; i < added_.size(); ++i) {
    const AddedToken& t = added_[i];
    const std::string field = "added_tokens[" + std::to_string(i) + "].id";
    const auto it = vocab_ids.find(t.content);
    if (it == vocab_ids.end()) {
      place(t.content, t.id, field);
      added_only_[t.id] = true;
    } else if (it->second != t.id) {
      throw TokenizerError(where + field + " = " + std::to_string(t.id) + " but model.vocab has " +
                           quoted(t.content) + " as id " + std::to_string(it->second));
    }
  }
  token_bytes_.resize(token_strings_.size());
  for (std::size_t id = 0; id < token_strings_.size(); ++id) {
    // Tokens made of byte symbols stand for those bytes; others (added tokens) for themselves.
    if (added_only_[id] || !bpe_symbols_to_bytes(token_strings_[id], &token_bytes_[id])) {
      token_bytes_[id] = token_strings_[id];
    }
  }
  const std::vector<std::string>& symbols = gpt2_byte_symbols();
  for (int b = 0; b < 256; ++b) {
    const auto it = vocab_ids.find(symbols[b]);
    byte_ids_[b] = it == vocab_ids.end() ? -1 : it->second;
  }
}

void BpeTokenizer::build_merge_table(const std::string& where) {
  using bpe_tokenizer_detail::quoted;
  merge_table_.reserve(merges_.size() * 2);
  for (std::size_t rank = 0; rank < merges_.size(); ++rank) {
    const Merge& m = merges_[rank];
    const std::string field = "model.merges[" + std::to_string(rank) + "]";
    const int64_t left = token_to_id(m.first);
    const int64_t right = token_to_id(m.second);
    for (const auto& [part, id] : {std::pair{&m.first, left}, std::pair{&m.second, right}}) {
      if (id < 0) {
        throw TokenizerError(where + field + " (" + quoted(m.first + " " + m.second) +
                             ") refers to unknown token " + quoted(*part) +
                             "; both parts of a merge must be in model.vocab");
      }
    }
    const int64_t merged = token_to_id(m.first + m.second);
    if (merged < 0) {
      throw TokenizerError(where + field + " (" + quoted(m.first + " " + m.second) + ") makes " +
                           quoted(m.first + m.second) +
                           ", which is not in model.vocab; every merge result must be a token");
    }
    // Later duplicates win, as in GPT-2's dict(zip(merges, range(...))) and Hugging Face.
    merge_table_[bpe_tokenizer_detail::pair_key(left, right)] =
        (static_cast<uint64_t>(rank) << 32) | static_cast<uint64_t>(merged);
  }
}

std::vector<Token> BpeTokenizer::encode_with_offsets(std::string_view text) const {
  std::vector<Token> out;
  out.reserve(text.size() / 3 + 1);
  std::vector<int64_t> ids;
  for_each_gpt2_pretoken(text, [&](int64_t begin, int64_t end) {
    ids.clear();
    encode_piece(text.substr(begin, end - begin), begin, &ids);
    int64_t pos = begin;
    for (int64_t id : ids) {
      const auto len = static_cast<int64_t>(token_bytes_[id].size());
      out.push_back(Token{id, pos, pos + len});
      pos += len;
    }
  });
  return out;
}

void BpeTokenizer::encode_piece(std::string_view piece, int64_t offset,
                                std::vector<int64_t>* ids) const {
  const bool cacheable = piece.size() <= EncodeCache::kMaxPieceBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    const auto it = cache_->pieces.find(std::string(piece));
    if (it != cache_->pieces.end()) {
      ids->insert(ids->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int64_t> symbols(piece.size());
  for (std::size_t i = 0; i < piece.size(); ++i) {
    const auto b = static_cast<unsigned char>(piece[i]);
    symbols[i] = byte_ids_[b];
    if (symbols[i] < 0) {
      throw TokenizerError("cannot encode byte " + std::to_string(b) + " at byte offset " +
                           std::to_string(offset + static_cast<int64_t>(i)) +
                           ": the vocabulary has no token for its byte symbol " +
                           gpt2_byte_symbols()[b] + " (a byte-level vocabulary needs all 256)");
    }
  }
  merge_symbols(&symbols);
  ids->insert(ids->end(), symbols.begin(), symbols.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    if (cache_->pieces.size() >= EncodeCache::kMaxEntries) cache_->pieces.clear();
    cache_->pieces.emplace(std::string(piece), std::move(symbols));
  }
}

void BpeTokenizer::merge_symbols(std::vector<int64_t>* ids) const {
  using bpe_tokenizer_detail::Candidate;
  using bpe_tokenizer_detail::Symbol;
  const auto n = static_cast<int32_t>(ids->size());
  if (n < 2) return;
  std::vector<Symbol> sym(n);
  for (int32_t i = 0; i < n; ++i) sym[i] = Symbol{(*ids)[i], i - 1, i + 1 < n ? i + 1 : -1};
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int32_t pos) {
    if (pos < 0 || sym[pos].next < 0) return;
    const int64_t left = sym[pos].id, right = sym[sym[pos].next].id;
    const auto it = merge_table_.find(bpe_tokenizer_detail::pair_key(left, right));
    if (it == merge_table_.end()) return;
    queue.push(Candidate{static_cast<uint32_t>(it->second >> 32), pos, left, right,
                         static_cast<int64_t>(it->second & 0xFFFFFFFFu)});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& s = sym[c.pos];
    // Skip candidates made stale by an earlier merge around this position.
    if (s.id != c.left || s.next < 0 || sym[s.next].id != c.right) continue;
    const int32_t gone = s.next;
    s.id = c.merged;
    s.next = sym[gone].next;
    if (s.next >= 0) sym[s.next].prev = c.pos;
    sym[gone].id = -1;
    consider(s.prev);
    consider(c.pos);
  }
  ids->clear();
  for (int32_t i = 0; i >= 0; i = sym[i].next) ids->push_back(sym[i].id);
}

std::string BpeTokenizer::token_bytes(int64_t id) const {
  if (id < 0 || id >= vocab_size()) {
    throw TokenizerError("BPE tokenizer: token id " + std::to_string(id) +
                         " is outside the vocabulary (valid ids are 0.." +
                         std::to_string(vocab_size() - 1) + ")");
  }
  return token_bytes_[id];
}

int64_t BpeTokenizer::token_to_id(std::string_view token) const {
  const auto it = ids_.find(std::string(token));
  return it == ids_.end() ? -1 : it->second;
}

const std::string& BpeTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= vocab_size()) {
    throw TokenizerError("BPE tokenizer: token id " + std::to_string(id) +
                         " is outside the vocabulary (valid ids are 0.." +
                         std::to_string(vocab_size() - 1) + ")");
  }
  return token_strings_[id];
}

}  // namespace attn
