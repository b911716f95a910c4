// SPDX-License-Identifier: MIT
// Small models and inputs shared by the core tests.
#pragma once

#include <string>

#include <torch/torch.h>

#include "core/model/config.h"
#include "core/model/transformer.h"

namespace attn::test {

/// A 2-layer, d_model 32, 4-head model with the given position encoding and variant.
inline ModelConfig tiny_config(const std::string& position, const std::string& variant = "dot") {
  ModelConfig c;
  c.vocab_size = 256;  // the byte tokenizer's size, so checkpoints can use it
  c.d_model = 32;
  c.n_layer = 2;
  c.n_head = 4;
  c.train_len = 16;
  c.attention.variant = variant;
  c.position.kind = position;
  if (position == "fire") c.position.params = {{"threshold", 4}};
  return c;
}

/// A seeded model in float64 (for reference comparisons) or float32.
inline TransformerLM tiny_model(const std::string& position, torch::Dtype dtype = torch::kFloat64,
                                uint64_t seed = 7) {
  torch::manual_seed(seed);
  TransformerLM m(tiny_config(position));
  m->to(dtype);
  m->eval();
  return m;
}

/// Random token ids (1, n) below `vocab`.
inline torch::Tensor random_ids(int64_t n, int64_t vocab = 64, uint64_t seed = 11) {
  torch::manual_seed(seed);
  return torch::randint(vocab, {1, n}, torch::kInt64);
}

inline const std::vector<std::string>& all_positions() {
  static const std::vector<std::string> kAll = {"nope", "rope", "alibi", "kerple", "fire"};
  return kAll;
}

}  // namespace attn::test
