// SPDX-License-Identifier: MIT
#include "core/util/side_stream.h"

#ifdef ATTN_TORCH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace attn {

#ifdef ATTN_TORCH_CUDA
struct SideStreamGuard::Impl {
  explicit Impl(c10::cuda::CUDAStream s) : guard(s) {}
  c10::cuda::CUDAStreamGuard guard;
};

SideStreamGuard::SideStreamGuard(const torch::Device& device) {
  if (!device.is_cuda()) return;
  torch::cuda::synchronize(device.has_index() ? device.index() : -1);
  impl_ = std::make_unique<Impl>(c10::cuda::getStreamFromPool(false, device.index()));
}

SideStreamGuard::~SideStreamGuard() {
  if (impl_) impl_->guard.current_stream().synchronize();
}
#else
struct SideStreamGuard::Impl {};
SideStreamGuard::SideStreamGuard(const torch::Device&) {}
SideStreamGuard::~SideStreamGuard() = default;
#endif

}  // namespace attn
