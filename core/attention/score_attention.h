// SPDX-License-Identifier: MIT
// The shared body of every variant that forms explicit scores: q/k/v/o projections, the
// position encoding, and the causal loop over query-row chunks (keys [0, row_end) only), so no
// tensor exceeds the chunk budget at any length. A variant overrides the hooks: extra per-token
// tensors (rotated like q and k), the logits of a chunk, and the weights from the logits.
#pragma once

#include <functional>
#include <map>
#include <set>

#include "core/attention/attention.h"
#include "core/attention/position_encoding.h"

namespace attn {

/// Reports one stage of the current chunk (a no-op when the layer is not traced or the stage is
/// not one of the variant's).
using StageRecorder = std::function<void(const std::string& stage, const torch::Tensor& rows)>;

/// One chunk of query rows [row_begin, row_begin + R) over keys [0, K).
struct Chunk {
  torch::Tensor q;      // (B, H, R, head_dim), rotated where the encoding rotates
  torch::Tensor k;      // (B, H, K, head_dim)
  torch::Tensor S;      // (B, H, R, K) raw scores q k^T / sqrt(head_dim), work dtype
  torch::Tensor P;      // (H, R, K) position bias in the work dtype; undefined without one
  torch::Tensor mask;   // (R, K) bool, true where key > query
  std::map<std::string, torch::Tensor> extra;  // extra_tokens(), all rows: (B, H, N, head_dim)
  int64_t row_begin = 0;
  int64_t n = 0;        // the whole sequence's length (K <= n)
  bool tracing = false; // a sink records this layer: stage-only work may be skipped otherwise
  torch::Dtype work_dtype = torch::kFloat32;
  StageRecorder record;
  /// Rows of an extra per-token tensor belonging to this chunk's queries.
  torch::Tensor extra_rows(const std::string& name) const;
};

/// A layer's projections of its input, rotated where the encoding rotates.
struct Projections {
  torch::Tensor q, k, v;                       // (B, H, N, head_dim)
  std::map<std::string, torch::Tensor> extra;  // extra_tokens(), rotated like q and k
};

class ScoreAttentionImpl : public AttentionImpl {
 public:
  ScoreAttentionImpl(const ModelConfig& config, PositionEncoding pe);
  /// attend(x, project(x), in).
  torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in) override;
  std::vector<std::string> stages() const override;
  const PositionEncoding& position_encoding() const { return pe_; }

 protected:
  /// q, k and v of x (B, N, C) and the extra per-token tensors, rotated (prepares the encoding).
  Projections project(const torch::Tensor& x);
  /// The causal loop over query-row chunks on given projections of x; the layer's output
  /// (B, N, C). A variant with a fast path of its own projects once and falls back to this.
  torch::Tensor attend(const torch::Tensor& x, const Projections& p, const AttentionInputs& in);
  /// Extra per-token tensors (B, H, N, head_dim) derived once per forward from the unrotated
  /// q and k (and x); the encoding rotates each of them like q and k. None by default.
  virtual std::map<std::string, torch::Tensor> extra_tokens(const torch::Tensor& x,
                                                            const torch::Tensor& q,
                                                            const torch::Tensor& k) {
    return {};
  }
  /// The logits of a chunk, (B, H, R, K) in c.work_dtype; entries with key > query may hold
  /// anything (masked afterwards). Default: S + P.
  virtual torch::Tensor logits(const Chunk& c);
  /// The weights applied to V, (B, H, R, K); zero where key > query. Default: masked softmax.
  virtual torch::Tensor weights(const Chunk& c, const torch::Tensor& logits);
  /// Stages between "bias" and "logits" (e.g. "conv"), and after "logits" before "probs".
  virtual std::vector<std::string> extra_stages() const { return {}; }
  /// Whether the variant reports "logits" (daGPAM reports its two branches instead).
  virtual bool has_logits_stage() const { return true; }
  /// Values held per score cell by the hooks (for chunk sizing).
  virtual int64_t work_channels() const { return 1; }

  int64_t n_head_, head_dim_;
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  int64_t pick_chunk_rows(const AttentionInputs& in, int64_t B, int64_t N,
                          const torch::Device& device) const;
  PositionEncoding pe_;
};

/// Zeroes entries with key > query in rows (..., R, K) that start at query row_begin.
torch::Tensor zero_future(const torch::Tensor& rows, int64_t row_begin);
/// Boolean (R, K) mask, true where key > query.
torch::Tensor future_mask(int64_t row_begin, int64_t R, int64_t K, const torch::Device& device);
/// The chunk's scores and bias as channels, [S ; P] (B, 2H, R, K), or S (B, H, R, K) without a
/// bias: the input of DAPE's MLP and convolution.
torch::Tensor scores_and_bias(const Chunk& c);
/// softmax over keys with the future masked out (-inf): (B, H, R, K).
torch::Tensor masked_softmax(const torch::Tensor& logits, const torch::Tensor& mask);

}  // namespace attn
