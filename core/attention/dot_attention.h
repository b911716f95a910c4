// SPDX-License-Identifier: MIT
// Dot-product attention (Vaswani et al.): logits = QK^T / sqrt(head_dim) + P, where P is the
// position encoding's bias (none for NoPE and RoPE). The baseline every other variant extends:
// it is ScoreAttention with the default hooks. Cost per layer: about H * head_dim * N^2 MACs.
#pragma once

#include "core/attention/score_attention.h"

namespace attn {

class DotAttentionImpl : public ScoreAttentionImpl {
 public:
  using ScoreAttentionImpl::ScoreAttentionImpl;
  std::string name() const override { return "dot"; }
};

}  // namespace attn
