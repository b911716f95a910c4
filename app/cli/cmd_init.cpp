// SPDX-License-Identifier: MIT
// attnscope-cli init: a new checkpoint from a config file with seeded random weights, marked
// untrained in its provenance. Used for the bundled model until trained defaults exist.
#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/model/checkpoint.h"
#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/bpe_trainer.h"
#include "core/util/atomic_file.h"
#include "core/util/device.h"

namespace attn::cli {

namespace {
const char* kInitUsage =
    "usage: attnscope-cli init --config FILE.json --out DIR [--seed N]\n"
    "                          [--tokenizer byte|FILE.json] [--dtype F32|F16|BF16] [--note TEXT]\n"
    "  FILE.json holds the sections \"model\", \"attention\" and \"position\" of a checkpoint's\n"
    "  config.json (see README.md). The weights are seeded random: the checkpoint is marked\n"
    "  untrained. --tokenizer FILE.json uses a BPE tokenizer.json (default: byte tokenizer);\n"
    "  model.vocab_size must be at least the tokenizer's size.\n";

st::DType parse_weight_dtype(const std::string& s) {
  if (s == "F32") return st::DType::F32;
  if (s == "F16") return st::DType::F16;
  if (s == "BF16") return st::DType::BF16;
  throw UsageError("--dtype must be F32, F16 or BF16, got \"" + s + "\"");
}
}  // namespace

int cmd_init(int argc, char** argv, const CliContext&) {
  Args args(argc, argv, 2, {"config", "out", "seed", "tokenizer", "dtype", "note"}, {"help"});
  if (args.has("help")) {
    std::fputs(kInitUsage, stdout);
    return 0;
  }
  const std::string config_path = args.required("config"), out = args.required("out");
  const int64_t seed = args.get_int("seed", 1, 0);
  const auto dtype = parse_weight_dtype(args.get("dtype", "F32"));
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(read_file(config_path));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(config_path + ": not valid JSON (" + e.what() + ")");
  }
  const ModelConfig config = model_config_from_json(root, config_path);
  const std::string tok = args.get("tokenizer", "byte");
  std::shared_ptr<Tokenizer> tokenizer =
      tok == "byte" ? std::shared_ptr<Tokenizer>(make_byte_tokenizer())
                    : std::shared_ptr<Tokenizer>(load_bpe_tokenizer(tok));
  if (tokenizer->vocab_size() > config.vocab_size) {
    throw ConfigError(config_path + ": 'model.vocab_size' (" + std::to_string(config.vocab_size) +
                      ") is smaller than the tokenizer's " +
                      std::to_string(tokenizer->vocab_size()) + " tokens");
  }
  init_torch_threads();
  torch::manual_seed(uint64_t(seed));
  TransformerLM model(config, config_path);
  nlohmann::json provenance = {
      {"trained", false},
      {"created_by", "attnscope-cli init"},
      {"seed", seed},
      {"note", args.get("note", "untrained: seeded random weights")}};
  save_checkpoint(out, model, *tokenizer, provenance, dtype);
  std::fprintf(stderr, "wrote %s: %lld parameters, untrained (seed %lld)\n", out.c_str(),
               (long long)model->parameter_count(), (long long)seed);
  return 0;
}

}  // namespace attn::cli
