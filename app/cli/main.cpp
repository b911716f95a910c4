// SPDX-License-Identifier: MIT
// attnscope-cli: composition root. Dispatches to a command; exit code 0 on success, 2 on a
// usage error, 1 on any other error, with the message on stderr.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include <c10/util/Exception.h>

#include "app/cli/args.h"
#include "app/cli/commands.h"

namespace {

std::atomic<bool> g_cancel{false};  // the one process-wide flag, set by SIGINT

void on_sigint(int) { g_cancel.store(true); }

const char* kUsage =
    "usage: attnscope-cli <command> [options]\n"
    "\n"
    "commands:\n"
    "  info DIR            a checkpoint's config, parameter count and tensors\n"
    "  trace               stage maps, q and k of chosen layers as a safetensors file\n"
    "  tokenize            a text's tokens as a checkpoint's tokenizer sees them\n"
    "  init                a new checkpoint with seeded random (untrained) weights\n"
    "  bpe-train           train a byte-level BPE tokenizer on a text file\n"
    "  variants            the attention variants and position encodings, their parameters\n"
    "                      and stages\n"
    "  train               train a model from a config file (resumable)\n"
    "  train-set           train several configs at once (the default set)\n"
    "  eval                perplexity and attention statistics across input lengths\n"
    "  figure              a map, head grid or query profile as PDF, SVG, PNG, .npy or .csv\n"
    "                      (in builds with the window)\n"
    "\n"
    "`attnscope-cli <command> --help` describes each command; --version prints the version.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace attn::cli;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("attnscope-cli %s\n", ATTN_VERSION);
    return 0;
  }
  std::signal(SIGINT, on_sigint);
  CliContext ctx{&g_cancel};
  try {
    if (cmd == "info") return cmd_info(argc, argv, ctx);
    if (cmd == "trace") return cmd_trace(argc, argv, ctx);
    if (cmd == "tokenize") return cmd_tokenize(argc, argv, ctx);
    if (cmd == "init") return cmd_init(argc, argv, ctx);
    if (cmd == "bpe-train") return cmd_bpe_train(argc, argv, ctx);
    if (cmd == "variants") return cmd_variants(argc, argv, ctx);
    if (cmd == "train") return cmd_train(argc, argv, ctx);
    if (cmd == "train-set") return cmd_train_set(argc, argv, ctx);
    if (cmd == "eval") return cmd_eval(argc, argv, ctx);
#ifdef ATTN_WITH_FIGURES
    if (cmd == "figure") return cmd_figure(argc, argv, ctx);
#else
    if (cmd == "figure") {
      std::fputs("attnscope-cli figure: this build has no Qt (ATTN_BUILD_UI=OFF); build with the "
                 "window to draw figures\n", stderr);
      return 2;
    }
#endif
    std::fprintf(stderr, "attnscope-cli: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "attnscope-cli %s: %s (see attnscope-cli %s --help)\n", cmd.c_str(),
                 e.what(), cmd.c_str());
    return 2;
  } catch (const attn::Cancelled&) {
    std::fprintf(stderr, "\nattnscope-cli %s: cancelled; nothing was written\n", cmd.c_str());
    return 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "attnscope-cli %s: error: %s\n", cmd.c_str(), e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-cli %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
