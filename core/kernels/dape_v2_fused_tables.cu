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

template <typename T, typename W>
struct TableArgs {
  const W* w1;         // (D, C_in, 3)
  const W* b1;         // (D)
  const W* w2;         // (H, D, 3)
  const W* b2;         // (H)
  const float* table;  // (H, >= N), row stride table_stride; null without a bias
  int64_t table_stride;
  int H, N, D, c_in;
  double scale;  // of the scores: folded into the score channels' conv1 weights
  float* g;
  float* g0;
  float* pb;
  T* w1p;  // (3, 32, 16) as Args::w1
  T* w2p;  // (3, 16, 32) as Args::w2
};

/// One thread per (row, column s): in float64,
///   G[col][c]  = b1[c] + sum_{h, tap} W1[c][H + h][tap] P_h(col - tap),  col in [0, N]
///                (row d + 1 of the kernel's table: distance d = col - 1 >= -1; P_h(< 0) = 0, the
///                tril, and P_h(>= N) = 0, never read),
///   G0[i][c]   = G[i + 1][c] - sum_h W1[c][H + h][0] P_h(i + 1)   (key column 0: its left tap
///                is the zero padding),
///   Pb[kPbPad + i][h] = (P_h(i) + b2[h]) log2(e)  (block 0 writes rows 0 .. kPbPad - 1,
///                -inf);
/// and block 0 also packs the weights (zero-padded; W2 times log2(e)).
template <typename T, typename W>
__global__ void tables_kernel(const TableArgs<T, W> t) {
  constexpr double kLog2e = 1.4426950408889634;
  if (blockIdx.x == 0) {
    for (int e = threadIdx.x; e < kTaps * kWidth * kSlots; e += blockDim.x) {
      const int tap = e / (kWidth * kSlots), r = e % (kWidth * kSlots);
      const int c1 = r / kSlots, h1 = r % kSlots;  // w1p[tap][c1][h1]: score channel h1
      t.w1p[e] = Ops<T>::from(
          c1 < t.D && h1 < t.H ? float(wd(t.w1[(c1 * t.c_in + h1) * kTaps + tap]) * t.scale) : 0.f);
      const int h2 = r / kWidth, c2 = r % kWidth;  // w2p[tap][h2][c2]
      t.w2p[e] = Ops<T>::from(
          h2 < t.H && c2 < t.D ? float(wd(t.w2[(h2 * t.D + c2) * kTaps + tap]) * kLog2e) : 0.f);
    }
    for (int e = threadIdx.x; e < kPbPad * kSlots; e += blockDim.x) t.pb[e] = -INFINITY;
  }
  const int s = threadIdx.x % 32;
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (row > t.N) return;
  auto P = [&](int h, int delta) -> double {
    return t.table != nullptr && delta >= 0 && delta < t.N
               ? double(t.table[int64_t(h) * t.table_stride + delta])
               : 0.0;
  };
  const int c = s;  // hidden channel
  if (c < t.D) {
    const W* w = t.w1 + int64_t(c) * t.c_in * kTaps;
    double g = wd(t.b1[c]), left = 0.0;
    if (t.table != nullptr) {
      for (int h = 0; h < t.H; ++h) {
        const W* wh = w + (t.H + h) * kTaps;
        for (int tap = 0; tap < kTaps; ++tap) g += wd(wh[tap]) * P(h, row - tap);
        left += wd(wh[0]) * P(h, row);
      }
    }
    t.g[int64_t(row) * kWidth + s] = float(g);
    // G0 row i = row - 1: G row i + 1 = row without the left tap's bias term.
    if (row >= 1) t.g0[int64_t(row - 1) * kWidth + s] = float(g - left);
  } else {
    t.g[int64_t(row) * kWidth + s] = 0.f;
    if (row >= 1) t.g0[int64_t(row - 1) * kWidth + s] = 0.f;
  }
  if (s < kSlots && row < t.N) {
    const int h = s;
    t.pb[int64_t(kPbPad + row) * kSlots + s] =
        h < t.H ? float((P(h, row) + wd(t.b2[h])) * kLog2e) : 0.f;
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
  a.scale = p.scale;
  a.g = t.g.data_ptr<float>();
  a.g0 = t.g0.data_ptr<float>();
  a.pb = t.pb.data_ptr<float>();
  a.w1p = reinterpret_cast<T*>(t.w1.data_ptr());
  a.w2p = reinterpret_cast<T*>(t.w2.data_ptr());
  constexpr int kRowsPerBlock = 8;
  tables_kernel<T, W><<<unsigned((N + 1 + kRowsPerBlock - 1) / kRowsPerBlock), 32 * kRowsPerBlock,
                        0, at::cuda::getCurrentCUDAStream()>>>(a);
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
  t.w1 = torch::empty({kTaps, kWidth, kSlots}, f32.dtype(dtype));
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
