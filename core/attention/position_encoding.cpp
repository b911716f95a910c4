// SPDX-License-Identifier: MIT
// Shared helpers of the position encodings, and their registry entries (name, summary,
// parameters with defaults, factory).
#include "core/attention/position_encoding.h"

#include "core/attention/registry.h"

#include "core/attention/pe_alibi.h"
#include "core/attention/pe_fire.h"
#include "core/attention/pe_kerple.h"
#include "core/attention/pe_rope.h"
#include "core/util/error.h"

namespace attn {

torch::Tensor causal_distances(int64_t r0, int64_t r1, int64_t n_keys,
                               const torch::TensorOptions& options) {
  auto i = torch::arange(r0, r1, options.dtype(torch::kInt64)).unsqueeze(1);  // (R, 1)
  auto j = torch::arange(n_keys, options.dtype(torch::kInt64)).unsqueeze(0);  // (1, K)
  return (i - j).clamp_min(0).to(options.dtype());                            // (R, K)
}

torch::Dtype bias_compute_dtype(torch::Dtype dtype) {
  return dtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

std::vector<PositionInfo> position_encoding_infos() {
  return {
      {"nope", "no position encoding: only the causal mask tells positions apart", {},
       [](const ModelConfig&, const std::string&) -> PositionEncoding {
         return std::make_shared<NoPEImpl>();
       }},
      {"rope", "rotary embedding, rotate-half over the whole head (Su et al. 2021)",
       {{"base", 10000.0, "rotation base"}},
       [](const ModelConfig& c, const std::string& where) -> PositionEncoding {
         const double base = cfg::get_double(c.position.params, "base", "position", 0, where);
         if (base <= 1.0) throw ConfigError(where + ": 'position.base' must be greater than 1");
         return std::make_shared<RoPEImpl>(c.head_dim(), base);
       }},
      {"alibi", "linear distance penalty -m_h (i - j), standard slopes (Press et al. 2022)", {},
       [](const ModelConfig& c, const std::string&) -> PositionEncoding {
         return std::make_shared<ALiBiImpl>(c.n_head);
       }},
      {"kerple", "logarithmic kernel -p_h log(1 + a_h (i - j)), learned p and a (Chi et al. 2022)",
       {},
       [](const ModelConfig& c, const std::string&) -> PositionEncoding {
         return std::make_shared<KerpleImpl>(c.n_head);
       }},
      {"fire", "learned bias MLP(psi(i - j) / psi(max(i, L))) (Li et al. 2024)",
       {{"width", 32, "hidden units of the bias MLP"},
        {"threshold", nullptr, "L before its learned multiplier; default train_len / 2"},
        {"activation", "relu", "relu, or leaky_relu as in the DAPE variants' FIRE"}},
       [](const ModelConfig& c, const std::string& where) -> PositionEncoding {
         const auto& p = c.position.params;
         const int64_t width = cfg::get_int(p, "width", "position", 32, 1, where);
         const int64_t threshold = cfg::get_int(p, "threshold", "position",
                                                std::max<int64_t>(1, c.train_len / 2), 1, where);
         const auto act = cfg::get_string(p, "activation", "position", "relu", where);
         if (act != "relu" && act != "leaky_relu") {
           throw ConfigError(where + ": 'position.activation' must be \"relu\" or " +
                             "\"leaky_relu\", got \"" + act + "\"");
         }
         return std::make_shared<FIREImpl>(c.n_head, width, double(threshold),
                                           act == "leaky_relu");
       }},
  };
}

}  // namespace attn
