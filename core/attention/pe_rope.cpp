// SPDX-License-Identifier: MIT
#include "core/attention/pe_rope.h"

#include "core/util/error.h"

namespace attn {

RoPEImpl::RoPEImpl(int64_t head_dim, double base) : head_dim_(head_dim), base_(base) {
  if (head_dim % 2 != 0) {
    throw ConfigError("RoPE needs an even head dimension (d_model / n_head), got " +
                      std::to_string(head_dim));
  }
}

std::pair<torch::Tensor, torch::Tensor> RoPEImpl::angles(int64_t n,
                                                         const torch::Device& device) const {
  auto opts = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  auto inv_freq = torch::pow(base_, -torch::arange(0, head_dim_, 2, opts) / double(head_dim_));
  auto pos = torch::arange(n, opts);
  auto freqs = torch::outer(pos, inv_freq);  // (N, head_dim / 2)
  auto emb = torch::cat({freqs, freqs}, -1);  // (N, head_dim)
  return {emb.cos(), emb.sin()};
}

torch::Tensor rope_apply(const torch::Tensor& x, const torch::Tensor& cos,
                         const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, half);
  auto x2 = x.narrow(-1, half, half);
  auto rotated = torch::cat({-x2, x1}, -1);  // rotate_half(x)
  auto c = cos.to(x.scalar_type());
  auto s = sin.to(x.scalar_type());
  return x * c + rotated * s;
}

torch::Tensor RoPEImpl::rotate(const torch::Tensor& t) const {
  auto [cos, sin] = angles(t.size(-2), t.device());
  return rope_apply(t, cos, sin);
}

}  // namespace attn
