// SPDX-License-Identifier: MIT
// dape_fused_bench: the causal forward of one DAPE V2 layer (B = 1, H = 12 unless --heads says
// otherwise, head_dim 64, k = 3,
// D = 32, Kerple unless --pe says otherwise, bfloat16) on CUDA, against the floor of fused plain
// causal attention (scaled_dot_product_attention):
//   fused kernel   dape_v2_fused(q, k, v) alone (with its small per-call tables)
//   fused layer    the DapeV2 module's forward, which dispatches to the kernel
//   eager layer    the same module's chunked LibTorch path (ScoreAttentionImpl::forward)
//   sdpa           at::scaled_dot_product_attention(q, k, v, is_causal) on the same q, k, v
// Times are medians of CUDA-event timings after warm-up, with L2 flushed before each run; peak
// memory is the caching allocator's peak during the runs, inputs included. Prints a table and
// writes JSON. Not part of ctest; built only with the CUDA kernels.
// Second table, map views: the time and peak memory of a 1024 x 1024 pooled view (maximum of
// each block) of the layer's `probs` map at N = 8192, 16384 and 32768, as Session::trace makes
// it: the layer's forward with a ViewCollector (core/model/map_view.h) as its sink, which the
// layer serves with the fused kernel's two view passes (row statistics, then pooled cells;
// DapeV2Impl::forward), then the view read back to the CPU. Every head is pooled (one head's
// view is a slice of the (H, 1024, 1024) result).
// Usage: dape_fused_bench [--lengths 1024,2048,...] [--pe kerple|alibi|nope] [--heads 1..16]
//                         [--repeats R] [--eager-max N] [--views 8192,16384,32768|none]
//                         [--json FILE]
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAException.h>
#include <ATen/cuda/CUDAContext.h>
#include <cuda_runtime_api.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/attention/attention.h"
#include "core/attention/dape_v2.h"
#include "core/kernels/dape_v2_fused.h"
#include "core/model/map_view.h"

namespace {

struct Timing {
  double median_ms = -1.0;
  double peak_gb = -1.0;
};

/// Median time of `fn` over `repeats` runs after `warmup` runs, L2 flushed before each, and the
/// allocator's peak during them.
Timing measure(const std::function<void()>& fn, int warmup, int repeats, torch::Tensor& flush) {
  for (int w = 0; w < warmup; ++w) fn();
  torch::cuda::synchronize();
  const int dev = 0;
  c10::cuda::CUDACachingAllocator::resetPeakStats(dev);
  cudaEvent_t start, stop;
  C10_CUDA_CHECK(cudaEventCreate(&start));
  C10_CUDA_CHECK(cudaEventCreate(&stop));
  const auto stream = at::cuda::getCurrentCUDAStream().stream();
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    flush.zero_();
    C10_CUDA_CHECK(cudaEventRecord(start, stream));
    fn();
    C10_CUDA_CHECK(cudaEventRecord(stop, stream));
    C10_CUDA_CHECK(cudaEventSynchronize(stop));
    float t = 0.f;
    C10_CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
    ms.push_back(t);
  }
  C10_CUDA_CHECK(cudaEventDestroy(start));
  C10_CUDA_CHECK(cudaEventDestroy(stop));
  std::sort(ms.begin(), ms.end());
  Timing out;
  out.median_ms = ms[ms.size() / 2];
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(dev);
  out.peak_gb = double(stats.allocated_bytes[0].peak) / 1e9;
  return out;
}

std::vector<int64_t> parse_lengths(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');) out.push_back(std::stoll(x));
  return out;
}

