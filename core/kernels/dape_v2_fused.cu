// SPDX-License-Identifier: MIT
// The fused causal DAPE V2 forward (dape_v2_fused.h; NOTES.md beside this file has the counts,
// the versions and their timings). One block of 8 warps owns 16 query rows of one sequence and
// walks the key tiles of 32 columns up to its diagonal. Per tile:
//  A. scores q k^T * scale of every head over the 48 columns [j0 - 8, j0 + 40) (the tile and the
//     convolutions' halo, rounded to 16) with mma.sync, written as the channels of X in shared
//     memory, zero where key > query or outside [0, N) (tril and the zero padding);
//  B. each warp takes whole query rows (rows never mix): conv1 as three products
//     [16 positions x 16 score channels] x [16 x 32] (one per tap), plus a float32 table G of the
//     bias channels' contribution, which depends on the distance i - j only (see make_tables),
//     LeakyReLU, conv2 as six products [16 x 16] x [16 x 16 heads], logits = S + P + F + b2,
//     the online softmax of each head, and the probabilities into shared memory;
//  C. P V for every head into float32 accumulators in registers, rescaled as the maxima move.
// K and V rows stream a group of heads at a time through two shared-memory buffers (up to
// 48 KB each), the next group's copy in flight while the current one is used.
#include "core/kernels/dape_v2_fused.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <sstream>

namespace attn {
namespace {

constexpr int kRows = 16;                // query rows per block
constexpr int kCols = 32;                // output key columns per tile
constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kSlots = 16;               // head channels of a position (H <= 16)
constexpr int kWidth = 32;               // hidden channels (D <= 32, zero-padded)
constexpr int kTaps = 3;                 // k
constexpr int kSpan = kCols + 16;        // score and hidden columns per tile: [j0 - 8, j0 + 40)
constexpr int kXCols = kSpan + 2;        // X columns [j0 - 9, j0 + 41); the two ends stay zero
constexpr int kXStride = kSlots + 8;     // padded strides (elements) keep ldmatrix conflict-free
constexpr int kHStride = kWidth + 8;
constexpr int kPStride = kCols + 8;
constexpr int kW1Stride = kSlots + 8;
constexpr int kW2Stride = kWidth + 8;
constexpr int kMaxKvBytes = 48 * 1024;   // cap of each of the two K/V stage buffers
constexpr int kGRows = 64;               // distances of the hidden-bias table one tile reads
constexpr int kPbRows = 48;              // distances of the logit-bias table one tile reads

constexpr size_t kFixedSmem = 2 * (size_t(kRows) * kXCols * kXStride +      // X
                                   size_t(kWarps) * kSpan * kHStride +     // hidden, per warp
                                   size_t(kSlots) * kRows * kPStride +     // probabilities
                                   size_t(kTaps) * kWidth * kW1Stride +    // conv1 weights
                                   size_t(kTaps) * kSlots * kW2Stride) +   // conv2 weights
                              4 * (2 * size_t(kSlots) * kRows +            // alpha, l
                                   size_t(kGRows + kRows) * kWidth +       // G and G0 rows
                                   size_t(kPbRows) * kSlots);              // Pb rows

size_t q_bytes(int64_t H, int64_t head_dim) { return 2 * size_t(H) * kRows * size_t(head_dim + 8); }

/// Bytes of each of the two K/V stage buffers: what the GPU's shared memory leaves, up to 48 KB;
/// 0 when not even one head's K rows fit.
size_t kv_bytes(int64_t H, int64_t head_dim, size_t optin) {
  const size_t used = kFixedSmem + q_bytes(H, head_dim);
  if (optin <= used) return 0;
  const size_t each = std::min<size_t>(kMaxKvBytes, ((optin - used) / 2) & ~size_t(15));
  return each >= size_t(kSpan) * (head_dim + 8) * 2 ? each : 0;
}

size_t smem_bytes(int64_t H, int64_t head_dim, size_t kv) {
  return kFixedSmem + q_bytes(H, head_dim) + 2 * kv;
}

template <typename T>
struct Args {
  const T* q;
  const T* k;
  const T* v;
  T* out;
  const T* w1;      // (3, 32, 16): [tap][hidden channel][score channel], zero-padded
  const T* w2;      // (3, 16, 32): [tap][head][hidden channel], zero-padded
  const float* g;   // (N + 1, 32): row d + 1 = conv1 bias + bias channels at distance d >= -1
  const float* g0;  // (N, 32): the same for key column 0 of row i (its left tap is padding)
  const float* pb;  // (N, 16): P_h(d) + conv2 bias[h]
  int H, N, k_group, v_group;
  int kv_elems;     // elements of each K/V stage buffer
  float scale;
};

template <typename T>
struct Ops;
template <>
struct Ops<__nv_bfloat16> {
  static __device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                             uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
  static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
  }
  static __device__ __forceinline__ __nv_bfloat16 from(float x) { return __float2bfloat16(x); }
  static __device__ __forceinline__ float to(__nv_bfloat16 x) { return __bfloat162float(x); }
};
template <>
struct Ops<__half> {
  static __device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                             uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
  static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
  }
  static __device__ __forceinline__ __half from(float x) { return __float2half_rn(x); }
  static __device__ __forceinline__ float to(__half x) { return __half2float(x); }
};

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
// Four 8x8 matrices; lane l gives the row address of matrix l / 8, row l % 8.
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void cp_async16(void* dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem_addr(dst)), "l"(src));
}

