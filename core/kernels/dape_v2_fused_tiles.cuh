// SPDX-License-Identifier: MIT
// The tile-level pieces of the fused DAPE V2 kernel (included by dape_v2_fused.cu only, into its
// unnamed namespace): the tile geometry and shared-memory budget, the kernel's arguments, the
// copies of Q rows and bias tables, stage A's score units, the tril/padding mask of X, and the
// view passes' pooling of a tile into the cells (pool_cells).
#pragma once

#include "core/kernels/dape_v2_fused.h"
#include "core/kernels/dape_v2_fused_tables.h"
#include "core/kernels/hopper.cuh"

namespace attn {
namespace {

using namespace hopper;               // Ops, ldmatrix/stmatrix, mbarriers, tma_load, tensor maps
using namespace dape_v2_fused_detail;  // kSlots, kWidth, kTaps, Tables, make_tables

constexpr int kRows = 16;                // query rows per block
constexpr int kCols = 64;                // output key columns per tile
constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kWc = kCols / kWarps;      // output columns of a warp in stage B (8)
constexpr int kXN = kCols + 8;           // X columns: keys [j0 - 4, j0 + 68), 9 score n-tiles
constexpr int kXR = kRows + 8;           // X: [column][channel][kXR rows]: 48-byte channel rows ...
constexpr int kXCol = kSlots * kXR + 8;  // ... and 784-byte columns: ldmatrix and stmatrix conflict-free
// P: [head][row][64 keys], the 16-byte chunks of row r at chunk ^ (r % 8) (ldmatrix conflict-
// free), heads 16 bytes apart mod 128 (the 16-byte stores of a quarter warp conflict-free).
constexpr int kPHead = kRows * kCols + 8;
constexpr int kGRows = 81;               // distances of the hidden-bias table one tile reads
constexpr int kPbRows = 79;              // distances of the logit-bias table one tile reads
constexpr int kGS = kWidth + 8;          // shared rows of G and G0 (40 floats), Pb (24): the
constexpr int kPbS = kSlots + 8;         // 8-byte reads of a quarter warp are conflict-free
constexpr int kMaxKvBytes = 64 * 1024;   // cap of each K/V stage buffer
constexpr int kStages = 3;               // K/V stage buffers: step s + 2 is in flight during step s
constexpr int kKvAlign = 1024;           // K/V boxes start at multiples of the swizzle period

// A tile's probabilities live in X's columns 8 .. 50: X is dead once every warp is past stage
// B (but for its last 8 columns, the next tile's first 8), and the next tile's stage A writes X
// only after every warp is past P V. The per-warp row sums at the end live in X too.
static_assert(8 * kXCol + size_t(kSlots) * kPHead <= size_t(kCols) * kXCol,
              "P must fit in X's columns 8 .. 63");
static_assert(kXCol * 2 % 16 == 0, "X columns are copied in 16-byte pieces");
static_assert(kPbPad >= kCols + kRows - 2, "Pb's -inf rows must cover a tile's negative distances");
static_assert(4 * size_t(kWarps) * 32 * 8 <= 2 * size_t(kXN) * kXCol, "sums must fit in X");
constexpr size_t kFixedSmem = 32 +                                      // the mbarriers
                              2 * size_t(kXN) * kXCol +                 // X, then P
                              4 * (2 * size_t(kSlots) * kRows +         // alpha, l
                                   2 * 32 * 8 +                         // running maxima
                                   size_t(kGRows + kRows) * kGS +       // G, G0 rows
                                   size_t(kPbRows + 1) * kPbS);         // Pb rows

// Stage B's halo exchange (speculative tiles): warp w's hidden columns 0 and 1 are warp w - 1's
// 8 and 9, and warp 0's are warp 7's of the next tile in the walk, so each warp computes 8 of
// its 10 and reads the other two from a slot that its right neighbour (or, for warp 7, warp 0 of
// the tile before) filled. Slot b is X's columns 8 b .. 8 b + 7, rows 16 .. 23 of each channel:
// padding that ldmatrix and stmatrix never touch. Slots 0 and 7 (by tile parity) carry warp 0's
// columns to the next tile: neither P (from column 8) nor X's carried columns (64 ..) reach them.
// Slots 1 .. 6 and 8 serve warps 1 .. 7 within a tile (P and the carry may overwrite them after
// stage B). A lane's 16-byte piece q of a slot: column 8 b + 2 q + lane / 16, channel lane % 16.
constexpr int kSlotsX = 9;
static_assert(kXR >= kRows + 8, "the slots live in X's padding rows");
static_assert(8 * kSlotsX <= kXN, "the slots live in X's columns");
static_assert(8 * kXCol + size_t(kSlots) * kPHead <= 56 * size_t(kXCol),
              "P must end before slot 7 (X's columns 56 ..)");
__host__ __device__ constexpr int halo_write_slot(int warp, int t) {
  return warp == 0 ? (t & 1 ? 7 : 0) : warp < kWarps - 1 ? warp : 8;
}
/// The slot warp w reads on tile t: the one its right neighbour fills, or warp 0 on tile t - 1.
__host__ __device__ constexpr int halo_read_slot(int warp, int t) {
  return warp == kWarps - 1 ? halo_write_slot(0, t - 1) : halo_write_slot(warp + 1, t);
}
/// This lane's piece 0 of slot `slot`; piece q is kHaloPiece * q on.
constexpr int kHaloPiece = 2 * kXCol * 2 / 16;
template <typename T>
__device__ __forceinline__ uint4* halo_piece(T* Xs, int slot, int lane) {
  static_assert(sizeof(T) == 2, "16-bit X");
  return reinterpret_cast<uint4*>(Xs + (8 * slot + lane / 16) * kXCol + (lane % 16) * kXR + kRows);
}

constexpr size_t kSmemOptin = 232448;  // the shared memory a block may opt in to on sm_90

__host__ __device__ constexpr size_t q_bytes(int H, int head_dim) {
  return 2 * size_t(H) * kRows * size_t(head_dim + 8);
}

/// Bytes of each of the kStages K/V stage buffers (a multiple of kKvAlign): what `optin` bytes
/// of shared memory leave after the alignment slack, up to 64 KB; 0 when not even one head's K
/// rows fit.
__host__ __device__ constexpr size_t kv_bytes(int H, int head_dim, size_t optin) {
  const size_t used = kFixedSmem + q_bytes(H, head_dim) + kKvAlign;
  if (optin <= used) return 0;
  size_t each = ((optin - used) / kStages) & ~size_t(kKvAlign - 1);
  if (each > kMaxKvBytes) each = kMaxKvBytes;
  return each >= size_t(kXN) * head_dim * 2 ? each : 0;
}

/// Heads of a group when H heads of `rows` rows go through buffers of kv bytes, in even groups.
__host__ __device__ constexpr int group_size(int H, int rows, int head_dim, size_t kv) {
  const int fit0 = int(kv / (size_t(rows) * head_dim * 2)), fit = fit0 > 1 ? fit0 : 1;
  const int groups = (H + fit - 1) / fit;
  return (H + groups - 1) / groups;
}

/// The kernel's fixed plan for head_dim HD and up to HMAX heads on an sm_90 GPU: stage buffers,
/// K and V group sizes (kKG, kVG heads) and counts (kNK, kNV a tile), shared memory in all.
template <int HD, int HMAX>
struct Plan {
  static constexpr size_t kKv = kv_bytes(HMAX, HD, kSmemOptin);
  static_assert(kKv > 0, "one head's K rows must fit");
  static constexpr int kKG = group_size(HMAX, kXN, HD, kKv);
  static constexpr int kVG = group_size(HMAX, kCols, HD, kKv);
  static constexpr int kNK = (HMAX + kKG - 1) / kKG;
  static constexpr int kNV = (HMAX + kVG - 1) / kVG;
  static constexpr size_t kSmem = kFixedSmem + q_bytes(HMAX, HD) + kKvAlign + kStages * kKv;
};

template <typename T>
struct Args {
  // K and V as (B * H, N, head_dim) boxes of 72 (K) or 64 (V) rows x min(head_dim, 64) columns,
  // swizzled (128 bytes; 64 for head_dim 32), rows outside [0, N) read as zero.
  CUtensorMap tmap_k;
  CUtensorMap tmap_v;
  const T* q;
  const T* k;
  const T* v;
  T* out;
  const T* w1;      // (3, 32, 16): [tap][hidden channel][score channel] * scale, zero-padded
  const T* w2;      // (3, 16, 32): [tap][head][hidden channel] * log2(e), zero-padded
  const float* g;   // (N + 1, 32): row d + 1 = conv1 bias + bias channels at distance d >= -1
  const float* g0;  // (N, 32): the same for key column 0 of row i (its left tap is padding)
  const float* pb;  // (kPbPad + N, 16): row kPbPad + d = (P_h(d) + conv2 bias[h]) * log2(e),
                    // -inf for d < 0
  int H, N;
  float scale;      // of the scores: X holds q k^T, W1 and the logits' S term apply it
  int row_block0;   // the launch's first block of 16 query rows
  // Analysis launches (dape_v2_fused_view) only: pass 0 writes each query row's softmax
  // statistics; passes 1 (logits) and 2 (probs) pool the window's entries into its cells.
  int pass, mean;
  int q0, q1, k0, k1, step, rows, cols;
  float2* stats;    // (B, H, N): (reference m in log2 units, sum of 2^(logit - m)) of a row,
                    // m within 8 below the row's maximum (the speculative softmax's margin):
                    // written by the forward (when not null) and by pass 0, read by pass 2
  float* cell_hi;   // (H, rows, cols): maxima (Extreme)
  float* cell_lo;   // minima (Extreme, logits)
  double* cell_sum; // sums (Mean)
};

/// Eight floats from shared memory (16-byte aligned) into registers, as two 16-byte loads.
__device__ __forceinline__ void load8(float (&v)[8], const float* p) {
  const float4 x0 = reinterpret_cast<const float4*>(p)[0];
  const float4 x1 = reinterpret_cast<const float4*>(p)[1];
  v[0] = x0.x, v[1] = x0.y, v[2] = x0.z, v[3] = x0.w;
  v[4] = x1.x, v[5] = x1.y, v[6] = x1.z, v[7] = x1.w;
}

/// Float maximum and minimum by integer atomics (ordered as signed ints when non-negative, as
/// unsigned ints reversed when negative); v must not be NaN, -0 is taken as +0.
__device__ __forceinline__ void atomic_max_float(float* a, float v) {
  v += 0.f;
  if (v >= 0.f) atomicMax(reinterpret_cast<int*>(a), __float_as_int(v));
  else atomicMin(reinterpret_cast<unsigned*>(a), __float_as_uint(v));
}
__device__ __forceinline__ void atomic_min_float(float* a, float v) {
  v += 0.f;
  if (v >= 0.f) atomicMin(reinterpret_cast<int*>(a), __float_as_int(v));
  else atomicMax(reinterpret_cast<unsigned*>(a), __float_as_uint(v));
}

/// Element offset of (row r8 + l8, 16-byte chunk cbase + cl of the head_dim axis) in a head's K
/// or V rows as the tensor maps lay them out: boxes of `rows` x BW (BW = min(HD, 64)) one after
/// the other, chunk c of row r at c ^ (r % 8) (128-byte swizzle), c ^ ((r / 2) % 4) (64-byte,
/// HD = 32) or c ^ ((r / 4) % 2) (32-byte, HD = 16). r8 is a multiple of 8 and cbase a
/// multiple of 4 (of 2 for HD = 16; cl, l8 < 4, 8), so the swizzle depends on the thread only
/// and its part of the offset stays out of the loops.
template <int HD>
__device__ __forceinline__ int kv_offset(int r8, int l8, int cbase, int cl, int rows) {
  constexpr int kBW = HD < 64 ? HD : 64, kCpb = kBW / 8;
  const int box = cbase / kCpb, c = cbase % kCpb + cl;
  const int sw = c ^ (kBW == 64 ? l8 : kBW == 32 ? l8 >> 1 : l8 >> 2);
  return box * rows * kBW + (r8 + l8) * kBW + sw * 8;
}

/// Copies rows [row0, row0 + NROWS) of heads [h0, h0 + nh) into dst[head][row][HD + 8]; rows
/// outside [0, N) become zero.
template <int HD, int NROWS, typename T>
__device__ __forceinline__ void load_rows(T* dst, const T* src, int h0, int nh, int row0, int N) {
  constexpr int kChunks = HD / 8;  // 16-byte pieces of a row; each thread keeps one piece
  constexpr int kStep = kThreads / kChunks;
  const int c = threadIdx.x % kChunks, r_first = threadIdx.x / kChunks;
  const T* s = src + size_t(h0) * N * HD + c * 8;
  T* d = dst + c * 8;
  for (int hl = 0; hl < nh; ++hl, s += size_t(N) * HD, d += NROWS * (HD + 8)) {
#pragma unroll
    for (int r = r_first; r < NROWS; r += kStep) {
      const int row = row0 + r;
      const bool in = row >= 0 && row < N;
      cp_async16(d + r * (HD + 8), s + size_t(in ? row : 0) * HD, in);
    }
  }
}

/// Copies rows of a float table (ROW floats per row, a multiple of 4) into shared memory rows of
/// DST floats: row k of dst is src row clamp(first + k, lo, hi).
template <int ROW, int DST>
__device__ __forceinline__ void load_table(float* dst, const float* src, int rows, int first,
                                           int lo, int hi) {
  constexpr int kChunks = ROW / 4;
  for (int e = threadIdx.x; e < rows * kChunks; e += kThreads) {
    const int k = e / kChunks, c = e % kChunks, row = min(max(first + k, lo), hi);
    cp_async16(dst + k * DST + c * 4, src + size_t(row) * ROW + c * 4);
  }
}

/// Stage A for one head: the scores q k^T (unscaled) of n-tiles [nt_begin, nt_begin + PER) of
/// X's 72 columns, stored transposed into X[key][h][row]; the addresses are computed once, the
/// PER units run without a branch and their products overlap. qh: the head's Q rows; kh: its K
/// rows (X's columns). The tril and the padding are applied afterwards on the tiles that need
/// them (mask_x): compares here would run on every tile.
template <int PER, int HD, typename T>
__device__ __forceinline__ void score_units(T* Xs, const T* qh, const T* kh, int h, int nt_begin) {
  constexpr int kQStride = HD + 8;
  constexpr int kBW = HD < 64 ? HD : 64, kCpb = kBW / 8;  // K box width, its 16-byte chunks
  const int lane = threadIdx.x % 32, l8 = lane % 8;
  uint32_t qf[HD / 16][4];
  const uint32_t qa = smem_addr(qh + (lane % 16) * kQStride + (lane / 16) * 8);
#pragma unroll
  for (int kk = 0; kk < HD / 16; ++kk) ldsm_x4(qf[kk], qa + 32 * kk);
  // Shared-memory addresses of n-tile nt_begin; n-tile nt_begin + t is 8 rows (keys) on. For
  // chunk bases 0 and 4 of a 128-byte-swizzled box the swizzled chunks differ by +-4 (cl < 4).
  const uint32_t ka = smem_addr(kh + kv_offset<HD>(nt_begin * 8, l8, 0,
                                                   HD == 16 ? (lane / 8) % 2 : lane / 8, kXN));
  const int c0 = (lane / 8) ^ l8, d4 = ((c0 ^ 4) - c0) * 8;  // elements, when kBW == 64
  const uint32_t xa = smem_addr(Xs + (nt_begin * 8 + l8) * kXCol + h * kXR + 8 * ((lane / 8) % 2));
  float c[PER][4];
#pragma unroll
  for (int t = 0; t < PER; ++t) {
    c[t][0] = c[t][1] = c[t][2] = c[t][3] = 0.f;
    const uint32_t kt = ka + 2 * t * 8 * kBW;
    if constexpr (HD == 16) {  // one k step: two 8-column chunks
      uint32_t b[2];
      ldsm_x2(b, kt);
      Ops<T>::mma(c[t], qf[0], b[0], b[1]);
    } else {
#pragma unroll
      for (int kk = 0; kk < HD / 16; kk += 2) {
        const int cb = 2 * kk, box = cb / kCpb;  // chunk base cb of the head_dim axis
        uint32_t b[4];
        ldsm_x4(b, kt + 2 * (box * kXN * kBW + (cb % kCpb != 0 ? d4 : 0)));
        Ops<T>::mma(c[t], qf[kk], b[0], b[1]);
        Ops<T>::mma(c[t], qf[kk + 1], b[2], b[3]);
      }
    }
  }
#pragma unroll
  for (int t = 0; t < PER; ++t) {
    // Rows g and g + 8 of keys 2 qd, 2 qd + 1 -> X[key][h][row], one transposed store.
    stsm_x2_trans(xa + 2 * t * 8 * kXCol, Ops<T>::pack(c[t][0], c[t][1]),
                  Ops<T>::pack(c[t][2], c[t][3]));
  }
}

/// Zeroes X[col][ch][row] (every channel) where key j0 - 4 + col is outside [0, N) or after
/// query i0 + row: the tril and the convolutions' zero padding, on the tiles that reach them.
template <typename T>
__device__ __forceinline__ void mask_x(T* Xs, int j0, int i0, int N) {
  for (int e = threadIdx.x; e < kXN * kSlots; e += kThreads) {
    const int col = e / kSlots, ch = e % kSlots, key = j0 - 4 + col;
    T* x = Xs + col * kXCol + ch * kXR;
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      if (key < 0 || key >= N || key > i0 + r) x[r] = T(0.f);
    }
  }
}

/// A pooling pass's use of one tile: this warp's logits lg (log2 units, -inf where masked) of
/// output columns j0 + 8 warp + cj become entries (logits in natural units, or probabilities
/// from the row statistics st_m, st_il), which fold into the cells of the window: per thread
/// into two column slots (a warp's 8 columns meet at most two cells, step >= 8), then, for each
/// half rh of the block's rows (8 rows g: at most two cells), into two row slots relative to
/// the half's first cell rc0[rh], then over the rows g by shuffles; lanes 0..3 add them to the
/// cells with atomics (maxima and minima, or float64 sums for the mean).
template <bool kSpread, typename T>
__device__ __forceinline__ void pool_cells(const float (&lg)[kWc][2][4], const Args<T>& a,
                                           int j0, const int (&rc0)[2], const bool (&row_in)[2],
                                           const int (&rslot)[2], const float (&st_m)[8],
                                           const float (&st_il)[8]) {
  constexpr float kLn2 = 0.6931471805599453f;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, qd = lane % 4;
  const bool mean = a.mean != 0, probs = a.pass == 2, with_lo = !mean && !probs;
  const float id_hi = mean ? 0.f : -INFINITY, id_lo = INFINITY;
  const int cfirst = j0 + 8 * warp;
  const int cc0 = (max(cfirst, a.k0) - a.k0) / a.step;
  const int cb = a.k0 + (cc0 + 1) * a.step;  // columns >= cb lie in the next cell
  float hi[2][2][4], lo[2][2][4];            // [column slot][nt][c]
#pragma unroll
  for (int cs = 0; cs < 2; ++cs)
#pragma unroll
    for (int nt = 0; nt < 2; ++nt)
#pragma unroll
      for (int c = 0; c < 4; ++c) hi[cs][nt][c] = id_hi, lo[cs][nt][c] = id_lo;
  if (mean) {  // sums of the entries themselves
#pragma unroll
    for (int cj = 0; cj < kWc; ++cj) {
      const int col = cfirst + cj;
      const bool col_in = col >= a.k0 && col < a.k1, next = col >= cb;
#pragma unroll
      for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const float l2 = lg[cj][nt][c];
          const int q = 4 * nt + c;
          const float x = probs ? ex2(l2 - st_m[q]) * st_il[q] : l2 * kLn2;
          const float xh = col_in && row_in[c / 2] && l2 != -INFINITY ? x : 0.f;
          hi[0][nt][c] += next ? 0.f : xh;
          hi[1][nt][c] += next ? xh : 0.f;
        }
      }
    }
  } else {
    // Extremes of the logits (log2 units; the masked ones are -inf, the maximum's identity),
    // then one conversion per slot: both entries are increasing functions of the logit.
#pragma unroll
    for (int cj = 0; cj < kWc; ++cj) {
      const int col = cfirst + cj;
      const bool col_in = col >= a.k0 && col < a.k1, next = col >= cb;
      const bool in0 = col_in && !next, in1 = col_in && next;
#pragma unroll
      for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const float l2 = lg[cj][nt][c];
          hi[0][nt][c] = fmaxf(hi[0][nt][c], in0 ? l2 : -INFINITY);
          hi[1][nt][c] = fmaxf(hi[1][nt][c], in1 ? l2 : -INFINITY);
          if (with_lo) {
            const float l2m = l2 == -INFINITY ? INFINITY : l2;
            lo[0][nt][c] = fminf(lo[0][nt][c], in0 ? l2m : INFINITY);
            lo[1][nt][c] = fminf(lo[1][nt][c], in1 ? l2m : INFINITY);
          }
        }
      }
    }
