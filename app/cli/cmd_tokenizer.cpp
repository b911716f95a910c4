// SPDX-License-Identifier: MIT
// attnscope-cli tokenize and bpe-train: a text's tokens under a checkpoint's tokenizer, and the
// byte-level BPE trainer that makes the default models' vocabulary.
#include <cstdio>
#include <filesystem>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/model/checkpoint.h"
#include "core/tokenizer/bpe_trainer.h"

namespace attn::cli {

namespace {
const char* kTokenizeUsage =
    "usage: attnscope-cli tokenize --checkpoint DIR (--text FILE | --text-string S) [--json]\n"
    "  Prints each token's id, byte span and readable label, one per line (or a JSON array).\n";
const char* kBpeTrainUsage =
    "usage: attnscope-cli bpe-train --text FILE --vocab-size N --out tokenizer.json\n"
    "                               [--min-frequency N]\n"
    "  Trains a byte-level BPE tokenizer (GPT-2 pre-tokenization) on a UTF-8 text file and\n"
    "  writes it in Hugging Face's tokenizer.json format.\n";
}  // namespace

int cmd_tokenize(int argc, char** argv, const CliContext&) {
  Args args(argc, argv, 2, {"checkpoint", "text", "text-string"}, {"help", "json"});
  if (args.has("help")) {
    std::fputs(kTokenizeUsage, stdout);
    return 0;
  }
  const std::string dir = args.required("checkpoint");
  if (args.has("text") == args.has("text-string")) {
    throw UsageError("give exactly one of --text FILE and --text-string S");
  }
  const std::string text =
      args.has("text") ? read_text_file(args.get("text")) : args.get("text-string");
  ModelConfig config;
  const auto root = read_checkpoint_config(dir, &config);
  const auto tok = load_checkpoint_tokenizer(
      dir, checkpoint_tokenizer_kind(root, (std::filesystem::path(dir) / "config.json").string()));
  const auto tokens = tok->encode_with_offsets(text);
  if (args.has("json")) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& t : tokens) {
      arr.push_back({{"id", t.id}, {"begin", t.begin}, {"end", t.end}, {"label", tok->display(t.id)}});
    }
    std::printf("%s\n", arr.dump(1).c_str());
    return 0;
  }
  for (const auto& t : tokens) {
    std::printf("%6lld  [%lld, %lld)  %s\n", (long long)t.id, (long long)t.begin,
                (long long)t.end, tok->display(t.id).c_str());
  }
  std::fprintf(stderr, "%zu tokens\n", tokens.size());
  return 0;
}

int cmd_bpe_train(int argc, char** argv, const CliContext& ctx) {
  Args args(argc, argv, 2, {"text", "vocab-size", "out", "min-frequency"}, {"help"});
  if (args.has("help")) {
    std::fputs(kBpeTrainUsage, stdout);
    return 0;
  }
  const std::string text = read_text_file(args.required("text"));
  const int64_t vocab = args.get_int("vocab-size", 0, 257);
  if (!args.has("vocab-size")) throw UsageError("missing required option --vocab-size");
  const std::string out = args.required("out");
  BpeTrainOptions opts;
  opts.min_frequency = args.get_int("min-frequency", opts.min_frequency, 1);
  ProgressBar bar("bpe-train");
  opts.progress = [&](int64_t done, int64_t total) {
    bar.update(total > 0 ? double(done) / double(total) : 1.0,
               std::to_string(done) + "/" + std::to_string(total) + " merges");
    return !(ctx.cancel && ctx.cancel->load());
  };
  const auto tok = train_bpe(text, vocab, opts);
  bar.finish();
  tok.save(out);
  std::fprintf(stderr, "wrote %s: %lld tokens, %zu merges\n", out.c_str(),
               (long long)tok.vocab_size(), tok.merges().size());
  return 0;
}

}  // namespace attn::cli