/// Copies rows [row0, row0 + nrows) of heads [h0, h0 + nh) into dst[head][row][HD + 8]; rows
/// outside [0, N) become zero.
template <int HD, typename T>
__device__ void load_rows(T* dst, const T* src, int h0, int nh, int row0, int nrows, int N) {
  constexpr int kChunks = HD / 8;  // 16-byte pieces of a row; each thread keeps one piece
  const int c = threadIdx.x % kChunks;
  for (int e = threadIdx.x / kChunks; e < nh * nrows; e += kThreads / kChunks) {
    const int hl = e / nrows, r = e - hl * nrows, row = row0 + r;
    T* d = dst + e * (HD + 8) + c * 8;
    if (row >= 0 && row < N) {
      cp_async16(d, src + (size_t(h0 + hl) * N + row) * HD + c * 8);
    } else {
      *reinterpret_cast<uint4*>(d) = make_uint4(0, 0, 0, 0);
    }
  }
}

__device__ __forceinline__ float leaky(float x) { return x > 0.f ? x : 0.01f * x; }

/// Stage A: the scores of heads [h0, h0 + nh) over the tile's 48 columns, into X.
template <typename T, int HD>
__device__ void scores_to_x(const Args<T>& a, const T* Qs, const T* Ks, T* Xs, int h0, int nh,
                            int i0, int j0) {
  constexpr int kQStride = HD + 8;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, qd = lane % 4;
  for (int t = warp; t < nh * (kSpan / 8); t += kWarps) {
    const int hl = t / (kSpan / 8), nt = t % (kSpan / 8), h = h0 + hl;
    const T* qh = Qs + h * kRows * kQStride + (lane % 16) * kQStride + (lane / 16) * 8;
    const T* kh = Ks + (hl * kSpan + nt * 8 + lane % 8) * kQStride + (lane / 8) * 8;
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
    for (int ks = 0; ks < HD / 16; ks += 2) {
      uint32_t a0[4], a1[4], b[4];
      ldsm_x4(a0, qh + ks * 16);
      ldsm_x4(a1, qh + ks * 16 + 16);
      ldsm_x4(b, kh + ks * 16);
      Ops<T>::mma(acc, a0, b[0], b[1]);
      Ops<T>::mma(acc, a1, b[2], b[3]);
    }
#pragma unroll
    for (int half = 0; half < 2; ++half) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int r = g + 8 * half, kr = nt * 8 + 2 * qd + e, col = j0 - 8 + kr, i = i0 + r;
        const bool valid = col >= 0 && col <= i && col < a.N;
        Xs[(r * kXCols + kr + 1) * kXStride + h] =
            Ops<T>::from(valid ? acc[2 * half + e] * a.scale : 0.f);
      }
    }
  }
}

