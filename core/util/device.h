// SPDX-License-Identifier: MIT
// Run-time choice of device and precision, and LibTorch's thread count (it starts with one
// intra-op thread on small machines; toolchain.md pitfall 5).
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

namespace attn {

/// "cpu" or "cuda" (also "cuda:N"); CUDA falls back to the CPU with a note in `warnings` when no
/// GPU is usable. Throws ConfigError for other names.
torch::Device resolve_device(const std::string& name, std::vector<std::string>* warnings);
/// The precision of a model on `device`, which resolve_device() gave for `asked_device`:
/// "float32" (also ""), "bfloat16" or "float16". Half types need CUDA: where CUDA was asked for
/// but the device fell back to the CPU they fall back to float32, with a note in `warnings`;
/// on a CPU asked for they are a ConfigError, as is any other name (naming it and the three).
torch::Dtype resolve_precision(const std::string& name, const std::string& asked_device,
                               const torch::Device& device, std::vector<std::string>* warnings);
/// "float32", "bfloat16", "float16" (or the dtype's own name for any other).
std::string precision_name(torch::Dtype dtype);
/// Sets LibTorch's intra-op threads to `threads`, or to the machine's cores when 0 (the first
/// call in a process decides).
void init_torch_threads(int threads = 0);

}  // namespace attn
