// SPDX-License-Identifier: MIT
// What the core offers, discoverable at run time: every attention variant and position encoding
// with a one-line summary and its parameters (name, default, meaning). The factories receive
// parameters already checked against this list and completed with the defaults.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/attention/attention.h"
#include "core/attention/position_encoding.h"

namespace attn {

struct ParamInfo {
  std::string name;
  nlohmann::json default_value;  // null: no default (derived, see doc)
  std::string doc;
};

struct VariantInfo {
  std::string name;
  std::string summary;
  std::vector<ParamInfo> params;
  /// Builds layer `layer`'s attention; config.attention.params holds every parameter.
  std::function<Attention(const ModelConfig& config, int64_t layer, const std::string& where)>
      make;
};

struct PositionInfo {
  std::string name;
  std::string summary;
  std::vector<ParamInfo> params;
  std::function<PositionEncoding(const ModelConfig& config, const std::string& where)> make;
};

/// The registered variants and encodings, in display order (one explicit line each).
const std::vector<VariantInfo>& variant_registry();
const std::vector<PositionInfo>& position_registry();

/// Checks `params` against `known` (unknown fields are ConfigErrors naming them under `path`)
/// and returns them completed with the defaults.
nlohmann::json complete_params(const nlohmann::json& params, const std::vector<ParamInfo>& known,
                               const std::string& path, const std::string& where);

/// VariantInfo / PositionInfo of each unit, defined in the unit's own .cpp file.
VariantInfo dot_attention_info();
VariantInfo dape_v1_info();
VariantInfo dape_v2_info();
VariantInfo neural_attention_info();
VariantInfo mgk_info();
VariantInfo dagpam_info();
std::vector<PositionInfo> position_encoding_infos();

}  // namespace attn
