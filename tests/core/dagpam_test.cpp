// SPDX-License-Identifier: MIT
// daGPAM against variants.md C.3: a plain float64 reference of the formula (whole N x N, no
// chunks) for every stage and the layer output, rows summing to 1 whatever lambda, the negative
// mass, lambda = 0 equal to dot-product attention, the lambda buffer, the W- initialisations, and
// ConfigErrors naming each bad field. Helpers carry a dagpam_ prefix (unity batches).
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "core/attention/dagpam_attention.h"
#include "core/util/error.h"
#include "tests/support/fixtures.h"
#include "tests/support/reference_attention.h"
#include "tests/support/tolerances.h"

namespace attn {
namespace {

constexpr test::Tolerance kDagpamRef{1e-10, 1e-10};

// Keeps every stage of one layer as whole float64 (B, H, N, N) maps (MapCollector keeps float32).
class DagpamSink : public StageSink {
 public:
  explicit DagpamSink(int64_t n) : n_(n) {}
  bool wants(int64_t layer) const override { return layer == 0; }
  void on_stage(int64_t, const std::string& stage, const torch::Tensor& rows,
                int64_t row_begin) override {
    auto& m = maps[stage];
    if (!m.defined()) m = torch::zeros({rows.size(0), rows.size(1), n_, n_}, torch::kFloat64);
    m.narrow(2, row_begin, rows.size(2)).narrow(3, 0, rows.size(3)).copy_(rows);
  }
  std::map<std::string, torch::Tensor> maps;

 private:
  int64_t n_;
};

ModelConfig dagpam_config(const std::string& position, nlohmann::json params) {
  auto c = test::tiny_config(position, "dagpam");
  c.attention.params = std::move(params);
  return c;
}

TransformerLM dagpam_model(const std::string& position, nlohmann::json params) {
  torch::manual_seed(7);
  TransformerLM m(dagpam_config(position, std::move(params)));
  m->to(torch::kFloat64);
  m->eval();
  return m;
}

DagpamAttentionImpl* dagpam_layer0(TransformerLM& m) {
  auto child = m->named_children()["blocks"]->children()[0]->named_children()["attn"];
  return dynamic_cast<DagpamAttentionImpl*>(child.get());
}

// Runs layer 0 alone on x (2, N, 32) in chunks of `rows`, collecting its stages.
torch::Tensor dagpam_run(DagpamAttentionImpl* attn, const torch::Tensor& x, int64_t rows,
                         DagpamSink& sink) {
  AttentionInputs in;
  in.chunk_rows = rows;
  in.sink = &sink;
  torch::NoGradGuard g;
  return attn->forward(x, in);
}

class Dagpam : public ::testing::TestWithParam<std::string> {};

// The formula written out once, for all rows at once, from the layer's parameters.
TEST_P(Dagpam, MatchesAPlainFloat64Reference) {
  auto m = dagpam_model(GetParam(), {{"lambda", 0.3}});
  auto* attn = dagpam_layer0(m);
  ASSERT_NE(attn, nullptr);
  {
    torch::NoGradGuard g;  // distinct heads, so a wrong broadcast of lambda would show
    attn->lambda.copy_(torch::tensor({0.1, 0.5, 1.0, 2.5}, torch::kFloat64));
  }
  torch::manual_seed(5);
  const int64_t N = 13, H = 4, D = 8;
  auto x = torch::randn({2, N, 32}, torch::kFloat64);
  auto params = attn->named_parameters();
  auto q = test::project_heads(*attn, "q_proj", x, H);
  auto k = test::project_heads(*attn, "k_proj", x, H);
  auto v = test::project_heads(*attn, "v_proj", x, H);
  auto qn = torch::matmul(torch::relu(q), params["w_neg"]);  // (2, H, N, D), before rotation
  const auto& pe = attn->position_encoding();
  q = pe->rotate(q);
  k = pe->rotate(k);
  qn = pe->rotate(qn);
  auto sp = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(D));   // (2, H, N, N)
  auto sn = torch::matmul(qn, k.transpose(-2, -1)) / std::sqrt(double(D));  // (2, H, N, N)
  if (pe->has_bias()) {
    sp = sp + pe->bias(0, N, N);
    sn = sn + pe->bias(0, N, N);
  }
  auto mask = torch::ones({N, N}, torch::kBool).triu(1);
  auto ap = torch::softmax(sp.masked_fill(mask, -INFINITY), -1);
  auto an = torch::softmax(sn.masked_fill(mask, -INFINITY), -1);
  auto lam = params["lambda"].view({1, H, 1, 1});
  auto a = (1 + lam) * ap - lam * an;
  auto want = test::project(*attn, "o_proj", torch::matmul(a, v).transpose(1, 2).reshape({2, N, 32}));

