// SPDX-License-Identifier: MIT
// attnscope-cli trace: token ids and strings, q and k per head, and every stage map of every
// head of the chosen layers, as one safetensors file that Python can read.
#include <cstdio>
#include <set>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/model/checkpoint.h"
#include "core/model/trace.h"
#include "core/util/device.h"

namespace attn::cli {

namespace {
const char* kTraceUsage =
    "usage: attnscope-cli trace --checkpoint DIR (--text FILE | --text-string S)\n"
    "                           [--layers L,...] [--stages S,...] [--max-tokens N]\n"
    "                           [--device cpu|cuda] [--precision float32|bfloat16|float16]\n"
    "                           --out FILE.safetensors\n"
    "  Runs the model on the text and writes, for each chosen layer (default: all), q and k of\n"
    "  every head (after any rotation) and every stage map (H x N x N, float32; entries with\n"
    "  key > query are 0), with token_ids and the token strings in the file's metadata.\n"
    "  --max-tokens N keeps the first N tokens (a trace holds H*N*N floats per stage and layer).\n"
    "  --precision runs the model in float32 (default), bfloat16 or float16 (half types on CUDA\n"
    "  only; where CUDA falls back to the CPU, float32 with a note); the file holds float32\n"
    "  either way. --dtype is the older name of --precision.\n";

}  // namespace

int cmd_trace(int argc, char** argv, const CliContext& ctx) {
  Args args(argc, argv, 2,
            {"checkpoint", "text", "text-string", "layers", "stages", "max-tokens", "device",
             "dtype", "precision", "out"},
            {"help"});
  if (args.has("help")) {
    std::fputs(kTraceUsage, stdout);
    return 0;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument " + args.positional()[0]);
  const std::string dir = args.required("checkpoint"), out = args.required("out");
  if (args.has("text") == args.has("text-string")) {
    throw UsageError("give exactly one of --text FILE and --text-string S");
  }
  const std::string text =
      args.has("text") ? read_text_file(args.get("text")) : args.get("text-string");
  const int64_t max_tokens = args.get_int("max-tokens", 0, 1);

  if (args.has("dtype") && args.has("precision") && args.get("dtype") != args.get("precision")) {
    throw UsageError("--dtype " + args.get("dtype") + " and --precision " +
                     args.get("precision") + " disagree: --dtype is the older name of "
                     "--precision, give one");
  }
  const std::string precision = args.get("precision", args.get("dtype", "float32"));

  init_torch_threads();
  std::vector<std::string> warnings;
  const std::string device_name = args.get("device", "cpu");
  const auto device = resolve_device(device_name, &warnings);
  const auto dtype = resolve_precision(precision, device_name, device, &warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "note: %s\n", w.c_str());

  auto ck = load_checkpoint(dir);
  const auto& c = ck.config;
  std::set<int64_t> layers;
  for (int64_t l : args.get_int_list("layers")) {
    if (l >= c.n_layer) {
      throw UsageError("--layers: layer " + std::to_string(l) + " does not exist (the model has " +
                       std::to_string(c.n_layer) + " layers, 0.." + std::to_string(c.n_layer - 1) +
                       ")");
    }
    layers.insert(l);
  }
  if (layers.empty()) {
    for (int64_t l = 0; l < c.n_layer; ++l) layers.insert(l);
  }
  const auto offered = ck.model->all_stages();
  std::set<std::string> stages;
  for (const auto& s : args.get_list("stages")) {
    if (std::find(offered.begin(), offered.end(), s) == offered.end()) {
      throw UsageError("--stages: \"" + s + "\" is not a stage of variant " +
                       c.attention.variant + " (it offers " + nlohmann::json(offered).dump() + ")");
    }
    stages.insert(s);
  }

  auto tokens = ck.tokenizer->encode_with_offsets(text);
  if (tokens.empty()) throw Error("the text is empty: nothing to trace");
  if (max_tokens > 0 && int64_t(tokens.size()) > max_tokens) {
    std::fprintf(stderr, "note: the text has %zu tokens; tracing the first %lld (--max-tokens)\n",
                 tokens.size(), (long long)max_tokens);
    tokens.resize(size_t(max_tokens));
  }
  const int64_t N = int64_t(tokens.size());
  std::vector<int64_t> ids;
  for (const auto& t : tokens) ids.push_back(t.id);

  ck.model->to(device, dtype);
  MapCollector collector(layers, stages, N);
  ProgressBar bar("trace");
  ForwardOptions opts;
  opts.sink = &collector;
  opts.stop_after_layer = *layers.rbegin();
  opts.cancel = ctx.cancel;
  opts.on_layer = [&](int64_t done) {
    bar.update(double(done) / double(opts.stop_after_layer + 1),
               "layer " + std::to_string(done) + "/" + std::to_string(opts.stop_after_layer + 1));
  };
  {
    torch::NoGradGuard no_grad;
    ck.model->hidden(torch::tensor(ids, torch::kInt64).unsqueeze(0).to(device), opts);
  }
  bar.finish();

  TraceInfo info{dir, c.attention.variant, c.position.kind, tokens, {}, {}};
  for (const auto& t : tokens) info.labels.push_back(ck.tokenizer->display(t.id));
  for (const auto& s : offered) {
    if (stages.empty() || stages.count(s)) info.stages.push_back(s);
  }
  write_trace(out, info, collector.layers());
  std::fprintf(stderr, "wrote %s: %lld tokens, %zu layers, stages %s\n", out.c_str(),
               (long long)N, layers.size(), nlohmann::json(info.stages).dump().c_str());
  return 0;
}

}  // namespace attn::cli
