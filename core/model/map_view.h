// SPDX-License-Identifier: MIT
// Map views: a stage map of one layer seen through a window of queries x keys, at full
// resolution or pooled into blocks of step x step tokens, assembled from the query-row chunks a
// forward pass streams to its StageSink. Nothing N x N is ever held: a 1024 x 1024 view of a
// 32768-token map keeps 1024 x 1024 cells per head. The window uses it for long inputs (a
// downsampled overview, the exact values of a zoomed region) and for its layers x heads grid.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/attention/stage_sink.h"

namespace attn {

/// How a block of cells becomes one: Extreme keeps the entry of largest magnitude (with its
/// sign; the maximum for attention weights, so one sharp key is never averaged away), Mean the
/// average of the block's causal entries.
enum class PoolMode { Extreme, Mean };

/// Queries [q0, q1) x keys [k0, k1), seen in cells of step x step tokens (the last row and
/// column of cells may be partial).
struct MapWindow {
  int64_t q0 = 0, q1 = 0, k0 = 0, k1 = 0;
  int64_t step = 1;
  int64_t rows() const { return (q1 - q0 + step - 1) / step; }
  int64_t cols() const { return (k1 - k0 + step - 1) / step; }
};

/// The window [q0, q1) x [k0, k1) of an n-token map (q0 or k0 < 0: counted from the end, so -1
/// is the last token; q1 or k1 < 0: up to n), clipped to the map,
/// with the smallest step that keeps both sides within `grid` cells (grid <= 0: step 1).
/// Throws ConfigError when the clipped window is empty, naming the bounds.
MapWindow make_window(int64_t n, int64_t q0, int64_t q1, int64_t k0, int64_t k1, int64_t grid);

/// One view a forward pass should produce.
struct ViewSpec {
  int64_t layer = 0;
  std::set<std::string> stages;
  MapWindow window;
  PoolMode pool = PoolMode::Extreme;
};

/// A StageSink that fills the views of its specs as the chunks go by. A cell without a causal
/// entry (every key after every query of the block) is NaN. Pooling runs on the stage's device
/// (sums in float64), and only the finished view travels to the CPU.
class ViewCollector : public StageSink {
 public:
  explicit ViewCollector(std::vector<ViewSpec> specs);
  bool wants(int64_t layer) const override;
  bool wants_stage(const std::string& stage) const override;
  void on_stage(int64_t layer, const std::string& stage, const torch::Tensor& rows,
                int64_t row_begin) override;
  /// Every (spec, stage) of the layer as a pooled request (id: the spec's index).
  std::vector<PooledRequest> pooled_requests(int64_t layer) const override;
  void on_pooled(int64_t layer, const PooledRequest& r, const torch::Tensor& view) override;

  /// The view of spec `index` and `stage`: (H, rows, cols) float32 on the CPU. Throws
  /// attn::Error when that stage never came by (the layer was not run or does not offer it).
  torch::Tensor view(size_t index, const std::string& stage) const;
  /// Whether that view came finished from the layer (on_pooled) rather than from streamed rows.
  bool came_pooled(size_t index, const std::string& stage) const;
  const std::vector<ViewSpec>& specs() const { return specs_; }

 private:
  struct Accumulator {
    torch::Tensor sum, count, max, min;  // (H or 1, rows, cols) on the stage's device:
                                         // float64, float64, float32, float32
    torch::Tensor exact;                 // step 1: (H, rows, cols) float32, NaN until written
    torch::Tensor pooled;                // a finished view from on_pooled, on the CPU
  };
  void add(const ViewSpec& spec, Accumulator& acc, const torch::Tensor& rows, int64_t row_begin);

  std::vector<ViewSpec> specs_;
  std::vector<std::map<std::string, Accumulator>> acc_;
};

/// What the user should know when views of a pass came finished from a layer's fused kernel
/// (on_pooled; only DAPE V2's fused CUDA kernel makes them): that the `variant`'s layers ran it
/// in `precision`, but for traced layers whose views needed streamed rows (exact cells, or
/// stages the kernel does not make), which are named. Empty when no view came so.
std::string fused_views_note(const ViewCollector& views, const std::string& variant,
                             const std::string& precision);

}  // namespace attn