/// Stage B, conv1: the hidden layer of row r over the tile's 48 columns into this warp's Hs.
/// Gs row k holds G at distance dlo + k (clamped to [-1, N - 1]), dlo = i0 - j0 - 40; G0s row r
/// holds G0 of query row i0 + r.
template <typename T>
__device__ void conv1_row(const Args<T>& a, const T* Xs, const T* W1s, const float* Gs,
                          const float* G0s, T* Hs, int r, int i, int j0, int dlo) {
  const int lane = threadIdx.x % 32, g = lane / 4, qd = lane % 4;
  const int wn = (lane % 8) + 8 * (lane / 16), wk = 8 * ((lane / 8) % 2);
#pragma unroll
  for (int f = 0; f < kSpan / 16; ++f) {
    float acc[4][4] = {};
#pragma unroll
    for (int t = 0; t < kTaps; ++t) {
      uint32_t x[4], b01[4], b23[4];
      ldsm_x4(x, Xs + (r * kXCols + 16 * f + (lane % 16) + t) * kXStride + (lane / 16) * 8);
      ldsm_x4(b01, W1s + (t * kWidth + wn) * kW1Stride + wk);
      ldsm_x4(b23, W1s + (t * kWidth + 16 + wn) * kW1Stride + wk);
      Ops<T>::mma(acc[0], x, b01[0], b01[1]);
      Ops<T>::mma(acc[1], x, b01[2], b01[3]);
      Ops<T>::mma(acc[2], x, b23[0], b23[1]);
      Ops<T>::mma(acc[3], x, b23[2], b23[3]);
    }
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int y = 16 * f + g + 8 * half, jp = j0 - 8 + y;
      const bool inside = jp >= 0 && jp < a.N;  // conv2 sees zero padding outside [0, N)
      const float* gp = jp == 0 ? G0s + r * kWidth : Gs + (i - jp - dlo) * kWidth;
      uint32_t* dst = reinterpret_cast<uint32_t*>(Hs + y * kHStride + 2 * qd);
#pragma unroll
      for (int nt = 0; nt < 4; ++nt) {
        float v0 = 0.f, v1 = 0.f;
        if (inside) {
          const float2 gv = *reinterpret_cast<const float2*>(gp + 8 * nt + 2 * qd);
          v0 = leaky(acc[nt][2 * half] + gv.x);
          v1 = leaky(acc[nt][2 * half + 1] + gv.y);
        }
        dst[4 * nt] = Ops<T>::pack(v0, v1);
      }
    }
  }
}

/// Stage B, conv2 and logits: f[o][nt][c] for output fragment o (16 columns), heads 8 nt + ...
/// Pbs row k holds Pb at distance plo + k (clamped to [0, N - 1]), plo = i0 - j0 - 32.
template <typename T>
__device__ void logits_row(const Args<T>& a, const T* Xs, const T* W2s, const float* Pbs,
                           const T* Hs, int r, int i, int j0, int plo, float (&f)[2][2][4]) {
  const int lane = threadIdx.x % 32, g = lane / 4, qd = lane % 4;
  const int wn = (lane % 8) + 8 * (lane / 16), wk = 8 * ((lane / 8) % 2);
#pragma unroll
  for (int o = 0; o < 2; ++o) {
#pragma unroll
    for (int nt = 0; nt < 2; ++nt)
#pragma unroll
      for (int c = 0; c < 4; ++c) f[o][nt][c] = 0.f;
#pragma unroll
    for (int t = 0; t < kTaps; ++t) {
#pragma unroll
      for (int ks = 0; ks < 2; ++ks) {
        uint32_t x[4], w[4];
        ldsm_x4(x, Hs + (16 * o + (lane % 16) + 7 + t) * kHStride + ks * 16 + (lane / 16) * 8);
        ldsm_x4(w, W2s + (t * kSlots + wn) * kW2Stride + ks * 16 + wk);
        Ops<T>::mma(f[o][0], x, w[0], w[1]);
        Ops<T>::mma(f[o][1], x, w[2], w[3]);
      }
    }
#pragma unroll
    for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int p = 16 * o + g + 8 * half, j = j0 + p, hh = 8 * nt + 2 * qd;
        const bool valid = j <= i && j < a.N;
        const T* s = Xs + (r * kXCols + p + 9) * kXStride + hh;
        const float2 pb = *reinterpret_cast<const float2*>(Pbs + (i - j - plo) * kSlots + hh);
        float& l0 = f[o][nt][2 * half];
        float& l1 = f[o][nt][2 * half + 1];
        l0 = valid ? Ops<T>::to(s[0]) + pb.x + l0 : -INFINITY;
        l1 = valid ? Ops<T>::to(s[1]) + pb.y + l1 : -INFINITY;
      }
    }
  }
}

/// Copies rows of a float table (row_floats per row, a multiple of 4) into shared memory: row k
/// of dst is src row clamp(first + k, lo, hi).
__device__ void load_table(float* dst, const float* src, int rows, int row_floats, int first,
                           int lo, int hi) {
  const int chunks = row_floats / 4;
  for (int e = threadIdx.x; e < rows * chunks; e += kThreads) {
    const int k = e / chunks, c = e % chunks, row = min(max(first + k, lo), hi);
    cp_async16(dst + k * row_floats + c * 4, src + size_t(row) * row_floats + c * 4);
  }
}

