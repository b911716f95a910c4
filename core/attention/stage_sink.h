// SPDX-License-Identifier: MIT
// The named-intermediate hook of the attention core: variants report their stage maps
// ("raw", "bias", "logits", "probs", and their own) to a sink, query-row chunk by chunk, so a
// trace never needs more than the chunk in flight. Front ends decide what to keep.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace attn {

/// A pooled view a sink would take in place of a stage's rows, which a fused kernel can make
/// without the rows ever existing: queries [q0, q1) x keys [k0, k1) in cells of step x step
/// tokens, each the entry of largest magnitude with its sign (mean = false) or the mean of its
/// causal entries. `id` is the sink's own.
struct PooledRequest {
  size_t id = 0;
  std::string stage;
  int64_t q0 = 0, q1 = 0, k0 = 0, k1 = 0, step = 1;
  bool mean = false;
};

class StageSink {
 public:
  virtual ~StageSink() = default;
  /// Whether the sink wants the stages of this layer; others are computed without tracing.
  virtual bool wants(int64_t layer) const = 0;
  /// q and k of every head, after any rotation: (B, H, N, head_dim).
  virtual void on_qk(int64_t layer, const torch::Tensor& q, const torch::Tensor& k) {}
  /// Rows [row_begin, row_begin + R) of a stage over keys [0, K): (B, H, R, K), entries with
  /// key > query already zeroed. K grows with row_begin (causal chunks); keys >= K are zero.
  virtual void on_stage(int64_t layer, const std::string& stage, const torch::Tensor& rows,
                        int64_t row_begin) = 0;
  /// Whether the sink wants this stage at all; others are not even masked for it.
  virtual bool wants_stage(const std::string& stage) const { return true; }
  /// Everything the sink wants of this layer as pooled views, or nothing when it wants the
  /// rows. A layer that can make every one of these may answer with on_pooled, once each, and
  /// stream no rows (nor q and k); otherwise it streams the rows as usual.
  virtual std::vector<PooledRequest> pooled_requests(int64_t layer) const { return {}; }
  /// The view of request r: (H, rows, cols) float32, NaN in cells without a causal entry.
  virtual void on_pooled(int64_t layer, const PooledRequest& r, const torch::Tensor& view) {}
};

/// What a forward pass passes down to every attention layer.
struct AttentionInputs {
  int64_t layer = 0;
  StageSink* sink = nullptr;
  /// Query rows per chunk; 0 picks them so that no work tensor exceeds max_chunk_elements.
  int64_t chunk_rows = 0;
  /// Element budget of one work tensor; 0 picks one for the device (chunk_budget()).
  int64_t max_chunk_elements = 0;
  const std::atomic<bool>* cancel = nullptr;
};

/// The default element budget of one work tensor: 2^22 on the CPU, where fresh allocations of
/// hundreds of MB cost more in page faults than the arithmetic on them (measured: 210 ms to
/// scale a new 134 MB tensor, 3.6 ms in place), and 2^26 on CUDA, where launches dominate.
inline int64_t chunk_budget(const torch::Device& device) {
  return device.is_cuda() ? (int64_t{1} << 26) : (int64_t{1} << 20);
}

}  // namespace attn
