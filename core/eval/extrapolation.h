// SPDX-License-Identifier: MIT
// Length extrapolation: a checkpoint's perplexity and attention statistics at several input
// lengths over one evaluation text. For each length, K windows of `length` input tokens (and the
// token after each, the last target) are placed deterministically and evenly over the text:
// window j of K starts at round(j * (T - length - 1) / (K - 1)) (0 when K = 1), so every
// checkpoint with the same tokenizer sees the same windows. Everything is computed in query
// chunks: nothing of size N^2 per layer is kept.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/model/transformer.h"

namespace attn {

constexpr int kEvalFormatVersion = 1;

struct EvalOptions {
  std::vector<int64_t> lengths = {128, 256, 512, 1024, 2048, 4096};
  int64_t windows = 8;        // K windows per length
  int64_t tail = 256;         // perplexity of the last `tail` predictions (the DAPE protocol)
  int64_t local_window = 16;  // "local" attention mass: keys with i - j < local_window
  int64_t max_chunk_elements = 0;  // 0: the device's chunk budget (tests make chunks small)
};

/// Mean, standard deviation (n - 1; 0 for one value), minimum and maximum.
struct Spread {
  double mean = 0, sd = 0, min = 0, max = 0;
};
Spread spread_of(const std::vector<double>& xs);

struct LayerStats {
  // Per head, averaged over every query row of every window:
  std::vector<double> entropy;   // of |p| / sum |p| over the keys (nats)
  std::vector<double> distance;  // sum_j p_ij (i - j): mean attention distance in tokens
  std::vector<double> sink;      // p_i0: mass on the first token
  std::vector<double> local;     // sum over keys with i - j < local_window
  std::vector<double> negative;  // sum_j min(p_ij, 0): 0 unless weights are signed (daGPAM)
  // Of the block's output X (N x C), averaged over windows:
  double residual = 0;  // ||X - 1 mean(X)||_F / ||X||_F: 0 when every token is the same vector
  double cosine = 0;    // mean cosine similarity of distinct token pairs
};

struct LengthResult {
  int64_t length = 0, windows = 0;
  double ppl_tail = 0, ppl_window = 0;   // exp of the mean NLL pooled over the windows
  std::vector<double> tail_ppl, window_ppl;  // per window
  std::vector<LayerStats> layers;
};

/// The window starts for `length` over `n_tokens` (see above). Throws attn::Error naming the
/// length and the text's size when the text is shorter than length + 1 tokens.
std::vector<int64_t> eval_window_starts(int64_t n_tokens, int64_t length, int64_t windows);

/// One checkpoint at one length. `tokens`: int64 ids on the CPU. `on_window` runs after each
/// window. Cancellable through `cancel` (throws attn::Cancelled).
LengthResult evaluate_length(TransformerLM& model, const torch::Tensor& tokens, int64_t length,
                             const EvalOptions& opts, const torch::Device& device,
                             const std::atomic<bool>* cancel = nullptr,
                             const std::function<void()>& on_window = {});

/// The JSON of one length's result (format in README.md, "Length extrapolation results").
nlohmann::json length_result_json(const LengthResult& r);

}  // namespace attn
