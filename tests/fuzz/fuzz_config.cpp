// SPDX-License-Identifier: MIT
// config.json and training configs on arbitrary text: a config or a ConfigError naming the field.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/model/config.h"
#include "core/train/train_config.h"
#include "core/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // not JSON: the callers report this as a ConfigError naming the file
  }
  try {
    (void)attn::model_config_from_json(root, "fuzz.json");
  } catch (const attn::Error&) {
  }
  try {
    (void)attn::train_config_from_json(root, "/nonexistent/fuzz.json");
  } catch (const attn::Error&) {
  }
  return 0;
}
