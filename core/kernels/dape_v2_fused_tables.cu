// SPDX-License-Identifier: MIT
// The per-call tables of the fused DAPE V2 kernel (dape_v2_fused_tables.h).
#include "core/kernels/dape_v2_fused_tables.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <cmath>

#include "core/kernels/hopper.cuh"

namespace attn::dape_v2_fused_detail {
namespace {

using hopper::Ops;

/// The convolutions' parameters as they come (W: float, __nv_bfloat16 or __half, one dtype for
/// the four), so that no conversion runs before the tables.
__device__ __forceinline__ double wd(float x) { return double(x); }
__device__ __forceinline__ double wd(__nv_bfloat16 x) { return double(__bfloat162float(x)); }
__device__ __forceinline__ double wd(__half x) { return double(__half2float(x)); }

/// Where k of conv1's folded K (kFoldK = 48 columns of w1p) takes its weight from, with fc score
/// channels a tap (fold_channels): tap * kSlots + channel, or -1 for a zero. fc = 16: the taps
/// one after the other; fc = 8: channels 0 .. 7 of taps 0, 1 and 2 (the kernel's k = 16 chunk
/// [tap 0 | tap 1] and k = 8 chunk tap 2, 8-channel pieces of X that it reads once a column).
__device__ __forceinline__ int fold_tap_channel(int k, int fc) {
  if (fc == 16) return k;
  return k < 3 * 8 ? (k / 8) * kSlots + k % 8 : -1;
}

template <typename T, typename W>
struct TableArgs {
  const W* w1;         // (D, C_in, 3)
  const W* b1;         // (D)
  const W* w2;         // (H, D, 3)
  const W* b2;         // (H)
  const float* table;  // (H, >= N), row stride table_stride; null without a bias
  int64_t table_stride;
  int H, N, D, c_in;
  int fold_c;    // fold_channels(H): the score channels of a tap in w1p's K
  bool spread;   // spread_heads(H): heads in the kernel's slots by head_slot
  double scale;  // of the scores: folded into the score channels' conv1 weights
  float* g;
  float* g0;
  float* pb;
  T* w1p;  // (32, 48) as Args::w1 (score channels by slot: head_slot)
  T* w2p;  // (3, 16, 32) as Args::w2 (heads by slot)
};

constexpr int kTableRows = 32;      // rows of G a block of the tables kernel fills
constexpr int kTableThreads = 256;  // 8 warps: a warp's lanes are the 32 hidden channels
constexpr int kPacked = 2 * kTaps * kWidth * kSlots + kPbPad * kSlots;  // w1p, w2p, Pb's -inf

/// In float64, for the rows `row` in [0, N] (kTableRows a block),
///   G[row][c]  = b1[c] + sum_{h, tap} W1[c][H + h][tap] P_h(row - tap)
///                (row d + 1 of the kernel's table: distance d = row - 1 >= -1; P_h(< 0) = 0, the
///                tril, and P_h(>= N) = 0, never read),
///   G0[i][c]   = G[i + 1][c] - sum_h W1[c][H + h][0] P_h(i + 1)   (key column 0: its left tap
///                is the zero padding),
///   Pb[kPbPad + i][h] = (P_h(i) + b2[h]) log2(e);
/// and, spread over the first blocks (one element a thread), the packed weights (zero-padded;
/// W1 times the scale, W2 times log2(e)) and Pb's -inf rows 0 .. kPbPad - 1. Every global
/// load is issued before the arithmetic: the block's weights and bias values go through shared
/// memory, so the kernel's time is about one round trip of loads.
template <typename T, typename W>
__global__ void __launch_bounds__(kTableThreads) tables_kernel(const TableArgs<T, W> t) {
  constexpr double kLog2e = 1.4426950408889634;
  __shared__ double ws[kSlots * kTaps][kWidth];  // W1's bias channels: [h][tap][c]
  __shared__ double ps[kSlots][kTableRows + 2];   // P_h(row0 - 2 + k)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  hopper::launch_dependents();  // the forward's blocks may start: they wait before the tables
#endif
  const int tid = threadIdx.x, row0 = blockIdx.x * kTableRows;
  const bool bias = t.table != nullptr;
  for (int x = blockIdx.x * kTableThreads + tid; x < kPacked; x += gridDim.x * kTableThreads) {
    const int r = x % (kWidth * kSlots), tap = (x / (kWidth * kSlots)) % kTaps;
    if (x < kWidth * kFoldK) {  // w1p[c1][k]: score channel h1 of a tap (fold_tap_channel)
      const int c1 = x / kFoldK, th = fold_tap_channel(x % kFoldK, t.fold_c);
      const int tap1 = th / kSlots, h1 = th >= 0 ? slot_head(th % kSlots, t.spread) : -1;
      t.w1p[x] = Ops<T>::from(
          c1 < t.D && h1 >= 0 && h1 < t.H
              ? float(wd(t.w1[(c1 * t.c_in + h1) * kTaps + tap1]) * t.scale)
              : 0.f);
    } else if (x < 2 * kTaps * kWidth * kSlots) {  // w2p[tap][h2][c2]
      const int h2 = slot_head(r / kWidth, t.spread), c2 = r % kWidth;  // slot r / kWidth
      t.w2p[x - kTaps * kWidth * kSlots] = Ops<T>::from(
          h2 >= 0 && h2 < t.H && c2 < t.D ? float(wd(t.w2[(h2 * t.D + c2) * kTaps + tap]) * kLog2e)
                                          : 0.f);
    } else {
      t.pb[x - 2 * kTaps * kWidth * kSlots] = -INFINITY;
    }
  }
  if (bias) {
    for (int x = tid; x < t.H * kTaps * kWidth; x += kTableThreads) {
      const int c = x % kWidth, ht = x / kWidth, h = ht / kTaps, tap = ht % kTaps;
      ws[ht][c] = c < t.D ? wd(t.w1[(c * t.c_in + t.H + h) * kTaps + tap]) : 0.0;
    }
    for (int x = tid; x < t.H * (kTableRows + 2); x += kTableThreads) {
      const int h = x / (kTableRows + 2), k = x % (kTableRows + 2), delta = row0 - 2 + k;
      ps[h][k] = delta >= 0 && delta < t.N ? double(t.table[int64_t(h) * t.table_stride + delta])
                                           : 0.0;
    }
  }
  __syncthreads();
  const int c = tid % kWidth;  // hidden channel
  const double b1 = c < t.D ? wd(t.b1[c]) : 0.0;
  for (int k = tid / kWidth; k < kTableRows; k += kTableThreads / kWidth) {
    const int row = row0 + k;
    if (row > t.N) break;
    double g = b1, left = 0.0;
    if (bias && c < t.D) {
      for (int h = 0; h < t.H; ++h) {
#pragma unroll
        for (int tap = 0; tap < kTaps; ++tap) g += ws[h * kTaps + tap][c] * ps[h][k + 2 - tap];
        left += ws[h * kTaps][c] * ps[h][k + 2];
      }
    }
    t.g[int64_t(row) * kWidth + c] = c < t.D ? float(g) : 0.f;
    // G0 row i = row - 1: G row i + 1 = row without the left tap's bias term.
    if (row >= 1) t.g0[int64_t(row - 1) * kWidth + c] = c < t.D ? float(g - left) : 0.f;
    if (c < kSlots && row < t.N) {  // slot c
      const int h = slot_head(c, t.spread);
      t.pb[int64_t(kPbPad + row) * kSlots + c] =
          h >= 0 && h < t.H ? float(((bias ? ps[h][k + 2] : 0.0) + wd(t.b2[h])) * kLog2e) : 0.f;
    }
  }
}

/// Fills t's tables by tables_kernel, with the parameters read as W.
template <typename T, typename W>
void fill_tables(const Tables& t, const DapeV2FusedParams& p, const torch::Tensor& table,
                 const torch::Tensor& w1, const torch::Tensor& b1, const torch::Tensor& w2,
                 const torch::Tensor& b2, int64_t H, int64_t N) {
  TableArgs<T, W> a;
  a.w1 = reinterpret_cast<const W*>(w1.data_ptr());
  a.b1 = reinterpret_cast<const W*>(b1.data_ptr());
  a.w2 = reinterpret_cast<const W*>(w2.data_ptr());
  a.b2 = reinterpret_cast<const W*>(b2.data_ptr());
  a.table = table.defined() ? table.data_ptr<float>() : nullptr;
  a.table_stride = table.defined() ? table.stride(0) : 0;
  a.H = int(H);
  a.N = int(N);
  a.D = int(w1.size(0));
  a.c_in = int(w1.size(1));
  a.fold_c = fold_channels(H);
  a.spread = spread_heads(H);
  a.scale = p.scale;
  a.g = t.g.data_ptr<float>();
  a.g0 = t.g0.data_ptr<float>();
  a.pb = t.pb.data_ptr<float>();
  a.w1p = reinterpret_cast<T*>(t.w1.data_ptr());
  a.w2p = reinterpret_cast<T*>(t.w2.data_ptr());
  tables_kernel<T, W><<<unsigned((N + 1 + kTableRows - 1) / kTableRows), kTableThreads, 0,
                        at::cuda::getCurrentCUDAStream()>>>(a);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}
template <typename T>
Tables make_tables_as(const DapeV2FusedParams& p, int64_t H, int64_t N, torch::ScalarType dtype,
                      const torch::Device& device) {
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto as_f32 = [](const torch::Tensor& x) { return x.to(torch::kFloat32).contiguous(); };
  // The four convolution parameters as they are when they share a dtype the kernel reads
  // (the usual case: a module's own parameters), else all as float32.
  const auto wdt = p.conv1_weight.scalar_type();
  const bool own = (wdt == torch::kFloat32 || wdt == torch::kBFloat16 || wdt == torch::kHalf) &&
                   p.conv1_bias.scalar_type() == wdt && p.conv2_weight.scalar_type() == wdt &&
                   p.conv2_bias.scalar_type() == wdt;
  auto as_w = [&](const torch::Tensor& x) { return own ? x.contiguous() : as_f32(x); };
  const torch::Tensor w1 = as_w(p.conv1_weight), b1 = as_w(p.conv1_bias);
  const torch::Tensor w2 = as_w(p.conv2_weight), b2 = as_w(p.conv2_bias);
  const torch::Tensor table =
      p.bias_by_distance.defined() ? as_f32(p.bias_by_distance) : torch::Tensor();
  Tables t;
  t.g = torch::empty({N + 1, kWidth}, f32);
  t.g0 = torch::empty({N, kWidth}, f32);
  t.pb = torch::empty({kPbPad + N, kSlots}, f32);  // rows 0 .. kPbPad - 1: the kernel's -inf
  t.w1 = torch::empty({kWidth, kFoldK}, f32.dtype(dtype));
  t.w2 = torch::empty({kTaps, kSlots, kWidth}, f32.dtype(dtype));
  const auto wt = w1.scalar_type();
  if (wt == torch::kBFloat16) {
    fill_tables<T, __nv_bfloat16>(t, p, table, w1, b1, w2, b2, H, N);
  } else if (wt == torch::kHalf) {
    fill_tables<T, __half>(t, p, table, w1, b1, w2, b2, H, N);
  } else {
    fill_tables<T, float>(t, p, table, w1, b1, w2, b2, H, N);
  }
  return t;
}

}  // namespace

Tables make_tables(const DapeV2FusedParams& p, int64_t H, int64_t N, torch::ScalarType dtype,
                   const torch::Device& device) {
  return dtype == torch::kBFloat16 ? make_tables_as<__nv_bfloat16>(p, H, N, dtype, device)
                                   : make_tables_as<__half>(p, H, N, dtype, device);
}

}  // namespace attn::dape_v2_fused_detail
