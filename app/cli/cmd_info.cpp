// SPDX-License-Identifier: MIT
// attnscope-cli info DIR: the checkpoint's config, parameter count and tensors.
#include <cstdio>
#include <filesystem>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"

namespace attn::cli {

namespace {
const char* kInfoUsage =
    "usage: attnscope-cli info DIR [--json]\n"
    "  Loads the checkpoint directory DIR (config.json, model.safetensors, tokenizer.json) and\n"
    "  prints its configuration, parameter count, tokenizer and tensors.\n"
    "  --json   print one JSON object instead of text\n";

std::string info_shape(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}
}  // namespace

int cmd_info(int argc, char** argv, const CliContext&) {
  Args args(argc, argv, 2, {}, {"help", "json"});
  if (args.has("help")) {
    std::fputs(kInfoUsage, stdout);
    return 0;
  }
  if (args.positional().size() != 1) throw UsageError("give exactly one checkpoint directory");
  const std::string dir = args.positional()[0];
  const auto ck = load_checkpoint(dir);  // validates everything, tensors included
  const auto reader =
      st::Reader::open((std::filesystem::path(dir) / "model.safetensors").string());
  nlohmann::json root;
  model_config_to_json(ck.config, root);
  root["checkpoint"] = dir;
  root["parameters"] = ck.model->parameter_count();
  root["tokenizer"] = {{"kind", ck.tokenizer->kind()}, {"vocab_size", ck.tokenizer->vocab_size()}};
  root["provenance"] = ck.provenance;
  root["stages"] = ck.model->all_stages();
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : reader.tensors()) {
    tensors.push_back({{"name", t.name}, {"dtype", st::dtype_name(t.dtype)}, {"shape", t.shape}});
  }
  root["tensors"] = tensors;
  if (args.has("json")) {
    std::printf("%s\n", root.dump(2).c_str());
    return 0;
  }
  const auto& c = ck.config;
  std::printf("checkpoint   %s\n", dir.c_str());
  std::printf("variant      %s %s\n", c.attention.variant.c_str(),
              c.attention.params.empty() ? "" : c.attention.params.dump().c_str());
  std::printf("position     %s %s\n", c.position.kind.c_str(),
              c.position.params.empty() ? "" : c.position.params.dump().c_str());
  std::printf("model        %lld layers, d_model %lld, %lld heads (head_dim %lld), mlp x%lld, "
              "vocab %lld, %s embeddings, train_len %lld, dropout %g\n",
              (long long)c.n_layer, (long long)c.d_model, (long long)c.n_head,
              (long long)c.head_dim(), (long long)c.mlp_ratio, (long long)c.vocab_size,
              c.tie_embeddings ? "tied" : "untied", (long long)c.train_len, c.dropout);
  std::printf("parameters   %lld\n", (long long)ck.model->parameter_count());
  std::printf("tokenizer    %s (%lld tokens)\n", ck.tokenizer->kind().c_str(),
              (long long)ck.tokenizer->vocab_size());
  std::printf("stages       %s\n", nlohmann::json(ck.model->all_stages()).dump().c_str());
  std::printf("provenance   %s\n", ck.provenance.dump().c_str());
  std::printf("tensors      %zu\n", reader.tensors().size());
  for (const auto& t : reader.tensors()) {
    std::printf("  %-40s %-5s %s\n", t.name.c_str(), st::dtype_name(t.dtype),
                info_shape(t.shape).c_str());
  }
  return 0;
}

}  // namespace attn::cli
