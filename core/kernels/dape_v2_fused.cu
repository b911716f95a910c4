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
//     the log2 domain (log2(e) folded into W2 and the tables). On every tile after the first
//     (but the tiles whose halo reaches N), each column's probabilities follow
//     its products at once, against the maxima before the tile (speculative: a tile on which
//     some logit exceeds them by more than 8 runs again exactly, with the maxima raised by
//     shared-memory atomics); each warp writes its
//     probabilities with 16-byte stores into X's memory, dead by then. On those speculative
//     tiles a warp computes 8 of its 10 hidden columns and takes the two halo columns from its
//     right neighbour (warp 7: from warp 0 of the tile before) through slots in X's padding
//     rows, one named barrier per pair of warps;
//  C. P V for every head into float32 accumulators in registers, rescaled as the maxima move.
// K and V stream in a group of heads at a time by bulk tensor copies (TMA, Hopper) into three
// swizzled shared-memory buffers, one mbarrier each, the next two groups' copies in flight
// while the current one is used. The groups are fixed per kernel (Plan, from the shared
// memory of sm_90), so the steps unroll; stage A's groups need no barrier between them (the X
// barrier issues the V groups' copies).
// The per-call tables (dape_v2_fused_tables.cu) come from a small kernel just before; the forward
// is launched as its programmatic dependent, so its blocks load Q and issue the first K copies
// while the tables are finished, and wait for them (griddepcontrol.wait) before the weights.
#include "core/kernels/dape_v2_fused.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/kernels/dape_v2_fused_cells.h"
#include "core/kernels/dape_v2_fused_tables.h"
#include "core/kernels/dape_v2_fused_kernel.cuh"
#include "core/kernels/dape_v2_fused_tiles.cuh"
#include "core/kernels/hopper.cuh"

#include <cmath>
#include <sstream>

namespace attn {
namespace {

// Constants, Args and the tile-level device functions: dape_v2_fused_tiles.cuh; the kernel:
// dape_v2_fused_kernel.cuh.

/// The kernel and its shared memory (Plan) for H heads of head_dim HD; a null kernel where none
/// is built.
struct Picked {
  const void* fn = nullptr;
  size_t smem = 0;
};

template <typename T, int HD, int HMAX>
const void* kernel_ptr(bool analysis) {
  return analysis ? reinterpret_cast<const void*>(&dape_v2_fused_kernel<T, HD, HMAX, true>)
                  : reinterpret_cast<const void*>(&dape_v2_fused_kernel<T, HD, HMAX, false>);
}

template <typename T>
Picked pick_kernel(int64_t H, int64_t HD, bool analysis = false) {
  const int hmax = H <= 8 ? 8 : (H <= 12 ? 12 : 16);
#define ATTN_DAPE_CASE(hd, hm) \
  if (HD == hd && hmax == hm) return {kernel_ptr<T, hd, hm>(analysis), Plan<hd, hm>::kSmem};
  ATTN_DAPE_CASE(16, 8) ATTN_DAPE_CASE(16, 12) ATTN_DAPE_CASE(16, 16)
  ATTN_DAPE_CASE(32, 8) ATTN_DAPE_CASE(32, 12) ATTN_DAPE_CASE(32, 16)
  ATTN_DAPE_CASE(64, 8) ATTN_DAPE_CASE(64, 12) ATTN_DAPE_CASE(64, 16)
  ATTN_DAPE_CASE(128, 8) ATTN_DAPE_CASE(128, 12) ATTN_DAPE_CASE(128, 16)
#undef ATTN_DAPE_CASE
  return {};
}

Picked pick_kernel(torch::ScalarType dtype, int64_t H, int64_t HD) {
  return dtype == torch::kBFloat16 ? pick_kernel<__nv_bfloat16>(H, HD)
                                   : pick_kernel<__half>(H, HD);
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
    a.scale = float(scale);
    const Picked pk = pick_kernel<T>(H, HD, analysis);
    TORCH_INTERNAL_ASSERT(pk.fn != nullptr);
    fn = pk.fn;
    smem = pk.smem;
    C10_CUDA_CHECK(
        cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  }

  /// Row blocks [block0, block0 + blocks) of each of B sequences; `early`: the blocks may start
  /// while the kernel before them (the tables) still runs, and wait for it before reading them.
  void run(int64_t block0, int64_t blocks, int64_t B, bool early = false) {
    a.row_block0 = int(block0);
    const dim3 grid{unsigned(blocks), unsigned(B)};
    void* params[] = {&a};
    cudaLaunchConfig_t cfg{};
    cfg.gridDim = grid;
    cfg.blockDim = dim3(kThreads);
    cfg.dynamicSmemBytes = smem;
    cfg.stream = at::cuda::getCurrentCUDAStream();
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = early ? 1 : 0;
    C10_CUDA_CHECK(cudaLaunchKernelExC(&cfg, fn, params));
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
  l.run(0, (N + kRows - 1) / kRows, B, true);
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
  const Picked pk = pick_kernel(dt, H, HD);
  if (cudaFuncGetAttributes(&attr, pk.fn) != cudaSuccess) {
    (void)cudaGetLastError();
    return "no kernel image for this GPU (the build's CUDA architectures do not include it)";
  }
  int optin = 0;
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                                        q.device().index()));
  if (pk.smem > size_t(optin)) {
    return "needs " + std::to_string(pk.smem) + " bytes of shared memory a block; this GPU allows " +
           std::to_string(optin);
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
