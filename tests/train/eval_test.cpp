// SPDX-License-Identifier: MIT
// Length evaluation against plain references: perplexities from unchunked whole-window passes,
// attention statistics from full probability maps (float64 loops over a trace), hidden-state
// measures from the naive pairwise definition; chunked equal to unchunked; window placement.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/eval/extrapolation.h"
#include "core/model/trace.h"
#include "core/util/error.h"
#include "tests/support/fixtures.h"

namespace attn {
namespace {

TEST(EvalWindows, EvenDeterministicPlacement) {
  EXPECT_EQ(eval_window_starts(101, 10, 3), (std::vector<int64_t>{0, 45, 90}));
  EXPECT_EQ(eval_window_starts(101, 10, 1), (std::vector<int64_t>{0}));
  EXPECT_EQ(eval_window_starts(11, 10, 2), (std::vector<int64_t>{0, 0}));
  try {
    eval_window_starts(100, 128, 4);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("length 128"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("100"), std::string::npos) << e.what();
  }
}

struct Reference {
  double tail_nll = 0, window_nll = 0;
  std::vector<std::vector<double>> entropy, distance, sink, local, negative;  // [layer][head]
  std::vector<double> residual, cosine;
};

/// Whole windows, unchunked, statistics by explicit loops in float64.
Reference reference(TransformerLM& model, const torch::Tensor& tokens, int64_t L,
                    const EvalOptions& o) {
  torch::NoGradGuard ng;
  const auto& c = model->config();
  const int64_t H = c.n_head, NL = c.n_layer;
  Reference r;
  for (auto* v : {&r.entropy, &r.distance, &r.sink, &r.local, &r.negative}) {
    v->assign(size_t(NL), std::vector<double>(size_t(H), 0.0));
  }
  r.residual.assign(size_t(NL), 0.0);
  r.cosine.assign(size_t(NL), 0.0);
  const auto starts = eval_window_starts(tokens.size(0), L, o.windows);
  std::set<int64_t> all;
  for (int64_t l = 0; l < NL; ++l) all.insert(l);
  for (int64_t s : starts) {
    const auto w = tokens.narrow(0, s, L + 1).unsqueeze(0);
    MapCollector maps(all, {"probs"}, L);
    ForwardOptions fo;
    fo.sink = &maps;
    fo.max_chunk_elements = int64_t(1) << 40;  // one chunk
    fo.on_hidden = [&](int64_t l, const torch::Tensor& x) {
      const auto X = x[0].to(torch::kFloat64);
      r.residual[size_t(l)] += (X - X.mean(0)).norm().item<double>() / X.norm().item<double>();
      double sum = 0;
      for (int64_t i = 0; i < L; ++i) {
        for (int64_t j = 0; j < L; ++j) {
          if (i != j) sum += torch::cosine_similarity(X[i], X[j], 0).item<double>();
        }
      }
      r.cosine[size_t(l)] += sum / double(L * (L - 1));
    };
    const auto logits = model->forward(w.narrow(1, 0, L), fo)[0].to(torch::kFloat64);
    const auto logp = torch::log_softmax(logits, -1);
    double whole = 0, tail = 0;
    const int64_t T = std::min(o.tail, L);
    for (int64_t i = 0; i < L; ++i) {
      const double nll = -logp[i][w[0][i + 1].item<int64_t>()].item<double>();
      whole += nll;
      if (i >= L - T) tail += nll;
    }
    r.window_nll += whole / double(L);
    r.tail_nll += tail / double(T);
    for (int64_t l = 0; l < NL; ++l) {
      const auto P = maps.layers().at(l).stages.at("probs").to(torch::kFloat64);  // (H, L, L)
      const auto acc = P.accessor<double, 3>();
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t i = 0; i < L; ++i) {
          double abs_sum = 0;
          for (int64_t j = 0; j <= i; ++j) abs_sum += std::abs(acc[h][i][j]);
          for (int64_t j = 0; j <= i; ++j) {
            const double p = acc[h][i][j], q = std::abs(p) / abs_sum;
            if (q > 0) r.entropy[size_t(l)][size_t(h)] -= q * std::log(q);
            r.distance[size_t(l)][size_t(h)] += p * double(i - j);
            if (j == 0) r.sink[size_t(l)][size_t(h)] += p;
            if (i - j < o.local_window) r.local[size_t(l)][size_t(h)] += p;
            r.negative[size_t(l)][size_t(h)] += std::min(p, 0.0);
          }
        }
      }
    }
  }
  const double K = double(starts.size()), rows = K * double(L);
  r.tail_nll /= K;
  r.window_nll /= K;
  for (int64_t l = 0; l < NL; ++l) {
    r.residual[size_t(l)] /= K;
    r.cosine[size_t(l)] /= K;
    for (auto* v : {&r.entropy, &r.distance, &r.sink, &r.local, &r.negative}) {
      for (auto& x : (*v)[size_t(l)]) x /= rows;
    }
  }
  return r;
}

