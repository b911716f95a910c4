// SPDX-License-Identifier: MIT
// The causal forward pass of DAPE V2 attention (core/attention/dape_v2.h, dape.md §2.3, §7.6)
// in one CUDA kernel: for a block of 16 query rows it walks the key tiles up to the diagonal,
// forms the scores of all heads on each tile plus the convolutions' halo (k - 1 = 2 keys each
// side), zeroes the future (tril), runs the two 1x3 convolutions as tensor-core products, adds
// the bias and folds the logits into an online softmax and the product with V. No N x N tensor
// is stored. bf16/fp16 inputs, float32 accumulation; H <= 16, head_dim 16/32/64/128, k = 3,
// width D <= 32, position biases that depend on the distance i - j only (NoPE, RoPE after the
// rotation, ALiBi, Kerple); a GPU of compute capability 9.0 or newer (Hopper: K and V arrive by
// bulk tensor copies). dape_v2_fused_ref (dape_v2_fused_ref.cpp) is the plain float64 spec.
#pragma once

#include <string>

#include <torch/torch.h>

namespace attn {

/// The DAPE V2 parameters of one layer, as the module holds them.
struct DapeV2FusedParams {
  torch::Tensor conv1_weight;  // (D, C_in, 1, k), C_in = 2H with a bias table, else H
  torch::Tensor conv1_bias;    // (D)
  torch::Tensor conv2_weight;  // (H, D, 1, k)
  torch::Tensor conv2_bias;    // (H)
  /// The position bias by distance, (H, N) float32: column d holds P[h, i, i - d]. Undefined
  /// for encodings without a bias (NoPE, RoPE).
  torch::Tensor bias_by_distance;
  double scale = 0.0;  // the score scale, 1 / sqrt(head_dim)
};

/// The reference: softmax(S + P + F, causal) V in float64 over the whole N x N square, with
/// X = tril([S ; P]), F = Conv1xk(LeakyReLU_0.01(Conv1xk(X))), zero padding floor(k/2) on the
/// key axis. q, k, v: (B, H, N, head_dim), any floating dtype and device; returns float64.
torch::Tensor dape_v2_fused_ref(const torch::Tensor& q, const torch::Tensor& k,
                                const torch::Tensor& v, const DapeV2FusedParams& p);

/// Why the kernel cannot run these arguments ("" when it can): names the first bad value.
std::string dape_v2_fused_unsupported_reason(const torch::Tensor& q, const torch::Tensor& k,
                                             const torch::Tensor& v, const DapeV2FusedParams& p);
inline bool dape_v2_fused_supported(const torch::Tensor& q, const torch::Tensor& k,
                                    const torch::Tensor& v, const DapeV2FusedParams& p) {
  return dape_v2_fused_unsupported_reason(q, k, v, p).empty();
}

/// The kernel: (B, H, N, head_dim) in q's dtype. Throws c10::Error (naming the value) where
/// dape_v2_fused_supported() is false.
torch::Tensor dape_v2_fused(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const DapeV2FusedParams& p);
/// As dape_v2_fused, into `out` (contiguous, q's shape and dtype); every element is written.
/// With `stats` (contiguous float32 (B, H, N, 2)) also each row's softmax statistics, which
/// dape_v2_fused_view takes in place of its first pass.
void dape_v2_fused_out(torch::Tensor& out, const torch::Tensor& q, const torch::Tensor& k,
                       const torch::Tensor& v, const DapeV2FusedParams& p,
                       torch::Tensor stats = {});

/// A pooled view of the logits or probs of every head (issue 8's long-input views): queries
/// [q0, q1) x keys [k0, k1) in cells of step x step tokens (the last row and column of cells
/// may be partial), each the entry of largest magnitude with its sign or the mean of its causal
/// entries, as ViewCollector (core/model/map_view.h) pools a streamed map.
struct DapeV2FusedView {
  std::string stage = "probs";  // "logits" (S + P + F) or "probs"
  int64_t q0 = 0, q1 = 0, k0 = 0, k1 = 0, step = 16;
  bool mean = false;
};

/// Why dape_v2_fused_view cannot run these arguments ("" when it can): the forward's conditions
/// (k stands in for v), then one sequence (B = 1), stage logits or probs, a window inside the
/// n-token map and step >= 8 (8 query rows and a warp's 8 keys meet at most two cells; smaller
/// steps belong to small windows, which the streamed path handles).
std::string dape_v2_fused_view_unsupported_reason(const torch::Tensor& q, const torch::Tensor& k,
                                                  const DapeV2FusedParams& p,
                                                  const DapeV2FusedView& view);

/// The view, (H, rows, cols) float32 on q's device, NaN in cells without a causal entry;
/// nothing N x N is stored. probs takes two passes of the kernel's tiles over the window's
/// query rows: every key for the softmax statistics of each row (or `stats` from
/// dape_v2_fused_out), then the window's keys for the cells; logits the second only. Throws
/// c10::Error where unsupported.
torch::Tensor dape_v2_fused_view(const torch::Tensor& q, const torch::Tensor& k,
                                 const DapeV2FusedParams& p, const DapeV2FusedView& view,
                                 const torch::Tensor& stats = {});

/// The reference's logits S + P + F, (B, H, N, N) float64, -inf where key > query.
torch::Tensor dape_v2_fused_ref_logits(const torch::Tensor& q, const torch::Tensor& k,
                                       const DapeV2FusedParams& p);

}  // namespace attn
