// SPDX-License-Identifier: MIT
// The readable spec of the fused DAPE V2 forward, in float64 ATen ops over the whole N x N
// square: the same math as DapeV2Impl (core/attention/dape_v2.cpp) without its query chunks.
#include "core/kernels/dape_v2_fused.h"

#include <limits>

namespace attn {

torch::Tensor dape_v2_fused_ref_logits(const torch::Tensor& q, const torch::Tensor& k,
                                       const DapeV2FusedParams& p) {
  TORCH_CHECK(q.dim() == 4 && k.sizes() == q.sizes(),
              "dape_v2_fused_ref: q and k must be (B, H, N, head_dim) of one shape; got ",
              q.sizes(), ", ", k.sizes());
  const auto f64 = torch::kFloat64;
  const int64_t N = q.size(2), kernel = p.conv1_weight.size(3);
  auto S = torch::matmul(q.to(f64), k.to(f64).transpose(-2, -1)) * p.scale;  // (B, H, N, N)
  auto opts = torch::TensorOptions().dtype(torch::kInt64).device(q.device());
  auto i = torch::arange(N, opts).unsqueeze(1), j = torch::arange(N, opts).unsqueeze(0);
  auto future = j > i;                                                       // (N, N)
  torch::Tensor X = S, logits = S;
  if (p.bias_by_distance.defined()) {
    const auto table = p.bias_by_distance.to(f64);                           // (H, N)
    auto dist = (i - j).clamp_min(0).flatten();
    auto P = table.index_select(1, dist).view({-1, N, N}).masked_fill(future, 0.0);  // (H, N, N)
    X = torch::cat({S, P.unsqueeze(0).expand_as(S)}, 1);                     // (B, 2H, N, N)
    logits = S + P;
  }
  X = X.masked_fill(future, 0.0);  // tril: the future is zero before the convolutions
  const std::vector<int64_t> stride{1, 1}, pad{0, kernel / 2};
  auto h = torch::conv2d(X, p.conv1_weight.to(f64), p.conv1_bias.to(f64), stride, pad);
  h = torch::leaky_relu(h, 0.01);
  auto F = torch::conv2d(h, p.conv2_weight.to(f64), p.conv2_bias.to(f64), stride, pad);
  return (logits + F).masked_fill(future, -std::numeric_limits<double>::infinity());
}

torch::Tensor dape_v2_fused_ref(const torch::Tensor& q, const torch::Tensor& k,
                                const torch::Tensor& v, const DapeV2FusedParams& p) {
  TORCH_CHECK(v.sizes() == q.sizes(), "dape_v2_fused_ref: v must be q's shape ", q.sizes(),
              "; got ", v.sizes());
  const auto logits = dape_v2_fused_ref_logits(q, k, p);
  return torch::matmul(torch::softmax(logits, -1), v.to(torch::kFloat64));  // (B, H, N, d)
}

}  // namespace attn
