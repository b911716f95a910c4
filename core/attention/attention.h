// SPDX-License-Identifier: MIT
// The one attention interface. A variant maps x (B, N, C) to (B, N, C), causally, reports its
// stage maps through a StageSink, and names its stages. Variants are registered by one explicit
// line each in registry.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/attention/stage_sink.h"
#include "core/model/config.h"

namespace attn {

class AttentionImpl : public torch::nn::Module {
 public:
  /// x: (B, N, C) -> (B, N, C). Causal: output t depends on inputs <= t only.
  virtual torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in) = 0;
  virtual std::string name() const = 0;
  /// The stage names this variant reports, in display order.
  virtual std::vector<std::string> stages() const = 0;
};

using Attention = std::shared_ptr<AttentionImpl>;

/// Builds the variant named by config.attention.variant for layer `layer`; throws ConfigError
/// for an unknown variant (listing the known ones) or a bad parameter (naming it).
Attention make_attention(const ModelConfig& config, int64_t layer, const std::string& where);
/// The registered variant names.
std::vector<std::string> attention_variants();

}  // namespace attn
