// SPDX-License-Identifier: MIT
// attnscope-cli train (one run) and train-set (several runs at once, e.g. the default set on
// one GPU). Both drive core/train/Trainer; they differ only in how many run and how progress
// is shown.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/train/trainer.h"
#include "core/util/device.h"

namespace attn::cli {

namespace fs = std::filesystem;

namespace {
const char* kTrainUsage =
    "usage: attnscope-cli train --config FILE.json --out DIR [--device cuda|cpu] [--resume]\n"
    "                           [--time-limit MINUTES]\n"
    "  Trains the model FILE.json describes (sections model, attention, position, tokenizer,\n"
    "  data, train: see README.md) into the run folder DIR. Checkpoints are written every\n"
    "  train.checkpoint_interval steps; Ctrl-C or the time limit saves the step reached and\n"
    "  stops; --resume continues exactly from the last save. DIR then opens in the viewer.\n"
    "  Exit codes: 0 done, 3 stopped at the time limit, 130 interrupted (both resumable).\n";

const char* kTrainSetUsage =
    "usage: attnscope-cli train-set --out DIR (--configs FOLDER | --config FILE.json ...)\n"
    "                               [--device cuda|cpu] [--jobs N] [--resume]\n"
    "                               [--time-limit MINUTES]\n"
    "  Trains every config (FOLDER/*.json, or each --config) into DIR/<config name>/, N runs\n"
    "  at a time in threads (default: all of them on CUDA, one on the CPU). With --resume,\n"
    "  runs that have a saved state continue, finished ones are skipped, others start.\n"
    "  Ends with a table of validation perplexities. Exit codes as for train.\n";

torch::Device device_from(const Args& args) {
  std::vector<std::string> warnings;
  const auto device = resolve_device(args.get("device", "cuda"), &warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "note: %s\n", w.c_str());
  return device;
}

double time_limit_s(const Args& args) {
  if (!args.has("time-limit")) return 0;
  const std::string v = args.get("time-limit");
  char* end = nullptr;
  const double m = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !(m > 0)) {
    throw UsageError("--time-limit must be a positive number of minutes, got \"" + v + "\"");
  }
  return m * 60.0;
}

std::string fmt_ppl(double x) {
  if (!std::isfinite(x)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return buf;
}

std::string fmt_rate(double tokens_per_s) {
  char buf[32];
  if (tokens_per_s >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.2fM tok/s", tokens_per_s / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fk tok/s", tokens_per_s / 1e3);
  }
  return buf;
}
}  // namespace

int cmd_train(int argc, char** argv, const CliContext& ctx) {
  Args args(argc, argv, 2, {"config", "out", "device", "time-limit"}, {"resume", "help"});
  if (args.has("help")) {
    std::fputs(kTrainUsage, stdout);
    return 0;
  }
  const std::string out = args.required("out");
  const double limit = time_limit_s(args);
  TrainConfig config = load_train_config(args.required("config"));
  init_torch_threads();
  const auto device = device_from(args);
  Trainer trainer(config, out, device, args.has("resume"));
  if (trainer.start_step() > 0) {
    std::fprintf(stderr, "resuming %s at step %lld of %lld\n", out.c_str(),
                 (long long)trainer.start_step(), (long long)config.train.steps);
  }
  ProgressBar bar("train");
  const auto result = trainer.run(ctx.cancel, [&](const TrainProgress& p) {
    char detail[160];
    std::snprintf(detail, sizeof detail, "step %lld/%lld  loss %s  val ppl %s  %s",
                  (long long)p.step, (long long)p.steps, fmt_ppl(p.loss).c_str(),
                  fmt_ppl(p.val_ppl).c_str(),
                  fmt_rate(p.tokens_per_s).c_str());
    bar.update(double(p.step) / double(p.steps), detail, p.eta_s);
  }, limit);
  bar.finish();
  if (result.complete) {
    std::printf("%s: %lld steps, %lld parameters, validation perplexity %.2f at %lld tokens "
                "(unigram %.2f), %s\n",
                out.c_str(), (long long)result.step, (long long)result.parameters,
                result.val_ppl, (long long)config.model.train_len, result.unigram_ppl,
                format_duration(result.seconds).c_str());
    return 0;
  }
  const bool interrupted = ctx.cancel && ctx.cancel->load();
  std::fprintf(stderr, "%s at step %lld of %lld; saved to %s. Continue with:\n"
               "  attnscope-cli train --config %s --out %s --resume\n",
               interrupted ? "interrupted" : "stopped at the time limit", (long long)result.step,
               (long long)config.train.steps, out.c_str(), config.path.c_str(), out.c_str());
  return interrupted ? 130 : 3;
}

