// SPDX-License-Identifier: MIT
// The fused causal DAPE V2 forward (dape_v2_fused.h; NOTES.md beside this file has the counts,
// the versions and their timings). One block of 8 warps owns 16 query rows of one sequence and
// walks the key tiles of 64 columns from its diagonal down to column 0 (the rows' maxima,
// where the position bias is largest, come first, so later tiles rarely rescale). Per tile:
//  A. scores q k^T (unscaled: the scale is folded into conv1's score weights and the logits) of
//     every head over the 72 columns [j0 - 4, j0 + 68) (the tile and the convolutions' halo,
//     rounded to 8) with mma.sync, each head's 16 x 8 pieces stored transposed (stmatrix) as the
//     channels of X in shared memory ([column][channel][row]); the last 8 columns are the
//     previous tile's first 8, carried over, so a tile computes 64; on the tiles that reach
//     them, key > query and keys outside [0, N) are then zeroed (tril and the zero padding,
//     mask_x);
//  B. each warp takes 8 output columns for all 16 rows, with the rows as the M of every product:
//     conv1 per hidden column as three products [16 rows x 16 score channels] x [16 x 32] (one
//     per tap) started from a float32 table G of the bias channels' contribution (which
//     depends on the distance i - j only: dape_v2_fused_tables.cu), LeakyReLU on packed pairs, and
//     the hidden column kept in registers in the A-operand layout; conv2 as six products
//     [16 x 16] x [16 x 16 heads] started from S + P (P is -inf at negative distances: the
//     tril needs no test); the weights live in registers; logits in
//     the log2 domain (log2(e) folded into W2 and the tables). The tile's maximum of each
//     (row, head) is raised by each warp with shared-memory atomics, and each warp writes its
//     probabilities with 16-byte stores into X's memory, dead by then;
//  C. P V for every head into float32 accumulators in registers, rescaled as the maxima move.
// K and V stream in a group of heads at a time by bulk tensor copies (TMA, Hopper) into three
// swizzled shared-memory buffers, one mbarrier each, the next two groups' copies in flight
// while the current one is used.
#include "core/kernels/dape_v2_fused.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/kernels/dape_v2_fused_cells.h"
#include "core/kernels/dape_v2_fused_tables.h"
#include "core/kernels/dape_v2_fused_tiles.cuh"
#include "core/kernels/hopper.cuh"

#include <cmath>
#include <sstream>

