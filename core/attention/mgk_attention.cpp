// SPDX-License-Identifier: MIT
// Transformer-MGK on the ScoreAttention hooks: component keys as extra per-token tensors (so
// RoPE rotates them like k), log-kernels and their logsumexp as the logits, and the share maps
// gamma_r * probs recorded after the base's masked softmax. See mgk_attention.h.
#include "core/attention/mgk_attention.h"

#include <cmath>

#include "core/attention/registry.h"
#include "core/util/error.h"

namespace attn {

MgkAttentionImpl::MgkAttentionImpl(const ModelConfig& config, PositionEncoding pe,
                                   const MgkOptions& options)
    : ScoreAttentionImpl(config, pe), options_(options) {
  const int64_t M = options.components, C = config.d_model;
  pi = register_parameter("pi", torch::full({n_head_, M}, 0.5));  // (H, M)
  if (options.keys == MgkKeys::Shifted) {
    // lra/attention.py MultiGaussKernel: N(0, 0.5^2) times [0, 1]; mu_0 starts at 0 but is
    // learnable like the others.
    auto init = torch::randn({M, n_head_, head_dim_}) * 0.5;  // (M, H, head_dim)
    init[0].zero_();
    mu = register_parameter("mu", init);
  } else {
    // LibTorch's default Linear initialisation (the LRA code's W_k2 is a default nn.Linear).
    for (int64_t r = 1; r < M; ++r) {
      k_proj_extra.push_back(
          register_module("k_proj_" + std::to_string(r), torch::nn::Linear(C, C)));
    }
  }
}

double MgkAttentionImpl::variance(int64_t r) const {
  const double base = std::sqrt(double(head_dim_));
  return (options_.narrow_second && r >= 1) ? base / 3.0 : base;
}

std::vector<std::string> MgkAttentionImpl::extra_stages() const {
  std::vector<std::string> s;
  for (int64_t r = 0; r < options_.components; ++r) s.push_back("distance_" + std::to_string(r));
  s.push_back("responsibility");
  for (int64_t r = 0; r < options_.components; ++r) s.push_back("component_" + std::to_string(r));
  return s;
}

torch::Tensor MgkAttentionImpl::forward(const torch::Tensor& x, const AttentionInputs& in) {
  traced_ = in.sink != nullptr && in.sink->wants(in.layer);
  gamma_ = torch::Tensor();                       // nothing left over from a cancelled pass
  auto out = ScoreAttentionImpl::forward(x, in);  // (B, N, C)
  traced_ = false;
  return out;
}

std::map<std::string, torch::Tensor> MgkAttentionImpl::extra_tokens(const torch::Tensor& x,
                                                                    const torch::Tensor& q,
                                                                    const torch::Tensor& k) {
  const int64_t B = x.size(0), N = x.size(1);
  std::map<std::string, torch::Tensor> keys;
  for (int64_t r = 0; r < options_.components; ++r) {
    const auto name = "key_" + std::to_string(r);
    if (options_.keys == MgkKeys::Shifted) {
      keys[name] = k - mu[r].view({1, n_head_, 1, head_dim_});  // (B, H, N, head_dim)
    } else if (r >= 1) {
      auto t = k_proj_extra[r - 1]->forward(x);                         // (B, N, C)
      keys[name] = t.view({B, N, n_head_, head_dim_}).transpose(1, 2);  // (B, H, N, head_dim)
    }
  }
  return keys;
}

torch::Tensor MgkAttentionImpl::mgk_key(const Chunk& c, int64_t r) const {
  if (r == 0 && options_.keys == MgkKeys::Separate) return c.k;
  // c.extra holds every token's row; keep the chunk's keys [0, K).
  return c.extra.at("key_" + std::to_string(r)).narrow(2, 0, c.k.size(2));  // (B, H, K, hd)
}

torch::Tensor MgkAttentionImpl::logits(const Chunk& c) {
  const auto dt = c.work_dtype;
  const int64_t M = options_.components;
  auto q = c.q.to(dt);                                   // (B, H, R, head_dim)
  auto qq = q.pow(2).sum(-1, /*keepdim=*/true);          // (B, H, R, 1)
  auto log_pi = torch::log(pi.to(dt).clamp(1e-6, 1.0));  // (H, M)
  std::vector<torch::Tensor> ls;
  for (int64_t r = 0; r < M; ++r) {
    auto k = mgk_key(c, r).to(dt);                    // (B, H, K, head_dim)
    auto kk = k.pow(2).sum(-1).unsqueeze(-2);         // (B, H, 1, K)
    auto qk = torch::matmul(q, k.transpose(-2, -1));  // (B, H, R, K)
    // Rounding of the GEMM form can leave tiny negatives where q ~ k_r.
    auto d = (qq + kk - 2.0 * qk).clamp_min(0.0);  // (B, H, R, K)
    c.record("distance_" + std::to_string(r), d);
    ls.push_back(log_pi.select(1, r).view({1, n_head_, 1, 1}) - d / (2.0 * variance(r)));
  }
  auto L = torch::stack(ls);        // (M, B, H, R, K)
  auto s = torch::logsumexp(L, 0);  // (B, H, R, K)
  if (traced_) {
    gamma_ = torch::softmax(L, 0);  // (M, B, H, R, K)
    auto index = torch::arange(M, L.options()).view({M, 1, 1, 1, 1});
    c.record("responsibility", (gamma_ * index).sum(0));  // (B, H, R, K)
  }
  return c.P.defined() ? s + c.P : s;
}

torch::Tensor MgkAttentionImpl::weights(const Chunk& c, const torch::Tensor& logits) {
  auto probs = masked_softmax(logits.to(c.work_dtype), c.mask);  // (B, H, R, K)
  if (traced_ && gamma_.defined()) {
    // gamma sums to 1 over r, so the shares sum to probs (to rounding).
    for (int64_t r = 0; r < options_.components; ++r) {
      c.record("component_" + std::to_string(r), gamma_[r] * probs);
    }
    gamma_ = torch::Tensor();
  }
  return probs;
}

MgkOptions mgk_options(const nlohmann::json& p, const std::string& where) {
  MgkOptions o;
  o.components = cfg::get_int(p, "components", "attention", 2, 1, where);
  const auto keys = cfg::get_string(p, "keys", "attention", "mgk", where);
  if (keys == "mgk") {
    o.keys = MgkKeys::Separate;
  } else if (keys == "smgk") {
    o.keys = MgkKeys::Shifted;
  } else {
    throw ConfigError(where +
                      ": 'attention.keys' must be \"mgk\" (one key projection per "
                      "component) or \"smgk\" (one projection, shifted per component); got \"" +
                      keys + "\"");
  }
  o.narrow_second = cfg::get_bool(p, "narrow_second", "attention", false, where);
  if (o.narrow_second && o.components < 2) {
    throw ConfigError(where +
                      ": 'attention.narrow_second' needs a second component; set "
                      "'attention.components' to 2 or more, or narrow_second to false");
  }
  return o;
}

VariantInfo mgk_info() {
  return {"mgk",
          "Transformer-MGK: each key a mixture of M Gaussians, logits = logsumexp_r(log pi_r - "
          "|q - k_r|^2 / 2 sigma_r^2) + P (Nguyen et al., ICML 2022, arXiv 2110.08678)",
          {{"components", 2, "M, the Gaussian keys per head (the official code uses 2)"},
           {"keys", "mgk",
            "\"mgk\": a key projection per component; \"smgk\": one projection, key shifted by "
            "a learned mu_r per component"},
           {"narrow_second", false,
            "sigma_r^2 = sqrt(head_dim)/3 for r >= 1 as the official language-model code "
            "(the paper and LRA code: sqrt(head_dim) for all)"}},
          [](const ModelConfig& c, int64_t, const std::string& where) -> Attention {
            const auto options = mgk_options(c.attention.params, where);
            return std::make_shared<MgkAttentionImpl>(c, make_position_encoding(c, where), options);
          }};
}

}  // namespace attn
