// SPDX-License-Identifier: MIT
// attnscope-cli train (one run) and train-set (several runs at once, e.g. the default set on
// one GPU). train drives core/train/Trainer; train-set starts one `train` process per config:
// LibTorch runs every CUDA backward pass of a process on one engine thread, so runs in threads
// of one process would queue behind each other, while processes share the GPU in parallel.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <csignal>
#include <fcntl.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/train/trainer.h"
#include "core/util/atomic_file.h"
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
    "  --threads N sets LibTorch's CPU threads (default: all cores).\n"
    "  Exit codes: 0 done, 3 stopped at the time limit, 130 interrupted (both resumable).\n";

const char* kTrainSetUsage =
    "usage: attnscope-cli train-set --out DIR (--configs FOLDER | --config FILE.json ...)\n"
    "                               [--device cuda|cpu] [--jobs N] [--resume]\n"
    "                               [--time-limit MINUTES]\n"
    "  Trains every config (FOLDER/*.json, or each --config) into DIR/<config name>/, N runs\n"
    "  at a time, each a `train` process writing DIR/<name>/train_output.log (default N: all\n"
    "  of them on CUDA, sharing the GPU; one on the CPU). With --resume, runs that have a saved\n"
    "  state continue, finished ones are skipped, others start. Ctrl-C stops and saves them\n"
    "  all. Ends with a table of validation perplexities. Exit codes as for train.\n";

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
  Args args(argc, argv, 2, {"config", "out", "device", "time-limit", "threads"},
            {"resume", "help"});
  if (args.has("help")) {
    std::fputs(kTrainUsage, stdout);
    return 0;
  }
  const std::string out = args.required("out");
  const double limit = time_limit_s(args);
  TrainConfig config = load_train_config(args.required("config"));
  init_torch_threads(int(args.get_int("threads", 0, 0)));
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

namespace {
struct SetRun {
  std::string name, config, dir;
  int64_t steps = 0;
  pid_t pid = 0;
  int exit_code = -1;  // -1: not finished
  bool started = false;
};

/// The latest step in a run's train_log.jsonl (0 when none).
int64_t logged_step(const std::string& dir) {
  std::ifstream in(dir + "/train_log.jsonl");
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  try {
    return last.empty() ? 0 : nlohmann::json::parse(last).value("step", int64_t(0));
  } catch (const nlohmann::json::exception&) {
    return 0;  // a line being written
  }
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) throw Error("cannot write '" + log_path + "'");
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    throw Error("cannot start a training process (fork failed)");
  }
  if (pid == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close(fd);
    ::execv(cargv[0], cargv.data());
    std::_Exit(127);
  }
  ::close(fd);
  return pid;
}

std::string last_lines(const std::string& path, int n) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    // Progress bars redraw with carriage returns: keep what a terminal would show last.
    const auto cr = line.rfind('\r');
    if (cr != std::string::npos) line = line.substr(cr + 1);
    if (!line.empty()) lines.push_back(line);
  }
  std::string out;
  for (size_t i = lines.size() > size_t(n) ? lines.size() - size_t(n) : 0; i < lines.size(); ++i) {
    out += "    " + lines[i] + "\n";
  }
  return out;
}
}  // namespace

