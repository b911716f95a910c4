// SPDX-License-Identifier: MIT
// Parsing of the model sections of config.json, with errors that name the file and the field.
#include "core/model/config.h"

#include <algorithm>
#include <cmath>

#include "core/util/error.h"

namespace attn {
namespace cfg {

namespace {
std::string dotted(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}
}  // namespace

int64_t get_int(const nlohmann::json& obj, const std::string& key, const std::string& path,
                int64_t fallback, int64_t min_value, const std::string& where) {
  if (!obj.contains(key)) return fallback;
  const auto& v = obj.at(key);
  if (!v.is_number_integer()) {
    throw ConfigError(where + ": field '" + dotted(path, key) + "' must be an integer, got " +
                      v.dump());
  }
  const int64_t x = v.get<int64_t>();
  if (x < min_value) {
    throw ConfigError(where + ": field '" + dotted(path, key) + "' must be at least " +
                      std::to_string(min_value) + ", got " + std::to_string(x));
  }
  return x;
}

double get_double(const nlohmann::json& obj, const std::string& key, const std::string& path,
                  double fallback, const std::string& where) {
  if (!obj.contains(key)) return fallback;
  const auto& v = obj.at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>())) {
    throw ConfigError(where + ": field '" + dotted(path, key) + "' must be a finite number, got " +
                      v.dump());
  }
  return v.get<double>();
}

std::string get_string(const nlohmann::json& obj, const std::string& key,
                       const std::string& path, const std::string& fallback,
                       const std::string& where) {
  if (!obj.contains(key)) return fallback;
  const auto& v = obj.at(key);
  if (!v.is_string()) {
    throw ConfigError(where + ": field '" + dotted(path, key) + "' must be a string, got " +
                      v.dump());
  }
  return v.get<std::string>();
}

bool get_bool(const nlohmann::json& obj, const std::string& key, const std::string& path,
              bool fallback, const std::string& where) {
  if (!obj.contains(key)) return fallback;
  const auto& v = obj.at(key);
  if (!v.is_boolean()) {
    throw ConfigError(where + ": field '" + dotted(path, key) + "' must be true or false, got " +
                      v.dump());
  }
  return v.get<bool>();
}

void reject_unknown(const nlohmann::json& obj, std::initializer_list<const char*> allowed,
                    const std::string& path, const std::string& where) {
  for (const auto& item : obj.items()) {
    const bool known = std::any_of(allowed.begin(), allowed.end(),
                                   [&](const char* a) { return item.key() == a; });
    if (!known) {
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      throw ConfigError(where + ": unknown field '" + dotted(path, item.key()) +
                        "' (known fields: " + list + ")");
    }
  }
}

}  // namespace cfg

namespace {
const nlohmann::json& section(const nlohmann::json& root, const char* key,
                              const std::string& where) {
  if (!root.contains(key)) {
    throw ConfigError(where + ": missing section '" + key + "'");
  }
  if (!root.at(key).is_object()) {
    throw ConfigError(where + ": section '" + key + "' must be a JSON object");
  }
  return root.at(key);
}
}  // namespace

ModelConfig model_config_from_json(const nlohmann::json& root, const std::string& where) {
  if (!root.is_object()) throw ConfigError(where + ": the top level must be a JSON object");
  ModelConfig c;
  const auto& m = section(root, "model", where);
  cfg::reject_unknown(m, {"vocab_size", "d_model", "n_layer", "n_head", "mlp_ratio", "dropout",
                          "train_len", "tie_embeddings"},
                      "model", where);
  for (const char* required : {"vocab_size", "d_model", "n_layer", "n_head"}) {
    if (!m.contains(required)) {
      throw ConfigError(where + ": missing field 'model." + required + "'");
    }
  }
  c.vocab_size = cfg::get_int(m, "vocab_size", "model", 0, 1, where);
  c.d_model = cfg::get_int(m, "d_model", "model", 0, 1, where);
  c.n_layer = cfg::get_int(m, "n_layer", "model", 0, 1, where);
  c.n_head = cfg::get_int(m, "n_head", "model", 0, 1, where);
  c.mlp_ratio = cfg::get_int(m, "mlp_ratio", "model", 4, 1, where);
  c.dropout = cfg::get_double(m, "dropout", "model", 0.0, where);
  c.train_len = cfg::get_int(m, "train_len", "model", 128, 1, where);
  c.tie_embeddings = cfg::get_bool(m, "tie_embeddings", "model", true, where);
  if (c.d_model % c.n_head != 0) {
    throw ConfigError(where + ": 'model.d_model' (" + std::to_string(c.d_model) +
                      ") must be divisible by 'model.n_head' (" + std::to_string(c.n_head) + ")");
  }
  if (c.dropout < 0.0 || c.dropout >= 1.0) {
    throw ConfigError(where + ": 'model.dropout' must be in [0, 1), got " +
                      std::to_string(c.dropout));
  }
  const auto& a = section(root, "attention", where);
  c.attention.variant = cfg::get_string(a, "variant", "attention", "", where);
  if (c.attention.variant.empty()) throw ConfigError(where + ": missing 'attention.variant'");
  c.attention.params = a;
  c.attention.params.erase("variant");
  const auto& p = section(root, "position", where);
  c.position.kind = cfg::get_string(p, "kind", "position", "", where);
  if (c.position.kind.empty()) throw ConfigError(where + ": missing 'position.kind'");
  c.position.params = p;
  c.position.params.erase("kind");
  return c;
}

void model_config_to_json(const ModelConfig& c, nlohmann::json& root) {
  root["model"] = {{"vocab_size", c.vocab_size}, {"d_model", c.d_model},
                   {"n_layer", c.n_layer},       {"n_head", c.n_head},
                   {"mlp_ratio", c.mlp_ratio},   {"dropout", c.dropout},
                   {"train_len", c.train_len},   {"tie_embeddings", c.tie_embeddings}};
  nlohmann::json a = c.attention.params;
  a["variant"] = c.attention.variant;
  root["attention"] = a;
  nlohmann::json p = c.position.params;
  p["kind"] = c.position.kind;
  root["position"] = p;
}

}  // namespace attn
