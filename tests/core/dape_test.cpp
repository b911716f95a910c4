// SPDX-License-Identifier: MIT
// DAPE V1 and V2 against the specification (dape.md §2): parameter counts at H = 12, D = 32, the
// tril check (future scores cannot reach kept logits, and would without tril), the 1xk
// convolution and the per-pair MLP against hand-written loops, stage relations, and V2 with
// k = 1 equal to V1 with the same weights.
#include <gtest/gtest.h>

#include "core/attention/dape_v1.h"
#include "core/attention/dape_v2.h"
#include "core/attention/pe_alibi.h"
#include "core/model/trace.h"
#include "core/util/error.h"
#include "tests/support/fixtures.h"
#include "tests/support/tolerances.h"

namespace attn {
namespace {

// Exposes the protected logits hook for direct checks.
struct DapeV2Probe : DapeV2Impl {
  using DapeV2Impl::DapeV2Impl;
  using DapeV2Impl::logits;
};
struct DapeV1Probe : DapeV1Impl {
  using DapeV1Impl::DapeV1Impl;
  using DapeV1Impl::logits;
};

ModelConfig config_h12(const std::string& position) {
  auto c = test::tiny_config(position);
  c.d_model = 12 * 4;
  c.n_head = 12;
  return c;
}

int64_t count(const torch::nn::Module& m, const std::vector<std::string>& prefixes) {
  int64_t n = 0;
  for (const auto& item : m.named_parameters()) {
    for (const auto& p : prefixes) n += item.key().rfind(p, 0) == 0 ? item.value().numel() : 0;
  }
  return n;
}

TEST(Dape, ParameterCountsPerLayerMatchTheSpec) {
  auto c = config_h12("kerple");
  auto pe = make_position_encoding(c, "t");
  EXPECT_EQ(count(DapeV1Impl(c, pe, 32), {"mlp1", "mlp2"}), 1196);
  EXPECT_EQ(count(DapeV2Impl(c, pe, 3, 32, true), {"conv1", "conv2"}), 3500);
  EXPECT_EQ(count(DapeV2Impl(c, pe, 5, 32, true), {"conv1", "conv2"}), 5804);
  auto nope = make_position_encoding(config_h12("nope"), "t");
  // H input channels without a bias: 12*32*3 + 32 + 32*12*3 + 12.
  EXPECT_EQ(count(DapeV2Impl(config_h12("nope"), nope, 3, 32, true), {"conv1", "conv2"}), 2348);
}

Chunk whole_chunk(const torch::Tensor& S, const PositionEncoding& pe) {
  const int64_t N = S.size(-1);
  Chunk c;
  c.S = S;
  c.P = pe->has_bias() ? pe->bias(0, N, N).to(S.scalar_type()) : torch::Tensor();
  c.mask = future_mask(0, N, N, S.device());
  c.work_dtype = S.scalar_type();
  c.record = [](const std::string&, const torch::Tensor&) {};
  return c;
}

TEST(DapeV2, FutureScoresCannotReachKeptLogitsBecauseOfTril) {
  auto c = test::tiny_config("alibi");
  for (bool tril : {true, false}) {
    torch::manual_seed(2);
    DapeV2Probe dape(c, make_position_encoding(c, "t"), 3, 8, tril);
    dape.to(torch::kFloat64);
    const int64_t N = 12;
    auto S = torch::randn({2, 4, N, N}, torch::kFloat64);
    auto upper = torch::ones({N, N}, torch::kBool).triu(1);
    auto S2 = S.masked_scatter(upper.expand_as(S), 1e3 * torch::randn({2, 4, N, N}, torch::kFloat64));
    torch::NoGradGuard g;
    auto chunk = whole_chunk(S, dape.position_encoding());
    auto a = dape.logits(chunk);
    chunk.S = S2;
    auto b = dape.logits(chunk);
    auto lower = upper.logical_not().expand_as(a);
    const bool same = torch::equal(a.masked_select(lower), b.masked_select(lower));
    EXPECT_EQ(same, tril) << "tril " << tril;  // bit-identical with tril; changed without
  }
}

TEST(DapeV2, ConvolutionMatchesAHandWrittenLoop) {
  torch::manual_seed(4);
  const int64_t B = 1, Cin = 3, D = 2, H = 2, R = 3, K = 6, k = 3;
  auto opts = torch::nn::Conv2dOptions(Cin, D, {1, k}).padding({0, k / 2});
  torch::nn::Conv2d c1(opts), c2(torch::nn::Conv2dOptions(D, H, {1, k}).padding({0, k / 2}));
  c1->to(torch::kFloat64);
  c2->to(torch::kFloat64);
  auto X = torch::randn({B, Cin, R, K}, torch::kFloat64);
  torch::NoGradGuard g;
  auto F = dape_conv(X, c1, c2, k);
  auto w1 = c1->weight, b1 = c1->bias, w2 = c2->weight, b2 = c2->bias;
  auto x = X.accessor<double, 4>();
  std::vector<double> hidden(size_t(D * R * K));
  for (int64_t d = 0; d < D; ++d)
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < K; ++j) {
        double z = b1[d].item<double>();
        for (int64_t c = 0; c < Cin; ++c)
          for (int64_t t = 0; t < k; ++t) {
            const int64_t jj = j + t - k / 2;  // cross-correlation, zero padding
            if (jj >= 0 && jj < K) z += w1[d][c][0][t].item<double>() * x[0][c][i][jj];
          }
        hidden[size_t((d * R + i) * K + j)] = z > 0 ? z : 0.01 * z;
      }
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < K; ++j) {
        double f = b2[h].item<double>();
        for (int64_t d = 0; d < D; ++d)
          for (int64_t t = 0; t < k; ++t) {
            const int64_t jj = j + t - k / 2;
            if (jj >= 0 && jj < K) f += w2[h][d][0][t].item<double>() * hidden[size_t((d * R + i) * K + jj)];
          }
        EXPECT_NEAR(F[0][h][i][j].item<double>(), f, 1e-12) << h << "," << i << "," << j;
      }
}