template <typename T, int HD, int HMAX>
__global__ void __launch_bounds__(kThreads, 1) dape_v2_fused_kernel(const Args<T> a) {
  constexpr int kQStride = HD + 8;
  constexpr int kTasks = (HMAX * HD / 8 + kWarps - 1) / kWarps;  // P V tiles per warp
  extern __shared__ __align__(16) unsigned char smem[];
  T* Xs = reinterpret_cast<T*>(smem);
  T* Hs = Xs + kRows * kXCols * kXStride;
  T* Ps = Hs + kWarps * kSpan * kHStride;
  T* W1s = Ps + kSlots * kRows * kPStride;
  T* W2s = W1s + kTaps * kWidth * kW1Stride;
  float* alpha_s = reinterpret_cast<float*>(W2s + kTaps * kSlots * kW2Stride);
  float* l_s = alpha_s + kSlots * kRows;
  float* Gs = l_s + kSlots * kRows;
  float* G0s = Gs + kGRows * kWidth;
  float* Pbs = G0s + kRows * kWidth;
  T* Qs = reinterpret_cast<T*>(Pbs + kPbRows * kSlots);
  T* const buf0 = Qs + a.H * kRows * kQStride;  // the two K/V stage buffers
  T* const buf1 = buf0 + a.kv_elems;

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, qd = lane % 4;
  const int H = a.H, N = a.N;
  const int i0 = (gridDim.x - 1 - blockIdx.x) * kRows;  // the longest rows start first
  const size_t batch = size_t(blockIdx.y) * H * N * HD;
  const T* qb = a.q + batch;
  const T* kb = a.k + batch;
  const T* vb = a.v + batch;

  for (int e = tid; e < kRows * kXCols * kXStride / 2; e += kThreads) {
    reinterpret_cast<uint32_t*>(Xs)[e] = 0u;
  }
  for (int e = tid; e < kTaps * kWidth * kSlots; e += kThreads) {
    W1s[(e / kSlots) * kW1Stride + e % kSlots] = a.w1[e];
  }
  for (int e = tid; e < kTaps * kSlots * kWidth; e += kThreads) {
    W2s[(e / kWidth) * kW2Stride + e % kWidth] = a.w2[e];
  }
  load_rows<HD>(Qs, qb, 0, H, i0, kRows, N);
  load_table(G0s, a.g0, kRows, kWidth, i0, 0, N - 1);

  // The loads form one sequence of steps, double-buffered: per tile nk groups of K rows (with
  // the tile's bias tables), then nv groups of V rows; step s+1 is issued before step s runs.
  const int nk = (H + a.k_group - 1) / a.k_group, nv = (H + a.v_group - 1) / a.v_group;
  const int per_tile = nk + nv, key_end = min(i0 + kRows, N);
  const int steps = ((key_end + kCols - 1) / kCols) * per_tile;
  auto issue = [&](int s) {
    if (s < steps) {
      const int j0 = (s / per_tile) * kCols, k = s % per_tile;
      T* buf = (s & 1) ? buf1 : buf0;
      if (k < nk) {
        const int h0 = k * a.k_group;
        load_rows<HD>(buf, kb, h0, min(a.k_group, H - h0), j0 - 8, kSpan, N);
        if (k == 0) {
          load_table(Gs, a.g, kGRows, kWidth, i0 - j0 - 40 + 1, 0, N);  // row d + 1
          load_table(Pbs, a.pb, kPbRows, kSlots, i0 - j0 - 32, 0, N - 1);
        }
      } else {
        const int h0 = (k - nk) * a.v_group;
        load_rows<HD>(buf, vb, h0, min(a.v_group, H - h0), j0, kCols, N);
      }
    }
    asm volatile("cp.async.commit_group;\n" ::: "memory");
  };
  // Step s has landed and every thread is done with step s - 1 (so with the buffer and, at a
  // tile's first step, the tables that step s + 1 overwrites); then s + 1 goes in flight.
  auto wait_step = [&](int s) {
    asm volatile("cp.async.wait_group 0;\n" ::: "memory");
    __syncthreads();
    issue(s + 1);
  };

  float acc[kTasks][4];
#pragma unroll
  for (int s = 0; s < kTasks; ++s) acc[s][0] = acc[s][1] = acc[s][2] = acc[s][3] = 0.f;
  float m_run[2][4], l_run[2][4];
#pragma unroll
  for (int rr = 0; rr < 2; ++rr)
#pragma unroll
    for (int c = 0; c < 4; ++c) m_run[rr][c] = -INFINITY, l_run[rr][c] = 0.f;

  issue(0);
  for (int s0 = 0; s0 < steps; s0 += per_tile) {
    const int j0 = (s0 / per_tile) * kCols;
    for (int k = 0; k < nk; ++k) {  // A: scores
      wait_step(s0 + k);
      const int h0 = k * a.k_group;
      const T* ks = ((s0 + k) & 1) ? buf1 : buf0;
      scores_to_x<T, HD>(a, Qs, ks, Xs, h0, min(a.k_group, H - h0), i0, j0);
    }
    __syncthreads();  // X is complete

    T* hs = Hs + warp * kSpan * kHStride;  // B: convolutions and softmax, rows warp, warp + 8
#pragma unroll
    for (int rr = 0; rr < 2; ++rr) {
      const int r = warp + 8 * rr, i = i0 + r;
      conv1_row<T>(a, Xs, W1s, Gs, G0s, hs, r, i, j0, i0 - j0 - 40);
      __syncwarp();
      float f[2][2][4];
      logits_row<T>(a, Xs, W2s, Pbs, hs, r, i, j0, i0 - j0 - 32, f);
#pragma unroll
      for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int c = 2 * nt + e, hh = 8 * nt + 2 * qd + e;
          float mx = fmaxf(fmaxf(f[0][nt][e], f[0][nt][2 + e]),
                           fmaxf(f[1][nt][e], f[1][nt][2 + e]));
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 4));
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 8));
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 16));
          const float m_new = fmaxf(m_run[rr][c], mx);
          const float base = m_new == -INFINITY ? 0.f : m_new;  // a row with no key yet
          const float alpha = __expf(m_run[rr][c] - base);
          float sum = 0.f;
