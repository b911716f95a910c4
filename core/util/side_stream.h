// SPDX-License-Identifier: MIT
// Work of one thread on its own CUDA stream, so that several small models trained in one
// process (train-set) run their kernels side by side on the GPU instead of queueing on the one
// default stream. A no-op on the CPU and in builds whose LibTorch has no CUDA.
#pragma once

#include <memory>

#include <torch/torch.h>

namespace attn {

class SideStreamGuard {
 public:
  /// On a CUDA `device`: waits for the device's queued work (tensors made on other streams),
  /// then makes a stream from LibTorch's pool this thread's current stream.
  explicit SideStreamGuard(const torch::Device& device);
  /// Waits for the stream's work and restores the previous stream.
  ~SideStreamGuard();
  SideStreamGuard(const SideStreamGuard&) = delete;
  SideStreamGuard& operator=(const SideStreamGuard&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attn
