// SPDX-License-Identifier: MIT
// ALiBi (Press et al.; dape.md §3.3): P[h, i, j] = -m_h (i - j) for j <= i, else 0, with the
// standard slopes for any head count (powers of two or not). Slopes are a buffer, not trained.
#pragma once

#include <vector>

#include "core/attention/position_encoding.h"

namespace attn {

/// The standard ALiBi slopes for n heads: 2^(-8(h+1)/n) for a power of two n; otherwise those of
/// the largest power of two below n, then every other slope of twice that, truncated.
std::vector<double> alibi_slopes(int64_t n_head);

class ALiBiImpl : public PositionEncodingImpl {
 public:
  explicit ALiBiImpl(int64_t n_head);
  std::string name() const override { return "alibi"; }
  bool has_bias() const override { return true; }
  torch::Tensor bias(int64_t r0, int64_t r1, int64_t n_keys) const override;

 private:
  torch::Tensor slopes_;  // (H), buffer
};

}  // namespace attn