#pragma unroll
          for (int o = 0; o < 2; ++o) {
#pragma unroll
            for (int half = 0; half < 2; ++half) {
              const float p = __expf(f[o][nt][2 * half + e] - base);
              sum += p;
              Ps[(hh * kRows + r) * kPStride + 16 * o + g + 8 * half] = Ops<T>::from(p);
            }
          }
          sum += __shfl_xor_sync(0xffffffffu, sum, 4);
          sum += __shfl_xor_sync(0xffffffffu, sum, 8);
          sum += __shfl_xor_sync(0xffffffffu, sum, 16);
          l_run[rr][c] = l_run[rr][c] * alpha + sum;
          m_run[rr][c] = m_new;
          if (g == 0) alpha_s[hh * kRows + r] = alpha;
        }
      }
      __syncwarp();
    }

    for (int k = 0; k < nv; ++k) {  // C: P V
      wait_step(s0 + nk + k);
      const int h0 = k * a.v_group, nh = min(a.v_group, H - h0);
      const T* vs = ((s0 + nk + k) & 1) ? buf1 : buf0;
#pragma unroll
      for (int s = 0; s < kTasks; ++s) {
        const int t = warp + kWarps * s, h = t / (HD / 8), nt = t % (HD / 8);
        if (h < h0 || h >= h0 + nh) continue;
        const float al0 = alpha_s[h * kRows + g], al1 = alpha_s[h * kRows + g + 8];
        acc[s][0] *= al0;
        acc[s][1] *= al0;
        acc[s][2] *= al1;
        acc[s][3] *= al1;
        uint32_t b[4], p0[4], p1[4];
        ldsm_x4_trans(b, vs + ((h - h0) * kCols + lane) * kQStride + nt * 8);
        const T* ph = Ps + (h * kRows + lane % 16) * kPStride + (lane / 16) * 8;
        ldsm_x4(p0, ph);
        ldsm_x4(p1, ph + 16);
        Ops<T>::mma(acc[s], p0, b[0], b[1]);
        Ops<T>::mma(acc[s], p1, b[2], b[3]);
      }
    }
  }
  asm volatile("cp.async.wait_group 0;\n" ::: "memory");

#pragma unroll
  for (int rr = 0; rr < 2; ++rr) {
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      if (g == 0) l_s[(8 * (c / 2) + 2 * qd + c % 2) * kRows + warp + 8 * rr] = l_run[rr][c];
    }
  }
  __syncthreads();
  T* ob = a.out + batch;
