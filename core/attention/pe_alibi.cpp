// SPDX-License-Identifier: MIT
#include "core/attention/pe_alibi.h"

#include <cmath>

namespace attn {

namespace {
std::vector<double> alibi_power_of_two(int64_t n) {
  const double start = std::pow(2.0, -std::pow(2.0, -(std::log2(double(n)) - 3.0)));
  std::vector<double> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(start * std::pow(start, double(i)));
  return out;
}
}  // namespace

std::vector<double> alibi_slopes(int64_t n_head) {
  const double lg = std::log2(double(n_head));
  if (std::floor(lg) == lg) return alibi_power_of_two(n_head);
  const int64_t closest = int64_t{1} << int64_t(std::floor(lg));
  auto out = alibi_power_of_two(closest);
  const auto extra = alibi_slopes(2 * closest);
  for (int64_t i = 0; i < n_head - closest; ++i) out.push_back(extra[2 * i]);
  return out;
}

ALiBiImpl::ALiBiImpl(int64_t n_head) {
  const auto s = alibi_slopes(n_head);
  slopes_ = register_buffer("slopes", torch::tensor(s, torch::kFloat64).to(torch::kFloat32));
}

torch::Tensor ALiBiImpl::bias(int64_t r0, int64_t r1, int64_t n_keys) const {
  const auto dtype = bias_compute_dtype(slopes_.scalar_type());
  auto d = causal_distances(r0, r1, n_keys, slopes_.options().dtype(dtype));  // (R, K)
  return -slopes_.to(dtype).view({-1, 1, 1}) * d.unsqueeze(0);                 // (H, R, K)
}

}  // namespace attn