namespace attn {
namespace {

// Constants, Args and the tile-level device functions: dape_v2_fused_tiles.cuh.

/// kAnalysis = false: the forward pass. kAnalysis = true: a pass of dape_v2_fused_view (a.pass):
/// the same tiles without P V, ending in the row statistics (pass 0) or in pooled cells.
template <typename T, int HD, int HMAX, bool kAnalysis>
__global__ void __launch_bounds__(kThreads, 1) dape_v2_fused_kernel(const __grid_constant__ Args<T> a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
  __trap();  // the host never launches it there (dape_v2_fused_unsupported_reason)
#else
  constexpr int kQStride = HD + 8;
  constexpr int kDG = HD < 32 ? HD : 32;                        // d of a P V task ...
  constexpr int kNT = kDG / 8;                                  // ... in kNT n-tiles of 8
  constexpr int kGroups = HD / kDG;                             // d groups of a head
  constexpr int kTasks = (HMAX * kGroups + kWarps - 1) / kWarps;  // P V tasks per warp
  constexpr float kLog2e = 1.4426950408889634f;
  extern __shared__ __align__(16) unsigned char smem[];
  uint64_t* bars = reinterpret_cast<uint64_t*>(smem);  // [stage buffer]
  T* Xs = reinterpret_cast<T*>(smem + 32);
  T* Ps = Xs + 8 * kXCol;                      // the tile's probabilities, once X is dead
  float* red = reinterpret_cast<float*>(Xs);   // the row sums' exchange, after the tiles
  float* alpha_s = reinterpret_cast<float*>(Xs + kXN * kXCol);
  float* l_s = alpha_s + kSlots * kRows;
  float* m_s = l_s + kSlots * kRows;  // [2][lane][8]: the running maxima, two copies
  float* Gs = m_s + 2 * 32 * 8;
  float* Pbs = Gs + (kGRows + kRows) * kGS;  // G rows by distance, then G0 of the block's rows
  T* Qs = reinterpret_cast<T*>(Pbs + (kPbRows + 1) * kPbS);
  // The kStages K/V stage buffers, at the next multiple of kKvAlign; step s uses s % kStages.
  T* const buf0 = reinterpret_cast<T*>(
      (reinterpret_cast<uintptr_t>(Qs + a.H * kRows * kQStride) + kKvAlign - 1) &
      ~uintptr_t(kKvAlign - 1));
  auto stage_buf = [&](int s) { return buf0 + (s % kStages) * a.kv_elems; };

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, qd = lane % 4;
  const int H = a.H, N = a.N;
  const float s_log2e = a.scale * kLog2e;  // X holds q k^T unscaled: the scale is in W1 and here
  const int i0 = (a.row_block0 + gridDim.x - 1 - blockIdx.x) * kRows;  // longest rows first
  const bool pooling = kAnalysis && a.pass > 0;
  const size_t batch = size_t(blockIdx.y) * H * N * HD;
  const T* qb = a.q + batch;

  for (int e = tid; e < kXN * kXCol / 2; e += kThreads) {
    reinterpret_cast<uint32_t*>(Xs)[e] = 0u;
  }
  // The convolution weights as mma B fragments, in registers for the whole kernel.
  uint32_t w1f[kTaps][4][2], w2f[kTaps][2][2][2];
  {
    const uint32_t* w1 = reinterpret_cast<const uint32_t*>(a.w1);
    const uint32_t* w2 = reinterpret_cast<const uint32_t*>(a.w2);
#pragma unroll
    for (int t = 0; t < kTaps; ++t) {
#pragma unroll
      for (int nt = 0; nt < 4; ++nt) {
        const int base = ((t * kWidth + 8 * nt + g) * kSlots + 2 * qd) / 2;
        w1f[t][nt][0] = w1[base];
        w1f[t][nt][1] = w1[base + 4];
      }
#pragma unroll
      for (int ks = 0; ks < 2; ++ks) {
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
          const int base = ((t * kSlots + 8 * nt + g) * kWidth + 16 * ks + 2 * qd) / 2;
          w2f[t][ks][nt][0] = w2[base];
          w2f[t][ks][nt][1] = w2[base + 4];
        }
      }
    }
  }
  load_rows<HD, kRows>(Qs, qb, 0, H, i0, N);
  asm volatile("cp.async.commit_group;\n" ::: "memory");
  if (tid == 0) {
    for (int b = 0; b < kStages; ++b) mbar_init(&bars[b], 1);
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();  // the barriers are initialised before any thread waits on them

  // The loads form one sequence of steps through kStages buffers: per tile nk groups of K rows,
  // then nv groups of V rows; steps s + 1 .. s + kStages - 1 are in flight while step s runs.
  // A pooling pass walks only the tiles whose columns meet the window's keys [k0, k1).
  const int nk = (H + a.k_group - 1) / a.k_group;
  const int nv = kAnalysis ? 0 : (H + a.v_group - 1) / a.v_group;
  const int per_tile = nk + nv, key_end = min(i0 + kRows, N);
  const int j_begin = pooling ? (a.k0 / kCols) * kCols : 0;
  const int j_end = pooling ? min(key_end, a.k1) : key_end;
  const int tiles = j_end > j_begin ? (j_end - j_begin + kCols - 1) / kCols : 0;
  const int steps = tiles * per_tile;
  // The walk goes from the diagonal tile down to j_begin (the header says why).
  const int j_last = j_begin + (tiles - 1) * kCols;
  // Thread 0 issues the step's K or V boxes (one bulk tensor copy per head and 64 columns).
  constexpr int kBW = HD < 64 ? HD : 64;
  const int bh0 = blockIdx.y * H;
  int next_j0 = j_last, next_k = 0;  // the tile and step within it of the next issue(s)
  // A tile's bias tables (rows by distance i0 - j0), by cp.async from every thread: the first
  // tile's here, the next one's once every warp is past stage B; landed by its X barrier.
  auto load_tables = [&](int j0) {
    load_table<kWidth, kGS>(Gs, a.g, kGRows, i0 - j0 - 64 + 1, 0, N);  // row d + 1
    load_table<kSlots, kPbS>(Pbs, a.pb, kPbRows, i0 - j0 - 63 + kPbPad, 0, N - 1 + kPbPad);
    asm volatile("cp.async.commit_group;\n" ::: "memory");
  };
  auto issue = [&](int s) {
    const int j0 = next_j0, k = next_k;
    if (++next_k == per_tile) next_k = 0, next_j0 -= kCols;
    if (s < steps) {
      T* buf = stage_buf(s);
      uint64_t* bar = &bars[s % kStages];
      const bool is_k = k < nk;
      const int h0 = is_k ? k * a.k_group : (k - nk) * a.v_group;
      const int nh = min(is_k ? a.k_group : a.v_group, H - h0);
      const int rows = is_k ? kXN : kCols;
      if (tid == 0) {
        mbar_expect_tx(bar, uint32_t(nh * rows * HD * sizeof(T)));
        for (int hl = 0; hl < nh; ++hl) {
#pragma unroll
          for (int b = 0; b < HD / kBW; ++b) {
            tma_load(buf + (hl * HD / kBW + b) * rows * kBW, is_k ? &a.tmap_k : &a.tmap_v,
                     b * kBW, is_k ? j0 - 4 : j0, bh0 + h0 + hl, bar);
          }
        }
      }
    }
  };
  // Step s has landed and every thread is done with step s - 1 (so with the buffer that step
  // s + kStages - 1 overwrites); then that step goes in flight.
  auto wait_step = [&](int s) {
    mbar_wait(&bars[s % kStages], uint32_t(s / kStages) & 1u);  // its (s / kStages)-th use
    __syncthreads();
    issue(s + kStages - 1);
  };

  float acc[kTasks][kNT][4];
#pragma unroll
  for (int s = 0; s < kTasks; ++s)
#pragma unroll
    for (int n = 0; n < kNT; ++n) acc[s][n][0] = acc[s][n][1] = acc[s][n][2] = acc[s][n][3] = 0.f;
  // Softmax state of this thread's 8 (row, head) pairs q = 4 nt + 2 rh + e: row g + 8 rh, head
  // 8 nt + 2 qd + e. l sums this warp's columns only; m is the same in every warp and lives in
  // m_s's two copies (tile t reads copy t % 2 and raises copy (t + 1) % 2: the softmax below).
  float l_run[8];
#pragma unroll
  for (int q = 0; q < 8; ++q) l_run[q] = 0.f;
  // Finite, so that a row with no key yet needs no test: 2^(-inf - m) = 0, 2^(m - m) = 1.
  for (int e = tid; e < 2 * 32 * 8; e += kThreads) m_s[e] = -1e30f;

  // Stage A's split of a K group of nh heads: 1 << lw warps a head (8 / nh, one when nh > 8),
  // each with new n-tiles [nt_begin, + per) of 0 .. 7 (n-tile 8 is carried; tile 0: sub 0's).
  struct Split {
    int lw, per, nt_begin;
    bool sub0;
  };
  auto split_of = [&](int nh) {
    Split sp;
    sp.lw = nh <= 1 ? 3 : nh <= 2 ? 2 : nh <= 4 ? 1 : 0;
    sp.per = 8 >> sp.lw;
    const int sub = warp & ((1 << sp.lw) - 1);
    sp.nt_begin = sub * sp.per;
    sp.sub0 = sub == 0;
    return sp;
  };
  const Split full_split = split_of(a.k_group);

  // Pooling passes: this thread's rows g and g + 8 (inside the window or not, and their cell
  // relative to the first cell rc0[rh] of their half of the block: 8 rows meet at most two
  // cells as step >= 8) and, for probs, their statistics from pass 0.
  int rc0[2] = {0, 0};
  bool row_in[2] = {false, false};
  int rslot[2] = {0, 0};
  float st_m[8], st_il[8];
  if (pooling) {
#pragma unroll
    for (int rh = 0; rh < 2; ++rh) {
      const int r = i0 + g + 8 * rh;
      rc0[rh] = (max(i0 + 8 * rh, a.q0) - a.q0) / a.step;
      row_in[rh] = r >= a.q0 && r < a.q1;
      rslot[rh] = row_in[rh] ? (r - a.q0) / a.step - rc0[rh] : 0;
    }
#pragma unroll
    for (int q = 0; q < 8; ++q) {
      const int head = 8 * (q / 4) + 2 * qd + q % 2, i = i0 + g + 8 * ((q % 4) / 2);
      st_m[q] = 0.f, st_il[q] = 0.f;
      if (a.pass == 2 && head < H && i < N) {
        const float2 st = a.stats[size_t(head) * N + i];
        st_m[q] = st.x, st_il[q] = 1.f / st.y;
      }
    }
  }

  // G0 of the block's rows (key column 0's start) into G's rows kGRows .. kGRows + 15.
  load_table<kWidth, kGS>(Gs + kGRows * kGS, a.g0, kRows, i0, 0, N - 1);
  if (steps > 0) load_tables(j_last);
  for (int s = 0; s < kStages - 1; ++s) issue(s);
  // Q has landed (the older group); the first step's barrier shows it to every thread.
  asm volatile("cp.async.wait_group 1;\n" ::: "memory");
  for (int s0 = 0; s0 < steps; s0 += per_tile) {
    const int j0 = j_last - (s0 / per_tile) * kCols, parity = (s0 / per_tile) & 1;
    // A: scores of [j0 - 4, j0 + 68) into X, each K group split over the warps (split_of).
    const bool a_edge = j0 - 4 < 0 || j0 + kXN - 4 > i0 || j0 + kXN - 4 > N;
    for (int k = 0; k < nk; ++k) {
      wait_step(s0 + k);
      const int h0 = k * a.k_group, nh = min(a.k_group, H - h0);
      const T* ks = stage_buf(s0 + k);
      const Split sp = nh == a.k_group ? full_split : split_of(nh);
      const int lw = sp.lw;
      for (int hl = warp >> lw; hl < nh; hl += kWarps >> lw) {
        const int h = h0 + hl;
        const T* qh = Qs + h * kRows * kQStride;
        const T* kh = ks + hl * kXN * HD;
        switch (sp.per) {
          case 8: score_units<8, HD>(Xs, qh, kh, h, sp.nt_begin); break;
          case 4: score_units<4, HD>(Xs, qh, kh, h, sp.nt_begin); break;
          case 2: score_units<2, HD>(Xs, qh, kh, h, sp.nt_begin); break;
          default: score_units<1, HD>(Xs, qh, kh, h, sp.nt_begin); break;
        }
        if (s0 == 0 && sp.sub0) score_units<1, HD>(Xs, qh, kh, h, 8);
      }
    }
    asm volatile("cp.async.wait_group 0;\n" ::: "memory");  // this tile's tables
    __syncthreads();  // X is complete
    if (a_edge) {
      mask_x(Xs, j0, i0, N);
      __syncthreads();
    }

    // B: this warp's output columns [j0 + 8 warp, + 8): hidden columns jp = j0 + 8 warp - 1 + hh
    // (hh < 10) from X columns jp - 1 .. jp + 1, then logits, all with the 16 query rows as M.
    const bool b_edge = j0 == 0 || j0 + kCols + 1 > i0 || j0 + kCols + 1 >= N;
    float lg[kWc][2][4];
    bool rescale = true;  // whether a row maximum moved on this tile (the softmax sets it)
    {
      uint32_t xw[kWc + 4][4];  // X columns 8 warp + 2 + t (index t)
      uint32_t hid[kWc + 2][2][4];
      // The A fragment [16 rows x 16 channels] of a column, read transposed from X[col][ch][row].
      const T* xbase = Xs + (8 * warp + 2) * kXCol + ((lane % 8) + 8 * (lane / 16)) * kXR +
                       8 * ((lane / 8) % 2);
      ldsm_x4_trans(xw[0], xbase);
      ldsm_x4_trans(xw[1], xbase + kXCol);
#pragma unroll
      for (int hh = 0; hh < kWc + 2; ++hh) {
        ldsm_x4_trans(xw[hh + 2], xbase + (hh + 2) * kXCol);
        const int jp = j0 + 8 * warp - 1 + hh;
        float c[4][4];
#pragma unroll
        for (int rh = 0; rh < 2; ++rh) {
          const int r = g + 8 * rh;
          auto start = [&](const float* gp) {  // straight into the accumulator pairs
#pragma unroll
            for (int nt = 0; nt < 4; ++nt) {
              const float2 u = *reinterpret_cast<const float2*>(gp + 8 * nt);
              c[nt][2 * rh] = u.x, c[nt][2 * rh + 1] = u.y;
            }
          };
          // Key column 0 starts from G0: a select, no branch (the columns' products overlap).
          start(Gs + (b_edge && jp == 0 ? kGRows + r : r - 8 * warp + 65 - hh) * kGS + 2 * qd);
        }
#pragma unroll
        for (int t = 0; t < kTaps; ++t) {
#pragma unroll
          for (int nt = 0; nt < 4; ++nt) Ops<T>::mma(c[nt], xw[hh + t], w1f[t][nt][0], w1f[t][nt][1]);
        }
        const bool zero = b_edge && (jp < 0 || jp >= N);  // conv2's zero padding
#pragma unroll
        for (int ks = 0; ks < 2; ++ks) {
#pragma unroll
          for (int p = 0; p < 4; ++p) {  // a0: (g, 2qd), a1: (g + 8, 2qd), a2, a3: + 8 channels
            const float* cc = c[2 * ks + p / 2];
            const int o = 2 * (p % 2);
            hid[hh][ks][p] = zero ? 0u : Ops<T>::leaky2(Ops<T>::pack(cc[o], cc[o + 1]));
          }
        }
        if (hh >= 2) {
          const int cj = hh - 2;
          float (&f)[2][4] = lg[cj];
          const uint32_t* sx = xw[cj + 2];  // X column of key j: S in the fragment layout
#pragma unroll
          for (int rh = 0; rh < 2; ++rh) {
            const int r = g + 8 * rh;
            // Pb is -inf at negative distances: keys after the query start at -inf, and stay.
            const float* pp = Pbs + (r - 8 * warp - cj + 63) * kPbS + 2 * qd;
            const float2 p0 = *reinterpret_cast<const float2*>(pp);
            const float2 p1 = *reinterpret_cast<const float2*>(pp + 8);
            f[0][2 * rh] = fmaf(lo_of<T>(sx[rh]), s_log2e, p0.x);  // logits * log2(e)
            f[0][2 * rh + 1] = fmaf(hi_of<T>(sx[rh]), s_log2e, p0.y);
            f[1][2 * rh] = fmaf(lo_of<T>(sx[2 + rh]), s_log2e, p1.x);
            f[1][2 * rh + 1] = fmaf(hi_of<T>(sx[2 + rh]), s_log2e, p1.y);
          }
#pragma unroll
          for (int t = 0; t < kTaps; ++t) {
#pragma unroll
            for (int ks = 0; ks < 2; ++ks) {
#pragma unroll
              for (int nt = 0; nt < 2; ++nt) {
                Ops<T>::mma(f[nt], hid[cj + t][ks], w2f[t][ks][nt][0], w2f[t][ks][nt][1]);
              }
            }
          }
        }
      }
    }
    // Once every warp is past stage B: the next tile's tables, and X's n-tile 0 becomes its
    // n-tile 8 (P, written next, lives in X's columns 8 .. 50).
    auto prepare_next_tile = [&] {
      if (s0 + per_tile < steps) load_tables(j0 - kCols);
      const uint4* src = reinterpret_cast<const uint4*>(Xs);
      uint4* dst = reinterpret_cast<uint4*>(Xs + kCols * kXCol);
      for (int e = tid; e < 8 * kXCol * int(sizeof(T)) / 16; e += kThreads) dst[e] = src[e];
    };
    if (pooling) {
      pool_cells(lg, a, j0, rc0, row_in, rslot, st_m, st_il);
      __syncthreads();  // every warp is past stage B
      prepare_next_tile();
    } else {
      // Softmax: the tile's maximum of each pair over all warps, then this warp's probabilities.
      float mx[8];
#pragma unroll
      for (int q = 0; q < 8; ++q) {
        const int nt = q / 4, c = q % 4;
        float m = lg[0][nt][c];
#pragma unroll
        for (int cj = 1; cj < kWc; ++cj) m = fmaxf(m, lg[cj][nt][c]);
        mx[q] = m;
      }
      // Copy `parity` of the running maxima holds the maxima before this tile and copy
      // parity ^ 1 the same: each warp raises the latter to its tile maxima (rarely needed once
      // a row's maximum is found), the barrier, then every warp reads the same new maxima and
      // warp 0 brings copy `parity` up to them for the next tile (whose raises come after its X
      // barrier, so after every read here).
      float m_old[8];
      load8(m_old, m_s + (parity * 32 + lane) * 8);
      float* m_next = m_s + ((parity ^ 1) * 32 + lane) * 8;
      bool raise = false;
#pragma unroll
      for (int q = 0; q < 8; ++q) raise |= mx[q] > m_old[q];
      if (__any_sync(0xffffffffu, raise)) {  // rare once the rows' maxima are found
#pragma unroll
        for (int q = 0; q < 8; ++q) {
          if (mx[q] > m_old[q]) atomic_max_float(m_next + q, mx[q]);
        }
      }
      __syncthreads();  // every warp is past stage B (and the maxima are raised)
      prepare_next_tile();
      load8(mx, m_next);
      // Every warp's lanes cover all (row, head) pairs, so every warp sees whether a maximum
      // moved; on most tiles after the first few none did, and nothing is rescaled.
      bool moved = false;
#pragma unroll
      for (int q = 0; q < 8; ++q) moved |= mx[q] != m_old[q];
      rescale = __any_sync(0xffffffffu, moved);
      if (warp == 0 && rescale) {
        float4* mw = reinterpret_cast<float4*>(m_s + (parity * 32 + lane) * 8);
        mw[0] = make_float4(mx[0], mx[1], mx[2], mx[3]);
        mw[1] = make_float4(mx[4], mx[5], mx[6], mx[7]);
      }
#pragma unroll
      for (int q = 0; q < 8; ++q) {
        const int nt = q / 4, c = q % 4, rh = c / 2, e = c % 2;
        const int head = 8 * nt + 2 * qd + e, row = g + 8 * rh;
        const float base = mx[q];  // the new maximum
        float alpha = 1.f;
        if (rescale) alpha = ex2(m_old[q] - base);
        float sum = 0.f;
        uint32_t pk[kWc / 2];
#pragma unroll
        for (int cj = 0; cj < kWc; cj += 2) {
          const float p0 = ex2(lg[cj][nt][c] - base);
          const float p1 = ex2(lg[cj + 1][nt][c] - base);
          sum += p0 + p1;
          pk[cj / 2] = Ops<T>::pack(p0, p1);
        }
        l_run[q] = l_run[q] * alpha + sum;
        if constexpr (!kAnalysis) {
          if (warp == 0 && rescale) alpha_s[head * kRows + row] = alpha;
          *reinterpret_cast<uint4*>(Ps + head * kPHead + row * kCols + 8 * (warp ^ (row % 8))) =
              make_uint4(pk[0], pk[1], pk[2], pk[3]);
        }
      }
    }
    if constexpr (!kAnalysis) {
      for (int k = 0; k < nv; ++k) {  // C: P V
        wait_step(s0 + nk + k);
        const int h0 = k * a.v_group, nh = min(a.v_group, H - h0);
        const T* vs = stage_buf(s0 + nk + k);
#pragma unroll
        for (int s = 0; s < kTasks; ++s) {
          const int t = warp + kWarps * s, h = t / kGroups, dg = t % kGroups;
          if (h < h0 || h >= h0 + nh) continue;
          if (rescale) {
            const float al0 = alpha_s[h * kRows + g], al1 = alpha_s[h * kRows + g + 8];
#pragma unroll
            for (int n = 0; n < kNT; ++n) {
              acc[s][n][0] *= al0;
              acc[s][n][1] *= al0;
              acc[s][n][2] *= al1;
              acc[s][n][3] *= al1;
            }
          }
          const int prow = lane % 16;
          const T* ph = Ps + h * kPHead + prow * kCols;
          const T* vh = vs + (h - h0) * kCols * HD;
          const int vr = 8 * ((lane / 8) % 2), vl = lane % 8, vc = lane / 16;
#pragma unroll
          for (int kk = 0; kk < kCols / 16; ++kk) {
            uint32_t p[4], b01[4];
            ldsm_x4(p, ph + 8 * ((2 * kk + lane / 16) ^ (prow % 8)));
            ldsm_x4_trans(b01, vh + kv_offset<HD>(vr + 16 * kk, vl, kNT * dg, vc, kCols));
            Ops<T>::mma(acc[s][0], p, b01[0], b01[1]);
            Ops<T>::mma(acc[s][1], p, b01[2], b01[3]);
            if constexpr (kNT == 4) {
              uint32_t b23[4];
              ldsm_x4_trans(b23, vh + kv_offset<HD>(vr + 16 * kk, vl, kNT * dg, vc + 2, kCols));
              Ops<T>::mma(acc[s][2], p, b23[0], b23[1]);
              Ops<T>::mma(acc[s][3], p, b23[2], b23[3]);
            }
          }
        }
      }
    }
  }
  asm volatile("cp.async.wait_group 0;\n" ::: "memory");
  if (pooling) return;

  // The row sums: this warp's partial sums, added over the warps.
  {
    float4* rw = reinterpret_cast<float4*>(red + (warp * 32 + lane) * 8);
    __syncthreads();  // every warp is past its last read of P (red aliases it)
    rw[0] = make_float4(l_run[0], l_run[1], l_run[2], l_run[3]);
    rw[1] = make_float4(l_run[4], l_run[5], l_run[6], l_run[7]);
    __syncthreads();
    if (warp == 0) {
      float l[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
#pragma unroll
      for (int w = 0; w < kWarps; ++w) {
        float x[8];
        load8(x, red + (w * 32 + lane) * 8);
#pragma unroll
        for (int q = 0; q < 8; ++q) l[q] += x[q];
      }
#pragma unroll
      for (int q = 0; q < 8; ++q) {
        const int nt = q / 4, c = q % 4;
        l_s[(8 * nt + 2 * qd + c % 2) * kRows + g + 8 * (c / 2)] = l[q];
      }
      if (a.stats != nullptr) {  // the rows' statistics (the final maxima are in m_s)
        const float* mf = m_s + lane * 8;  // both copies hold the final maxima
        float2* st = a.stats + size_t(blockIdx.y) * H * N;
#pragma unroll
        for (int q = 0; q < 8; ++q) {
          const int head = 8 * (q / 4) + 2 * qd + q % 2, i = i0 + g + 8 * ((q % 4) / 2);
          if (head < H && i < N) st[size_t(head) * N + i] = make_float2(mf[q], l[q]);
        }
      }
    }
    __syncthreads();
  }
  if constexpr (kAnalysis) return;
  T* ob = a.out + batch;
#pragma unroll
  for (int s = 0; s < kTasks; ++s) {
    const int t = warp + kWarps * s, h = t / kGroups, dg = t % kGroups;
    if (h >= H) continue;
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int r = g + 8 * half, i = i0 + r;
      if (i >= N) continue;
      const float inv = 1.f / l_s[h * kRows + r];
#pragma unroll
      for (int n = 0; n < kNT; ++n) {
        *reinterpret_cast<uint32_t*>(ob + (size_t(h) * N + i) * HD + kDG * dg + 8 * n + 2 * qd) =
            Ops<T>::pack(acc[s][n][2 * half] * inv, acc[s][n][2 * half + 1] * inv);
      }
    }
  }
#endif
}

template <typename T, int HD, int HMAX>
const void* kernel_ptr(bool analysis) {
  return analysis ? reinterpret_cast<const void*>(&dape_v2_fused_kernel<T, HD, HMAX, true>)
                  : reinterpret_cast<const void*>(&dape_v2_fused_kernel<T, HD, HMAX, false>);
}

template <typename T>
const void* pick_kernel(int64_t H, int64_t HD, bool analysis = false) {
  const int hmax = H <= 8 ? 8 : (H <= 12 ? 12 : 16);
#define ATTN_DAPE_CASE(hd, hm) \
  if (HD == hd && hmax == hm) return kernel_ptr<T, hd, hm>(analysis);
  ATTN_DAPE_CASE(16, 8) ATTN_DAPE_CASE(16, 12) ATTN_DAPE_CASE(16, 16)
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
  const int64_t fit = std::max<int64_t>(1, int64_t(kv) / (rows * head_dim * 2));
  const int64_t groups = (H + fit - 1) / fit;
  return int((H + groups - 1) / groups);  // even groups
}

/// The arguments every launch shares (tensor maps, tables, stage buffers) and the launch.
template <typename T>
struct Launch {
  Args<T> a{};
  const void* fn = nullptr;
  size_t smem = 0;

