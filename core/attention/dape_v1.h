// SPDX-License-Identifier: MIT
// DAPE V1 (Zheng et al., NeurIPS 2024, arXiv 2405.14722; dape.md §2.2): an MLP across heads at
// every (query, key) pair, logits = S + P + MLP([S ; P]) with MLP 2H -> D -> H and LeakyReLU
// 0.01 ("Concat_Residual", as the official code), or S + MLP(S), H -> D -> H, for NoPE and RoPE.
// Each pair is processed alone, so no tril is needed. Cost: 3 H D N^2 / 2 extra MACs a layer.
#pragma once

#include "core/attention/score_attention.h"

namespace attn {

class DapeV1Impl : public ScoreAttentionImpl {
 public:
  DapeV1Impl(const ModelConfig& config, PositionEncoding pe, int64_t width);
  std::string name() const override { return "dape_v1"; }

  torch::nn::Linear mlp1{nullptr}, mlp2{nullptr};

 protected:
  torch::Tensor logits(const Chunk& c) override;
  std::vector<std::string> extra_stages() const override { return {"mlp"}; }
  int64_t work_channels() const override { return std::max(width_, 2 * n_head_); }

 private:
  int64_t width_;
};

}  // namespace attn
