// SPDX-License-Identifier: MIT
// A one-line progress bar on stderr (percentage, elapsed and remaining time), redrawn at most
// ten times a second on a terminal; otherwise (logs) a plain line at most every 10 seconds.
#pragma once

#include <chrono>
#include <string>

namespace attn::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  /// fraction in [0, 1]; `detail` is appended (e.g. "layer 3/4"). The time left is estimated
  /// from the fraction and the elapsed time unless `left_s` (>= 0) gives it.
  void update(double fraction, const std::string& detail = "", double left_s = -1);
  void finish();

 private:
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_;
  bool tty_;
  bool drawn_ = false;
};

/// "42s", "3m05s", "1h02m".
std::string format_duration(double seconds);

}  // namespace attn::cli
