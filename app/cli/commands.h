// SPDX-License-Identifier: MIT
// The attnscope-cli commands. Each returns the process exit code (0 success) and throws
// UsageError (exit 2) or attn::Error (exit 1); main() catches and reports.
#pragma once

#include <atomic>

namespace attn::cli {

/// Set by SIGINT; long commands check it and stop cleanly.
struct CliContext {
  const std::atomic<bool>* cancel = nullptr;
};

int cmd_info(int argc, char** argv, const CliContext& ctx);
int cmd_trace(int argc, char** argv, const CliContext& ctx);
int cmd_init(int argc, char** argv, const CliContext& ctx);
int cmd_tokenize(int argc, char** argv, const CliContext& ctx);
int cmd_bpe_train(int argc, char** argv, const CliContext& ctx);
int cmd_variants(int argc, char** argv, const CliContext& ctx);
int cmd_train(int argc, char** argv, const CliContext& ctx);
int cmd_train_set(int argc, char** argv, const CliContext& ctx);
int cmd_eval(int argc, char** argv, const CliContext& ctx);
#ifdef ATTN_WITH_FIGURES
int cmd_figure(int argc, char** argv, const CliContext& ctx);
#endif

}  // namespace attn::cli