TEST(DapeV1, MlpMatchesAPerPairLoop) {
  auto c = test::tiny_config("kerple");
  torch::manual_seed(6);
  DapeV1Probe dape(c, make_position_encoding(c, "t"), 5);
  dape.to(torch::kFloat64);
  const int64_t N = 5, H = 4;
  auto S = torch::randn({1, H, N, N}, torch::kFloat64);
  torch::NoGradGuard g;
  auto chunk = whole_chunk(S, dape.position_encoding());
  auto logits = dape.logits(chunk);
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      auto u = torch::cat({S[0].select(1, i).select(1, j), chunk.P.select(1, i).select(1, j)});
      auto h = torch::leaky_relu(torch::matmul(dape.mlp1->weight, u) + dape.mlp1->bias, 0.01);
      auto f = torch::matmul(dape.mlp2->weight, h) + dape.mlp2->bias;  // (H)
      auto want = u.narrow(0, 0, H) + u.narrow(0, H, H) + f;
      EXPECT_TRUE(test::all_close(logits[0].select(1, i).select(1, j), want, test::kFloat64));
    }
}

TEST(DapeV2, KernelOneEqualsV1WithTheSameWeights) {
  auto c = test::tiny_config("alibi");
  torch::manual_seed(8);
  DapeV1Probe v1(c, make_position_encoding(c, "t"), 6);
  DapeV2Probe v2(c, make_position_encoding(c, "t"), 1, 6, true);
  {
    torch::NoGradGuard g;
    v2.conv1->weight.copy_(v1.mlp1->weight.view({6, 8, 1, 1}));
    v2.conv1->bias.copy_(v1.mlp1->bias);
    v2.conv2->weight.copy_(v1.mlp2->weight.view({4, 6, 1, 1}));
    v2.conv2->bias.copy_(v1.mlp2->bias);
  }
  v1.to(torch::kFloat64);
  v2.to(torch::kFloat64);
  auto S = torch::randn({2, 4, 9, 9}, torch::kFloat64);
  torch::NoGradGuard g;
  auto a = v1.logits(whole_chunk(S, v1.position_encoding()));
  auto b = v2.logits(whole_chunk(S, v2.position_encoding()));
  // Equal on the kept (lower) triangle; V2's tril changes only masked entries.
  auto lower = torch::ones({9, 9}, torch::kBool).tril().expand_as(a);
  EXPECT_TRUE(test::all_close(b.masked_select(lower), a.masked_select(lower), test::kFloat64));
}

TEST(Dape, StagesAddUpToTheLogits) {
  for (const std::string variant : {"dape_v1", "dape_v2"}) {
    for (const std::string pe : {"nope", "rope", "alibi", "kerple", "fire"}) {
      torch::manual_seed(9);
      TransformerLM m(test::tiny_config(pe, variant));
      m->to(torch::kFloat64);
      MapCollector col({1}, {}, 11);
      ForwardOptions opts;
      opts.sink = &col;
      torch::NoGradGuard g;
      m->forward(test::random_ids(11), opts);
      const auto& st = col.layers().at(1).stages;
      const std::string extra = variant == "dape_v1" ? "mlp" : "conv";
      auto want = st.at("raw") + st.at(extra);
      if (st.count("bias")) want = want + st.at("bias");
      EXPECT_EQ(st.count("bias") > 0, pe != "nope" && pe != "rope") << variant << " " << pe;
      EXPECT_TRUE(test::all_close(st.at("logits"), want, test::kFloat32)) << variant << " " << pe;
    }
  }
}

TEST(DapeV2, EvenKernelIsAConfigErrorNamingTheField) {
  auto c = test::tiny_config("alibi", "dape_v2");
  c.attention.params = {{"kernel", 4}};
  try {
    TransformerLM m(c, "cfg.json");
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("attention.kernel"), std::string::npos) << e.what();
  }
  c.attention.params = {{"kernels", 3}};
  EXPECT_THROW(TransformerLM(c, "cfg.json"), ConfigError);
}

}  // namespace
}  // namespace attn

namespace attn {
namespace {

// As in the official operator (zero padding of the unmasked hidden layer at the end of the key
// axis), the last floor(k/2) rows' logits depend on whether the sequence goes on: on its length,
// not on what follows. Earlier rows do not.
TEST(DapeV2, OnlyTheLastHalfKernelRowsDependOnTheSequenceLength) {
  torch::manual_seed(12);
  auto c = test::tiny_config("alibi", "dape_v2");
  c.attention.params = {{"kernel", 5}};
  TransformerLM m(c);
  m->to(torch::kFloat64);
  auto ids = test::random_ids(20);
  torch::NoGradGuard g;
  auto whole = m->forward(ids);                   // (1, 20, V)
  auto prefix = m->forward(ids.narrow(1, 0, 14));  // (1, 14, V)
  EXPECT_TRUE(test::all_close(prefix.narrow(1, 0, 12), whole.narrow(1, 0, 12), test::kFloat64));
  for (int64_t t : {12, 13}) {
    EXPECT_FALSE(test::all_close(prefix.select(1, t), whole.select(1, t), test::kFloat64)) << t;
  }
}

}  // namespace
}  // namespace attn
