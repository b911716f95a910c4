// SPDX-License-Identifier: MIT
// The shared body of every variant that forms explicit scores: q/k/v/o projections, the
// position encoding, and the causal loop over query-row chunks (keys [0, row_end) only), so no
// tensor exceeds the chunk budget at any length. A variant supplies process(): S, P -> logits.
#pragma once

#include <functional>

#include "core/attention/attention.h"
#include "core/attention/position_encoding.h"

namespace attn {

/// Reports one stage of the current chunk (no-op when the layer is not traced).
using StageRecorder = std::function<void(const std::string& stage, const torch::Tensor& rows)>;

class ScoreAttentionImpl : public AttentionImpl {
 public:
  ScoreAttentionImpl(const ModelConfig& config, PositionEncoding pe);
  torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in) override;
  std::vector<std::string> stages() const override;
  const PositionEncoding& position_encoding() const { return pe_; }

 protected:
  /// Logits for a chunk from the scaled scores S (B, H, R, K) and the bias P (H, R, K; undefined
  /// without a bias encoding). Rows are queries row_begin..row_begin+R-1. Extra stages go to
  /// `record`. Entries with key > query may hold anything: they are masked afterwards.
  virtual torch::Tensor process(const torch::Tensor& S, const torch::Tensor& P,
                                int64_t row_begin, const StageRecorder& record) = 0;
  /// Stages process() reports, between "bias" and "logits".
  virtual std::vector<std::string> extra_stages() const { return {}; }
  /// Values held per score cell by process() (for chunk sizing).
  virtual int64_t work_channels() const { return 1; }

  int64_t n_head_, head_dim_;
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  int64_t pick_chunk_rows(const AttentionInputs& in, int64_t B, int64_t N,
                          const torch::Device& device) const;
  PositionEncoding pe_;
};

/// Zeroes entries with key > query in rows (..., R, K) that start at query row_begin.
torch::Tensor zero_future(const torch::Tensor& rows, int64_t row_begin);
/// Boolean (R, K) mask, true where key > query.
torch::Tensor future_mask(int64_t row_begin, int64_t R, int64_t K, const torch::Device& device);

}  // namespace attn
