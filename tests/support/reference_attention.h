// SPDX-License-Identifier: MIT
// Plain float64 building blocks shared by the variants' reference tests: a module's linear
// projection by parameter name, and its split into heads, written out without the module's code.
#pragma once

#include <string>

#include <torch/torch.h>

namespace attn::test {

/// y = x W^T + b with the module's parameters `name`.weight and `name`.bias.
inline torch::Tensor project(torch::nn::Module& module, const std::string& name,
                             const torch::Tensor& x) {
  auto params = module.named_parameters();
  return torch::matmul(x, params[name + ".weight"].t()) + params[name + ".bias"];
}

/// (B, N, H * D) -> (B, H, N, D).
inline torch::Tensor split_heads(const torch::Tensor& t, int64_t n_head) {
  const int64_t B = t.size(0), N = t.size(1), D = t.size(2) / n_head;
  return t.view({B, N, n_head, D}).transpose(1, 2);
}

/// The projection `name` of x split into heads: (B, H, N, D), unrotated.
inline torch::Tensor project_heads(torch::nn::Module& module, const std::string& name,
                                   const torch::Tensor& x, int64_t n_head) {
  return split_heads(project(module, name, x), n_head);
}

}  // namespace attn::test
