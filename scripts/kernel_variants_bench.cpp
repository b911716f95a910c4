// SPDX-License-Identifier: MIT
// The quick kernel loop's program (scripts/kernel_variants.sh builds it with nvcc beside one
// variant of core/kernels, not through CMake): the worst relative error of dape_v2_fused against
// the float64 reference over small shapes in bfloat16 and float16 (the kernel tests' bounds,
// 1e-2 and 2e-3), then the median of 20 CUDA-event timings at N = 8192 and 16384 after
// warm-up, L2 flushed before each. B = 1 for the timings, H = 12, head_dim 64, Kerple-like bias,
// parameters at PyTorch's default scale as in tests/kernels. A second argument "bf16p" passes
// the four convolution parameters in bfloat16, as a bfloat16 layer does (dape_fused_bench).
// ATTN_H=8: 8 heads instead of 12. ATTN_QUICK=1: N = 8192 only, median of 40, no error check
// (many rounds of variants whose difference is under the timings' steps). ATTN_DIAG=1:
// afterwards at N = 8192, the call timed with 2 M cycles of GPU sleep before the start event
// too (host work of the call hidden), the host's enqueue time, and the per-call tables alone.
#include "core/kernels/dape_v2_fused.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/Sleep.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/kernels/dape_v2_fused_tables.h"

using namespace attn;

int main(int argc, char** argv) {
  const char* name = argc > 1 ? argv[1] : "?";
  const bool bf16_params = argc > 2 && std::string(argv[2]) == "bf16p";
  torch::manual_seed(0);
  // ATTN_H: the number of heads (12 unless set; the quick build has the 8- and 12-head cases).
  const int64_t H = std::getenv("ATTN_H") != nullptr ? std::atoll(std::getenv("ATTN_H")) : 12;
  const int64_t D = 32, HD = 64, NMAX = 16384;
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
  auto stream = at::cuda::getCurrentCUDAStream();
  cudaEvent_t ev0, ev1;
  cudaEventCreate(&ev0);
  cudaEventCreate(&ev1);
  // fn's CUDA-event timings after 3 warm-up runs, L2 flushed before each (with `slack`, 2 M
  // cycles of GPU sleep too, so that no host work of fn is timed): median and minimum in ms,
  // and the median of the host's time to enqueue fn in us.
  struct Timed {
    float median, min;
    double host_us;
  };
  auto timed = [&](const std::function<void()>& fn, int reps, bool slack) {
    std::vector<float> ms;
    std::vector<double> host;
    for (int rep = 0; rep < reps + 3; ++rep) {
      flush.zero_();
      if (slack) at::cuda::sleep(2000000);
      cudaEventRecord(ev0, stream);
      const auto h0 = std::chrono::steady_clock::now();
      fn();
      const auto h1 = std::chrono::steady_clock::now();
      cudaEventRecord(ev1, stream);
      cudaEventSynchronize(ev1);
      float t = 0;
      cudaEventElapsedTime(&t, ev0, ev1);
      if (rep >= 3) {
        ms.push_back(t);
        host.push_back(std::chrono::duration<double, std::micro>(h1 - h0).count());
      }
    }
    std::sort(ms.begin(), ms.end());
    std::sort(host.begin(), host.end());
    return Timed{ms[ms.size() / 2], ms[0], host[host.size() / 2]};
  };
  if (quick) {
    std::printf("%-10s%s H=%lld relerr not checked (ATTN_QUICK) |", name,
                bf16_params ? " bf16p" : "", (long long)H);
  } else {
    std::printf("%-10s%s H=%lld relerr bf16 %.2e fp16 %.2e %s |", name,
                bf16_params ? " bf16p" : "", (long long)H, worst[0], worst[1],
                worst[0] < 1e-2 && worst[1] < 2e-3 ? "ok " : "BAD");
  }
  const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16).device(dev);
  for (int64_t N : {8192, 16384}) {
    if (quick && N != 8192) continue;
    auto q = torch::randn({1, H, N, HD}, bf16), k = torch::randn({1, H, N, HD}, bf16),
         v = torch::randn({1, H, N, HD}, bf16);
    auto out = torch::empty_like(q);
    const Timed t = timed([&] { dape_v2_fused_out(out, q, k, v, p); }, quick ? 40 : 20, false);
    std::printf(" N=%lld %.3f ms (min %.3f)", (long long)N, t.median, t.min);
  }
  std::printf("\n");
  if (std::getenv("ATTN_DIAG") != nullptr) {
    const int64_t N = 8192;
    auto q = torch::randn({1, H, N, HD}, bf16), k = torch::randn({1, H, N, HD}, bf16),
         v = torch::randn({1, H, N, HD}, bf16);
    auto out = torch::empty_like(q);
    for (const bool slack : {false, true}) {
      const Timed c = timed([&] { dape_v2_fused_out(out, q, k, v, p); }, 20, slack);
      const Timed t = timed(
          [&] { (void)dape_v2_fused_detail::make_tables(p, H, N, torch::kBFloat16, dev); }, 20,
          slack);
      std::printf("DIAG %-8s slack %d: call %.4f ms (min %.4f), host enqueue %.1f us; tables "
                  "alone %.4f ms, host %.1f us\n",
                  name, int(slack), c.median, c.min, c.host_us, t.median, t.host_us);
    }
  }
  return 0;
}
