// SPDX-License-Identifier: MIT
// Collecting traces: a StageSink that assembles the chosen layers' stage maps into whole
// (H, N, N) float32 CPU tensors (batch 1) with q and k, and the writer of a trace as a
// safetensors file that Python can read. Only the layers asked for are kept.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/attention/stage_sink.h"
#include "core/tokenizer/tokenizer.h"

namespace attn {

struct LayerMaps {
  torch::Tensor q, k;                           // (H, N, head_dim), float32, CPU
  std::map<std::string, torch::Tensor> stages;  // name -> (H, N, N), float32, CPU
};

class MapCollector : public StageSink {
 public:
  /// Keeps `layers` (all stages when `stages` is empty) of a batch-1 pass over n tokens.
  MapCollector(std::set<int64_t> layers, std::set<std::string> stages, int64_t n);
  bool wants(int64_t layer) const override { return layers_.count(layer) > 0; }
  void on_qk(int64_t layer, const torch::Tensor& q, const torch::Tensor& k) override;
  void on_stage(int64_t layer, const std::string& stage, const torch::Tensor& rows,
                int64_t row_begin) override;
  const std::map<int64_t, LayerMaps>& layers() const { return maps_; }
  std::map<int64_t, LayerMaps>& layers() { return maps_; }

 private:
  std::set<int64_t> layers_;
  std::set<std::string> stages_;
  int64_t n_;
  std::map<int64_t, LayerMaps> maps_;
};

/// What a trace file records besides the maps.
struct TraceInfo {
  std::string checkpoint;
  std::string variant;
  std::string position;
  std::vector<Token> tokens;
  std::vector<std::string> labels;
  std::vector<std::string> stages;
};

/// Writes token_ids (I64 [N]), layers.<l>.q / .k (F32 [H, N, head_dim]) and layers.<l>.<stage>
/// (F32 [H, N, N]) with JSON metadata (format, tokens, spans, stages, layers), atomically.
void write_trace(const std::string& path, const TraceInfo& info,
                 const std::map<int64_t, LayerMaps>& layers);

}  // namespace attn
