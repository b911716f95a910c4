// SPDX-License-Identifier: MIT
// Transformer-MGK (Nguyen et al., "Improving Transformers with Probabilistic Attention Keys",
// ICML 2022, arXiv 2110.08678; official code minhtannguyen/transformer-mgk; variants.md §B):
// every key is a mixture of M Gaussians, so a query scores a key by the mixture density instead
// of a dot product. Computed in log space (logsumexp over components), never as raw exp sums.
#pragma once

#include <nlohmann/json.hpp>

#include "core/attention/score_attention.h"

namespace attn {

/// How the M component keys of a head are formed.
enum class MgkKeys {
  Separate,  // "mgk": k_r = x W_k,r + b_r, one Linear(C, C) per component (paper design A)
  Shifted,   // "smgk": k_r = k - mu_r, one projection and a learned shift (paper design B)
};

struct MgkOptions {
  int64_t components = 2;  // M; all released code uses 2
  MgkKeys keys = MgkKeys::Separate;
  bool narrow_second = false;  // sigma_r^2 = sqrt(head_dim) / 3 for r >= 1 (official LM code)
};

/// Transformer-MGK attention.
///
///   l_ijr  = log clamp(pi_hr, 1e-6, 1) - |q_i - k_jr|^2 / (2 sigma_r^2)
///   logits = logsumexp_r l_ijr + P_ij,  probs = softmax_j (causal),  out = probs V
///
/// which is the paper's jointly normalised A_ij = sum_r pi_r N_r(q_i; k_jr) / sum_j'r' (...)
/// (eq. 9-10), times exp(P_ij) when the position encoding has a bias. Distances use the GEMM
/// form |q|^2 + |k|^2 - 2 q.k with the |q|^2 term kept (it cancels only for equal sigmas).
///
/// Shapes: q (B, H, N, head_dim); keys M x (B, H, N, head_dim), rotated like k under RoPE;
/// log-kernels (M, B, H, R, K) per chunk of R query rows. Cost: M H head_dim N^2 / 2 MACs for
/// the distances plus the usual H head_dim N^2 / 2 for probs V (causal halves).
///
/// Deviations from the paper and the official code, on purpose:
/// - pi is a parameter (H, M): per head, shared over positions. The LM code's per-position
///   pi (H, 256) cannot extrapolate past its 256 training positions; the LRA code's is one
///   pair per layer, shared over heads. Like both, it is clamped to [1e-6, 1], not renormalised.
/// - sigma_r^2 = sqrt(head_dim) for every component (paper, LRA code). narrow_second gives the
///   LM code's sqrt(head_dim) / 3 for r >= 1, a narrower second Gaussian the paper never states.
/// - "smgk": mu (M, H, head_dim) is learnable, mu_0 = 0 and mu_r ~ N(0, 0.5^2) at init (LRA
///   code); "mgk": component 0 uses k_proj, component r >= 1 "k_proj_r", both with bias (LRA).
/// - Log space with the causal mask at -inf, where the official code takes exp without
///   max-subtraction and pads with -1e6 (0/0 once a whole row underflows; variants.md B.3).
/// Stage "raw" is the base's q k^T / sqrt(head_dim) with the unshifted key k, for comparison.
class MgkAttentionImpl : public ScoreAttentionImpl {
 public:
  MgkAttentionImpl(const ModelConfig& config, PositionEncoding pe, const MgkOptions& options);
  std::string name() const override { return "mgk"; }
  /// As the base, noting whether this layer is traced (the share maps cost M extra maps).
  torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in) override;
  /// sigma_r^2 of component r.
  double variance(int64_t r) const;
  const MgkOptions& options() const { return options_; }

  torch::Tensor pi;                             // (H, M) mixture weights, init 0.5
  torch::Tensor mu;                             // (M, H, head_dim) key shifts; "smgk" only
  std::vector<torch::nn::Linear> k_proj_extra;  // "k_proj_1".."k_proj_{M-1}"; "mgk" only

 protected:
  std::map<std::string, torch::Tensor> extra_tokens(const torch::Tensor& x, const torch::Tensor& q,
                                                    const torch::Tensor& k) override;
  torch::Tensor logits(const Chunk& c) override;
  torch::Tensor weights(const Chunk& c, const torch::Tensor& logits) override;
  /// distance_r (|q_i - k_jr|^2), responsibility (sum_r r gamma_ijr with gamma = softmax_r l:
  /// for M = 2 the share of component 1), component_r (gamma_r probs, summing to probs).
  std::vector<std::string> extra_stages() const override;
  /// The stacked log-kernels (M H per cell) and their logsumexp (H) are alive at once.
  int64_t work_channels() const override { return n_head_ * (options_.components + 1); }

 private:
  /// Component r's keys for the chunk's key rows [0, K): (B, H, K, head_dim).
  torch::Tensor mgk_key(const Chunk& c, int64_t r) const;

  MgkOptions options_;
  // State of the forward in flight (one thread runs a module at a time, as everywhere in the
  // core): whether the layer is traced, and the responsibilities that logits() hands to
  // weights() for the share maps of the same chunk.
  bool traced_ = false;
  torch::Tensor gamma_;  // (M, B, H, R, K), traced chunks only
};

/// Reads and checks "components", "keys" and "narrow_second" from completed parameters;
/// ConfigError naming 'attention.<field>' otherwise.
MgkOptions mgk_options(const nlohmann::json& params, const std::string& where);

}  // namespace attn