#pragma unroll
    for (int cs = 0; cs < 2; ++cs)
#pragma unroll
      for (int nt = 0; nt < 2; ++nt)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const int q = 4 * nt + c;
          const float h = hi[cs][nt][c], l = lo[cs][nt][c];
          const bool in = row_in[c / 2];
          hi[cs][nt][c] = !in || h == -INFINITY ? -INFINITY
                          : probs               ? ex2(h - st_m[q]) * st_il[q]
                                                : h * kLn2;
          lo[cs][nt][c] = !in || l == INFINITY ? INFINITY : l * kLn2;
        }
  }
  // Rows: each half's row (g + 8 rh) into its slot, then over the 8 rows g of the half by
  // shuffles (every lane); lanes 0..3 (g = 0) add the results to the cells.
  auto fold = [&](float x, float y, bool is_hi) {
    return mean ? x + y : is_hi ? fmaxf(x, y) : fminf(x, y);
  };
#pragma unroll
  for (int u = 0; u < 32; ++u) {  // (row half, row slot, column slot, nt, e)
    const int rh = u >> 4, rs = (u >> 3) & 1, cs = (u >> 2) & 1, nt = (u >> 1) & 1, e = u & 1;
    const bool here = rslot[rh] == rs;
    float x = here ? hi[cs][nt][2 * rh + e] : id_hi;
    float y = here ? lo[cs][nt][2 * rh + e] : id_lo;
#pragma unroll
    for (int o = 4; o < 32; o *= 2) {
      x = fold(x, __shfl_xor_sync(0xffffffffu, x, o), true);
      if (with_lo) y = fold(y, __shfl_xor_sync(0xffffffffu, y, o), false);
    }
    const int slot = 8 * nt + 2 * qd + e, head = slot_head(slot, kSpread);  // -1: no head
    const int r = rc0[rh] + rs, c = cc0 + cs;
    if (lane >= 4 || head < 0 || head >= a.H || r >= a.rows || c >= a.cols) continue;
    const size_t idx = (size_t(head) * a.rows + r) * a.cols + c;
    if (mean) {
      if (x != 0.f) atomicAdd(a.cell_sum + idx, double(x));
    } else {
      if (x != -INFINITY) atomic_max_float(a.cell_hi + idx, x);
      if (with_lo && y != INFINITY) atomic_min_float(a.cell_lo + idx, y);
    }
  }
}

}  // namespace
}  // namespace attn
