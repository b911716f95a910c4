// SPDX-License-Identifier: MIT
#include "app/cli/progress.h"

#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace attn::cli {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  const long long t = (long long)std::llround(s);
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (t < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
  }
  return buf;
}

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      start_(std::chrono::steady_clock::now()),
      last_(start_ - std::chrono::hours(1)),
      tty_(::isatty(::fileno(stderr)) != 0) {}

void ProgressBar::update(double fraction, const std::string& detail, double left_s) {
  const auto now = std::chrono::steady_clock::now();
  const auto every = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(10000);
  if (now - last_ < every && fraction < 1.0) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // Too early to tell: the first hundredth of the work in the first second.
  const bool unknown = left_s < 0 && (fraction <= 0.0 || (fraction < 0.01 && elapsed < 1.0));
  const double left = left_s >= 0 ? left_s : unknown ? -1.0 : elapsed * (1.0 - fraction) / fraction;
  const int width = 30, filled = int(fraction * width + 0.5);
  std::string bar(size_t(filled), '#');
  bar.resize(size_t(width), '.');
  std::fprintf(stderr, "%s%s [%s] %3.0f%%  %s elapsed, %s left  %s%s", tty_ ? "\r" : "",
               label_.c_str(), bar.c_str(), fraction * 100.0, format_duration(elapsed).c_str(),
               format_duration(left).c_str(), detail.c_str(), tty_ ? "\033[K" : "\n");
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_ && tty_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace attn::cli
