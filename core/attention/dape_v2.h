// SPDX-License-Identifier: MIT
// DAPE V2 / CDAPE (Zheng et al., arXiv 2410.04798; dape.md §2.3): the score map is a feature map.
// X = tril([S ; P]) (2H channels; H with NoPE/RoPE), F = Conv1xk(D->H)(LeakyReLU_0.01(
// Conv1xk(C_in->D)(X))) with zero padding floor(k/2) on the key axis only, logits = S + P + F.
// Rows (queries) never mix, so query chunks are exact once each chunk's keys are extended by
// floor(k/2) past its last row (the unmasked hidden layer is read there). As in the official
// operator, the last floor(k/2) rows of a sequence see zero padding there instead, so their logits
// depend on the sequence's length (not on future content). Cost: 3 k H D N^2 / 2 MACs a layer.
#pragma once

#include "core/attention/score_attention.h"

namespace attn {

class DapeV2Impl : public ScoreAttentionImpl {
 public:
  DapeV2Impl(const ModelConfig& config, PositionEncoding pe, int64_t kernel, int64_t width,
             bool tril);
  std::string name() const override { return "dape_v2"; }
  /// Runs the fused CUDA kernel (core/kernels/dape_v2_fused.h) where uses_fused_kernel() holds
  /// and the kernel supports the shapes and the GPU; the chunked reference path otherwise. A
  /// sink on this layer that wants only pooled views the kernel can make (logits or probs,
  /// cells of 8 tokens or more: long-input overviews) gets them from the kernel's view passes
  /// (on_pooled) and the layer still runs fused; any other sink gets the reference path's rows.
  torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in) override;
  /// Whether forward() may take the fused kernel for x, sinks aside: built with the CUDA
  /// kernels, no gradient (grad mode off), x in bfloat16 or float16 on CUDA, tril, k = 3,
  /// width <= 32, n_head <= 16, head_dim 16/32/64/128 and an encoding whose bias depends on i - j
  /// only (NoPE, RoPE, ALiBi, Kerple).
  bool fused_kernel_applies(const torch::Tensor& x) const;
  /// fused_kernel_applies(x) and no sink wants this layer.
  bool uses_fused_kernel(const torch::Tensor& x, const AttentionInputs& in) const;

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};

 protected:
  torch::Tensor logits(const Chunk& c) override;
  std::vector<std::string> extra_stages() const override { return {"conv"}; }
  int64_t work_channels() const override { return std::max(width_, 2 * n_head_); }

 private:
  int64_t kernel_, width_;
  bool tril_;
};

/// The 1xk two-layer convolution of DAPE V2 on X (B, C_in, R, K): (B, H, R, K).
torch::Tensor dape_conv(const torch::Tensor& X, const torch::nn::Conv2d& conv1,
                        const torch::nn::Conv2d& conv2, int64_t kernel);

}  // namespace attn
