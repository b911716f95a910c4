// SPDX-License-Identifier: MIT
// The fused DAPE V2 kernel itself (included by dape_v2_fused.cu only, into its unnamed
// namespace; that file's header describes the algorithm and hosts the launches): one template
// for the forward pass and the view passes, over the tile-level pieces of
// dape_v2_fused_tiles.cuh.
#pragma once

#include <type_traits>

#include "core/kernels/dape_v2_fused_tiles.cuh"

namespace attn {
namespace {

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
  // The kStages K/V stage buffers, at the next multiple of kKvAlign.
  T* const buf0 = reinterpret_cast<T*>(
      (reinterpret_cast<uintptr_t>(Qs + HMAX * kRows * kQStride) + kKvAlign - 1) &
      ~uintptr_t(kKvAlign - 1));

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
  // conv1's K: the three taps' kFC score channels (fold_tap_channel), in kK16 products of k = 16
  // and, for kFC = 8, one of k = 8; conv2 needs its second n-tile (heads 8 .. 15) only for more
  // than 8 heads.
  constexpr int kFC = fold_channels(HMAX);
  constexpr int kK16 = kTaps * kFC / 16, kK8 = kTaps * kFC % 16 != 0 ? 1 : 0;
  constexpr int kNT2 = HMAX > 8 ? 2 : 1;
  // A thread's (row, head slot) pairs q = 4 nt + 2 rh + e (below): slot 8 nt + 2 qd + e, row
  // g + 8 rh. With 12 head slots the heads are spread (head_slot): the pairs e = 1 of n-tile 1 are
  // no head. live(q): q's slot can hold a head (its softmax runs); pair_head: its head, or
  // kSlots for none.
  constexpr bool kSpread = spread_heads(HMAX);
  constexpr int kQ = 4 * kNT2;
  auto live = [](int q) { return q < kQ && !(kSpread && q >= 4 && q % 2 == 1); };
  auto pair_head = [qd](int q) {
    const int s = 8 * (q / 4) + 2 * qd + q % 2, h = slot_head(s, kSpread);
    return h < 0 ? kSlots : h;
  };
  static_assert(kTaps * kFC % 16 <= 8 && kTaps * kFC <= kFoldK, "conv1's K in k16 and k8 products");
  // The weights (below, after the wait).
  uint32_t w1f[kK16][4][2], w1e[4], w2f[kTaps][2][2][2];
  load_rows<HD, kRows>(Qs, qb, 0, H, i0, N);
  asm volatile("cp.async.commit_group;\n" ::: "memory");
  if (tid == 0) {
    for (int b = 0; b < kStages; ++b) mbar_init(&bars[b], 1);
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();  // the barriers are initialised before any thread waits on them

  // The loads form one sequence of steps through kStages buffers: per tile kNK groups of K rows,
  // then kNV groups of V rows (fixed per kernel: Plan, so that the steps unroll and each warp's
  // heads and tasks are constants); steps s + 1 .. s + kStages - 1 are in flight while step s
  // runs. A pooling pass walks only the tiles whose columns meet the window's keys [k0, k1).
  using Pl = Plan<HD, HMAX>;
  constexpr int kNK = Pl::kNK, kNV = kAnalysis ? 0 : Pl::kNV, kPer = kNK + kNV;
  constexpr int kKvElems = int(Pl::kKv / sizeof(T));
  const int key_end = min(i0 + kRows, N);
  const int j_begin = pooling ? (a.k0 / kCols) * kCols : 0;
  const int j_end = pooling ? min(key_end, a.k1) : key_end;
  const int tiles = j_end > j_begin ? (j_end - j_begin + kCols - 1) / kCols : 0;
  // The walk goes from the diagonal tile down to j_begin (the header says why).
  const int j_last = j_begin + (tiles - 1) * kCols;
  constexpr int kBW = HD < 64 ? HD : 64;
  const int bh0 = blockIdx.y * H;
  // A tile's bias tables (rows by distance i0 - j0), by cp.async from every thread: the first
  // tile's here, the next one's once every warp is past stage B; landed by its X barrier.
  auto load_tables = [&](int j0) {
    load_table<kWidth, kGS>(Gs, a.g, kGRows, i0 - j0 - 64 + 1, 0, N);  // row d + 1
    load_table<kSlots, kPbS>(Pbs, a.pb, kPbRows, i0 - j0 - 63 + kPbPad, 0, N - 1 + kPbPad);
    asm volatile("cp.async.commit_group;\n" ::: "memory");
  };
  // Lane 0 of warp gs % 8 issues step `rel` counted from the first step of the tile at j0
  // (rel >= kPer: a later tile's; gs: its index in the walk) into the next stage buffer (ib):
  // one bulk tensor copy per head and 64 columns; nothing when that tile is past the walk's
  // end. A group past the last head (H < HMAX) has no boxes and its barrier completes at once.
  int ib = 0;
  auto issue = [&](int rel, int j0, int gs) {
    const int jt = j0 - (rel / kPer) * kCols, k = rel % kPer, buf = ib;
    ib = ib == kStages - 1 ? 0 : ib + 1;
    if (tid != 32 * (gs % kWarps) || jt < j_begin) return;
    const bool is_k = k < kNK;
    const int h0 = is_k ? k * Pl::kKG : (k - kNK) * Pl::kVG;
    const int nh = max(0, min(is_k ? Pl::kKG : Pl::kVG, H - h0));
    const int rows = is_k ? kXN : kCols;
    T* dst = buf0 + buf * kKvElems;
    uint64_t* bar = &bars[buf];
    mbar_expect_tx(bar, uint32_t(nh * rows * HD * sizeof(T)));
    for (int hl = 0; hl < nh; ++hl) {
#pragma unroll
      for (int b = 0; b < HD / kBW; ++b) {
        tma_load(dst + (hl * HD / kBW + b) * rows * kBW, is_k ? &a.tmap_k : &a.tmap_v, b * kBW,
                 is_k ? jt - 4 : jt, bh0 + h0 + hl, bar);
      }
    }
  };
  // Once every thread is done with the steps before step `rel` of the current tile (at a
  // barrier), the steps up to rel + kStages - 1 (whose buffers those steps used) go in flight,
  // in order; `issued` counts the walk's steps issued so far, tile_base the current tile's first.
  int issued = 0, tile_base = 0;
  auto issue_upto = [&](int rel, int j0) {
    for (; issued <= tile_base + rel + kStages - 1; ++issued) {
      issue(issued - tile_base, j0, issued);
    }
  };
  // Step rel of the tile at j0 has landed (the buffers go round, cur, and each barrier's parity
  // flips with each use, bit b of phases); with `sync`, the barrier and the issues above. Stage
  // A's K steps need a barrier only where the step it issues is a K step (their groups write
  // X's channels apart); the X barrier issues the rest.
  int cur = 0;
  uint32_t phases = 0;
  auto wait_step = [&](int rel, int j0, bool sync) {
    const int b = cur;
    mbar_wait(&bars[b], (phases >> b) & 1u);
    phases ^= 1u << b;
    if (sync) {
      __syncthreads();
      issue_upto(rel, j0);
    }
    cur = b == kStages - 1 ? 0 : b + 1;
    return static_cast<const T*>(buf0 + b * kKvElems);
  };

  // P V's tasks: (head, d range) pairs t = head * kGroups + dg, kTpg a V group; task t is warp
  // t % 8's, in its accumulators acc[t / 8] (so a group's tasks spread over all warps).
  constexpr int kTpg = Pl::kVG * kGroups;
  constexpr int kTasks = kNV > 0 ? (kNV * kTpg + kWarps - 1) / kWarps : 1;
  float acc[kTasks][kNT][4];
#pragma unroll
  for (int u = 0; u < kTasks; ++u)
#pragma unroll
    for (int n = 0; n < kNT; ++n) acc[u][n][0] = acc[u][n][1] = acc[u][n][2] = acc[u][n][3] = 0.f;
  // Softmax state of this thread's 8 (row, head) pairs q = 4 nt + 2 rh + e: row g + 8 rh, head
  // 8 nt + 2 qd + e. l sums this warp's columns only; m is the same in every warp and lives in
  // m_s's two copies (tile t reads copy t % 2 and raises copy (t + 1) % 2: the softmax below).
  float l_run[8];
#pragma unroll
  for (int q = 0; q < 8; ++q) l_run[q] = 0.f;
  // Finite, so that a row with no key yet needs no test: 2^(-inf - m) = 0, 2^(m - m) = 1.
  for (int e = tid; e < 2 * 32 * 8; e += kThreads) m_s[e] = -1e30f;

  // Stage A's split of a K group: 1 << kLw warps a head (8 / kKG, one when kKG > 8), each with
  // n-tiles [nt_begin, + kPerA) of 0 .. 7 (n-tile 8 is carried; the first tile's: sub 0's);
  // kHa heads a warp and group.
  constexpr int kLw = Pl::kKG <= 1 ? 3 : Pl::kKG <= 2 ? 2 : Pl::kKG <= 4 ? 1 : 0;
  constexpr int kPerA = 8 >> kLw, kHeadsAtOnce = kWarps >> kLw;
  constexpr int kHa = (Pl::kKG + kHeadsAtOnce - 1) / kHeadsAtOnce;
  const int a_sub = warp & ((1 << kLw) - 1), a_nt = a_sub * kPerA;

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
      const int head = pair_head(q), i = i0 + g + 8 * ((q % 4) / 2);
      st_m[q] = 0.f, st_il[q] = 0.f;
      if (a.pass == 2 && head < H && i < N) {
        const float2 st = a.stats[size_t(head) * N + i];
        st_m[q] = st.x, st_il[q] = 1.f / st.y;
      }
    }
  }

