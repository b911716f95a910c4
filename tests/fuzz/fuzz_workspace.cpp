// SPDX-License-Identifier: MIT
// Workspace files on arbitrary text: a workspace or a ConfigError naming the file and the field.
// A parsed workspace is written out and read back, which must give the same text again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/util/error.h"
#include "core/workspace/workspace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  attn::Workspace w;
  try {
    w = attn::parse_workspace(std::string(reinterpret_cast<const char*>(data), size),
                              "/fuzz/workspace.json");
  } catch (const attn::Error&) {
    return 0;
  }
  // Paths are already resolved, so a second parse from the same folder keeps them.
  const std::string text = attn::workspace_json(w);
  if (attn::workspace_json(attn::parse_workspace(text, "/fuzz/workspace.json")) != text) {
    std::abort();  // the writer and the reader disagree
  }
  return 0;
}