#pragma unroll
  for (int s = 0; s < kTasks; ++s) {
    const int t = warp + kWarps * s, h = t / (HD / 8), nt = t % (HD / 8);
    if (h >= H) continue;
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int r = g + 8 * half, i = i0 + r;
      if (i >= N) continue;
      const float inv = 1.f / l_s[h * kRows + r];
      *reinterpret_cast<uint32_t*>(ob + (size_t(h) * N + i) * HD + nt * 8 + 2 * qd) =
          Ops<T>::pack(acc[s][2 * half] * inv, acc[s][2 * half + 1] * inv);
    }
  }
}

/// The float32 tables of Args: G (N + 1, 32), G0 (N, 32) and Pb (N, 16), and the packed weights.
struct Tables {
  torch::Tensor g, g0, pb, w1, w2;
};

Tables make_tables(const DapeV2FusedParams& p, int64_t H, int64_t N, torch::ScalarType dtype,
                   const torch::Device& device) {
  // In float64, so that distances up to N and biases of thousands keep float32 precision.
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  const int64_t D = p.conv1_weight.size(0);
  auto w1 = p.conv1_weight.to(f64).squeeze(2);  // (D, C_in, 3)
  auto w2 = p.conv2_weight.to(f64).squeeze(2);  // (H, D, 3)
  auto b1 = p.conv1_bias.to(f64), b2 = p.conv2_bias.to(f64);
  Tables t;
  t.w1 = torch::zeros({kTaps, kWidth, kSlots}, f64);
  t.w1.narrow(1, 0, D).narrow(2, 0, H).copy_(w1.narrow(1, 0, H).permute({2, 0, 1}));
  t.w1 = t.w1.to(dtype);
  t.w2 = torch::zeros({kTaps, kSlots, kWidth}, f64);
  t.w2.narrow(1, 0, H).narrow(2, 0, D).copy_(w2.permute({2, 0, 1}));
  t.w2 = t.w2.to(dtype);
  // G[:, d + 1] = b1 + sum_{h, tap} W1[:, H + h, tap] P_h(d + 1 - tap) for d in [-1, N - 1]:
  // the bias channels of X at key j' + tap - 1 of row i = j' + d, with P_h(< 0) = 0 (tril).
  auto G = b1.view({D, 1}).expand({D, N + 1}).clone();
  torch::Tensor G0;
  auto pb = torch::zeros({N, kSlots}, f64);
  if (p.bias_by_distance.defined()) {
    auto table = p.bias_by_distance.to(f64).narrow(1, 0, N);  // (H, N)
    auto ext = torch::zeros({H, N + 3}, f64);                  // column delta + 2: P(delta)
    ext.narrow(1, 2, N).copy_(table);
    auto wp = w1.narrow(1, H, H);                              // (D, H, 3)
    for (int64_t tap = 0; tap < kTaps; ++tap) {
      G += torch::matmul(wp.select(2, tap), ext.narrow(1, 2 - tap, N + 1));
    }
    // Key column 0: its left tap reads the zero padding, not P(i + 1).
    G0 = G.narrow(1, 1, N) - torch::matmul(wp.select(2, 0), ext.narrow(1, 3, N));
    pb.narrow(1, 0, H).copy_(table.t() + b2.view({1, H}));
  } else {
    G0 = G.narrow(1, 1, N);
    pb.narrow(1, 0, H).copy_(b2.view({1, H}).expand({N, H}));
  }
  const auto f32 = torch::kFloat32;
  t.g = torch::zeros({N + 1, kWidth}, f64);
  t.g.narrow(1, 0, D).copy_(G.t());
  t.g = t.g.to(f32);
  t.g0 = torch::zeros({N, kWidth}, f64);
  t.g0.narrow(1, 0, D).copy_(G0.t());
  t.g0 = t.g0.to(f32);
  t.pb = pb.to(f32);
  return t;
}

template <typename T, int HD, int HMAX>
const void* kernel_ptr() {
  return reinterpret_cast<const void*>(&dape_v2_fused_kernel<T, HD, HMAX>);
}