  issue_upto(0, j_last);  // the first kStages steps: every buffer is free
  // Nothing above reads the tables kernel's output (the view passes' statistics come from an
  // earlier launch, and those passes launch normally). The forward is launched as the tables
  // kernel's programmatic dependent (Launch::run), so this block may have started while that
  // kernel runs: it waits here before the weights and tables.
  grid_dependency_wait();
  // The convolution weights as mma B fragments, in registers for the whole kernel.
  {
    const uint32_t* w1 = reinterpret_cast<const uint32_t*>(a.w1);
    const uint32_t* w2 = reinterpret_cast<const uint32_t*>(a.w2);
#pragma unroll
    for (int nt = 0; nt < 4; ++nt) {
      const int base = ((8 * nt + g) * kFoldK + 2 * qd) / 2;
#pragma unroll
      for (int m = 0; m < kK16; ++m) {
        w1f[m][nt][0] = w1[base + 8 * m];
        w1f[m][nt][1] = w1[base + 8 * m + 4];
      }
      w1e[nt] = kK8 ? w1[base + 8 * kK16] : 0u;
    }
#pragma unroll
    for (int t = 0; t < kTaps; ++t) {
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
  // G0 of the block's rows (key column 0's start) into G's rows kGRows .. kGRows + 15.
  load_table<kWidth, kGS>(Gs + kGRows * kGS, a.g0, kRows, i0, 0, N - 1);
  if (tiles > 0) load_tables(j_last);
  // Q has landed (the older group); the first step's barrier shows it to every thread.
  asm volatile("cp.async.wait_group 1;\n" ::: "memory");
  for (int t = 0; t < tiles; ++t) {
    const int j0 = j_last - t * kCols, parity = t & 1;
    tile_base = t * kPer;
    // A: scores of [j0 - 4, j0 + 68) into X, each K group split over the warps.
    const bool a_edge = j0 - 4 < 0 || j0 + kXN - 4 > i0 || j0 + kXN - 4 > N;
#pragma unroll
    for (int k = 0; k < kNK; ++k) {
      const T* ks = wait_step(k, j0, k == 0 || k + kStages - 1 < kNK);
#pragma unroll
      for (int u = 0; u < kHa; ++u) {
        const int hl = (warp >> kLw) + u * kHeadsAtOnce, h = k * Pl::kKG + hl;
        if ((kHa * kHeadsAtOnce > Pl::kKG && hl >= Pl::kKG) || h >= H) continue;
        const T* qh = Qs + h * kRows * kQStride;
        const T* kh = ks + hl * kXN * HD;
        const int slot = head_slot(h, kSpread);
        score_units<kPerA, HD>(Xs, qh, kh, slot, a_nt);
        if (t == 0 && a_sub == 0) score_units<1, HD>(Xs, qh, kh, slot, 8);
      }
    }
    asm volatile("cp.async.wait_group 0;\n" ::: "memory");  // this tile's tables
    __syncthreads();  // X is complete, and every K step is done with its buffer
    issue_upto(kNK, j0);
    if (a_edge) {
      mask_x(Xs, j0, i0, N);
      __syncthreads();
    }

    // B: this warp's output columns [j0 + 8 warp, + 8): hidden columns jp = j0 + 8 warp - 1 + hh
    // (hh < 10) from X columns jp - 1 .. jp + 1, then logits, all with the 16 query rows as M.
    // Edge tiles: hidden columns outside [0, N) (conv2's zero padding) or key column 0 (G0).
    const bool b_end = j0 + kCols + 1 >= N, b_edge = j0 == 0 || b_end;
    // Exact mode: the logits into lg (log2 units). Speculative mode (every tile after the first
    // of a forward or statistics pass but the tiles near N, b_end, so that it compiles without
    // their selects; on the tile at key 0 only warp 0's hidden columns 0 and 1, keys -1 and 0,
    // are edge columns: two selects fixed at compile time): each column's probabilities right
    // after its products, against the running maxima before the tile (m_ref), packed into pk
    // and summed into psum (the exponentials overlap the products), and `over` set where a
    // probability exceeds 2^kTau (the packed maxima: float16's range is safe; a value rounded
    // down to 2^kTau passes, harmlessly); then the tile's maxima need no exchange unless some
    // warp is over, and that tile runs again exact.
    constexpr float kTau = 8.f;
    // Where a speculative stage B fills its halo slot and reads its neighbour's (hidden columns).
    constexpr int kHaloPub = 4, kHaloFetch = 6;
    float lg[kWc][2][4];
    float m_ref[8], psum[8];
    uint32_t pmax[2] = {0u, 0u};  // the speculative probabilities' maxima, packed
    uint32_t pk[8][kWc / 2];
    bool over = false;
    bool rescale = true;  // whether a row maximum moved on this tile (the softmax sets it)
    auto stage_b = [&](auto spec_c) {
      constexpr bool kSpec = decltype(spec_c)::value;
      const bool edge = !kSpec && b_edge;
      const bool key0_w0 = kSpec && j0 == 0 && warp == 0;  // speculative, at key 0: warp 0
      // X columns 8 warp + 2 + t (index t) as A fragments [16 rows x 16 channels] (8 channels,
      // registers 0 and 1, when kFC = 8), read transposed from X[col][ch][row].
      uint32_t xw[kWc + 4][4] = {};
      uint32_t hid[kWc + 2][2][4];
      const uint32_t xbase =
          smem_addr(Xs + (8 * warp + 2) * kXCol + ((lane % 8) + 8 * (lane / 16)) * kXR +
                    8 * ((lane / 8) % 2));
      auto load_x = [&](int t) {
        if constexpr (kFC == 8) {
          uint32_t r[2];
          ldsm_x2_trans(r, xbase + 2 * t * kXCol);
          xw[t][0] = r[0], xw[t][1] = r[1];
        } else {
          ldsm_x4_trans(xw[t], xbase + 2 * t * kXCol);
        }
      };
      load_x(0);
      load_x(1);
#pragma unroll
      for (int hh = 0; hh < kWc + 2; ++hh) {
        // The speculative path computes hidden columns 0 .. 7 and reads 8 and 9 (the halo slots).
        if (!kSpec || hh < kWc) {
          load_x(hh + 2);
          const int jp = j0 + 8 * warp - 1 + hh;
          float c[4][4];
#pragma unroll
          for (int rh = 0; rh < 2; ++rh) {
            const int r = g + 8 * rh;
            // Key column 0 starts from G0: a select, no branch (the columns' products overlap).
            const bool at0 = kSpec ? hh == 1 && key0_w0 : edge && jp == 0;
            const float* gp = Gs + (at0 ? kGRows + r : r - 8 * warp + 65 - hh) * kGS + 2 * qd;
#pragma unroll
            for (int nt = 0; nt < 4; ++nt) {  // straight into the accumulator pairs
              const float2 u = *reinterpret_cast<const float2*>(gp + 8 * nt);
              c[nt][2 * rh] = u.x, c[nt][2 * rh + 1] = u.y;
            }
          }
          // The K chunks (fold_tap_channel): kFC = 16, the three columns (taps); kFC = 8,
          // channels 0 .. 7 of columns 0 and 1, then (k = 8) of column 2.
          uint32_t xa[kK16][4];
          if constexpr (kFC == 16) {
#pragma unroll
            for (int m = 0; m < kK16; ++m)
#pragma unroll
              for (int r = 0; r < 4; ++r) xa[m][r] = xw[hh + m][r];
          } else {
            xa[0][0] = xw[hh][0], xa[0][1] = xw[hh][1], xa[0][2] = xw[hh + 1][0];
            xa[0][3] = xw[hh + 1][1];
          }
#pragma unroll
          for (int m = 0; m < kK16; ++m) {
#pragma unroll
            for (int nt = 0; nt < 4; ++nt) {
              Ops<T>::mma(c[nt], xa[m], w1f[m][nt][0], w1f[m][nt][1]);
            }
          }
          if constexpr (kK8 != 0) {  // the k = 8 chunk (kFC = 8)
#pragma unroll
            for (int nt = 0; nt < 4; ++nt) {
              Ops<T>::mma8(c[nt], xw[hh + 2][0], xw[hh + 2][1], w1e[nt]);
            }
          }
          // conv2's zero padding
          const bool zero = kSpec ? hh == 0 && key0_w0 : edge && (jp < 0 || jp >= N);
#pragma unroll
          for (int ks = 0; ks < 2; ++ks) {
#pragma unroll
            for (int p = 0; p < 4; ++p) {  // a0: (g, 2qd), a1: (g + 8, 2qd), a2, a3: + 8 channels
              const float* cc = c[2 * ks + p / 2];
              const int o = 2 * (p % 2);
              hid[hh][ks][p] = zero ? 0u : Ops<T>::leaky2(Ops<T>::pack(cc[o], cc[o + 1]));
            }
          }
        }
        // Columns 0 and 1 into this warp's slot: for warp w - 1 (speculative tiles), and warp
        // 0's for warp 7 of the next tile (every tile: the next may be speculative).
        if (hh == kHaloPub && (kSpec || warp == 0)) {
          uint4* sp = halo_piece(Xs, halo_write_slot(warp, t), lane);
#pragma unroll
          for (int q = 0; q < 4; ++q) {
            const uint32_t* hq = hid[q / 2][q % 2];
            sp[q * kHaloPiece] = make_uint4(hq[0], hq[1], hq[2], hq[3]);
          }
          if (kSpec && warp > 0) bar_arrive(warp, 64);  // barrier w: warps w - 1 and w
        }
        if (kSpec && hh == kHaloFetch) {  // columns 8 and 9 from the right neighbour's slot
          if (warp < kWarps - 1) bar_sync(warp + 1, 64);
          const uint4* sp = halo_piece(Xs, halo_read_slot(warp, t), lane);
#pragma unroll
          for (int q = 0; q < 4; ++q) {
            const uint4 v = sp[q * kHaloPiece];
            uint32_t* hq = hid[kWc + q / 2][q % 2];
            hq[0] = v.x, hq[1] = v.y, hq[2] = v.z, hq[3] = v.w;
          }
        }
        if (hh >= 2) {
          const int cj = hh - 2;
          float f[2][4];
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
              for (int nt = 0; nt < kNT2; ++nt) {
                Ops<T>::mma(f[nt], hid[cj + t][ks], w2f[t][ks][nt][0], w2f[t][ks][nt][1]);
              }
            }
          }
          if constexpr (kSpec) {
#pragma unroll
            for (int q = 0; q < kQ; ++q) {
              if (!live(q)) continue;
              const float x = f[q / 4][q % 4] - m_ref[q];
              const float p = ex2(x);
              psum[q] += p;
              if (cj % 2 == 0) {
                pk[q][cj / 2] = __float_as_uint(p);  // packed with the next column's
              } else {
                pk[q][cj / 2] = Ops<T>::pack(__uint_as_float(pk[q][cj / 2]), p);
                pmax[q / 4] = Ops<T>::max2(pmax[q / 4], pk[q][cj / 2]);
              }
            }
          } else {
#pragma unroll
            for (int nt = 0; nt < 2; ++nt)
#pragma unroll
              for (int c = 0; c < 4; ++c) lg[cj][nt][c] = f[nt][c];
          }
        }
      }
    };
    bool exact = pooling || t == 0 || b_end;
    if (!exact) {
      load8(m_ref, m_s + (parity * 32 + lane) * 8);
#pragma unroll
      for (int q = 0; q < 8; ++q) psum[q] = 0.f;
      stage_b(std::true_type{});
      {  // over: some probability above 2^kTau (packed: rounding near it is harmless)
        const uint32_t m2 = Ops<T>::max2(pmax[0], pmax[1]);
        over = fmaxf(lo_of<T>(m2), hi_of<T>(m2)) > float(1 << int(kTau));
      }
      // Every warp is past stage B, and whether any is over.
      exact = __syncthreads_or(over) != 0;
    }
    if (exact) stage_b(std::false_type{});
    // Once every warp is past stage B: the next tile's tables, and X's n-tile 0 becomes its
    // n-tile 8 (P, written next, lives in X's columns 8 .. 50).
    auto prepare_next_tile = [&] {
      if (t + 1 < tiles) load_tables(j0 - kCols);
      const uint4* src = reinterpret_cast<const uint4*>(Xs);
      uint4* dst = reinterpret_cast<uint4*>(Xs + kCols * kXCol);
      for (int e = tid; e < 8 * kXCol * int(sizeof(T)) / 16; e += kThreads) dst[e] = src[e];
    };
    if (pooling) {
      pool_cells<kSpread>(lg, a, j0, rc0, row_in, rslot, st_m, st_il);
      __syncthreads();  // every warp is past stage B
      prepare_next_tile();
    } else if (!exact) {
      // No maximum moves: both copies of the running maxima stay, nothing is rescaled.
      prepare_next_tile();
      rescale = false;
#pragma unroll
      for (int q = 0; q < kQ; ++q) {
        if (!live(q)) continue;
        const int head = pair_head(q), row = g + 8 * ((q % 4) / 2);
        l_run[q] += psum[q];
        if constexpr (!kAnalysis) {
          *reinterpret_cast<uint4*>(Ps + head * kPHead + row * kCols + 8 * (warp ^ (row % 8))) =
              make_uint4(pk[q][0], pk[q][1], pk[q][2], pk[q][3]);
        }
      }
    } else {
      // Softmax: the tile's maximum of each pair over all warps, then this warp's probabilities.
      float mx[8];
#pragma unroll
      for (int q = 0; q < 8; ++q) {
        const int nt = q / 4, c = q % 4;
        float m = live(q) ? lg[0][nt][c] : -INFINITY;  // (no heads: their maxima stay)
#pragma unroll
        for (int cj = 1; cj < kWc; ++cj) m = live(q) ? fmaxf(m, lg[cj][nt][c]) : m;
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
      for (int q = 0; q < kQ; ++q) {
        if (!live(q)) continue;
        const int nt = q / 4, c = q % 4;
        const int head = pair_head(q), row = g + 8 * (c / 2);
        const float base = mx[q];  // the new maximum
        float alpha = 1.f;
        if (rescale) alpha = ex2(m_old[q] - base);
        float sum = 0.f;
        uint32_t pq[kWc / 2];
#pragma unroll
        for (int cj = 0; cj < kWc; cj += 2) {
          const float p0 = ex2(lg[cj][nt][c] - base);
          const float p1 = ex2(lg[cj + 1][nt][c] - base);
          sum += p0 + p1;
          pq[cj / 2] = Ops<T>::pack(p0, p1);
        }
        l_run[q] = l_run[q] * alpha + sum;
        if constexpr (!kAnalysis) {
          if (warp == 0 && rescale) alpha_s[head * kRows + row] = alpha;
          *reinterpret_cast<uint4*>(Ps + head * kPHead + row * kCols + 8 * (warp ^ (row % 8))) =
              make_uint4(pq[0], pq[1], pq[2], pq[3]);
        }
      }
    }
    if constexpr (!kAnalysis) {
#pragma unroll
      for (int k = 0; k < kNV; ++k) {  // C: P V
        const T* vs = wait_step(kNK + k, j0, true);
#pragma unroll
        for (int u = k * kTpg / kWarps; u <= ((k + 1) * kTpg - 1) / kWarps; ++u) {
          const int tk = warp + kWarps * u, h = tk / kGroups, dg = tk % kGroups;
          if (tk < k * kTpg || tk >= (k + 1) * kTpg || h >= H) continue;
          float (&ac)[kNT][4] = acc[u];
          if (rescale) {
            const float al0 = alpha_s[h * kRows + g], al1 = alpha_s[h * kRows + g + 8];
#pragma unroll
            for (int n = 0; n < kNT; ++n) {
              ac[n][0] *= al0;
              ac[n][1] *= al0;
              ac[n][2] *= al1;
              ac[n][3] *= al1;
            }
          }
          const int prow = lane % 16;
          const T* ph = Ps + h * kPHead + prow * kCols;
          const T* vh = vs + (h - k * Pl::kVG) * kCols * HD;
          const int vr = 8 * ((lane / 8) % 2), vl = lane % 8, vc = lane / 16;
#pragma unroll
          for (int kk = 0; kk < kCols / 16; ++kk) {
            uint32_t p[4], b01[4];
            ldsm_x4(p, ph + 8 * ((2 * kk + lane / 16) ^ (prow % 8)));
            ldsm_x4_trans(b01, vh + kv_offset<HD>(vr + 16 * kk, vl, kNT * dg, vc, kCols));
            Ops<T>::mma(ac[0], p, b01[0], b01[1]);
            Ops<T>::mma(ac[1], p, b01[2], b01[3]);
            if constexpr (kNT == 4) {
              uint32_t b23[4];
              ldsm_x4_trans(b23, vh + kv_offset<HD>(vr + 16 * kk, vl, kNT * dg, vc + 2, kCols));
              Ops<T>::mma(ac[2], p, b23[0], b23[1]);
              Ops<T>::mma(ac[3], p, b23[2], b23[3]);
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
        if (live(q)) l_s[pair_head(q) * kRows + g + 8 * ((q % 4) / 2)] = l[q];
      }
      if (a.stats != nullptr) {  // the rows' statistics (the final maxima are in m_s)
        const float* mf = m_s + lane * 8;  // both copies hold the final maxima
        float2* st = a.stats + size_t(blockIdx.y) * H * N;
#pragma unroll
        for (int q = 0; q < 8; ++q) {
          const int head = pair_head(q), i = i0 + g + 8 * ((q % 4) / 2);
          if (live(q) && head < H && i < N) st[size_t(head) * N + i] = make_float2(mf[q], l[q]);
        }
      }
    }
    __syncthreads();
  }
  if constexpr (kAnalysis) return;
  T* ob = a.out + batch;
#pragma unroll
  for (int u = 0; u < kTasks; ++u) {
    const int tk = warp + kWarps * u, h = tk / kGroups, dg = tk % kGroups;
    if (h >= H) continue;
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int r = g + 8 * half, i = i0 + r;
      if (i >= N) continue;
      const float inv = 1.f / l_s[h * kRows + r];
#pragma unroll
      for (int n = 0; n < kNT; ++n) {
        *reinterpret_cast<uint32_t*>(ob + (size_t(h) * N + i) * HD + kDG * dg + 8 * n + 2 * qd) =
            Ops<T>::pack(acc[u][n][2 * half] * inv, acc[u][n][2 * half + 1] * inv);
      }
    }
  }
#endif
}

}  // namespace
}  // namespace attn
