// SPDX-License-Identifier: MIT
// The variant registry: one explicit line per variant (no self-registering statics, which a
// static library can drop at link time).
#include <functional>
#include <utility>

#include "core/attention/attention.h"
#include "core/attention/dot_attention.h"
#include "core/util/error.h"

namespace attn {

namespace {
using AttentionFactory =
    std::function<Attention(const ModelConfig&, int64_t layer, const std::string& where)>;

const std::vector<std::pair<std::string, AttentionFactory>>& registry() {
  static const std::vector<std::pair<std::string, AttentionFactory>> kRegistry = {
      {"dot",
       [](const ModelConfig& c, int64_t, const std::string& where) -> Attention {
         cfg::reject_unknown(c.attention.params, {}, "attention", where);
         return std::make_shared<DotAttentionImpl>(c, make_position_encoding(c, where));
       }},
  };
  return kRegistry;
}
}  // namespace

std::vector<std::string> attention_variants() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry()) names.push_back(name);
  return names;
}

Attention make_attention(const ModelConfig& config, int64_t layer, const std::string& where) {
  for (const auto& [name, factory] : registry()) {
    if (name == config.attention.variant) return factory(config, layer, where);
  }
  std::string known;
  for (const auto& n : attention_variants()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError(where + ": unknown attention variant 'attention.variant' = \"" +
                    config.attention.variant + "\" (known: " + known + ")");
}

}  // namespace attn
