// SPDX-License-Identifier: MIT
#include "app/cli/progress.h"

#include <cstdio>
#include <unistd.h>

namespace attn::cli {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      start_(std::chrono::steady_clock::now()),
      last_(start_ - std::chrono::seconds(1)),
      tty_(::isatty(::fileno(stderr)) != 0) {}

void ProgressBar::update(double fraction, const std::string& detail) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100) && fraction < 1.0) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double left = fraction > 0.0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  const int width = 30, filled = int(fraction * width + 0.5);
  std::string bar(size_t(filled), '#');
  bar.resize(size_t(width), '.');
  std::fprintf(stderr, "%s%s [%s] %3.0f%%  %.1fs elapsed, %.1fs left  %s%s", tty_ ? "\r" : "",
               label_.c_str(), bar.c_str(), fraction * 100.0, elapsed, left, detail.c_str(),
               tty_ ? "\033[K" : "\n");
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_ && tty_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace attn::cli
