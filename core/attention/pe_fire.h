// SPDX-License-Identifier: MIT
// FIRE (Li et al.; dape.md §3.5): P[:, i, j] = MLP(psi(i - j) / (psi(max(i, L)) + 1e-6)) with
// psi(x) = log(|c x| + 1), MLP 1 -> width -> H, learnable c (init 0.1) and L_multiplier
// (init 1), L = |L_multiplier| * threshold; the threshold defaults to half the training length,
// as in the official code (dape.md §8 #7 notes the FIRE paper does not halve it).
#pragma once

#include "core/attention/position_encoding.h"

namespace attn {

class FIREImpl : public PositionEncodingImpl {
 public:
  FIREImpl(int64_t n_head, int64_t width, double threshold, bool leaky);
  std::string name() const override { return "fire"; }
  bool has_bias() const override { return true; }
  torch::Tensor bias(int64_t r0, int64_t r1, int64_t n_keys) const override;
  int64_t work_channels() const override { return width_; }
  double threshold() const { return threshold_; }

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::Tensor c, L_multiplier;  // (1) each

 private:
  int64_t width_;
  double threshold_;
  bool leaky_;
};

}  // namespace attn
