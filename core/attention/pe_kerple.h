// SPDX-License-Identifier: MIT
// Kerple, logarithmic variant (Chi et al.; dape.md §3.4): P[h, i, j] = -p_h log(1 + a_h (i - j))
// for j <= i, else 0, with learnable p ~ U(0, 2) and a ~ U(0, 1), both clamped in place to at
// least 0.01 before each use, as the official code does. Distances are exact (not fp16).
#pragma once

#include "core/attention/position_encoding.h"

namespace attn {

class KerpleImpl : public PositionEncodingImpl {
 public:
  static constexpr double kMinParam = 1e-2;
  explicit KerpleImpl(int64_t n_head);
  std::string name() const override { return "kerple"; }
  bool has_bias() const override { return true; }
  torch::Tensor bias(int64_t r0, int64_t r1, int64_t n_keys) const override;
  void prepare() override;

  torch::Tensor p, a;  // (H) each
};

}  // namespace attn
