// SPDX-License-Identifier: MIT
// A one-line progress bar on stderr (percentage, elapsed and remaining time), redrawn at most
// ten times a second; plain lines when stderr is not a terminal.
#pragma once

#include <chrono>
#include <string>

namespace attn::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  /// fraction in [0, 1]; `detail` is appended (e.g. "layer 3/4").
  void update(double fraction, const std::string& detail = "");
  void finish();

 private:
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_;
  bool tty_;
  bool drawn_ = false;
};

}  // namespace attn::cli