template <typename T>
const void* pick_kernel(int64_t H, int64_t HD) {
  const int hmax = H <= 8 ? 8 : (H <= 12 ? 12 : 16);
#define ATTN_DAPE_CASE(hd, hm) \
  if (HD == hd && hmax == hm) return kernel_ptr<T, hd, hm>();
  ATTN_DAPE_CASE(32, 8) ATTN_DAPE_CASE(32, 12) ATTN_DAPE_CASE(32, 16)
  ATTN_DAPE_CASE(64, 8) ATTN_DAPE_CASE(64, 12) ATTN_DAPE_CASE(64, 16)
  ATTN_DAPE_CASE(128, 8) ATTN_DAPE_CASE(128, 12) ATTN_DAPE_CASE(128, 16)
#undef ATTN_DAPE_CASE
  return nullptr;
}

const void* pick_kernel(torch::ScalarType dtype, int64_t H, int64_t HD) {
  return dtype == torch::kBFloat16 ? pick_kernel<__nv_bfloat16>(H, HD)
                                   : pick_kernel<__half>(H, HD);
}

int group_size(int64_t H, int64_t rows, int64_t head_dim, size_t kv) {
  const int64_t fit = std::max<int64_t>(1, int64_t(kv) / (rows * (head_dim + 8) * 2));
  const int64_t groups = (H + fit - 1) / fit;
  return int((H + groups - 1) / groups);  // even groups
}

template <typename T>
void launch(torch::Tensor& out, const torch::Tensor& q, const torch::Tensor& k,
            const torch::Tensor& v, const Tables& t, int64_t B, int64_t H, int64_t N,
            int64_t HD, double scale) {
  Args<T> a;
  a.q = reinterpret_cast<const T*>(q.data_ptr());
  a.k = reinterpret_cast<const T*>(k.data_ptr());
  a.v = reinterpret_cast<const T*>(v.data_ptr());
  a.out = reinterpret_cast<T*>(out.data_ptr());
  a.w1 = reinterpret_cast<const T*>(t.w1.data_ptr());
  a.w2 = reinterpret_cast<const T*>(t.w2.data_ptr());
  a.g = t.g.data_ptr<float>();
  a.g0 = t.g0.data_ptr<float>();
  a.pb = t.pb.data_ptr<float>();
  a.H = int(H);
  a.N = int(N);
  int optin = 0;
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                                        q.device().index()));
  const size_t kv = kv_bytes(H, HD, size_t(optin));
  TORCH_INTERNAL_ASSERT(kv > 0);
  a.kv_elems = int(kv / sizeof(T));
  a.k_group = group_size(H, kSpan, HD, kv);
  a.v_group = group_size(H, kCols, HD, kv);
  a.scale = float(scale);
  const void* fn = pick_kernel<T>(H, HD);
  TORCH_INTERNAL_ASSERT(fn != nullptr);
  const size_t smem = smem_bytes(H, HD, kv);
  C10_CUDA_CHECK(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  const dim3 grid(unsigned((N + kRows - 1) / kRows), unsigned(B));
  void* params[] = {&a};
  C10_CUDA_CHECK(cudaLaunchKernel(fn, grid, dim3(kThreads), params, smem,
                                  at::cuda::getCurrentCUDAStream()));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

std::string shape_str(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

}  // namespace

std::string dape_v2_fused_unsupported_reason(const torch::Tensor& q, const torch::Tensor& k,
                                             const torch::Tensor& v, const DapeV2FusedParams& p) {
  if (!q.defined() || !k.defined() || !v.defined()) return "q, k and v must be defined";
  if (!q.is_cuda()) return "q is on " + q.device().str() + ", not a CUDA device";
  if (k.device() != q.device() || v.device() != q.device()) {
    return "q, k and v on different devices";
  }
  const auto dt = q.scalar_type();
  if (dt != torch::kBFloat16 && dt != torch::kHalf) {
    return std::string("dtype ") + c10::toString(dt) + " (bfloat16 or float16 only)";
  }
  if (k.scalar_type() != dt || v.scalar_type() != dt) return "q, k and v differ in dtype";
  if (q.dim() != 4 || k.sizes() != q.sizes() || v.sizes() != q.sizes()) {
    return "q, k, v must be (B, H, N, head_dim) of one shape; got " + shape_str(q) + ", " +
           shape_str(k) + ", " + shape_str(v);
  }
  const int64_t B = q.size(0), H = q.size(1), N = q.size(2), HD = q.size(3);
  if (B < 1 || B > 65535) return "batch " + std::to_string(B) + " (1..65535)";
  if (H < 1 || H > kSlots) return "n_head " + std::to_string(H) + " (1..16)";
  if (HD != 32 && HD != 64 && HD != 128) return "head_dim " + std::to_string(HD) + " (32, 64, 128)";
  if (N < 1 || N > (int64_t{1} << 24)) return "length " + std::to_string(N) + " (1..2^24)";
  const auto& w1 = p.conv1_weight;
  const int64_t c_in = p.bias_by_distance.defined() ? 2 * H : H;
  if (!w1.defined() || w1.dim() != 4 || w1.size(1) != c_in || w1.size(2) != 1) {
    return "conv1 weight " + (w1.defined() ? shape_str(w1) : std::string("undefined")) +
           ", expected (D, " + std::to_string(c_in) + ", 1, k)";
  }
  if (w1.size(3) != kTaps) return "kernel size " + std::to_string(w1.size(3)) + " (3 only)";
  const int64_t D = w1.size(0);
  if (D < 1 || D > kWidth) return "width " + std::to_string(D) + " (1..32)";
  if (!p.conv1_bias.defined() || p.conv1_bias.numel() != D) return "conv1 bias is not (D)";
  const auto& w2 = p.conv2_weight;
  if (!w2.defined() || w2.sizes() != torch::IntArrayRef({H, D, 1, kTaps})) {
    return "conv2 weight " + (w2.defined() ? shape_str(w2) : std::string("undefined")) +
           ", expected (" + std::to_string(H) + ", " + std::to_string(D) + ", 1, 3)";
  }
  if (!p.conv2_bias.defined() || p.conv2_bias.numel() != H) return "conv2 bias is not (H)";
  if (p.bias_by_distance.defined() &&
      (p.bias_by_distance.dim() != 2 || p.bias_by_distance.size(0) != H ||
       p.bias_by_distance.size(1) < N)) {
    return "bias table " + shape_str(p.bias_by_distance) + ", expected (" + std::to_string(H) +
           ", >= " + std::to_string(N) + ")";
  }
  for (const auto* w : {&w1, &p.conv1_bias, &w2, &p.conv2_bias, &p.bias_by_distance}) {
    if (w->defined() && w->device() != q.device()) return "a parameter is not on q's device";
  }
  if (!(p.scale > 0.0) || !std::isfinite(p.scale)) return "scale " + std::to_string(p.scale);
  const c10::cuda::CUDAGuard guard(q.device());
  cudaFuncAttributes attr;
  if (cudaFuncGetAttributes(&attr, pick_kernel(dt, H, HD)) != cudaSuccess) {
    (void)cudaGetLastError();
    return "no kernel image for this GPU (the build's CUDA architectures do not include it)";
  }
  int optin = 0;
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                                        q.device().index()));
  if (kv_bytes(H, HD, size_t(optin)) == 0) {
    return "needs more than the " + std::to_string(optin) + " bytes of shared memory a block " +
           "may use on this GPU";
  }
  return "";
}