double relative_error(const torch::Tensor& a, const torch::Tensor& ref) {
  auto x = a.to(torch::kFloat64), r = ref.to(torch::kFloat64);
  return ((x - r).norm() / r.norm()).item<double>();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace attn;
  std::vector<int64_t> lengths = {1024, 2048, 4096, 8192, 16384};
  std::string pe = "kerple", json_path = "dape_fused_bench.json";
  int repeats = 20;
  int64_t H = 12;
  int64_t eager_max = 16384;
  std::vector<int64_t> view_lengths = {8192, 16384, 32768};
  for (int a = 1; a + 1 < argc; a += 2) {
    const std::string k = argv[a], v = argv[a + 1];
    if (k == "--lengths") lengths = parse_lengths(v);
    else if (k == "--pe") pe = v;
    else if (k == "--heads") H = std::stoll(v);
    else if (k == "--repeats") repeats = std::max(1, std::stoi(v));
    else if (k == "--eager-max") eager_max = std::stoll(v);
    else if (k == "--views") view_lengths = v == "none" ? std::vector<int64_t>{} : parse_lengths(v);
    else if (k == "--json") json_path = v;
    else {
      std::fprintf(stderr, "dape_fused_bench: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (!torch::cuda::is_available()) {
    std::fprintf(stderr, "dape_fused_bench: no usable CUDA device\n");
    return 1;
  }
  const torch::Device dev(torch::kCUDA, 0);
  const auto dtype = torch::kBFloat16;
  if (H < 1 || H > 16) {
    std::fprintf(stderr, "dape_fused_bench: --heads %lld: the kernel takes 1 to 16 heads\n",
                 (long long)H);
    return 2;
  }
  const int64_t hd = 64, C = H * hd;
  ModelConfig c;
  c.d_model = C;
  c.n_head = H;
  c.n_layer = 1;
  c.attention.variant = "dape_v2";
  c.position.kind = pe;
  torch::manual_seed(0);
  auto layer = std::dynamic_pointer_cast<DapeV2Impl>(make_attention(c, 0, "bench"));
  layer->to(dev, dtype);
  torch::NoGradGuard no_grad;
  auto flush = torch::empty({int64_t{256} << 20},  // 256 MB, larger than the L2
                            torch::TensorOptions().dtype(torch::kUInt8).device(dev));
  cudaDeviceProp prop;
  C10_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));

  std::printf("device %s; one DAPE V2 layer, B=1, H=%lld, head_dim 64, k=3, D=32, %s, bfloat16\n",
              prop.name, (long long)H, pe.c_str());
  std::printf("| N | fused kernel ms | fused layer ms | eager layer ms | sdpa ms | kernel/sdpa "
              "| eager/fused layer | peak GB kernel | peak GB sdpa | peak GB fused layer | "
              "peak GB eager layer | layer rel. diff |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  auto params_for = [&](int64_t N) {  // the layer's parameters, as DapeV2Impl passes them
    DapeV2FusedParams p;
    p.conv1_weight = layer->conv1->weight;
    p.conv1_bias = layer->conv1->bias;
    p.conv2_weight = layer->conv2->weight;
    p.conv2_bias = layer->conv2->bias;
    p.scale = 1.0 / std::sqrt(double(hd));
    const auto& enc = layer->position_encoding();
    if (enc->has_bias()) {
      p.bias_by_distance = enc->bias(N - 1, N, N).select(1, 0).flip({-1}).to(torch::kFloat32);
    }
    return p;
  };
  nlohmann::json rows = nlohmann::json::array();
  for (const int64_t N : lengths) {
    auto opts = torch::TensorOptions().dtype(dtype).device(dev);
    auto x = torch::randn({1, N, C}, opts);
    auto q = torch::randn({1, H, N, hd}, opts), k = torch::randn({1, H, N, hd}, opts),
         v = torch::randn({1, H, N, hd}, opts);
    const auto p = params_for(N);
    const int reps_slow = N >= 8192 ? 3 : 5;
    auto kernel = measure([&] { dape_v2_fused(q, k, v, p); }, 3, repeats, flush);
    Timing sdpa;
#if TORCH_VERSION_MAJOR >= 2
    sdpa = measure([&] { at::scaled_dot_product_attention(q, k, v, {}, 0.0, true); }, 3, repeats,
                   flush);
#endif
    torch::Tensor fused_out, eager_out;
    AttentionInputs in;
    auto fused = measure([&] { fused_out = layer->forward(x, in); }, 2, repeats, flush);
    Timing eager;
    double diff = -1.0;
    if (N <= eager_max) {
      eager = measure([&] { eager_out = layer->ScoreAttentionImpl::forward(x, in); }, 1,
                      reps_slow, flush);
      diff = relative_error(fused_out, eager_out);
    }
    const bool used_kernel = layer->uses_fused_kernel(x, in);
    std::printf("| %lld | %.3f | %.3f | %.2f | %.3f | %.2f | %.1f | %.3f | %.3f | %.3f | %.3f | "
                "%.1e |%s\n",
                (long long)N, kernel.median_ms, fused.median_ms, eager.median_ms, sdpa.median_ms,
                sdpa.median_ms > 0 ? kernel.median_ms / sdpa.median_ms : -1.0,
                eager.median_ms > 0 ? eager.median_ms / fused.median_ms : -1.0, kernel.peak_gb,
                sdpa.peak_gb, fused.peak_gb, eager.peak_gb, diff,
                used_kernel ? "" : " (layer did NOT use the kernel)");
    std::fflush(stdout);
    rows.push_back({{"N", N},
                    {"fused_kernel_ms", kernel.median_ms},
                    {"fused_layer_ms", fused.median_ms},
                    {"eager_layer_ms", eager.median_ms},
                    {"sdpa_ms", sdpa.median_ms},
                    {"peak_gb_fused_kernel", kernel.peak_gb},
                    {"peak_gb_sdpa", sdpa.peak_gb},
                    {"peak_gb_fused_layer", fused.peak_gb},
                    {"peak_gb_eager_layer", eager.peak_gb},
                    {"layer_relative_difference", diff},
                    {"layer_used_kernel", used_kernel}});
  }
  // Map views as a trace makes them: the layer's forward with a ViewCollector sink (the fused
  // kernel's view passes where they apply, else the streamed chunked LibTorch path).
  nlohmann::json views = nlohmann::json::array();
  if (!view_lengths.empty()) {
    std::printf("\n1024 x 1024 view of the probs map (maximum pooling, all %lld heads), layer "
                "forward with a ViewCollector sink, bfloat16\n",
                (long long)H);
    std::printf("| N | step | view ms | peak GB | path | view passes alone ms | copy to CPU ms "
                "|\n|---|---|---|---|---|---|---|\n");
  }
  for (const int64_t N : view_lengths) {
    auto x = torch::randn({1, N, C}, torch::TensorOptions().dtype(dtype).device(dev));
    ViewSpec spec;
    spec.layer = 0;
    spec.stages = {"probs"};
    spec.window = make_window(N, 0, -1, 0, -1, 1024);
    spec.pool = PoolMode::Extreme;
    torch::Tensor view;
    bool used_kernel = true;
    auto run = [&] {
      ViewCollector collector({spec});
      AttentionInputs in;
      in.layer = 0;
      in.sink = &collector;
      layer->forward(x, in);
      view = collector.view(0, "probs");  // (H, rows, cols) float32 on the CPU
      used_kernel = collector.came_pooled(0, "probs");
    };
    const int reps = N >= 32768 ? 3 : 5;
    const auto t = measure(run, 1, reps, flush);
    const bool finite_somewhere = view.isfinite().any().item<bool>();
    // The parts: the kernel's two view passes alone (statistics, then cells; q and k given),
    // and the finished view's copy to the CPU by the collector.
    auto opts = torch::TensorOptions().dtype(dtype).device(dev);
    auto q = torch::randn({1, H, N, hd}, opts), k = torch::randn({1, H, N, hd}, opts);
    const auto p = params_for(N);
    DapeV2FusedView w;
    w.q1 = N, w.k1 = N, w.step = spec.window.step;
    Timing passes, copy;
    if (dape_v2_fused_view_unsupported_reason(q, k, p, w).empty()) {
      passes = measure([&] { dape_v2_fused_view(q, k, p, w); }, 1, reps, flush);
      auto cells = torch::rand({H, spec.window.rows(), spec.window.cols()},
                               opts.dtype(torch::kFloat32));
      copy = measure(
          [&] {  // as the layer hands a finished view to the collector
            ViewCollector collector({spec});
            collector.on_pooled(0, collector.pooled_requests(0).at(0), cells);
          },
          1, reps, flush);
    }
    std::printf("| %lld | %lld | %.1f | %.3f | %s | %.1f | %.1f |%s\n", (long long)N,
                (long long)spec.window.step, t.median_ms, t.peak_gb,
                used_kernel ? "fused view passes" : "streamed (reference)", passes.median_ms,
                copy.median_ms, finite_somewhere ? "" : " (view has no finite cell!)");
    std::fflush(stdout);
    views.push_back({{"N", N},
                     {"rows", spec.window.rows()},
                     {"cols", spec.window.cols()},
                     {"step", spec.window.step},
                     {"view_ms", t.median_ms},
                     {"peak_gb", t.peak_gb},
                     {"fused_view", used_kernel},
                     {"view_passes_ms", passes.median_ms},
                     {"copy_to_cpu_ms", copy.median_ms}});
  }
  nlohmann::json doc = {{"device", prop.name},
                        {"torch", TORCH_VERSION},
                        {"config", {{"B", 1}, {"H", H}, {"head_dim", hd}, {"kernel", 3},
                                    {"width", 32}, {"position", pe}, {"dtype", "bfloat16"},
                                    {"repeats", repeats}}},
                        {"rows", rows},
                        {"views", views}};
  std::ofstream(json_path) << doc.dump(2) << "\n";
  std::printf("wrote %s\n", json_path.c_str());
  return 0;
}
