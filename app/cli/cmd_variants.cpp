// SPDX-License-Identifier: MIT
// attnscope-cli variants: every attention variant and position encoding the core registers, with
// their parameters (defaults and meaning) and the stages each combination reports, so front ends
// and users discover them from the core.
#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/attention/registry.h"

namespace attn::cli {

namespace {
const char* kVariantsUsage =
    "usage: attnscope-cli variants [--json]\n"
    "  Lists every attention variant and position encoding with its parameters (default and\n"
    "  meaning) and the stages each variant reports with each encoding (at layer 0).\n";

nlohmann::json params_json(const std::vector<ParamInfo>& params) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : params) {
    out.push_back({{"name", p.name}, {"default", p.default_value}, {"doc", p.doc}});
  }
  return out;
}

/// The stages of `variant` with `position` at layer 0 of a small model.
std::vector<std::string> variant_stages(const std::string& variant, const std::string& position) {
  ModelConfig c;
  c.d_model = 32;
  c.n_head = 4;
  c.n_layer = 1;
  c.attention.variant = variant;
  c.position.kind = position;
  return make_attention(c, 0, "variants")->stages();
}

void print_params(const std::vector<ParamInfo>& params) {
  for (const auto& p : params) {
    std::printf("    %-18s default %-10s %s\n", p.name.c_str(),
                p.default_value.is_null() ? "(derived)" : p.default_value.dump().c_str(),
                p.doc.c_str());
  }
}
}  // namespace

int cmd_variants(int argc, char** argv, const CliContext&) {
  Args args(argc, argv, 2, {}, {"help", "json"});
  if (args.has("help")) {
    std::fputs(kVariantsUsage, stdout);
    return 0;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument " + args.positional()[0]);
  nlohmann::json variants = nlohmann::json::array(), positions = nlohmann::json::array();
  for (const auto& p : position_registry()) {
    positions.push_back({{"name", p.name}, {"summary", p.summary}, {"params", params_json(p.params)}});
  }
  for (const auto& v : variant_registry()) {
    nlohmann::json stages = nlohmann::json::object();
    for (const auto& p : position_registry()) stages[p.name] = variant_stages(v.name, p.name);
    variants.push_back({{"name", v.name}, {"summary", v.summary},
                        {"params", params_json(v.params)}, {"stages", stages}});
  }
  if (args.has("json")) {
    std::printf("%s\n", nlohmann::json({{"variants", variants}, {"positions", positions}}).dump(2).c_str());
    return 0;
  }
  std::printf("attention variants (config.json \"attention\": {\"variant\": NAME, ...}):\n");
  for (const auto& v : variant_registry()) {
    std::printf("\n  %s: %s\n", v.name.c_str(), v.summary.c_str());
    print_params(v.params);
    std::printf("    stages (nope): %s\n", nlohmann::json(variant_stages(v.name, "nope")).dump().c_str());
    std::printf("    stages (alibi): %s\n", nlohmann::json(variant_stages(v.name, "alibi")).dump().c_str());
  }
  std::printf("\nposition encodings (config.json \"position\": {\"kind\": NAME, ...}):\n");
  for (const auto& p : position_registry()) {
    std::printf("\n  %s: %s\n", p.name.c_str(), p.summary.c_str());
    print_params(p.params);
  }
  return 0;
}

}  // namespace attn::cli
