// SPDX-License-Identifier: MIT
// attnscope-cli eval: perplexity and attention statistics of checkpoints across input lengths
// (core/eval/extrapolation.h), written as a versioned JSON results file (and a CSV summary).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/eval/extrapolation.h"
#include "core/model/checkpoint.h"
#include "core/util/atomic_file.h"
#include "core/util/device.h"
#include "core/util/text_file.h"

namespace attn::cli {

namespace fs = std::filesystem;

namespace {
const char* kEvalUsage =
    "usage: attnscope-cli eval --checkpoint DIR [--checkpoint DIR ...] --out results.json\n"
    "                          [--lengths 128,256,...] [--split validation|test | --text FILE]\n"
    "                          [--windows K] [--tail N] [--local-window W]\n"
    "                          [--device cuda|cpu] [--precision float32|bfloat16|float16]\n"
    "                          [--csv FILE]\n"
    "  For each checkpoint and length: perplexity of the last N (default 256) tokens of each of\n"
    "  K (default 8) windows and of the whole windows, with mean and spread over the windows;\n"
    "  per layer and head the attention entropy, mean distance, first-token (sink) mass, mass\n"
    "  within W (default 16) keys and negative mass; per layer the hidden states' residual from\n"
    "  their mean and mean pairwise cosine similarity. Windows are placed evenly and\n"
    "  deterministically over the text (the same for every checkpoint with the same tokenizer).\n"
    "  The text defaults to the Brown corpus' validation split (resources/corpus/brown/).\n"
    "  Lengths default to 128,256,512,1024,2048,4096.\n"
    "  --precision runs the models in float32 (default), bfloat16 or float16 (half types on\n"
    "  CUDA only; where CUDA falls back to the CPU, float32 with a note); losses and\n"
    "  perplexities are computed in float32 or better either way.\n";

/// resources/: $ATTNSCOPE_RESOURCES, or beside or above this program, or the source tree's.
std::string resources_dir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("ATTNSCOPE_RESOURCES")) candidates.emplace_back(env);
  fs::path dir = fs::path(self_exe_path()).parent_path();
  for (int up = 0; up < 4; ++up, dir = dir.parent_path()) candidates.push_back(dir / "resources");
#ifdef ATTN_RESOURCES_DIR
  candidates.emplace_back(ATTN_RESOURCES_DIR);
#endif
  for (const auto& c : candidates) {
    if (fs::is_directory(c / "corpus")) return c.string();
  }
  throw Error("cannot find the resources folder (with corpus/); set ATTNSCOPE_RESOURCES or "
              "give --text FILE");
}

std::string csv_number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}
}  // namespace

