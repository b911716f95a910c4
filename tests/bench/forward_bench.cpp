// SPDX-License-Identifier: MIT
// forward_bench: time of one forward pass (and one single-layer trace) of a 4-layer, d_model 128,
// 8-head model per position encoding and input length, on the CPU or CUDA, with the process's
// peak resident memory. Prints a table; not part of ctest.
// Usage: forward_bench [cpu|cuda] [float32|bfloat16|float16] [N,N,...]
#include <cstdio>
#include <sstream>

#include "core/model/trace.h"
#include "core/model/transformer.h"
#include "core/util/device.h"
#include "tests/bench/bench_util.h"

int main(int argc, char** argv) {
  using namespace attn;
  init_torch_threads();
  std::vector<std::string> warnings;
  const std::string asked = argc > 1 ? argv[1] : "cpu";
  const auto device = resolve_device(asked, &warnings);
  const auto dtype = resolve_precision(argc > 2 ? argv[2] : "float32", asked, device, &warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "note: %s\n", w.c_str());
  std::vector<int64_t> lengths = {512, 2048, 8192};
  if (argc > 3) {
    lengths.clear();
    std::stringstream ss(argv[3]);
    for (std::string x; std::getline(ss, x, ',');) lengths.push_back(std::stoll(x));
  }
  std::printf("device %s, dtype %s, threads %d; model: 4 layers, d_model 128, 8 heads\n",
              device.str().c_str(), argc > 2 ? argv[2] : "float32", torch::get_num_threads());
  std::printf("| position | N | forward ms | trace layer 0 ms | peak RSS MB |\n|---|---|---|---|---|\n");
  for (const std::string pe : {"nope", "rope", "alibi", "kerple", "fire"}) {
    ModelConfig c;
    c.vocab_size = 512;
    c.d_model = 128;
    c.n_layer = 4;
    c.n_head = 8;
    c.position.kind = pe;
    torch::manual_seed(0);
    TransformerLM m(c);
    m->to(device, dtype);
    m->eval();
    torch::NoGradGuard g;
    for (int64_t n : lengths) {
      auto ids = torch::randint(512, {1, n}, torch::kInt64).to(device);
      m->forward(ids);  // warm-up
      const int reps = n >= 8192 ? 3 : 5;
      const double fwd = bench::median_ms([&] { m->forward(ids); }, reps, device.is_cuda());
      double tr = -1;
      if (n <= 8192) {
        tr = bench::median_ms([&] {
          MapCollector col({0}, {"probs"}, n);
          ForwardOptions o;
          o.sink = &col;
          o.stop_after_layer = 0;
          m->hidden(ids, o);
        }, 3, device.is_cuda());
      }
      std::printf("| %s | %lld | %.1f | %s | %.0f |\n", pe.c_str(), (long long)n, fwd,
                  tr < 0 ? "-" : std::to_string(int64_t(tr)).c_str(), bench::peak_rss_mb());
      std::fflush(stdout);
    }
  }
  return 0;
}
