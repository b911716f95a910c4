// SPDX-License-Identifier: MIT
// Neural Attention (DiGiugno & Mahmood, arXiv 2502.17206; official code
// awayfromzel/neural-attention-research; variants.md §A): a small MLP scores each (query, key)
// pair instead of a dot product. Default: the official code's two hidden layers; the paper's one
// hidden layer is a config option. The first layer is split additively (never the 2d' concat).
#pragma once

#include "core/attention/score_attention.h"

namespace attn {

/// d' of the official code, max(2, head_dim / 32): 2 for head_dim 64, 3 for 96, 4 for 128.
int64_t neural_projection_dim(int64_t head_dim);

/// Pairwise score network, shared by all heads of the layer (heads differ only through their
/// q and k). q' = W_qp q + b_qp, k' = W_kp k + b_kp (head_dim -> d'), then on z = [q'_i ; k'_j]:
///   form "code"  (official code, what produced the results):
///     e = W3 ReLU(W2 ReLU(W1 z + b1) + b2) + b3,   2d' -> d' -> floor(d'/2) -> 1
///   form "paper" (the paper's equation, one hidden layer of d' units):
///     e = w_a^T ReLU(W_h z + b_h) + b_a,           2d' -> d' -> 1
/// logits = e + P (the encoding's bias, if any); no 1/sqrt(head_dim) scaling, as in the code.
/// Shapes: q', k' (B, H, N, d'); first hidden (B, H, R, K, d') per chunk; e (B, H, R, K).
/// Cost per pair and head after the additive split W1 z = W1a q'_i + W1b k'_j (each half once
/// per token): d' adds + floor(d'/2)(d' + 1) MACs (5 for d' = 2); memory-bound, not a GEMM.
/// Stages: "hidden_<c>" (first hidden layer after ReLU, c < d'), "gate" (1 where any unit of the
/// last ReLU layer is active). Where the gate is 0, e is exactly the output bias (b3 or b_a):
/// flat plateaus of uniform attention. A layer closed at every pair gets no gradient in its
/// score network; at PyTorch's default init that befalls a sizeable share of layers (d' = 2).
/// The output bias never gets a gradient (softmax ignores a shift shared by a row), as in the code.
class NeuralAttentionImpl : public ScoreAttentionImpl {
 public:
  enum class Form { Code, Paper };

  NeuralAttentionImpl(const ModelConfig& config, PositionEncoding pe, Form form,
                      int64_t projection_dim);
  std::string name() const override { return "neural"; }
  Form form() const { return form_; }
  /// d', the width of q', k' and the first hidden layer.
  int64_t projection_dim() const { return dim_; }

  /// e for rotated q (B, H, R, head_dim) and k (B, H, K, head_dim), in q's dtype: (B, H, R, K).
  /// Reports "hidden_<c>" and "gate" through `record` when given.
  torch::Tensor pair_scores(const torch::Tensor& q, const torch::Tensor& k,
                            const StageRecorder& record = nullptr) const;

  torch::nn::Linear q_down{nullptr}, k_down{nullptr};     // head_dim -> d', with bias
  torch::nn::Linear mlp1{nullptr}, mlp2{nullptr}, mlp3{nullptr};  // mlp3: code form only

 protected:
  torch::Tensor logits(const Chunk& c) override;
  std::vector<std::string> extra_stages() const override;
  /// Per score cell, all heads: the first hidden layer (d') plus the gate/second layer.
  int64_t work_channels() const override { return n_head_ * (dim_ + 1); }

 private:
  Form form_;
  int64_t dim_;
};

}  // namespace attn
