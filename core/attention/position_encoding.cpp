// SPDX-License-Identifier: MIT
// Shared helpers of the position encodings and their factory: one explicit line per encoding.
#include "core/attention/position_encoding.h"

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

std::vector<std::string> position_encoding_kinds() {
  return {"nope", "rope", "alibi", "kerple", "fire"};
}

PositionEncoding make_position_encoding(const ModelConfig& config, const std::string& where) {
  const auto& kind = config.position.kind;
  const auto& p = config.position.params;
  if (kind == "nope") {
    cfg::reject_unknown(p, {}, "position", where);
    return std::make_shared<NoPEImpl>();
  }
  if (kind == "rope") {
    cfg::reject_unknown(p, {"base"}, "position", where);
    const double base = cfg::get_double(p, "base", "position", 10000.0, where);
    if (base <= 1.0) throw ConfigError(where + ": 'position.base' must be greater than 1");
    return std::make_shared<RoPEImpl>(config.head_dim(), base);
  }
  if (kind == "alibi") {
    cfg::reject_unknown(p, {}, "position", where);
    return std::make_shared<ALiBiImpl>(config.n_head);
  }
  if (kind == "kerple") {
    cfg::reject_unknown(p, {}, "position", where);
    return std::make_shared<KerpleImpl>(config.n_head);
  }
  if (kind == "fire") {
    cfg::reject_unknown(p, {"width", "threshold", "activation"}, "position", where);
    const int64_t width = cfg::get_int(p, "width", "position", 32, 1, where);
    const int64_t threshold =
        cfg::get_int(p, "threshold", "position", std::max<int64_t>(1, config.train_len / 2), 1,
                     where);
    const auto act = cfg::get_string(p, "activation", "position", "relu", where);
    if (act != "relu" && act != "leaky_relu") {
      throw ConfigError(where + ": 'position.activation' must be \"relu\" or \"leaky_relu\", got \"" +
                        act + "\"");
    }
    return std::make_shared<FIREImpl>(config.n_head, width, double(threshold), act == "leaky_relu");
  }
  std::string known;
  for (const auto& k : position_encoding_kinds()) known += (known.empty() ? "" : ", ") + k;
  throw ConfigError(where + ": unknown position encoding 'position.kind' = \"" + kind +
                    "\" (known: " + known + ")");
}

}  // namespace attn
