// SPDX-License-Identifier: MIT
// The position-encoding interface (../shared/specs/dape.md §3): an encoding either rotates q and
// k (RoPE) or adds a bias P[h, i, j] to the scaled scores (ALiBi, Kerple, FIRE), or does nothing
// (NoPE). Bias rows are produced on demand for a query chunk, so no N x N bias is cached.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/model/config.h"

namespace attn {

class PositionEncodingImpl : public torch::nn::Module {
 public:
  virtual std::string name() const = 0;
  /// True when bias() returns a tensor.
  virtual bool has_bias() const { return false; }
  /// Rotates a query or key tensor (B, H, N, head_dim), positions 0..N-1. Identity by default.
  virtual torch::Tensor rotate(const torch::Tensor& t) const { return t; }
  /// Additive bias for query rows [r0, r1) over keys [0, n_keys): (H, r1 - r0, n_keys), in the
  /// parameters' floating dtype (float32 for half parameters). Undefined when has_bias() is false.
  virtual torch::Tensor bias(int64_t r0, int64_t r1, int64_t n_keys) const { return {}; }
  /// Called once per forward pass before rotate()/bias() (Kerple clamps its parameters here).
  virtual void prepare() {}
  /// Values held per score cell while computing the bias (for chunk sizing).
  virtual int64_t work_channels() const { return 1; }
};

using PositionEncoding = std::shared_ptr<PositionEncodingImpl>;

/// Builds the encoding named by config.position.kind; throws ConfigError for an unknown kind
/// (listing the known ones) or a bad parameter (naming it).
PositionEncoding make_position_encoding(const ModelConfig& config, const std::string& where);
/// The known position-encoding kinds.
std::vector<std::string> position_encoding_kinds();

/// Distances d = max(i - j, 0) for query rows [r0, r1) and keys [0, n_keys), as a
/// (r1 - r0, n_keys) tensor of `options` (float32 or float64), exact at any length.
torch::Tensor causal_distances(int64_t r0, int64_t r1, int64_t n_keys,
                               const torch::TensorOptions& options);
/// The floating dtype a bias is computed in for parameters of dtype `dtype`.
torch::Dtype bias_compute_dtype(torch::Dtype dtype);

}  // namespace attn
