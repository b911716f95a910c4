// SPDX-License-Identifier: MIT
// The per-call tables of the fused DAPE V2 kernel (dape_v2_fused.cu, internal to core/kernels):
// the bias channels' share of conv1 by distance (G, G0), the logit bias by distance (Pb) and the
// packed convolution weights, computed by one small CUDA kernel in float64.
#pragma once

#include <torch/torch.h>

#include "core/kernels/dape_v2_fused.h"

namespace attn::dape_v2_fused_detail {

constexpr int kSlots = 16;  // head channels of a position (H <= 16)
constexpr int kWidth = 32;  // hidden channels (D <= 32, zero-padded)
constexpr int kTaps = 3;    // k
constexpr int kPbPad = 80;  // rows of Pb before distance 0 (-inf: the tril)
constexpr int kFoldK = kTaps * kSlots;  // conv1's K: the score channels of the three taps

#ifdef __CUDACC__
/// The score channels a tap of conv1 takes for H heads (or the kernel's HMAX head slots): 8 for
/// up to 8 heads (the 8-head instantiation: conv1's K is 24, one product of k = 16 and one of
/// k = 8, half of 48), else all 16 head slots (K = 48, three products of k = 16, one a tap). The
/// order of K: fold_tap_channel in dape_v2_fused_tables.cu.
__host__ __device__ constexpr int fold_channels(int64_t H) { return H <= 8 ? 8 : 16; }
/// The head slots (X's score channels, conv2's and Pb's head columns) of head h for H heads. For
/// 9 to 12 heads (the kernel's 12-head instantiation) heads 8 .. 11 take the even slots 8, 10,
/// 12 and 14, and the odd ones stay empty: each thread's pairs of the second n-tile are then a
/// head (even slot) and no head (odd slot), and the kernel skips the softmax of the latter.
/// Otherwise slot h.
__host__ __device__ constexpr bool spread_heads(int64_t H) { return H > 8 && H <= 12; }
__host__ __device__ constexpr int head_slot(int h, bool spread) {
  return spread && h >= 8 ? 8 + 2 * (h - 8) : h;
}
/// The head in slot s, or -1 for an empty one (the caller compares with H as well).
__host__ __device__ constexpr int slot_head(int s, bool spread) {
  return !spread || s < 8 ? s : (s - 8) % 2 == 0 ? 8 + (s - 8) / 2 : -1;
}
#endif

/// G (N + 1, 32): row d + 1 = conv1 bias + the bias channels' share at distance d >= -1;
/// G0 (N, 32): the same for key column 0 (its left tap is padding); Pb (kPbPad + N, 16): row
/// kPbPad + d = (P_h(d) + conv2 bias) * log2(e), and -inf for d < 0 (keys after the query: the
/// tril, so that the kernel needs no test); w1 (32, 48) [hidden][k], k a (tap, score channel)
/// pair in the kernel's order for fold_channels(H), * p.scale (the kernel's X holds the unscaled
/// q k^T), and w2 (3, 16, 32) [tap][head][hidden] * log2(e), both in the kernel's dtype and
/// zero-padded. Heads are in the kernel's slots (head_slot) in Pb's columns, w1's score channels
/// and w2's heads. All on `device`.
struct Tables {
  torch::Tensor g, g0, pb, w1, w2;
};
Tables make_tables(const DapeV2FusedParams& p, int64_t H, int64_t N, torch::ScalarType dtype,
                   const torch::Device& device);

}  // namespace attn::dape_v2_fused_detail
