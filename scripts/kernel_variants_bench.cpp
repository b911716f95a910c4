// SPDX-License-Identifier: MIT
// The quick kernel loop's program (scripts/kernel_variants.sh builds it with nvcc beside one
// variant of core/kernels, not through CMake): the worst relative error of dape_v2_fused against
// the float64 reference over small shapes in bfloat16 and float16 (the kernel tests' bounds,
// 1e-2 and 2e-3), then the median of 20 CUDA-event timings at N = 8192 and 16384 after
// warm-up, L2 flushed before each. B = 1 for the timings, H = 12, head_dim 64, Kerple-like bias,
// parameters at PyTorch's default scale as in tests/kernels. A second argument "bf16p" passes
// the four convolution parameters in bfloat16, as a bfloat16 layer does (dape_fused_bench).
// ATTN_QUICK=1: N = 8192 only, median of 40, no error check (many rounds of variants whose
// difference is under the timings' steps). ATTN_DIAG=1: afterwards at N = 8192, the call timed
// with 2 M cycles of GPU sleep before the start event too (host work of the call hidden), the
// host's enqueue time, and the per-call tables alone.
#include "core/kernels/dape_v2_fused.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/Sleep.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/kernels/dape_v2_fused_tables.h"

using namespace attn;

int main(int argc, char** argv) {
  const char* name = argc > 1 ? argv[1] : "?";
  const bool bf16_params = argc > 2 && std::string(argv[2]) == "bf16p";
  torch::manual_seed(0);
  const int64_t H = 12, D = 32, HD = 64, NMAX = 16384;
  const auto dev = torch::Device(torch::kCUDA);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(dev);
  DapeV2FusedParams p;
  auto uniform = [&](std::vector<int64_t> shape, double fan_in) {
    return (torch::rand(shape, f32) * 2 - 1) / std::sqrt(fan_in);
  };
  p.conv1_weight = uniform({D, 2 * H, 1, 3}, 3.0 * 2 * H);
  p.conv1_bias = uniform({D}, 3.0 * 2 * H);
  p.conv2_weight = uniform({H, D, 1, 3}, 3.0 * D);
  p.conv2_bias = uniform({H}, 3.0 * D);
  if (bf16_params) {
    for (auto* w : {&p.conv1_weight, &p.conv1_bias, &p.conv2_weight, &p.conv2_bias}) {
      *w = w->to(torch::kBFloat16);
    }
  }
  auto d = torch::arange(NMAX, f32).unsqueeze(0);
  auto r = torch::linspace(0.5, 2.0, H, f32).unsqueeze(1);
  p.bias_by_distance = (-r * torch::log1p(d * 0.3)).contiguous();  // Kerple-like
  p.scale = 1.0 / 8.0;
  double worst[2] = {0, 0};
  const bool quick = std::getenv("ATTN_QUICK") != nullptr;  // N = 8192 only, no error check
  for (auto dt : {torch::kBFloat16, torch::kHalf}) {
    if (quick) break;
    for (int64_t N : {1, 17, 77, 300, 1100}) {
      for (int64_t B : {1, 2}) {
        auto o = torch::TensorOptions().dtype(dt).device(dev);
        auto q = torch::randn({B, H, N, HD}, o) * 1.5, k = torch::randn({B, H, N, HD}, o),
             v = torch::randn({B, H, N, HD}, o);
        auto out = dape_v2_fused(q, k, v, p).to(torch::kFloat64);
        auto ref = dape_v2_fused_ref(q, k, v, p);
        double e = ((out - ref).norm() / ref.norm()).item<double>();
        if (!std::isfinite(e)) e = 1e9;
        auto& w = worst[dt == torch::kHalf];
        w = std::max(w, e);
      }
    }
  }
  auto flush = torch::empty({256 << 20}, torch::TensorOptions().dtype(torch::kUInt8).device(dev));
  if (quick) {
    std::printf("%-10s%s relerr not checked (ATTN_QUICK) |", name, bf16_params ? " bf16p" : "");
  } else {
    std::printf("%-10s%s relerr bf16 %.2e fp16 %.2e %s |", name, bf16_params ? " bf16p" : "",
                worst[0], worst[1], worst[0] < 1e-2 && worst[1] < 2e-3 ? "ok " : "BAD");
  }
  for (int64_t N : {8192, 16384}) {
    if (quick && N != 8192) continue;
    auto o = torch::TensorOptions().dtype(torch::kBFloat16).device(dev);
    auto q = torch::randn({1, H, N, HD}, o), k = torch::randn({1, H, N, HD}, o),
         v = torch::randn({1, H, N, HD}, o);
    auto out = torch::empty_like(q);
    std::vector<float> ms;
    auto stream = at::cuda::getCurrentCUDAStream();
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    for (int rep = 0; rep < (quick ? 43 : 23); ++rep) {
      flush.zero_();
      cudaEventRecord(a, stream);
      dape_v2_fused_out(out, q, k, v, p);
      cudaEventRecord(b, stream);
      cudaEventSynchronize(b);
      float t = 0;
      cudaEventElapsedTime(&t, a, b);
      if (rep >= 3) ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    std::printf(" N=%lld %.3f ms (min %.3f)", (long long)N, ms[ms.size() / 2], ms[0]);
  }
  std::printf("\n");
  if (std::getenv("ATTN_DIAG") != nullptr) {
    // Diagnostics at N = 8192: the call timed as above, then with 2M cycles of GPU sleep before
    // the start event (any host work of the call hidden), the host's enqueue time of one call,
    // and the tables alone.
    const int64_t N = 8192;
    auto o = torch::TensorOptions().dtype(torch::kBFloat16).device(dev);
    auto q = torch::randn({1, H, N, HD}, o), k = torch::randn({1, H, N, HD}, o),
         v = torch::randn({1, H, N, HD}, o);
    auto out = torch::empty_like(q);
    auto stream = at::cuda::getCurrentCUDAStream();
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    auto timed = [&](auto fn, bool slack, std::vector<float>& ms, std::vector<double>& host) {
      for (int rep = 0; rep < 23; ++rep) {
        flush.zero_();
        if (slack) at::cuda::sleep(2000000);
        cudaEventRecord(a, stream);
        const auto h0 = std::chrono::steady_clock::now();
        fn();
        const auto h1 = std::chrono::steady_clock::now();
        cudaEventRecord(b, stream);
        cudaEventSynchronize(b);
        float t = 0;
        cudaEventElapsedTime(&t, a, b);
        if (rep >= 3) ms.push_back(t), host.push_back(std::chrono::duration<double, std::micro>(h1 - h0).count());
      }
      std::sort(ms.begin(), ms.end());
      std::sort(host.begin(), host.end());
    };
    for (int slack = 0; slack < 2; ++slack) {
      std::vector<float> ms, mt;
      std::vector<double> host, ht;
      timed([&] { dape_v2_fused_out(out, q, k, v, p); }, slack, ms, host);
      timed([&] { (void)dape_v2_fused_detail::make_tables(p, H, N, torch::kBFloat16, dev); }, slack, mt, ht);
      std::printf("DIAG %-8s slack %d: call %.4f ms (min %.4f), host enqueue %.1f us; tables alone %.4f ms, host %.1f us\n",
                  name, slack, ms[ms.size() / 2], ms[0], host[host.size() / 2], mt[mt.size() / 2], ht[ht.size() / 2]);
    }
  }
  return 0;
}