void expect_matches(const LengthResult& got, const Reference& want) {
  EXPECT_NEAR(std::log(got.ppl_tail), want.tail_nll, 1e-5);
  EXPECT_NEAR(std::log(got.ppl_window), want.window_nll, 1e-5);
  for (size_t l = 0; l < got.layers.size(); ++l) {
    const auto& s = got.layers[l];
    EXPECT_NEAR(s.residual, want.residual[l], 1e-6) << "layer " << l;
    EXPECT_NEAR(s.cosine, want.cosine[l], 1e-6) << "layer " << l;
    for (size_t h = 0; h < s.entropy.size(); ++h) {
      EXPECT_NEAR(s.entropy[h], want.entropy[l][h], 1e-5) << l << "/" << h;
      EXPECT_NEAR(s.distance[h], want.distance[l][h], 1e-4) << l << "/" << h;
      EXPECT_NEAR(s.sink[h], want.sink[l][h], 1e-6) << l << "/" << h;
      EXPECT_NEAR(s.local[h], want.local[l][h], 1e-6) << l << "/" << h;
      EXPECT_NEAR(s.negative[h], want.negative[l][h], 1e-6) << l << "/" << h;
    }
  }
}

class EvalAgainstReference : public ::testing::TestWithParam<std::string> {};

TEST_P(EvalAgainstReference, ChunkedStatisticsMatchTheFullMaps) {
  torch::manual_seed(5);
  TransformerLM model(test::tiny_config("alibi", GetParam()));
  model->eval();
  const auto tokens = torch::randint(0, 200, {200}, torch::kInt64);
  EvalOptions o;
  o.windows = 3;
  o.tail = 12;
  o.local_window = 4;
  o.max_chunk_elements = 4 * 8 * 40;  // chunks of a few rows: the sink sees many pieces
  const auto got = evaluate_length(model, tokens, 40, o, torch::kCPU);
  EXPECT_EQ(got.windows, 3);
  ASSERT_EQ(got.layers.size(), 2u);
  expect_matches(got, reference(model, tokens, 40, o));
  // Rows of ordinary attention sum to one: sink + rest, local <= 1, no negative mass.
  if (GetParam() != "dagpam") {
    for (const auto& s : got.layers) {
      for (double x : s.negative) EXPECT_EQ(x, 0.0);
      for (double x : s.local) EXPECT_LE(x, 1.0 + 1e-9);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, EvalAgainstReference,
                         ::testing::Values("dot", "dape_v2", "dagpam"));

TEST(EvalSigned, DagpamReportsItsNegativeMass) {
  torch::manual_seed(6);
  auto cfg = test::tiny_config("nope", "dagpam");
  cfg.attention.params = {{"lambda", 0.8}};
  TransformerLM model(cfg);
  model->eval();
  {
    // Sharp scores, so that the two softmaxes differ and (1 + l) A+ - l A- goes negative.
    torch::NoGradGuard ng;
    for (auto& item : model->named_parameters(true)) {
      if (item.key().find("q_proj.weight") != std::string::npos) item.value().mul_(30.0);
    }
  }
  const auto tokens = torch::randint(0, 200, {100}, torch::kInt64);
  EvalOptions o;
  o.windows = 2;
  const auto r = evaluate_length(model, tokens, 32, o, torch::kCPU);
  double neg = 0;
  for (const auto& s : r.layers) {
    for (double x : s.negative) neg += x;
  }
  EXPECT_LT(neg, -1e-3);  // lambda 0.8 subtracts a visible share
}

}  // namespace
}  // namespace attn
