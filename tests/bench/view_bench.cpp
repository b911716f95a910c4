// SPDX-License-Identifier: MIT
// view_bench: what the window waits for on a long input. For each length N, the time of one
// Session::trace of a bundled checkpoint that yields what the Explore tab asks for: the chosen
// layer's panels pooled to 1024 x 1024 cells (every head), every layer's 48 x 48 thumbnail, and
// one exact profile row; then the exact 256 x 256 region a zoom asks for. Prints a table with
// the process's peak resident memory; not part of ctest.
// Usage: view_bench CHECKPOINT_DIR TEXT_FILE [cpu|cuda] [N,N,...]
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "core/api/session.h"
#include "core/util/text_file.h"
#include "tests/bench/bench_util.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: view_bench CHECKPOINT_DIR TEXT_FILE [cpu|cuda] [N,N,...]\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each row as soon as it is measured
  const std::string device = argc > 3 ? argv[3] : "cpu";
  std::vector<int64_t> lengths = {1024, 2048, 4096, 8192};
  if (argc > 4) {
    lengths.clear();
    std::stringstream ss(argv[4]);
    for (std::string part; std::getline(ss, part, ',');) lengths.push_back(std::stoll(part));
  }
  auto session = attn::Session::open(argv[1], device);
  const std::string text = attn::read_text(argv[2]);
  const auto& s = session->summary();
  const int64_t layer = s.n_layer - 1;
  std::printf("view_bench: %s (%s/%s, %lld layers, %lld heads) on %s\n", s.dir.c_str(),
              s.variant.c_str(), s.position.c_str(), static_cast<long long>(s.n_layer),
              static_cast<long long>(s.n_head), s.device.c_str());
  std::printf("%8s %14s %14s %12s %12s\n", "N", "explore ms", "zoom 256 ms", "cell step",
              "peak RSS MB");
  for (int64_t n : lengths) {
    attn::TraceRequest explore;
    explore.text = text;
    explore.max_tokens = n;
    attn::MapRequest panels{layer, {"raw", "probs"}};
    panels.grid = 1024;
    explore.maps.push_back(panels);
    for (int64_t l = 0; l < s.n_layer; ++l) {
      attn::MapRequest thumb{l, {"probs"}};
      thumb.grid = 48;
      explore.maps.push_back(thumb);
    }
    attn::MapRequest row{layer, {"raw", "probs"}};
    row.q0 = -1;
    explore.maps.push_back(row);
    attn::TraceRequest zoom;
    zoom.text = text;
    zoom.max_tokens = n;
    attn::MapRequest region{layer, {"raw", "probs"}, n / 2, n / 2 + 256, n / 2 - 128, n / 2 + 128};
    zoom.maps.push_back(region);
    int64_t step = 0, tokens = 0;
    const double tExplore = attn::bench::median_ms(
        [&] {
          const auto t = session->trace(explore);
          step = t.maps.front().step;
          tokens = int64_t(t.tokens.size());
        },
        3);
    if (tokens < n) {
      std::printf("%8lld   the text has only %lld tokens\n", static_cast<long long>(n),
                  static_cast<long long>(tokens));
      break;
    }
    const double tZoom = attn::bench::median_ms([&] { session->trace(zoom); }, 3);
    std::printf("%8lld %14.1f %14.1f %12lld %12.0f\n", static_cast<long long>(n), tExplore, tZoom,
                static_cast<long long>(step), attn::bench::peak_rss_mb());
  }
  return 0;
}