int cmd_eval(int argc, char** argv, const CliContext& ctx) {
  Args args(argc, argv, 2,
            {"checkpoint", "out", "lengths", "split", "text", "windows", "tail", "local-window",
             "device", "precision", "csv"},
            {"help"});
  if (args.has("help")) {
    std::fputs(kEvalUsage, stdout);
    return 0;
  }
  const auto dirs = args.all("checkpoint");
  if (dirs.empty()) throw UsageError("give at least one --checkpoint DIR");
  const std::string out = args.required("out");
  if (args.has("split") && args.has("text")) throw UsageError("give --split or --text, not both");
  EvalOptions opts;
  if (args.has("lengths")) opts.lengths = args.get_int_list("lengths");
  for (int64_t L : opts.lengths) {
    if (L < 1) throw UsageError("--lengths must be positive, got " + std::to_string(L));
  }
  opts.windows = args.get_int("windows", opts.windows, 1);
  opts.tail = args.get_int("tail", opts.tail, 1);
  opts.local_window = args.get_int("local-window", opts.local_window, 1);
  std::string text_path, text_label;
  if (args.has("text")) {
    text_path = text_label = args.get("text");
  } else {
    const std::string split = args.get("split", "validation");
    if (split != "validation" && split != "test") {
      throw UsageError("--split must be validation or test, got \"" + split + "\"");
    }
    text_path = resources_dir() + "/corpus/brown/" + split + ".txt.gz";
    text_label = "brown/" + split;
  }
  const std::string text = read_text(text_path);
  init_torch_threads();
  std::vector<std::string> warnings;
  const std::string device_name = args.get("device", "cuda");
  const auto device = resolve_device(device_name, &warnings);
  const auto dtype =
      resolve_precision(args.get("precision", "float32"), device_name, device, &warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "note: %s\n", w.c_str());

  // Load and tokenize first: a bad checkpoint or a too-short text fails before any work.
  struct Item {
    std::string dir;
    Checkpoint ck;
    torch::Tensor tokens;
  };
  std::vector<Item> items;
  double total = 0;
  for (const auto& d : dirs) {
    Item it{d, load_checkpoint(d), {}};
    it.tokens = torch::tensor(it.ck.tokenizer->encode(text), torch::kInt64);
    for (int64_t L : opts.lengths) {
      eval_window_starts(it.tokens.size(0), L, opts.windows);  // throws if the text is short
      total += double(opts.windows) * double(L);
    }
    it.ck.model->to(device, dtype);
    items.push_back(std::move(it));
  }

  nlohmann::json results = {{"format", "attnscope-eval"},
                            {"format_version", kEvalFormatVersion},
                            {"text", text_label},
                            {"windows", opts.windows},
                            {"tail", opts.tail},
                            {"local_window", opts.local_window},
                            {"lengths", opts.lengths},
                            {"device", device.str()},
                            {"precision", precision_name(dtype)},
                            {"checkpoints", nlohmann::json::array()}};
  std::string csv = "checkpoint,variant,position,train_len,length,windows,ppl_tail,ppl_tail_sd,"
                    "ppl_window,ppl_window_sd\n";
  ProgressBar bar("eval");
  double done = 0;
  for (auto& it : items) {
    const auto& c = it.ck.config;
    const std::string name = fs::path(it.dir).filename().empty()
                                 ? fs::path(it.dir).parent_path().filename().string()
                                 : fs::path(it.dir).filename().string();
    nlohmann::json entry = {{"name", name},
                            {"dir", it.dir},
                            {"variant", c.attention.variant},
                            {"position", c.position.kind},
                            {"train_len", c.train_len},
                            {"tokens", it.tokens.size(0)},
                            {"results", nlohmann::json::array()}};
    for (int64_t L : opts.lengths) {
      const auto r = evaluate_length(it.ck.model, it.tokens, L, opts, device, ctx.cancel, [&] {
        done += double(L);
        bar.update(done / total, name + " at " + std::to_string(L));
      });
      entry["results"].push_back(length_result_json(r));
      const auto ts = spread_of(r.tail_ppl), ws = spread_of(r.window_ppl);
      csv += name + "," + c.attention.variant + "," + c.position.kind + "," +
             std::to_string(c.train_len) + "," + std::to_string(L) + "," +
             std::to_string(r.windows) + "," + csv_number(r.ppl_tail) + "," + csv_number(ts.sd) +
             "," + csv_number(r.ppl_window) + "," + csv_number(ws.sd) + "\n";
    }
    results["checkpoints"].push_back(entry);
  }
  bar.finish();
  write_file_atomic(out, results.dump(1) + "\n");
  if (args.has("csv")) write_file_atomic(args.get("csv"), csv);
  // A short table on stdout: tail perplexity per checkpoint and length.
  std::printf("%-18s", "ppl (last tokens)");
  for (int64_t L : opts.lengths) std::printf(" %9lld", (long long)L);
  std::printf("\n");
  for (const auto& e : results["checkpoints"]) {
    std::printf("%-18s", e["name"].get<std::string>().c_str());
    for (const auto& r : e["results"]) std::printf(" %9.2f", r["ppl_tail"].get<double>());
    std::printf("\n");
  }
  std::fprintf(stderr, "wrote %s\n", out.c_str());
  return 0;
}

}  // namespace attn::cli
