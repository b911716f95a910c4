// SPDX-License-Identifier: MIT
// What the CPU benchmarks share: the process's peak resident memory and the median wall time of
// repeated runs (CUDA synchronised around each run when the device is a GPU).
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include <torch/torch.h>

namespace attn::bench {

inline double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

template <typename F>
double median_ms(F&& f, int repeats, bool cuda = false) {
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    if (cuda) torch::cuda::synchronize();
    const auto s = std::chrono::steady_clock::now();
    f();
    if (cuda) torch::cuda::synchronize();
    t.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace attn::bench