  Launch(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const Tables& t,
         int64_t H, int64_t N, int64_t HD, double scale, bool analysis) {
    a.tmap_k = make_tensor_map(k, kXN);
    a.tmap_v = make_tensor_map(v, kCols);
    a.q = reinterpret_cast<const T*>(q.data_ptr());
    a.k = reinterpret_cast<const T*>(k.data_ptr());
    a.v = reinterpret_cast<const T*>(v.data_ptr());
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
    a.k_group = group_size(H, kXN, HD, kv);
    a.v_group = group_size(H, kCols, HD, kv);
    a.scale = float(scale);
    fn = pick_kernel<T>(H, HD, analysis);
    TORCH_INTERNAL_ASSERT(fn != nullptr);
    smem = smem_bytes(H, HD, kv);
    C10_CUDA_CHECK(
        cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  }

  /// Row blocks [block0, block0 + blocks) of each of B sequences.
  void run(int64_t block0, int64_t blocks, int64_t B) {
    a.row_block0 = int(block0);
    const dim3 grid{unsigned(blocks), unsigned(B)};
    void* params[] = {&a};
    C10_CUDA_CHECK(cudaLaunchKernel(fn, grid, dim3(kThreads), params, smem,
                                    at::cuda::getCurrentCUDAStream()));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
};

template <typename T>
void launch(torch::Tensor& out, const torch::Tensor& q, const torch::Tensor& k,
            const torch::Tensor& v, const Tables& t, int64_t B, int64_t H, int64_t N,
            int64_t HD, double scale, torch::Tensor& stats) {
  Launch<T> l(q, k, v, t, H, N, HD, scale, false);
  l.a.out = reinterpret_cast<T*>(out.data_ptr());
  if (stats.defined()) l.a.stats = reinterpret_cast<float2*>(stats.data_ptr<float>());
  l.run(0, (N + kRows - 1) / kRows, B);
}

/// The passes of dape_v2_fused_view into the cells' accumulators.
template <typename T>
void launch_view(const torch::Tensor& q, const torch::Tensor& k, const Tables& t, int64_t H,
                 int64_t N, int64_t HD, double scale, const DapeV2FusedView& w,
                 ViewCells& cells, torch::Tensor stats) {
  Launch<T> l(q, k, k, t, H, N, HD, scale, true);
  auto& a = l.a;
  a.mean = w.mean ? 1 : 0;
  a.q0 = int(w.q0), a.q1 = int(w.q1), a.k0 = int(w.k0), a.k1 = int(w.k1), a.step = int(w.step);
  a.rows = int(cells.rows), a.cols = int(cells.cols);
  a.cell_hi = cells.hi.defined() ? cells.hi.data_ptr<float>() : nullptr;
  a.cell_lo = cells.lo.defined() ? cells.lo.data_ptr<float>() : nullptr;
  a.cell_sum = cells.sum.defined() ? cells.sum.data_ptr<double>() : nullptr;
  const int64_t b0 = w.q0 / kRows, blocks = (w.q1 + kRows - 1) / kRows - b0;
  if (w.stage == "probs" && !stats.defined()) {  // else the forward's
    stats = torch::empty({H, N, 2}, q.options().dtype(torch::kFloat32));
    a.stats = reinterpret_cast<float2*>(stats.data_ptr<float>());
    a.pass = 0;
    l.run(b0, blocks, 1);
  }
  if (stats.defined()) a.stats = reinterpret_cast<float2*>(stats.data_ptr<float>());
  a.pass = w.stage == "probs" ? 2 : 1;
  l.run(b0, blocks, 1);
}

/// Contiguous and 16-byte aligned (the copies' requirement); a misaligned view is copied.
torch::Tensor aligned16(const torch::Tensor& x) {
  auto c = x.contiguous();
  return reinterpret_cast<uintptr_t>(c.data_ptr()) % 16 == 0 ? c : c.clone();
}

/// Row statistics, when given: contiguous float32 (B, H, N, 2) on q's device.
void check_stats(const torch::Tensor& stats, const torch::Tensor& q) {
  TORCH_CHECK(!stats.defined() ||
                  (stats.device() == q.device() && stats.is_contiguous() &&
                   stats.scalar_type() == torch::kFloat32 &&
                   stats.sizes() == torch::IntArrayRef({q.size(0), q.size(1), q.size(2), 2})),
              "dape_v2_fused: row statistics must be contiguous float32 (", q.size(0), ", ",
              q.size(1), ", ", q.size(2), ", 2) on ", q.device(), "; got ",
              stats.defined() ? stats.sizes() : torch::IntArrayRef{});
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
  if (HD != 16 && HD != 32 && HD != 64 && HD != 128) {
    return "head_dim " + std::to_string(HD) + " (16, 32, 64, 128)";
  }
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
  int major = 0;
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor,
                                        q.device().index()));
  if (major < 9) {
    return "needs a GPU of compute capability 9.0 or newer (Hopper) for its bulk tensor copies; "
           "this one is " + std::to_string(major) + ".x";
  }
  if (tensor_map_encoder() == nullptr) return "the CUDA driver has no cuTensorMapEncodeTiled";
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
                       const torch::Tensor& v, const DapeV2FusedParams& p, torch::Tensor stats) {
  const auto why = dape_v2_fused_unsupported_reason(q, k, v, p);
  TORCH_CHECK(why.empty(), "dape_v2_fused: unsupported arguments: ", why);
  TORCH_CHECK(out.defined() && out.sizes() == q.sizes() && out.scalar_type() == q.scalar_type() &&
                  out.device() == q.device() && out.is_contiguous(),
              "dape_v2_fused: out must be contiguous, ", q.sizes(), " ", q.scalar_type(), " on ",
              q.device(), "; got ", out.sizes(), " ", out.scalar_type(), " on ", out.device());
  check_stats(stats, q);
  const c10::cuda::CUDAGuard guard(q.device());
  const int64_t B = q.size(0), H = q.size(1), N = q.size(2), HD = q.size(3);
  const auto qc = aligned16(q), kc = aligned16(k), vc = aligned16(v);
  if (q.scalar_type() == torch::kBFloat16) {
    const Tables t = make_tables(p, H, N, q.scalar_type(), q.device());
    launch<__nv_bfloat16>(out, qc, kc, vc, t, B, H, N, HD, p.scale, stats);
  } else {
    const Tables t = make_tables(p, H, N, q.scalar_type(), q.device());
    launch<__half>(out, qc, kc, vc, t, B, H, N, HD, p.scale, stats);
  }
}

std::string dape_v2_fused_view_unsupported_reason(const torch::Tensor& q, const torch::Tensor& k,
                                                  const DapeV2FusedParams& p,
                                                  const DapeV2FusedView& w) {
  const auto why = dape_v2_fused_unsupported_reason(q, k, k, p);
  if (!why.empty()) return why;
  if (q.size(0) != 1) return "batch " + std::to_string(q.size(0)) + " (views take one sequence)";
  if (w.stage != "logits" && w.stage != "probs") {
    return "stage \"" + w.stage + "\" (logits or probs)";
  }
  const int64_t N = q.size(2);
  if (!(0 <= w.q0 && w.q0 < w.q1 && w.q1 <= N && 0 <= w.k0 && w.k0 < w.k1 && w.k1 <= N)) {
    return "window queries [" + std::to_string(w.q0) + ", " + std::to_string(w.q1) + ") x keys [" +
           std::to_string(w.k0) + ", " + std::to_string(w.k1) + ") (non-empty, within 0.." +
           std::to_string(N) + ")";
  }
  if (w.step < 8) return "step " + std::to_string(w.step) + " (8 or more)";
  return "";
}

torch::Tensor dape_v2_fused_view(const torch::Tensor& q, const torch::Tensor& k,
                                 const DapeV2FusedParams& p, const DapeV2FusedView& w,
                                 const torch::Tensor& stats) {
  const auto why = dape_v2_fused_view_unsupported_reason(q, k, p, w);
  TORCH_CHECK(why.empty(), "dape_v2_fused_view: unsupported arguments: ", why);
  check_stats(stats, q);
  const c10::cuda::CUDAGuard guard(q.device());
  const int64_t H = q.size(1), N = q.size(2), HD = q.size(3);
  ViewCells cells(w, H, q.device());
  const auto qc = aligned16(q), kc = aligned16(k);
  const Tables t = make_tables(p, H, N, q.scalar_type(), q.device());
  if (q.scalar_type() == torch::kBFloat16) {
    launch_view<__nv_bfloat16>(qc, kc, t, H, N, HD, p.scale, w, cells, stats);
  } else {
    launch_view<__half>(qc, kc, t, H, N, HD, p.scale, w, cells, stats);
  }
  return cells.finish(w);
}

torch::Tensor dape_v2_fused(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const DapeV2FusedParams& p) {
  auto out = torch::empty(q.sizes(), q.options().memory_format(torch::MemoryFormat::Contiguous));
  dape_v2_fused_out(out, q, k, v, p);
  return out;
}

}  // namespace attn
