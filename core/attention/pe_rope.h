// SPDX-License-Identifier: MIT
// NoPE (nothing) and RoPE (rotate-half, GPT-NeoX convention, full head dimension, base 10000;
// dape.md §3.1-3.2). Angles are computed in float64 for any length: there is no maximum-length
// assert, unlike the official code's cache (dape.md §8 #5).
#pragma once

#include "core/attention/position_encoding.h"

namespace attn {

class NoPEImpl : public PositionEncodingImpl {
 public:
  std::string name() const override { return "nope"; }
};

class RoPEImpl : public PositionEncodingImpl {
 public:
  RoPEImpl(int64_t head_dim, double base);
  std::string name() const override { return "rope"; }
  torch::Tensor rotate(const torch::Tensor& t) const override;
  /// cos and sin of the angles for positions [0, n): each (n, head_dim), float64.
  std::pair<torch::Tensor, torch::Tensor> angles(int64_t n, const torch::Device& device) const;

 private:
  int64_t head_dim_;
  double base_;
};

/// Rotate-half RoPE of x (..., N, head_dim) with cos/sin (N, head_dim).
torch::Tensor rope_apply(const torch::Tensor& x, const torch::Tensor& cos,
                         const torch::Tensor& sin);

}  // namespace attn
