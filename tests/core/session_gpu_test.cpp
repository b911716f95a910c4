// SPDX-License-Identifier: MIT
// Sessions in half precision on CUDA against a float32 session: on the bundled DAPE V2
// checkpoint (head_dim 16) and on a seeded one (head_dim 32) a pooled overview of every layer
// within 3e-2 relative error of float32's, from the fused kernel's views where it can run (a
// Hopper GPU and a build with the kernels) and a note saying so; perplexity within 2%.
// Labelled gpu; skipped where no GPU is usable.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "core/api/session.h"
#include "core/model/checkpoint.h"
#include "core/util/text_file.h"
#include "tests/support/remove_tree.h"
#ifdef ATTN_WITH_CUDA_KERNELS
#include <ATen/cuda/CUDAContext.h>
#endif

namespace attn {
namespace {

constexpr int64_t kTokens = 1024;
constexpr int64_t kGrid = 48;  // cells of ceil(1024 / 48) = 22 tokens: the fused views' kind

/// The first ~40 kB of the evaluation corpus, cut at a line end.
std::string corpus_text() {
  const std::string all = read_text(ATTN_TEST_CORPUS);
  return all.substr(0, all.rfind('\n', 40000));
}

/// ||a - b|| / ||b|| over the cells both maps have; the NaN cells must agree.
double relative_error(const StageMap& a, const StageMap& b) {
  EXPECT_EQ(a.values.size(), b.values.size());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < std::min(a.values.size(), b.values.size()); ++i) {
    const double x = a.values[i], y = b.values[i];
    EXPECT_EQ(std::isnan(x), std::isnan(y)) << "cell " << i;
    if (std::isnan(x) || std::isnan(y)) continue;
    diff += (x - y) * (x - y);
    norm += y * y;
  }
  return std::sqrt(diff / std::max(norm, 1e-300));
}

TraceRequest overview(const std::string& text, int64_t layers) {
  TraceRequest r;
  r.text = text;
  r.max_tokens = kTokens;
  for (int64_t l = 0; l < layers; ++l) {
    MapRequest m;
    m.layer = l;
    m.stages = {"probs"};
    m.grid = kGrid;
    r.maps.push_back(m);
  }
  return r;
}

bool has_fused_note(const LayerTrace& t) {
  for (const auto& n : t.notes) {
    if (n.find("fused CUDA kernel") != std::string::npos) return true;
  }
  return false;
}

/// Whether the fused DAPE V2 kernel can run here (built with it, a Hopper GPU or newer).
bool fused_kernel_here() {
#ifdef ATTN_WITH_CUDA_KERNELS
  return at::cuda::getCurrentDeviceProperties()->major >= 9;
#else
  return false;
#endif
}

class SessionHalfPrecision : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no usable CUDA device";
  }
};

/// The overview of every layer in float32 and in `precision` on CUDA; the maps must agree
/// within 3e-2 relative error. Returns the half-precision trace.
LayerTrace compare_overviews(const std::string& dir, const std::string& text,
                             const std::string& precision) {
  auto f32 = Session::open(dir, "cuda", "float32");
  auto half = Session::open(dir, "cuda", precision);
  EXPECT_EQ(half->summary().device, "cuda");
  EXPECT_EQ(half->summary().precision, precision);
  EXPECT_EQ(half->summary().variant, "dape_v2");
  const int64_t layers = f32->summary().n_layer;
  const LayerTrace want = f32->trace(overview(text, layers));
  LayerTrace got = half->trace(overview(text, layers));
  EXPECT_EQ(int64_t(want.tokens.size()), kTokens);
  EXPECT_EQ(got.maps.size(), want.maps.size());
  for (size_t i = 0; i < std::min(want.maps.size(), got.maps.size()); ++i) {
    EXPECT_GE(got.maps[i].step, 8);
    EXPECT_LT(relative_error(got.maps[i], want.maps[i]), 3e-2) << "layer " << want.maps[i].layer;
  }
  EXPECT_FALSE(has_fused_note(want)) << "float32 never runs the fused kernel";
  return got;
}

TEST_P(SessionHalfPrecision, PooledOverviewMatchesFloat32) {
  const LayerTrace got = compare_overviews(ATTN_TEST_CHECKPOINT, corpus_text(), GetParam());
  // head_dim 16, k = 3, Kerple: the fused kernel takes these layers where it can run.
  EXPECT_EQ(has_fused_note(got), fused_kernel_here());
}

/// A seeded, untrained 2-layer DAPE V2 checkpoint the fused kernel accepts (head_dim 32, k = 3,
/// Kerple), with the byte tokenizer, in a fresh temporary folder.
std::string fused_checkpoint() {
  const auto dir = std::filesystem::temp_directory_path() / "attn_session_gpu_dape_v2";
  test::remove_tree(dir.string());  // not std::filesystem::remove_all: see remove_tree.h
  ModelConfig c;
  c.vocab_size = 256;
  c.d_model = 128;
  c.n_head = 4;
  c.n_layer = 2;
  c.train_len = 128;
  c.attention.variant = "dape_v2";
  c.position.kind = "kerple";
  torch::manual_seed(5);
  TransformerLM model(c);
  save_checkpoint(dir.string(), model, *make_byte_tokenizer(), {{"trained", false}});
  return dir.string();
}

TEST_P(SessionHalfPrecision, FusedKernelViewsMatchFloat32AndAreNoted) {
  const std::string precision = GetParam();
  const std::string dir = fused_checkpoint();
  const LayerTrace got = compare_overviews(dir, corpus_text(), precision);
  test::remove_tree(dir);
  if (!fused_kernel_here()) GTEST_SKIP() << "no fused kernel in this build or on this GPU";
  bool noted = false;
  for (const auto& n : got.notes) {
    noted |= n == "DAPE V2 layers ran the fused CUDA kernel (" + precision + ")";
  }
  EXPECT_TRUE(noted) << (got.notes.empty() ? "no notes" : got.notes.front());
}

TEST_P(SessionHalfPrecision, PerplexityIsWithinTwoPercentOfFloat32) {
  auto f32 = Session::open(ATTN_TEST_CHECKPOINT, "cuda", "float32");
  auto half = Session::open(ATTN_TEST_CHECKPOINT, "cuda", GetParam());
  LengthRequest r;
  r.text = corpus_text();
  r.lengths = {128, 512};
  r.windows = 4;
  r.tail = 64;
  const LengthReport want = f32->evaluate(r), got = half->evaluate(r);
  ASSERT_EQ(got.points.size(), 2u);
  ASSERT_EQ(want.points.size(), 2u);
  for (size_t i = 0; i < want.points.size(); ++i) {
    const auto& w = want.points[i];
    const auto& g = got.points[i];
    ASSERT_TRUE(std::isfinite(g.ppl_tail) && std::isfinite(g.ppl_window));
    EXPECT_LT(std::abs(g.ppl_tail / w.ppl_tail - 1), 0.02) << "length " << w.length;
    EXPECT_LT(std::abs(g.ppl_window / w.ppl_window - 1), 0.02) << "length " << w.length;
    // The statistics are float64 sums of the probabilities in either precision.
    EXPECT_NEAR(g.sink[0][0], w.sink[0][0], 2e-2) << "length " << w.length;
  }
}

INSTANTIATE_TEST_SUITE_P(HalfTypes, SessionHalfPrecision,
                         ::testing::Values(std::string("bfloat16"), std::string("float16")),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace attn
