// SPDX-License-Identifier: MIT
#include "core/attention/pe_kerple.h"

namespace attn {

KerpleImpl::KerpleImpl(int64_t n_head) {
  p = register_parameter("p", 2.0 * torch::rand({n_head}));
  a = register_parameter("a", torch::rand({n_head}));
}

void KerpleImpl::prepare() {
  torch::NoGradGuard no_grad;
  p.clamp_min_(kMinParam);
  a.clamp_min_(kMinParam);
}

torch::Tensor KerpleImpl::bias(int64_t r0, int64_t r1, int64_t n_keys) const {
  const auto dtype = bias_compute_dtype(p.scalar_type());
  // The clamp is applied here too (out of place), so a bias is right even if prepare() was
  // skipped; prepare() keeps the stored values clamped as the official code does.
  auto pp = p.to(dtype).clamp_min(kMinParam).view({-1, 1, 1});
  auto aa = a.to(dtype).clamp_min(kMinParam).view({-1, 1, 1});
  auto d = causal_distances(r0, r1, n_keys, p.options().dtype(dtype)).unsqueeze(0);  // (1, R, K)
  return -pp * torch::log1p(aa * d);  // (H, R, K)
}

}  // namespace attn