int cmd_train_set(int argc, char** argv, const CliContext& ctx) {
  Args args(argc, argv, 2, {"configs", "config", "out", "device", "jobs", "time-limit"},
            {"resume", "help"});
  if (args.has("help")) {
    std::fputs(kTrainSetUsage, stdout);
    return 0;
  }
  const std::string out = args.required("out");
  const double limit = time_limit_s(args);
  std::vector<std::string> paths = args.all("config");
  if (args.has("configs")) {
    const std::string folder = args.get("configs");
    if (!fs::is_directory(folder)) throw UsageError("--configs: '" + folder + "' is not a folder");
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(folder)) {
      if (e.path().extension() == ".json") found.push_back(e.path().string());
    }
    std::sort(found.begin(), found.end());
    paths.insert(paths.end(), found.begin(), found.end());
  }
  if (paths.empty()) throw UsageError("give --configs FOLDER or at least one --config FILE.json");
  init_torch_threads();
  const auto device = device_from(args);
  const int64_t jobs =
      args.get_int("jobs", device.is_cuda() ? int64_t(paths.size()) : 1, 1);

  struct Run {
    std::string name, dir;
    std::unique_ptr<Trainer> trainer;
    TrainResult result;
    std::string error;
    int64_t steps = 0;
    std::atomic<int64_t> step{0};
    std::atomic<double> tokens_per_s{0};
  };
  std::vector<std::unique_ptr<Run>> runs;
  std::map<std::string, std::shared_ptr<const TrainData>> shared;  // one tokenized corpus each
  for (const auto& p : paths) {
    auto run = std::make_unique<Run>();
    run->name = fs::path(p).stem().string();
    run->dir = (fs::path(out) / run->name).string();
    const TrainConfig config = load_train_config(p);
    const bool has_state = fs::exists(fs::path(run->dir) / "train_state.safetensors");
    if (args.has("resume") && fs::exists(fs::path(run->dir) / "train_summary.json")) {
      std::fprintf(stderr, "%s: already complete, skipped\n", run->name.c_str());
      continue;
    }
    auto& data = shared[train_data_key(config)];
    if (!data) {
      std::fprintf(stderr, "tokenizing %s ...\n", config.train_file.c_str());
      data = load_train_data(config);
    }
    // Built one after another: each run's initial weights come from its own seed.
    run->trainer = std::make_unique<Trainer>(config, run->dir, device,
                                             args.has("resume") && has_state, data);
    run->steps = config.train.steps;
    run->step = run->trainer->start_step();
    runs.push_back(std::move(run));
  }
  if (runs.empty()) {
    std::fprintf(stderr, "nothing to train\n");
    return 0;
  }
  std::fprintf(stderr, "training %zu runs on %s, %lld at a time\n", runs.size(),
               device.str().c_str(), (long long)jobs);

  std::atomic<size_t> next{0};
  std::mutex mu;
  auto worker = [&] {
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= runs.size()) return;
      Run& r = *runs[i];
      try {
        r.result = r.trainer->run(ctx.cancel, [&](const TrainProgress& p) {
          r.step = p.step;
          r.tokens_per_s = p.tokens_per_s;
        }, limit);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        r.error = e.what();
      }
      r.trainer.reset();  // frees the model and optimizer
    }
  };
  std::vector<std::thread> threads;
  for (int64_t t = 0; t < std::min<int64_t>(jobs, int64_t(runs.size())); ++t) {
    threads.emplace_back(worker);
  }
  ProgressBar bar("train-set");
  int64_t total = 0;
  for (const auto& r : runs) total += r->steps;
  for (;;) {
    int64_t done = 0, finished = 0;
    double rate = 0;
    for (const auto& r : runs) {
      done += r->step;
      rate += r->tokens_per_s;
      if (r->step >= r->steps) ++finished;
    }
    char detail[128];
    std::snprintf(detail, sizeof detail, "%lld/%zu runs done  %s", (long long)finished,
                  runs.size(), fmt_rate(rate).c_str());
    bar.update(double(done) / double(total), detail);
    if (next.load() >= runs.size() + threads.size()) break;  // every worker has returned
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& t : threads) t.join();
  bar.finish();

  std::printf("%-28s %10s %8s %12s %12s %10s\n", "run", "parameters", "steps", "val ppl",
              "unigram ppl", "time");
  bool failed = false, incomplete = false;
  for (const auto& r : runs) {
    if (!r->error.empty()) {
      failed = true;
      std::printf("%-28s error: %s\n", r->name.c_str(), r->error.c_str());
      continue;
    }
    incomplete |= !r->result.complete;
    std::printf("%-28s %10lld %8lld %12s %12s %10s%s\n", r->name.c_str(),
                (long long)r->result.parameters, (long long)r->result.step,
                fmt_ppl(r->result.val_ppl).c_str(), fmt_ppl(r->result.unigram_ppl).c_str(),
                format_duration(r->result.seconds).c_str(),
                r->result.complete ? "" : "  (stopped; --resume continues)");
  }
  if (failed) return 1;
  if (incomplete) return ctx.cancel && ctx.cancel->load() ? 130 : 3;
  return 0;
}

}  // namespace attn::cli