  for (int64_t rows : {0, 3}) {
    DagpamSink sink(N);
    auto out = dagpam_run(attn, x, rows, sink);
    EXPECT_TRUE(test::all_close(out, want, kDagpamRef)) << "rows " << rows;
    auto& st = sink.maps;
    EXPECT_TRUE(test::all_close(st.at("probs"), a, kDagpamRef)) << "rows " << rows;
    EXPECT_TRUE(test::all_close(st.at("probs_pos"), ap, kDagpamRef));
    EXPECT_TRUE(test::all_close(st.at("probs_neg"), an, kDagpamRef));
    // Traced logits have the future zeroed.
    EXPECT_TRUE(test::all_close(st.at("logits_pos"), sp.masked_fill(mask, 0.0), kDagpamRef));
    EXPECT_TRUE(test::all_close(st.at("logits_neg"), sn.masked_fill(mask, 0.0), kDagpamRef));
    EXPECT_EQ(st.count("logits"), 0u);
  }
}

TEST_P(Dagpam, ReportsItsStagesInOrder) {
  auto m = dagpam_model(GetParam(), nlohmann::json::object());
  std::vector<std::string> want{"raw"};
  if (GetParam() != "nope" && GetParam() != "rope") want.push_back("bias");
  for (const char* s : {"logits_pos", "logits_neg", "probs_pos", "probs_neg", "probs"}) {
    want.push_back(s);
  }
  EXPECT_EQ(m->stages(0), want);
}

TEST_P(Dagpam, RowsSumToOneWhateverLambda) {
  torch::manual_seed(3);
  auto x = torch::randn({2, 17, 32}, torch::kFloat64);
  for (double lambda : {0.0, 0.1, 1.0, 5.0}) {
    auto m = dagpam_model(GetParam(), {{"lambda", lambda}, {"init", "neg_identity"}});
    DagpamSink sink(17);
    dagpam_run(dagpam_layer0(m), x, 5, sink);
    auto sums = sink.maps.at("probs").sum(-1);  // (2, H, N)
    EXPECT_TRUE(test::all_close(sums, torch::ones_like(sums), {1e-12, 0.0})) << lambda;
  }
}

INSTANTIATE_TEST_SUITE_P(AllPositionEncodings, Dagpam, ::testing::ValuesIn(test::all_positions()),
                         [](const auto& info) { return info.param; });

TEST(DagpamNegativeMass, IsTheSumOfTheNegativeEntriesPerRow) {
  auto p = torch::tensor({1.0, 0.0, 0.0, 1.3, -0.3, 0.0, 0.9, -0.2, 0.3}, torch::kFloat64)
               .view({1, 1, 3, 3});
  auto mass = negative_mass(p);  // (1, 1, 3)
  ASSERT_EQ(mass.sizes(), torch::IntArrayRef({1, 1, 3}));
  EXPECT_DOUBLE_EQ(mass[0][0][0].item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(mass[0][0][1].item<double>(), -0.3);
  EXPECT_DOUBLE_EQ(mass[0][0][2].item<double>(), -0.2);
}

// With W- = -I the negative branch favours the keys the positive one avoids (variants.md C.3),
// so lambda = 1 must push some weights below zero.
TEST(DagpamNegativeMass, IsNegativeForLambdaAboveZero) {
  auto m = dagpam_model("rope", {{"lambda", 1.0}, {"init", "neg_identity"}});
  torch::manual_seed(4);
  const int64_t N = 15;
  DagpamSink sink(N);
  dagpam_run(dagpam_layer0(m), torch::randn({1, N, 32}, torch::kFloat64) * 3, 4, sink);
  const auto& a = sink.maps.at("probs");
  auto mass = negative_mass(a);  // (1, H, N)
  EXPECT_LT(mass.min().item<double>(), -1e-3);
  EXPECT_EQ(mass.select(2, 0).abs().max().item<double>(), 0.0);  // one key: A = 1
  for (int64_t h = 0; h < 4; ++h) {
    for (int64_t i = 0; i < N; ++i) {
      double neg = 0.0;
      for (int64_t j = 0; j <= i; ++j) neg += std::min(a[0][h][i][j].item<double>(), 0.0);
      EXPECT_NEAR(mass[0][h][i].item<double>(), neg, 1e-14) << "head " << h << " row " << i;
    }
  }
}

// neg_identity draws no random numbers, so the same seed gives the dot model's weights.
TEST(Dagpam, LambdaZeroIsExactlyDotProductAttention) {
  for (const auto& pe : test::all_positions()) {
    auto dag = dagpam_model(pe, {{"lambda", 0.0}, {"init", "neg_identity"}});
    auto dot = test::tiny_model(pe);
    auto ids = test::random_ids(19);
    DagpamSink sink_dag(19), sink_dot(19);
    ForwardOptions opts;
    opts.chunk_rows = 6;
    torch::NoGradGuard g;
    opts.sink = &sink_dag;
    auto out_dag = dag->forward(ids, opts);
    opts.sink = &sink_dot;
    auto out_dot = dot->forward(ids, opts);
    EXPECT_TRUE(torch::equal(sink_dag.maps.at("probs"), sink_dot.maps.at("probs"))) << pe;
    EXPECT_TRUE(torch::equal(out_dag, out_dot)) << pe;
  }
}

TEST(Dagpam, FixedLambdaIsABufferNotAParameter) {
  auto fixed = dagpam_model("alibi", {{"lambda_trainable", false}, {"lambda", 0.25}});
  auto* a = dagpam_layer0(fixed);
  EXPECT_EQ(a->named_parameters(false).contains("lambda"), false);
  EXPECT_TRUE(a->named_parameters(false).contains("w_neg"));
  ASSERT_TRUE(a->named_buffers(false).contains("lambda"));
  EXPECT_FALSE(a->lambda.requires_grad());
  EXPECT_TRUE(torch::allclose(a->lambda, torch::full({4}, 0.25, torch::kFloat64)));
  auto trained = dagpam_model("alibi", nlohmann::json::object());
  auto* b = dagpam_layer0(trained);
  ASSERT_TRUE(b->named_parameters(false).contains("lambda"));
  EXPECT_EQ(b->named_parameters(false)["lambda"].sizes(), torch::IntArrayRef({4}));
  EXPECT_EQ(trained->parameter_count() - fixed->parameter_count(), 2 * 4);  // H per layer
}

TEST(Dagpam, GradientsReachWNegAndLambda) {
  auto m = dagpam_model("rope", nlohmann::json::object());
  auto loss = m->forward(test::random_ids(12)).pow(2).sum();
  loss.backward();
  for (int64_t layer = 0; layer < 2; ++layer) {
    auto attn = m->named_children()["blocks"]->children()[layer]->named_children()["attn"];
    for (const char* name : {"w_neg", "lambda"}) {
      auto g = attn->named_parameters(false)[name].grad();
      ASSERT_TRUE(g.defined()) << name << " layer " << layer;
      EXPECT_GT(g.abs().sum().item<double>(), 0.0) << name << " layer " << layer;
    }
  }
}

TEST(Dagpam, WNegInitialisations) {
  auto neg = dagpam_model("nope", {{"init", "neg_identity"}});
  auto eye = -torch::eye(8, torch::kFloat64).expand({4, 8, 8});
  EXPECT_TRUE(torch::equal(dagpam_layer0(neg)->w_neg, eye));
  auto rnd = dagpam_model("nope", nlohmann::json::object());
  const auto& w = dagpam_layer0(rnd)->w_neg;
  EXPECT_EQ(w.sizes(), torch::IntArrayRef({4, 8, 8}));
  EXPECT_LE(w.abs().max().item<double>(), 1.0 / std::sqrt(8.0));
  EXPECT_GT(w.std().item<double>(), 0.1);  // uniform +-0.354 has std 0.204
}

TEST(Dagpam, BadParamsAreConfigErrorsNamingTheField) {
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {{{"lambda", "big"}}, "attention.lambda"},
      {{{"lambda", -0.5}}, "attention.lambda"},
      {{{"lambda_trainable", 1}}, "attention.lambda_trainable"},
      {{{"init", "zeros"}}, "attention.init"},
      {{{"init", 3}}, "attention.init"},
      {{{"lambdas", 0.1}}, "attention.lambdas"},
  };
  for (const auto& [params, field] : cases) {
    try {
      TransformerLM m(dagpam_config("rope", params), "cfg.json");
      ADD_FAILURE() << "no error for " << params.dump();
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace attn
