// SPDX-License-Identifier: MIT
// The cells of a fused DAPE V2 view (dape_v2_fused_view, internal to core/kernels): the
// accumulators the kernel's pooling passes fold entries into, and their finishing into the
// view (ATen ops, no kernel code).
#pragma once

#include <torch/torch.h>

#include "core/kernels/dape_v2_fused.h"

namespace attn::dape_v2_fused_detail {

/// The (H, rows, cols) cells of view `w`: maxima `hi` (Extreme), minima `lo` (Extreme, logits)
/// or float64 sums `sum` (Mean), defined as the pool and stage need them, at their identities.
struct ViewCells {
  int64_t rows = 0, cols = 0;
  torch::Tensor hi, lo, sum;
  ViewCells(const DapeV2FusedView& w, int64_t H, const torch::Device& device);
  /// The view, (H, rows, cols) float32: the extreme of larger magnitude or the mean over the
  /// cell's causal entries; NaN in cells without one.
  torch::Tensor finish(const DapeV2FusedView& w) const;
};

}  // namespace attn::dape_v2_fused_detail
