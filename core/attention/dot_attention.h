// SPDX-License-Identifier: MIT
// Dot-product attention (Vaswani et al.): logits = QK^T / sqrt(head_dim) + P, where P is the
// position encoding's bias (none for NoPE and RoPE). The baseline every other variant extends.
// Cost per layer: 2 * H * head_dim * N^2 / 2 multiply-adds (causal keys only).
#pragma once

#include "core/attention/score_attention.h"

namespace attn {

class DotAttentionImpl : public ScoreAttentionImpl {
 public:
  using ScoreAttentionImpl::ScoreAttentionImpl;
  std::string name() const override { return "dot"; }

 protected:
  torch::Tensor process(const torch::Tensor& S, const torch::Tensor& P, int64_t row_begin,
                        const StageRecorder& record) override;
};

}  // namespace attn
