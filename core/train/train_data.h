// SPDX-License-Identifier: MIT
// The token streams of a run: the tokenizer the config names, the train and validation texts
// tokenized once (runs that share them can share one TrainData), and the window arithmetic
// of validation and of the unigram baseline.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/model/transformer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/train/train_config.h"

namespace attn {

struct TrainData {
  std::shared_ptr<Tokenizer> tokenizer;
  torch::Tensor train, validation;  // int64 token ids on the CPU
};

/// Reads, decodes and tokenizes the config's files. Throws ConfigError naming the file when a
/// split is too short for one window of train_len + 1 tokens or the tokenizer is larger than
/// model.vocab_size.
std::shared_ptr<const TrainData> load_train_data(const TrainConfig& config);
/// Runs sharing these paths can share their TrainData.
std::string train_data_key(const TrainConfig& config);

/// Starts of the non-overlapping windows of `len` inputs (+1 target) in `n_tokens`: all of
/// them (max_windows 0 or at least their number), or max_windows of them spread evenly.
std::vector<int64_t> window_starts(int64_t n_tokens, int64_t len, int64_t max_windows);

struct NllResult {
  double nll = 0;  // mean next-token negative log-likelihood (nats)
  int64_t tokens = 0, windows = 0;
  double perplexity() const;
};

/// The model's mean NLL over the windows of window_starts(tokens, len, max_windows), float32,
/// in batches of `batch` windows. The model is left in eval mode.
NllResult evaluate_nll(TransformerLM& model, const torch::Tensor& tokens, int64_t len,
                       int64_t max_windows, int64_t batch, const torch::Device& device,
                       const std::atomic<bool>* cancel = nullptr);

/// The same targets scored by a unigram model of the train split with add-one smoothing over
/// `vocab` tokens: the baseline every trained model must beat.
NllResult unigram_nll(const torch::Tensor& train, const torch::Tensor& tokens, int64_t vocab,
                      int64_t len, int64_t max_windows);

}  // namespace attn
