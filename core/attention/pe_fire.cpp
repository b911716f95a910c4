// SPDX-License-Identifier: MIT
#include "core/attention/pe_fire.h"

namespace attn {

FIREImpl::FIREImpl(int64_t n_head, int64_t width, double threshold, bool leaky)
    : width_(width), threshold_(threshold), leaky_(leaky) {
  fc1 = register_module("fc1", torch::nn::Linear(1, width));
  fc2 = register_module("fc2", torch::nn::Linear(width, n_head));
  c = register_parameter("c", torch::full({1}, 0.1));
  L_multiplier = register_parameter("L_multiplier", torch::full({1}, 1.0));
}

torch::Tensor FIREImpl::bias(int64_t r0, int64_t r1, int64_t n_keys) const {
  // Distances and the normalisation in float32 (or float64), as dape.md §3.5 asks.
  const auto dtype = bias_compute_dtype(c.scalar_type());
  const auto opts = c.options().dtype(dtype);
  auto cc = c.to(dtype);
  auto d = causal_distances(r0, r1, n_keys, opts);                       // (R, K)
  auto i = torch::arange(r0, r1, opts).unsqueeze(1);                    // (R, 1)
  auto L = (L_multiplier.to(dtype) * threshold_).abs();
  auto psi = [&](const torch::Tensor& x) { return torch::log((cc * x).abs() + 1.0); };
  auto x = psi(d) / (psi(torch::maximum(i, L)) + 1e-6);                  // (R, K)
  auto w_dtype = fc1->weight.scalar_type();
  auto h = torch::linear(x.unsqueeze(-1).to(w_dtype), fc1->weight, fc1->bias);                    // (R, K, width)
  h = leaky_ ? torch::leaky_relu(h, 0.01) : torch::relu(h);
  auto out = torch::linear(h, fc2->weight, fc2->bias);                                            // (R, K, H)
  return out.permute({2, 0, 1}).to(dtype);                               // (H, R, K)
}

}  // namespace attn
