// SPDX-License-Identifier: MIT
// Placeholder while the variant is being written; replaced by its implementation.
#include "core/attention/registry.h"
#include "core/util/error.h"

namespace attn {

VariantInfo mgk_info() {
  return {"mgk_attention-pending", "not built yet", {},
          [](const ModelConfig&, int64_t, const std::string& where) -> Attention {
            throw ConfigError(where + ": variant not built yet");
          }};
}

}  // namespace attn
