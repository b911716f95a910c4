// SPDX-License-Identifier: MIT
// Reading a length-evaluation results file (attnscope-cli eval; format in README.md) for front
// ends: the perplexity curves and, per length, the layer and head statistics. No LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attn {

struct EvalPoint {
  int64_t length = 0, windows = 0;
  double ppl_tail = 0, ppl_tail_sd = 0, ppl_window = 0, ppl_window_sd = 0;
  // Layer means over heads (a first look; the file has every head):
  std::vector<double> entropy, distance, sink, local, negative, residual, cosine;  // per layer
};

struct EvalCurve {
  std::string name, variant, position;
  int64_t train_len = 0;
  std::vector<EvalPoint> points;  // in the file's order of lengths
};

struct EvalResults {
  std::string path, text;
  int64_t tail = 0, windows = 0;
  std::vector<int64_t> lengths;
  std::vector<EvalCurve> curves;
};

/// Reads and checks a results file. Throws FormatError naming the file and the field (and the
/// version this build reads when the file is newer).
EvalResults read_eval_results(const std::string& path);
/// The same from the file's text; `origin` names it in messages.
EvalResults parse_eval_results(const std::string& json_text, const std::string& origin);

}  // namespace attn
