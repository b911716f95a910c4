// SPDX-License-Identifier: MIT
// daGPAM, dual-attention GPAM (Heo & Choi, arXiv 2410.15578; no official code): rows of the
// weights keep sum 1 but entries may be negative. Reconstruction of variants.md C.3 with
// lambda+ = 1 + lambda, lambda- = lambda; the exact equation, per-head lambda and W- init are
// unverified against the paper. Cost: two score products and softmaxes per head, plus Q W-.
#pragma once

#include <string>

#include "core/attention/score_attention.h"

namespace attn {

/// A+ = softmax(QK^T/sqrt(hd) + P + mask); Q- = ReLU(Q) W- (W- (H, hd, hd), from the unrotated
/// q, then rotated like any query); A- = softmax(Q- K^T/sqrt(hd) + P + mask), same keys, bias
/// and mask; A = (1 + lambda) A+ - lambda A- with lambda (H); out = A V. Shapes: q, Q-, k, v
/// (B, H, N, hd); A+, A-, A (B, H, N, N). Stages: raw, bias, logits_pos, logits_neg, probs_pos,
/// probs_neg, probs (signed A).
class DagpamAttentionImpl : public ScoreAttentionImpl {
 public:
  /// init: "random" (uniform +-1/sqrt(hd), a Linear's default) or "neg_identity" (W- = -I).
  DagpamAttentionImpl(const ModelConfig& config, PositionEncoding pe, double lambda,
                      bool lambda_trainable, const std::string& init);
  std::string name() const override { return "dagpam"; }

  /// The negative-branch query map, applied as ReLU(q) @ w_neg[h]: (H, hd, hd).
  torch::Tensor w_neg;
  /// The per-head mixing coefficient: (H); a parameter, or a buffer when not trainable.
  torch::Tensor lambda;

 protected:
  std::map<std::string, torch::Tensor> extra_tokens(const torch::Tensor& x,
                                                    const torch::Tensor& q,
                                                    const torch::Tensor& k) override;
  torch::Tensor weights(const Chunk& c, const torch::Tensor& logits) override;
  std::vector<std::string> extra_stages() const override {
    return {"logits_pos", "logits_neg", "probs_pos", "probs_neg"};
  }
  bool has_logits_stage() const override { return false; }
  /// Both branches' logits and maps plus A are alive at once: about three times dot's H.
  int64_t work_channels() const override { return 3 * n_head_; }
};

/// Per-row negative mass sum_j min(A_ij, 0) of signed weights (B, H, N, N): (B, H, N).
torch::Tensor negative_mass(const torch::Tensor& probs);

}  // namespace attn
