// SPDX-License-Identifier: MIT
// Model configuration: the architecture, the attention variant and the position encoding, as
// read from and written to a checkpoint's config.json. Variant and encoding parameters stay as
// JSON objects here; each variant or encoding validates its own fields when it is built.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace attn {

/// The attention variant and its parameters (e.g. {"variant": "dot"}).
struct AttentionSpec {
  std::string variant = "dot";
  nlohmann::json params = nlohmann::json::object();  // every field but "variant"
};

/// The position encoding and its parameters (e.g. {"kind": "rope", "base": 10000}).
struct PositionSpec {
  std::string kind = "nope";
  nlohmann::json params = nlohmann::json::object();  // every field but "kind"
};

struct ModelConfig {
  int64_t vocab_size = 256;
  int64_t d_model = 64;
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t mlp_ratio = 4;
  double dropout = 0.0;
  int64_t train_len = 128;  // training length; evaluation may use any length
  bool tie_embeddings = true;
  AttentionSpec attention;
  PositionSpec position;

  int64_t head_dim() const { return d_model / n_head; }
};

/// Parses and validates the "model", "attention" and "position" sections. `where` names the
/// file in messages. Throws ConfigError naming the field and the value that would be right.
ModelConfig model_config_from_json(const nlohmann::json& root, const std::string& where);
/// Writes the "model", "attention" and "position" sections into `root`.
void model_config_to_json(const ModelConfig& config, nlohmann::json& root);

/// Field readers that throw ConfigError naming `where` and the dotted field path.
namespace cfg {
int64_t get_int(const nlohmann::json& obj, const std::string& key, const std::string& path,
                int64_t fallback, int64_t min_value, const std::string& where);
double get_double(const nlohmann::json& obj, const std::string& key, const std::string& path,
                  double fallback, const std::string& where);
std::string get_string(const nlohmann::json& obj, const std::string& key,
                       const std::string& path, const std::string& fallback,
                       const std::string& where);
bool get_bool(const nlohmann::json& obj, const std::string& key, const std::string& path,
              bool fallback, const std::string& where);
/// Throws ConfigError for any key of `obj` not in `allowed`, naming it and listing the allowed.
void reject_unknown(const nlohmann::json& obj, std::initializer_list<const char*> allowed,
                    const std::string& path, const std::string& where);
}  // namespace cfg

}  // namespace attn