void dape_v2_fused_out(torch::Tensor& out, const torch::Tensor& q, const torch::Tensor& k,
                       const torch::Tensor& v, const DapeV2FusedParams& p) {
  const auto why = dape_v2_fused_unsupported_reason(q, k, v, p);
  TORCH_CHECK(why.empty(), "dape_v2_fused: unsupported arguments: ", why);
  TORCH_CHECK(out.defined() && out.sizes() == q.sizes() && out.scalar_type() == q.scalar_type() &&
                  out.device() == q.device() && out.is_contiguous(),
              "dape_v2_fused: out must be contiguous, ", q.sizes(), " ", q.scalar_type(), " on ",
              q.device(), "; got ", out.sizes(), " ", out.scalar_type(), " on ", out.device());
  const c10::cuda::CUDAGuard guard(q.device());
  const int64_t B = q.size(0), H = q.size(1), N = q.size(2), HD = q.size(3);
  const auto qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
  const Tables t = make_tables(p, H, N, q.scalar_type(), q.device());
  if (q.scalar_type() == torch::kBFloat16) {
    launch<__nv_bfloat16>(out, qc, kc, vc, t, B, H, N, HD, p.scale);
  } else {
    launch<__half>(out, qc, kc, vc, t, B, H, N, HD, p.scale);
  }
}

torch::Tensor dape_v2_fused(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const DapeV2FusedParams& p) {
  auto out = torch::empty(q.sizes(), q.options().memory_format(torch::MemoryFormat::Contiguous));
  dape_v2_fused_out(out, q, k, v, p);
  return out;
}

}  // namespace attn
