// SPDX-License-Identifier: MIT
// The BPE trainer: distinct pre-tokens ("words") with their counts, a count per adjacent symbol
// pair, an index pair -> words containing it, and a lazy max-heap of pairs. Each merge only
// revisits the words that contain the merged pair, which keeps training fast.
#include "core/tokenizer/bpe_trainer.h"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/tokenizer/pretokenizer.h"
#include "core/util/error.h"

namespace attn {
namespace bpe_trainer_detail {

struct Word {
  std::vector<int32_t> symbols;
  int64_t count = 0;
};

uint64_t key_of(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
int32_t left_of(uint64_t key) { return static_cast<int32_t>(key >> 32); }
int32_t right_of(uint64_t key) { return static_cast<int32_t>(key & 0xFFFFFFFFu); }

struct HeapEntry {
  int64_t count;
  uint64_t pair;
};

class Trainer {
 public:
  explicit Trainer(std::string_view text) {
    for (int b = 0; b < 256; ++b) add_symbol(std::string(1, static_cast<char>(b)));
    count_words(text);
  }

  /// Merges until there are `target` symbols or no pair reaches `min_frequency`.
  void run(int64_t target, const BpeTrainOptions& opts) {
    auto worse = [this](const HeapEntry& x, const HeapEntry& y) { return worse_than(x, y); };
    std::priority_queue<HeapEntry, std::vector<HeapEntry>, decltype(worse)> heap(worse);
    for (const auto& [pair, count] : pair_counts_) heap.push(HeapEntry{count, pair});
    const int64_t wanted = target - 256;
    while (static_cast<int64_t>(symbol_bytes_.size()) < target && !heap.empty()) {
      const HeapEntry top = heap.top();
      heap.pop();
      const auto it = pair_counts_.find(top.pair);
      if (it == pair_counts_.end() || it->second != top.count) continue;  // stale entry
      if (top.count < opts.min_frequency) break;
      for (const auto& [pair, count] : merge(top.pair)) heap.push(HeapEntry{count, pair});
      const auto done = static_cast<int64_t>(symbol_bytes_.size()) - 256;
      if (opts.progress && !opts.progress(done, wanted)) throw Cancelled();
    }
  }

  BpeTokenizer finish(const std::vector<std::string>& special_tokens) const {
    std::vector<std::string> tokens;
    tokens.reserve(symbol_bytes_.size());
    for (const std::string& bytes : symbol_bytes_) tokens.push_back(bytes_to_bpe_symbols(bytes));
    std::vector<BpeTokenizer::Merge> merges;
    merges.reserve(merges_.size());
    for (uint64_t pair : merges_) {
      merges.emplace_back(tokens[left_of(pair)], tokens[right_of(pair)]);
    }
    std::vector<AddedToken> added;
    for (const std::string& s : special_tokens) {
      added.push_back(AddedToken{static_cast<int64_t>(tokens.size() + added.size()), s, true});
    }
    return BpeTokenizer(std::move(tokens), std::move(merges), std::move(added));
  }

 private:
  int32_t add_symbol(const std::string& bytes) {
    const auto it = symbol_ids_.find(bytes);
    if (it != symbol_ids_.end()) return it->second;  // another merge already made these bytes
    const auto id = static_cast<int32_t>(symbol_bytes_.size());
    symbol_bytes_.push_back(bytes);
    symbol_ids_.emplace(bytes, id);
    return id;
  }

  void count_words(std::string_view text) {
    std::unordered_map<std::string_view, int64_t> counts;
    for_each_gpt2_pretoken(text, [&](int64_t b, int64_t e) { ++counts[text.substr(b, e - b)]; });
    // Sorted so that word indices, and everything derived from them, are deterministic.
    std::vector<std::pair<std::string_view, int64_t>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end());
    words_.reserve(sorted.size());
    for (const auto& [piece, count] : sorted) {
      Word w;
      w.count = count;
      for (char c : piece) w.symbols.push_back(static_cast<unsigned char>(c));
      const auto index = static_cast<int32_t>(words_.size());
      for (std::size_t i = 0; i + 1 < w.symbols.size(); ++i) {
        const uint64_t pair = key_of(w.symbols[i], w.symbols[i + 1]);
        pair_counts_[pair] += count;
        where_[pair].insert(index);
      }
      words_.push_back(std::move(w));
    }
  }

  /// Heap order: higher count first, then the lexicographically smallest (left, right) bytes.
  bool worse_than(const HeapEntry& x, const HeapEntry& y) const {
    if (x.count != y.count) return x.count < y.count;
    const std::string& xl = symbol_bytes_[left_of(x.pair)];
    const std::string& yl = symbol_bytes_[left_of(y.pair)];
    if (xl != yl) return xl > yl;
    return symbol_bytes_[right_of(x.pair)] > symbol_bytes_[right_of(y.pair)];
  }

  /// Performs one merge; returns the pairs whose count changed, with their new counts.
  std::vector<std::pair<uint64_t, int64_t>> merge(uint64_t pair) {
    const int32_t a = left_of(pair), b = right_of(pair);
    const int32_t merged = add_symbol(symbol_bytes_[a] + symbol_bytes_[b]);
    merges_.push_back(pair);
    std::vector<int32_t> word_indices(where_[pair].begin(), where_[pair].end());
    std::sort(word_indices.begin(), word_indices.end());
    std::unordered_map<uint64_t, int64_t> delta;
    for (int32_t index : word_indices) rewrite_word(index, a, b, merged, &delta);
    std::vector<std::pair<uint64_t, int64_t>> changed;
    for (const auto& [p, d] : delta) {
      if (d == 0) continue;
      const int64_t count = pair_counts_[p] += d;
      if (count > 0) changed.emplace_back(p, count);
    }
    pair_counts_.erase(pair);
    where_.erase(pair);
    return changed;
  }

  /// Replaces each non-overlapping (a, b) in a word, left to right, by `merged`, and records
  /// how the pair counts change from the old symbol sequence to the new one.
  void rewrite_word(int32_t index, int32_t a, int32_t b, int32_t merged,
                    std::unordered_map<uint64_t, int64_t>* delta) {
    Word& w = words_[index];
    std::vector<int32_t>& s = w.symbols;
    std::vector<int32_t> out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
      const bool hit = i + 1 < s.size() && s[i] == a && s[i + 1] == b;
      out.push_back(hit ? merged : s[i]);
      i += hit ? 2 : 1;
    }
    if (out.size() == s.size()) return;  // stale index entry: the pair is no longer here
    for (std::size_t i = 0; i + 1 < s.size(); ++i) (*delta)[key_of(s[i], s[i + 1])] -= w.count;
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
      const uint64_t p = key_of(out[i], out[i + 1]);
      (*delta)[p] += w.count;
      // Only pairs with the new symbol are new to this word; the others are indexed already.
      if (out[i] == merged || out[i + 1] == merged) where_[p].insert(index);
    }
    s = std::move(out);
  }

  std::vector<std::string> symbol_bytes_;  // symbol id -> bytes
  std::unordered_map<std::string, int32_t> symbol_ids_;
  std::vector<Word> words_;
  std::unordered_map<uint64_t, int64_t> pair_counts_;
  std::unordered_map<uint64_t, std::unordered_set<int32_t>> where_;
  std::vector<uint64_t> merges_;  // in rank order
};

}  // namespace bpe_trainer_detail

BpeTokenizer train_bpe(std::string_view text, int64_t vocab_size, const BpeTrainOptions& opts) {
  const auto specials = static_cast<int64_t>(opts.special_tokens.size());
  if (vocab_size < 256 + specials) {
    throw TokenizerError("train_bpe: vocab_size " + std::to_string(vocab_size) +
                         " is too small; it must be at least 256 (the bytes) + " +
                         std::to_string(specials) + " special tokens");
  }
  bpe_trainer_detail::Trainer trainer(text);
  trainer.run(vocab_size - specials, opts);
  return trainer.finish(opts.special_tokens);
}

}  // namespace attn
