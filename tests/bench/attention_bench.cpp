// SPDX-License-Identifier: MIT
// attention_bench: one attention layer's forward pass (B = 1, H = 12, head_dim 64, ALiBi) for
// dot-product attention, DAPE V1 and DAPE V2 (k = 3, D = 32), with the automatic query chunks and
// unchunked (one chunk of N rows), on the CPU or CUDA. Unchunked DAPE V2 at N = 8192 builds a
// 32 x 8192 x 8192 = 2^31-element hidden tensor (dape.md §7.5). Prints a table; not in ctest.
// Usage: attention_bench [cpu|cuda] [float32|bfloat16|float16] [N,N,...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "core/attention/attention.h"
#include "core/util/device.h"
#ifdef ATTN_WITH_CUDA_KERNELS
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace {

double peak_gb(const torch::Device& device) {
#ifdef ATTN_WITH_CUDA_KERNELS
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return double(stats.allocated_bytes[0].peak) / 1e9;
  }
#endif
  return -1.0;
}

void reset_peak(const torch::Device& device) {
#ifdef ATTN_WITH_CUDA_KERNELS
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#endif
}

}  // namespace

int main(int argc, char** argv) {
  using namespace attn;
  init_torch_threads();
  std::vector<std::string> warnings;
  const std::string asked = argc > 1 ? argv[1] : "cpu";
  auto device = resolve_device(asked, &warnings);
  if (device.is_cuda() && !device.has_index()) device = torch::Device(torch::kCUDA, 0);
  const auto dtype = resolve_precision(argc > 2 ? argv[2] : "float32", asked, device, &warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "note: %s\n", w.c_str());
  std::vector<int64_t> lengths = {512, 1024, 2048};
  if (argc > 3) {
    lengths.clear();
    std::stringstream ss(argv[3]);
    for (std::string x; std::getline(ss, x, ',');) lengths.push_back(std::stoll(x));
  }
  std::printf("device %s, dtype %s; one layer, B=1, H=12, head_dim 64, ALiBi\n",
              device.str().c_str(), argc > 2 ? argv[2] : "float32");
  std::printf("| variant | N | chunks | forward ms | peak GB |\n|---|---|---|---|---|\n");
  for (const std::string variant : {"dot", "dape_v1", "dape_v2"}) {
    ModelConfig c;
    c.d_model = 768;
    c.n_head = 12;
    c.n_layer = 1;
    c.attention.variant = variant;
    c.position.kind = "alibi";
    torch::manual_seed(0);
    auto attn = make_attention(c, 0, "bench");
    attn->to(device, dtype);
    torch::NoGradGuard g;
    for (int64_t n : lengths) {
      auto x = torch::randn({1, n, 768}, torch::TensorOptions().device(device).dtype(dtype));
      for (bool chunked : {true, false}) {
        AttentionInputs in;
        in.chunk_rows = chunked ? 0 : n;
        try {
          attn->forward(x, in);  // warm-up
          if (device.is_cuda()) torch::cuda::synchronize();
          reset_peak(device);
          std::vector<double> t;
          for (int r = 0; r < 3; ++r) {
            const auto s = std::chrono::steady_clock::now();
            attn->forward(x, in);
            if (device.is_cuda()) torch::cuda::synchronize();
            t.push_back(std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - s).count());
          }
          std::sort(t.begin(), t.end());
          std::printf("| %s | %lld | %s | %.2f | %.2f |\n", variant.c_str(), (long long)n,
                      chunked ? "auto" : "none", t[1], peak_gb(device));
        } catch (const std::exception& e) {
          std::printf("| %s | %lld | %s | failed: %.60s | |\n", variant.c_str(), (long long)n,
                      chunked ? "auto" : "none", e.what());
        }
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