int cmd_train_set(int argc, char** argv, const CliContext& ctx) {
  Args args(argc, argv, 2, {"configs", "config", "out", "device", "jobs", "time-limit"},
            {"resume", "help"});
  if (args.has("help")) {
    std::fputs(kTrainSetUsage, stdout);
    return 0;
  }
  const std::string out = args.required("out");
  time_limit_s(args);  // checked here, passed on as given
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
  const auto device = device_from(args);
  const std::string device_name = device.is_cuda() ? device.str() : "cpu";

  std::vector<SetRun> runs;
  for (const auto& p : paths) {
    SetRun r;
    r.config = fs::absolute(p).string();
    r.name = fs::path(p).stem().string();
    r.dir = (fs::path(out) / r.name).string();
    r.steps = load_train_config(p).train.steps;  // every config is checked before any starts
    if (args.has("resume") && fs::exists(fs::path(r.dir) / "train_summary.json")) {
      std::fprintf(stderr, "%s: already complete, skipped\n", r.name.c_str());
      continue;
    }
    if (!args.has("resume") && fs::exists(fs::path(r.dir) / "train_state.safetensors")) {
      throw ConfigError(r.dir + " already holds a training run: pass --resume to continue, or "
                        "choose another --out folder");
    }
    runs.push_back(r);
  }
  if (runs.empty()) {
    std::fprintf(stderr, "nothing to train\n");
    return 0;
  }
  const int64_t jobs = std::min<int64_t>(
      args.get_int("jobs", device.is_cuda() ? int64_t(runs.size()) : 1, 1), int64_t(runs.size()));
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int64_t threads = std::max<int64_t>(1, int64_t(cores) / jobs);
  std::fprintf(stderr, "training %zu runs on %s, %lld at a time (logs: %s/<run>/train_output.log)\n",
               runs.size(), device_name.c_str(), (long long)jobs, out.c_str());

  const std::string exe = self_exe_path();
  int64_t total = 0;
  for (const auto& r : runs) total += r.steps;
  ProgressBar bar("train-set");
  bool forwarded = false;
  for (;;) {
    int64_t running = 0, done = 0, finished = 0;
    for (auto& r : runs) {
      if (r.started && r.exit_code < 0) {
        int status = 0;
        if (::waitpid(r.pid, &status, WNOHANG) == r.pid) {
          r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
      }
      running += r.started && r.exit_code < 0;
    }
    const bool stopping = ctx.cancel && ctx.cancel->load();
    if (stopping && !forwarded) {
      for (const auto& r : runs) {
        if (r.started && r.exit_code < 0) ::kill(r.pid, SIGINT);  // each saves and stops
      }
      forwarded = true;
    }
    for (auto& r : runs) {
      if (stopping || running >= jobs || r.started) continue;
      std::error_code ec;
      fs::create_directories(r.dir, ec);
      std::vector<std::string> cmd = {exe, "train", "--config", r.config, "--out", r.dir,
                                      "--device", device_name, "--threads",
                                      std::to_string(threads)};
      if (fs::exists(fs::path(r.dir) / "train_state.safetensors")) cmd.push_back("--resume");
      if (args.has("time-limit")) {
        cmd.push_back("--time-limit");
        cmd.push_back(args.get("time-limit"));
      }
      r.pid = spawn(cmd, r.dir + "/train_output.log");
      r.started = true;
      ++running;
    }
    for (const auto& r : runs) {
      const int64_t s = r.exit_code == 0 ? r.steps : std::min(r.steps, logged_step(r.dir));
      done += s;
      finished += r.exit_code == 0;
    }
    char detail[96];
    std::snprintf(detail, sizeof detail, "%lld/%zu runs done, %lld running", (long long)finished,
                  runs.size(), (long long)running);
    bar.update(double(done) / double(total), detail);
    bool all_over = true;
    for (const auto& r : runs) all_over &= (r.started || stopping) && (!r.started || r.exit_code >= 0);
    if (all_over) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  bar.finish();

  std::printf("%-24s %10s %8s %10s %12s %10s\n", "run", "parameters", "steps", "val ppl",
              "unigram ppl", "time");
  bool failed = false, incomplete = false;
  for (const auto& r : runs) {
    const fs::path summary = fs::path(r.dir) / "train_summary.json";
    if (r.exit_code == 0 && fs::exists(summary)) {
      const auto j = nlohmann::json::parse(read_file(summary.string()));
      std::printf("%-24s %10lld %8lld %10s %12s %10s\n", r.name.c_str(),
                  (long long)j.value("parameters", int64_t(0)), (long long)j.value("steps", int64_t(0)),
                  fmt_ppl(j.value("val_ppl", std::nan(""))).c_str(),
                  fmt_ppl(j.value("unigram_ppl", std::nan(""))).c_str(),
                  format_duration(j.value("seconds", 0.0)).c_str());
    } else if (r.exit_code == 3 || r.exit_code == 130 || !r.started) {
      incomplete = true;
      std::printf("%-24s %10s %8lld %10s %12s %10s  (stopped; --resume continues)\n",
                  r.name.c_str(), "", (long long)logged_step(r.dir), "-", "-", "");
    } else {
      failed = true;
      std::printf("%-24s failed (exit %d); the end of %s/train_output.log:\n%s", r.name.c_str(),
                  r.exit_code, r.dir.c_str(), last_lines(r.dir + "/train_output.log", 3).c_str());
    }
  }
  if (failed) return 1;
  if (incomplete) return ctx.cancel && ctx.cancel->load() ? 130 : 3;
  return 0;
}

}  // namespace attn::cli
