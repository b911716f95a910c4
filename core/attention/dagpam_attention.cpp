// SPDX-License-Identifier: MIT
// daGPAM (Heo & Choi, arXiv 2410.15578): two softmax branches over the same keys, bias and mask,
// mixed with signed per-head coefficients so each row still sums to 1. The product with V uses
// the signed map through the base class (the explicit maps are kept for the visualiser; a fused
// kernel would combine the two branches' outputs instead, variants.md C.7).
#include "core/attention/dagpam_attention.h"

#include <cmath>

#include "core/attention/registry.h"
#include "core/util/error.h"

namespace attn {

DagpamAttentionImpl::DagpamAttentionImpl(const ModelConfig& config, PositionEncoding pe,
                                         double lambda0, bool lambda_trainable,
                                         const std::string& init)
    : ScoreAttentionImpl(config, pe) {
  const int64_t H = config.n_head, hd = config.head_dim();
  torch::Tensor w;
  if (init == "neg_identity") {
    // The regime of the paper's gradient argument (S- ~ -S+ when ReLU ~ identity) [U].
    w = -torch::eye(hd).unsqueeze(0).repeat({H, 1, 1});  // (H, hd, hd)
  } else {
    // A Linear's default bound 1/sqrt(fan_in) with fan_in = hd (the ILDC adaptation uses one).
    const double bound = 1.0 / std::sqrt(double(hd));
    w = torch::empty({H, hd, hd}).uniform_(-bound, bound);  // (H, hd, hd)
  }
  w_neg = register_parameter("w_neg", w);
  auto l = torch::full({H}, lambda0);  // (H)
  lambda = lambda_trainable ? register_parameter("lambda", l) : register_buffer("lambda", l);
}

std::map<std::string, torch::Tensor> DagpamAttentionImpl::extra_tokens(const torch::Tensor&,
                                                                       const torch::Tensor& q,
                                                                       const torch::Tensor&) {
  // ReLU on the unrotated query; the base rotates Q- like q afterwards (RoPE).
  return {{"q_neg", torch::matmul(torch::relu(q), w_neg)}};  // (B, H, N, hd)
}

torch::Tensor DagpamAttentionImpl::weights(const Chunk& c, const torch::Tensor& logits) {
  const double scale = 1.0 / std::sqrt(double(head_dim_));
  auto q_neg = c.extra_rows("q_neg");                                           // (B, H, R, hd)
  // Same order of operations as the base's S, so both branches round alike.
  auto s_neg = (torch::matmul(q_neg, c.k.transpose(-2, -1)) * scale).to(c.work_dtype);
  auto logits_neg = c.P.defined() ? s_neg + c.P : s_neg;                        // (B, H, R, K)
  auto logits_pos = logits.to(c.work_dtype);                                    // (B, H, R, K)
  c.record("logits_pos", logits_pos);
  c.record("logits_neg", logits_neg);
  auto probs_pos = masked_softmax(logits_pos, c.mask);                          // (B, H, R, K)
  auto probs_neg = masked_softmax(logits_neg, c.mask);                          // (B, H, R, K)
  c.record("probs_pos", probs_pos);
  c.record("probs_neg", probs_neg);
  auto lam = lambda.to(c.work_dtype).view({1, -1, 1, 1});                       // (1, H, 1, 1)
  // Rows sum to (1 + lambda) - lambda = 1; future entries stay 0 in both branches.
  return (1.0 + lam) * probs_pos - lam * probs_neg;                             // (B, H, R, K)
}

torch::Tensor negative_mass(const torch::Tensor& probs) {
  return probs.clamp_max(0.0).sum(-1);  // (B, H, N)
}

VariantInfo dagpam_info() {
  return {"dagpam",
          "daGPAM: A = (1 + lambda) softmax(QK^T/sqrt(d) + P) - lambda softmax(ReLU(Q)W- K^T/"
          "sqrt(d) + P), rows sum to 1, weights may be negative (Heo & Choi, arXiv 2410.15578; "
          "reconstruction, no official code)",
          {{"lambda", 0.1, "initial lambda of every head (>= 0): A = (1 + lambda) A+ - lambda A-"},
           {"lambda_trainable", true, "learn lambda per head; false keeps it fixed (a buffer)"},
           {"init", "random", "W- initialisation: \"random\" (uniform +-1/sqrt(head_dim), a "
                              "Linear's default) or \"neg_identity\" (W- = -I)"}},
          [](const ModelConfig& c, int64_t, const std::string& where) -> Attention {
            const auto& p = c.attention.params;
            const double lambda = cfg::get_double(p, "lambda", "attention", 0.1, where);
            if (lambda < 0.0) {
              throw ConfigError(where + ": 'attention.lambda' must be >= 0 (the negative "
                                "branch's coefficient; 0 gives dot-product attention), got " +
                                std::to_string(lambda));
            }
            const bool trainable =
                cfg::get_bool(p, "lambda_trainable", "attention", true, where);
            const std::string init = cfg::get_string(p, "init", "attention", "random", where);
            if (init != "random" && init != "neg_identity") {
              throw ConfigError(where + ": 'attention.init' must be \"random\" or "
                                "\"neg_identity\", got \"" + init + "\"");
            }
            return std::make_shared<DagpamAttentionImpl>(c, make_position_encoding(c, where),
                                                         lambda, trainable, init);
          }};
}

}  // namespace attn
