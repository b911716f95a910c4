// SPDX-License-Identifier: MIT
// Mixed precision for training: while an AutocastGuard is alive (and enabled), CUDA operations
// of this thread run in bfloat16 where LibTorch's autocast lists allow it (matrix products,
// convolutions), in float32 elsewhere (softmax, norms, losses). Hides the API change between
// LibTorch 1.13 and 2.x.
#pragma once

#include <torch/torch.h>

namespace attn {

class AutocastGuard {
 public:
  /// Enabled only for a CUDA `device` and `enabled` true; otherwise does nothing.
  AutocastGuard(const torch::Device& device, bool enabled);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
  bool prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kHalf;
};

}  // namespace attn
