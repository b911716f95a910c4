// SPDX-License-Identifier: MIT
// The registry: one explicit line per variant (no self-registering statics, which a static
// library can drop at link time), and the factories that check parameters before building.
#include "core/attention/registry.h"

#include "core/attention/dot_attention.h"
#include "core/util/error.h"

namespace attn {

const std::vector<VariantInfo>& variant_registry() {
  static const std::vector<VariantInfo> kVariants = {
      dot_attention_info(),
      dape_v1_info(),
      dape_v2_info(),
      neural_attention_info(),
      mgk_info(),
      dagpam_info(),
  };
  return kVariants;
}

const std::vector<PositionInfo>& position_registry() {
  static const std::vector<PositionInfo> kPositions = position_encoding_infos();
  return kPositions;
}

nlohmann::json complete_params(const nlohmann::json& params, const std::vector<ParamInfo>& known,
                               const std::string& path, const std::string& where) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& item : params.items()) {
    bool found = false;
    for (const auto& p : known) found = found || p.name == item.key();
    if (!found) {
      std::string list;
      for (const auto& p : known) list += (list.empty() ? "" : ", ") + p.name;
      throw ConfigError(where + ": unknown field '" + path + "." + item.key() + "' (known: " +
                        (list.empty() ? "none" : list) + ")");
    }
  }
  for (const auto& p : known) {
    if (params.contains(p.name)) {
      out[p.name] = params.at(p.name);
    } else if (!p.default_value.is_null()) {
      out[p.name] = p.default_value;
    }
  }
  return out;
}

VariantInfo dot_attention_info() {
  return {"dot",
          "scaled dot-product attention, logits = QK^T/sqrt(d) + P (Vaswani et al. 2017)",
          {},
          [](const ModelConfig& c, int64_t, const std::string& where) -> Attention {
            return std::make_shared<DotAttentionImpl>(c, make_position_encoding(c, where));
          }};
}

std::vector<std::string> attention_variants() {
  std::vector<std::string> names;
  for (const auto& v : variant_registry()) names.push_back(v.name);
  return names;
}

std::vector<std::string> position_encoding_kinds() {
  std::vector<std::string> names;
  for (const auto& p : position_registry()) names.push_back(p.name);
  return names;
}

Attention make_attention(const ModelConfig& config, int64_t layer, const std::string& where) {
  for (const auto& v : variant_registry()) {
    if (v.name != config.attention.variant) continue;
    ModelConfig c = config;
    c.attention.params = complete_params(config.attention.params, v.params, "attention", where);
    return v.make(c, layer, where);
  }
  std::string known;
  for (const auto& n : attention_variants()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError(where + ": unknown attention variant 'attention.variant' = \"" +
                    config.attention.variant + "\" (known: " + known + ")");
}

PositionEncoding make_position_encoding(const ModelConfig& config, const std::string& where) {
  for (const auto& p : position_registry()) {
    if (p.name != config.position.kind) continue;
    ModelConfig c = config;
    c.position.params = complete_params(config.position.params, p.params, "position", where);
    return p.make(c, where);
  }
  std::string known;
  for (const auto& n : position_encoding_kinds()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError(where + ": unknown position encoding 'position.kind' = \"" +
                    config.position.kind + "\" (known: " + known + ")");
}

}  // namespace attn
