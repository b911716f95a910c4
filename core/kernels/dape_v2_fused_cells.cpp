// SPDX-License-Identifier: MIT
// The cells of a fused DAPE V2 view (dape_v2_fused_cells.h).
#include "core/kernels/dape_v2_fused_cells.h"

#include <limits>

namespace attn::dape_v2_fused_detail {

ViewCells::ViewCells(const DapeV2FusedView& w, int64_t H, const torch::Device& device)
    : rows((w.q1 - w.q0 + w.step - 1) / w.step), cols((w.k1 - w.k0 + w.step - 1) / w.step) {
  const float inf = std::numeric_limits<float>::infinity();
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  if (w.mean) {
    sum = torch::zeros({H, rows, cols}, f32.dtype(torch::kFloat64));
  } else {
    hi = torch::full({H, rows, cols}, -inf, f32);
    if (w.stage == "logits") lo = torch::full({H, rows, cols}, inf, f32);
  }
}

torch::Tensor ViewCells::finish(const DapeV2FusedView& w) const {
  // Causal entries of cell (r, c): rows [a, b) x keys [c0, c1) with key <= row. With
  // u(x) = clamp(x - c0, 0, c1 - c0), the rows below x hold
  // u(x) (u(x) + 1) / 2 + (c1 - c0) max(0, x - c1) of them.
  const auto& any = w.mean ? sum : hi;
  auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(any.device());
  auto r = torch::arange(rows, i64).unsqueeze(1), c = torch::arange(cols, i64).unsqueeze(0);
  auto ra = w.q0 + r * w.step, rb = torch::clamp_max(ra + w.step, w.q1);
  auto ca = w.k0 + c * w.step, cbd = torch::clamp_max(ca + w.step, w.k1);
  auto below = [&](const torch::Tensor& x) {
    auto u = torch::minimum(torch::clamp_min(x - ca, 0), cbd - ca);
    return u * (u + 1) / 2 + (cbd - ca) * torch::clamp_min(x - cbd, 0);
  };
  const auto count = below(rb) - below(ra);  // (rows, cols)
  const auto empty = (count == 0).unsqueeze(0);
  torch::Tensor out;
  if (w.mean) {
    out = (sum / count.to(torch::kFloat64).unsqueeze(0)).to(torch::kFloat32);
  } else {
    out = lo.defined() ? torch::where(hi.abs() >= lo.abs(), hi, lo) : hi;
  }
  return out.masked_fill(empty, std::numeric_limits<float>::quiet_NaN());
}

}  // namespace attn::dape_v2_fused_detail
