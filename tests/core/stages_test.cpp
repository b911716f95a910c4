// SPDX-License-Identifier: MIT
// Dot-product attention's stages for every position encoding: probs = softmax(masked logits),
// logits = raw + bias, a plain float64 reference of one chunked layer, and the chunk budget.
// Causality, chunking and precision of every variant are in conformance_test.cpp.
#include <gtest/gtest.h>

#include "core/attention/score_attention.h"
#include "core/model/trace.h"
#include "tests/support/fixtures.h"
#include "tests/support/reference_attention.h"
#include "tests/support/tolerances.h"

namespace attn {
namespace {

class Stages : public ::testing::TestWithParam<std::string> {};

std::map<int64_t, LayerMaps> trace_all(TransformerLM& m, const torch::Tensor& ids,
                                       int64_t chunk_rows, torch::Tensor* logits = nullptr) {
  MapCollector collector({0, 1}, {}, ids.size(1));
  ForwardOptions opts;
  opts.sink = &collector;
  opts.chunk_rows = chunk_rows;
  torch::NoGradGuard g;
  auto out = m->forward(ids, opts);
  if (logits) *logits = out;
  return collector.layers();
}

TEST_P(Stages, ProbsAreTheSoftmaxOfMaskedLogits) {
  auto m = test::tiny_model(GetParam());
  const int64_t n = 19;
  auto maps = trace_all(m, test::random_ids(n), 0);
  for (const auto& [layer, lm] : maps) {
    const auto& logits = lm.stages.at("logits").to(torch::kFloat64);
    const auto& probs = lm.stages.at("probs").to(torch::kFloat64);
    auto mask = torch::ones({n, n}, torch::kBool).triu(1);
    auto want = torch::softmax(logits.masked_fill(mask, -INFINITY), -1);
    EXPECT_TRUE(test::all_close(probs, want, test::kFloat32)) << "layer " << layer;
    EXPECT_TRUE(test::all_close(probs.sum(-1), torch::ones({4, n}, torch::kFloat64),
                                test::kFloat32));
    EXPECT_EQ(probs.masked_select(mask.expand({4, n, n})).abs().max().item<double>(), 0.0);
  }
}

TEST_P(Stages, LogitsAreRawPlusBias) {
  auto m = test::tiny_model(GetParam());
  auto maps = trace_all(m, test::random_ids(17), 0);
  const bool has_bias = GetParam() != "nope" && GetParam() != "rope";
  for (const auto& [layer, lm] : maps) {
    EXPECT_EQ(lm.stages.count("bias") > 0, has_bias);
    auto want = lm.stages.at("raw");
    if (has_bias) want = want + lm.stages.at("bias");
    EXPECT_TRUE(test::all_close(lm.stages.at("logits"), want, test::kFloat32));
  }
  EXPECT_EQ(m->stages(0).front(), "raw");
  EXPECT_EQ(m->stages(1).back(), "probs");
}

TEST_P(Stages, OneLayerMatchesAPlainFloat64Reference) {
  auto m = test::tiny_model(GetParam());
  auto* attn = dynamic_cast<ScoreAttentionImpl*>(
      m->named_children()["blocks"]->children()[0]->named_children()["attn"].get());
  ASSERT_NE(attn, nullptr);
  torch::manual_seed(5);
  const int64_t N = 21, H = 4, D = 8;
  auto x = torch::randn({2, N, 32}, torch::kFloat64);
  auto q = test::project_heads(*attn, "q_proj", x, H);
  auto k = test::project_heads(*attn, "k_proj", x, H);
  auto v = test::project_heads(*attn, "v_proj", x, H);
  const auto& pe = attn->position_encoding();
  q = pe->rotate(q);
  k = pe->rotate(k);
  auto s = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(D));  // (2, H, N, N)
  if (pe->has_bias()) s = s + pe->bias(0, N, N);
  auto mask = torch::ones({N, N}, torch::kBool).triu(1);
  auto p = torch::softmax(s.masked_fill(mask, -INFINITY), -1);
  auto want = test::project(*attn, "o_proj", torch::matmul(p, v).transpose(1, 2).reshape({2, N, 32}));
  AttentionInputs in;
  in.chunk_rows = 3;
  torch::NoGradGuard g;
  EXPECT_TRUE(test::all_close(attn->forward(x, in), want, test::kFloat64));
}

class BudgetSink : public StageSink {
 public:
  bool wants(int64_t) const override { return true; }
  void on_stage(int64_t, const std::string&, const torch::Tensor& rows, int64_t) override {
    largest = std::max(largest, rows.numel());
    ++chunks;
  }
  int64_t largest = 0, chunks = 0;
};

TEST_P(Stages, ChunksStayWithinTheElementBudget) {
  auto m = test::tiny_model(GetParam(), torch::kFloat32);
  BudgetSink sink;
  ForwardOptions opts;
  opts.sink = &sink;
  opts.max_chunk_elements = 4 * 600 * 16;  // 16 rows of 600 keys, 4 heads (FIRE: fewer rows)
  torch::NoGradGuard g;
  auto out = m->forward(test::random_ids(600), opts);
  EXPECT_LE(sink.largest, opts.max_chunk_elements);
  EXPECT_GT(sink.chunks, 2 * 37);  // at least 600 / 16 chunks per layer
  EXPECT_FALSE(out.isnan().any().item<bool>());
}

INSTANTIATE_TEST_SUITE_P(AllPositionEncodings, Stages,
                         ::testing::ValuesIn(test::all_positions()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace attn
