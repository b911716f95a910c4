// SPDX-License-Identifier: MIT
// Map views against a plain reference: the whole (H, N, N) stage from MapCollector, pooled by
// hand in float64 over each block's causal entries. Chunks of 5 rows do not line up with the
// blocks, so the running accumulators are exercised; windows start and end mid-block.
#include <gtest/gtest.h>

#include <cmath>

#include "core/model/map_view.h"
#include "core/model/trace.h"
#include "core/util/error.h"
#include "tests/support/fixtures.h"

namespace attn {
namespace {

struct Window {
  int64_t q0, q1, k0, k1, grid;
};

/// Reference: the cell's causal entries of `full` (H, N, N) pooled in float64.
double reference_cell(const torch::Tensor& full, int64_t h, const MapWindow& w, int64_t r,
                      int64_t c, PoolMode pool) {
  const auto a = full.accessor<double, 3>();
  double sum = 0, best = 0;
  int64_t count = 0;
  for (int64_t i = w.q0 + r * w.step; i < std::min(w.q1, w.q0 + (r + 1) * w.step); ++i) {
    for (int64_t j = w.k0 + c * w.step; j < std::min(w.k1, w.k0 + (c + 1) * w.step); ++j) {
      if (j > i) continue;
      const double v = a[h][i][j];
      sum += v;
      if (count == 0 || std::abs(v) > std::abs(best)) best = v;
      ++count;
    }
  }
  if (count == 0) return NAN;
  return pool == PoolMode::Mean ? sum / double(count) : best;
}

void check_views(const std::string& variant, const std::string& position,
                 const std::string& signed_stage) {
  auto cfg = test::tiny_config(position, variant);
  torch::manual_seed(3);
  TransformerLM m(cfg);
  m->to(torch::kFloat32);
  m->eval();
  const int64_t n = 37;
  auto ids = test::random_ids(n, cfg.vocab_size);
  const std::vector<Window> windows = {
      {0, -1, 0, -1, 0}, {0, -1, 0, -1, 8}, {3, 29, 1, 33, 5}, {10, 11, 0, 11, 0},
      {20, 37, 25, 37, 4}, {0, 7, 20, 37, 3}};
  const std::set<std::string> stages = {std::string("probs"), signed_stage};
  std::vector<ViewSpec> specs;
  for (const auto& w : windows) {
    for (PoolMode pool : {PoolMode::Extreme, PoolMode::Mean}) {
      specs.push_back({1, stages, make_window(n, w.q0, w.q1, w.k0, w.k1, w.grid),
                       pool});
    }
  }
  MapCollector full({1}, stages, n);
  ViewCollector views(specs);
  struct Both : StageSink {
    StageSink *x, *y;
    bool wants(int64_t l) const override { return x->wants(l) || y->wants(l); }
    void on_stage(int64_t l, const std::string& s, const torch::Tensor& r, int64_t b) override {
      if (x->wants(l)) x->on_stage(l, s, r, b);
      if (y->wants(l) && y->wants_stage(s)) y->on_stage(l, s, r, b);
    }
  } both;
  both.x = &full;
  both.y = &views;
  ForwardOptions opts;
  opts.sink = &both;
  opts.chunk_rows = 5;
  torch::NoGradGuard g;
  m->forward(ids, opts);
  ASSERT_EQ(full.layers().count(1), 1u) << variant << "/" << position << ": layer 1 not traced";

  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& w = specs[i].window;
    for (const std::string& stage : stages) {
      const auto ref = full.layers().at(1).stages.at(stage).to(torch::kFloat64);
      const auto got = views.view(i, stage);
      ASSERT_EQ(got.sizes(), (std::vector<int64_t>{cfg.n_head, w.rows(), w.cols()}));
      const auto g3 = got.accessor<float, 3>();
      for (int64_t h = 0; h < cfg.n_head; ++h) {
        for (int64_t r = 0; r < w.rows(); ++r) {
          for (int64_t c = 0; c < w.cols(); ++c) {
            const double want = reference_cell(ref, h, w, r, c, specs[i].pool);
            const double have = g3[h][r][c];
            if (std::isnan(want)) {
              EXPECT_TRUE(std::isnan(have)) << stage << " spec " << i << " cell " << r << "," << c;
            } else {
              EXPECT_NEAR(have, want, 1e-5 * (1 + std::abs(want)))
                  << variant << "/" << position << " " << stage << " spec " << i << " head " << h
                  << " cell " << r << "," << c;
            }
          }
        }
      }
    }
  }
}

TEST(MapView, PooledAndExactViewsMatchAPlainReference) {
  check_views("dot", "alibi", "logits");
  check_views("dape_v2", "kerple", "conv");
  check_views("dagpam", "rope", "logits_neg");
}

TEST(MapView, WindowsPickTheSmallestStepAndRejectEmptyOnes) {
  auto w = make_window(32768, 0, -1, 0, -1, 1024);
  EXPECT_EQ(w.step, 32);
  EXPECT_EQ(w.rows(), 1024);
  w = make_window(1000, 0, -1, 0, -1, 1024);
  EXPECT_EQ(w.step, 1);
  w = make_window(3000, 100, 2100, 1500, 1600, 1024);
  EXPECT_EQ(w.step, 2);
  EXPECT_EQ(w.rows(), 1000);
  EXPECT_EQ(w.cols(), 50);
  w = make_window(10, -1, -1, 0, -1, 0);  // the last query
  EXPECT_EQ(w.q0, 9);
  EXPECT_EQ(w.rows(), 1);
  w = make_window(10, -50, 50, 0, 3, 0);  // clipped to the map
  EXPECT_EQ(w.q0, 0);
  EXPECT_EQ(w.q1, 10);
  try {
    make_window(10, 12, 20, 0, 3, 0);
    FAIL() << "an empty window was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("[12, 20)"), std::string::npos) << e.what();
  }
}

TEST(MapView, AStageThatNeverCameByIsAnError) {
  ViewCollector views({{0, {std::string("probs")}, make_window(4, 0, -1, 0, -1, 0), PoolMode::Extreme}});
  EXPECT_THROW(views.view(0, "probs"), Error);
}

TEST(MapView, PooledRequestsNameEveryViewOfTheLayerAndTakeFinishedViews) {
  ViewSpec a{1, {std::string("probs"), std::string("logits")},
             make_window(100, 0, -1, 10, -1, 10), PoolMode::Mean};
  ViewSpec b{2, {std::string("probs")}, make_window(100, 0, -1, 0, -1, 0), PoolMode::Extreme};
  ViewSpec c{1, {std::string("raw")}, make_window(100, 20, 60, 0, 40, 0), PoolMode::Extreme};
  ViewCollector views({a, b, c});
  const auto reqs = views.pooled_requests(1);
  ASSERT_EQ(reqs.size(), 3u);  // a's two stages (set order: logits, probs), then c's
  EXPECT_EQ(reqs[0].id, 0u);
  EXPECT_EQ(reqs[0].stage, "logits");
  EXPECT_EQ(reqs[1].stage, "probs");
  EXPECT_TRUE(reqs[0].mean);
  EXPECT_EQ(reqs[0].k0, 10);
  EXPECT_EQ(reqs[0].step, 10);
  EXPECT_EQ(reqs[2].id, 2u);
  EXPECT_EQ(reqs[2].q1, 60);
  EXPECT_FALSE(reqs[2].mean);
  EXPECT_TRUE(views.pooled_requests(3).empty());
  // A finished view is kept as handed over; one of the wrong shape is an error naming both.
  auto cells = torch::rand({4, 10, 9});
  views.on_pooled(1, reqs[1], cells);
  EXPECT_TRUE(views.came_pooled(0, "probs"));
  EXPECT_FALSE(views.came_pooled(0, "logits"));
  EXPECT_TRUE(torch::equal(views.view(0, "probs"), cells));
  try {
    views.on_pooled(1, reqs[0], torch::rand({4, 9, 9}));
    FAIL() << "a view of the wrong shape was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("10 x 9 cells"), std::string::npos) << e.what();
  }
}

TEST(MapView, FusedViewsAreNotedNamingTheLayersThatStreamed) {
  const auto window = make_window(64, 0, -1, 0, -1, 8);
  ViewSpec a{0, {std::string("probs")}, window, PoolMode::Extreme};
  ViewSpec b{1, {std::string("probs")}, window, PoolMode::Extreme};
  ViewSpec c{2, {std::string("raw")}, window, PoolMode::Extreme};
  ViewCollector views({a, b, c});
  EXPECT_EQ(fused_views_note(views, "dape_v2", "bfloat16"), "");  // nothing came pooled
  const auto cells = torch::rand({4, 8, 8});
  views.on_pooled(0, views.pooled_requests(0).at(0), cells);
  EXPECT_EQ(fused_views_note(views, "dape_v2", "bfloat16"),
            "DAPE V2 layers ran the fused CUDA kernel (bfloat16), but traced layers 1, 2 took "
            "the reference path: their maps need exact cells or stages other than logits and "
            "probs");
  views.on_pooled(1, views.pooled_requests(1).at(0), cells);
  EXPECT_EQ(fused_views_note(views, "dape_v2", "float16"),
            "DAPE V2 layers ran the fused CUDA kernel (float16), but traced layer 2 took the "
            "reference path: its maps need exact cells or stages other than logits and probs");
  ViewCollector all({a, b});
  for (int64_t l : {0, 1}) all.on_pooled(l, all.pooled_requests(l).at(0), cells);
  EXPECT_EQ(fused_views_note(all, "dape_v2", "bfloat16"),
            "DAPE V2 layers ran the fused CUDA kernel (bfloat16)");
}

}  // namespace
}  // namespace attn
