// SPDX-License-Identifier: MIT
// Transformer-MGK: probs against a plain float64 reference written from the paper's jointly
// normalised mixture (variants.md B.2), share maps summing to probs, responsibility and
// distance ranges, MGK/sMGK parameter shapes, M = 1 as softmax with a key-norm penalty (B.3),
// narrow_second, and configuration errors that name the field.
#include <gtest/gtest.h>

#include <cmath>

#include "core/attention/mgk_attention.h"
#include "core/attention/registry.h"
#include "core/util/error.h"
#include "tests/support/fixtures.h"
#include "tests/support/reference_attention.h"
#include "tests/support/tolerances.h"

namespace attn {
namespace {

constexpr test::Tolerance kMgkRef{1e-10, 1e-10};
constexpr test::Tolerance kMgkExact{1e-12, 0.0};

/// Assembles layer 0's stages into whole (B, H, N, N) float64 maps, with q and k.
class MgkSink : public StageSink {
 public:
  explicit MgkSink(int64_t n) : n_(n) {}
  bool wants(int64_t layer) const override { return layer == 0; }
  void on_qk(int64_t, const torch::Tensor& q_in, const torch::Tensor& k_in) override {
    q = q_in.detach().clone();
    k = k_in.detach().clone();
  }
  void on_stage(int64_t, const std::string& stage, const torch::Tensor& rows,
                int64_t row_begin) override {
    auto& full = maps[stage];
    if (!full.defined()) full = torch::zeros({rows.size(0), rows.size(1), n_, n_}, torch::kFloat64);
    full.narrow(2, row_begin, rows.size(2)).narrow(3, 0, rows.size(3)).copy_(rows.detach());
  }
  torch::Tensor q, k;
  std::map<std::string, torch::Tensor> maps;

 private:
  int64_t n_;
};

/// One float64 MGK layer (d_model 32, 4 heads, head_dim 8) with pi (and mu) randomised, so a
/// uniform initialisation cannot hide a wrong mixture.
std::shared_ptr<MgkAttentionImpl> mgk_layer(const std::string& position,
                                            const nlohmann::json& params, uint64_t seed = 3) {
  auto c = test::tiny_config(position, "mgk");
  c.attention.params = params;
  torch::manual_seed(seed);
  auto a = std::dynamic_pointer_cast<MgkAttentionImpl>(make_attention(c, 0, "test"));
  EXPECT_NE(a, nullptr);
  a->to(torch::kFloat64);
  torch::NoGradGuard g;
  a->pi.uniform_(0.1, 0.9);
  if (a->mu.defined()) a->mu.normal_(0.0, 0.5);
  return a;
}

torch::Tensor mgk_run(MgkAttentionImpl& a, const torch::Tensor& x, int64_t chunk_rows,
                      StageSink* sink = nullptr) {
  AttentionInputs in;
  in.chunk_rows = chunk_rows;
  in.sink = sink;
  torch::NoGradGuard g;
  return a.forward(x, in);
}

struct MgkReference {
  torch::Tensor probs, out;
};

/// A_ij = sum_r pi_r exp(-|q_i - k_jr|^2 / 2 sigma_r^2) exp(P_ij) / sum_j' (...), j <= i, with
/// distances taken as plain differences, then out = o_proj(A V). Run after a forward pass so
/// the encoding has been prepared.
MgkReference mgk_reference(MgkAttentionImpl& a, const torch::Tensor& x, bool narrow) {
  const int64_t B = x.size(0), N = x.size(1), H = 4, D = 8, M = a.options().components;
  auto params = a.named_parameters();
  const auto& pe = a.position_encoding();
  auto q = pe->rotate(test::project_heads(a, "q_proj", x, H));
  auto k = test::project_heads(a, "k_proj", x, H), v = test::project_heads(a, "v_proj", x, H);
  auto num = torch::zeros({B, H, N, N}, torch::kFloat64);
  for (int64_t r = 0; r < M; ++r) {
    torch::Tensor kr = k;
    if (a.options().keys == MgkKeys::Shifted) {
      kr = k - params["mu"][r].view({1, H, 1, D});
    } else if (r > 0) {
      kr = test::project_heads(a, "k_proj_" + std::to_string(r), x, H);
    }
    kr = pe->rotate(kr);
    auto dist = (q.unsqueeze(3) - kr.unsqueeze(2)).pow(2).sum(-1);  // (B, H, N, N)
    const double var = std::sqrt(double(D)) / ((narrow && r >= 1) ? 3.0 : 1.0);
    num = num + params["pi"].select(1, r).view({1, H, 1, 1}) * torch::exp(-dist / (2 * var));
  }
  if (pe->has_bias()) num = num * torch::exp(pe->bias(0, N, N));
  num = num.masked_fill(torch::ones({N, N}, torch::kBool).triu(1), 0.0);
  auto probs = num / num.sum(-1, true);
  auto out = test::project(a, "o_proj", torch::matmul(probs, v).transpose(1, 2).reshape({B, N, H * D}));
  return {probs, out};
}

TEST(Mgk, ProbsMatchAPlainFloat64ReferenceOfTheMixture) {
  const nlohmann::json cases[] = {
      {{"components", 2}, {"keys", "mgk"}},
      {{"components", 2}, {"keys", "smgk"}},
      {{"components", 2}, {"keys", "mgk"}, {"narrow_second", true}},
      {{"components", 3}, {"keys", "smgk"}, {"narrow_second", true}},
      {{"components", 3}, {"keys", "mgk"}},
      {{"components", 1}, {"keys", "mgk"}},
  };
  const int64_t N = 13;
  for (const auto& position : test::all_positions()) {
    for (const auto& params : cases) {
      SCOPED_TRACE(position + " " + params.dump());
      auto a = mgk_layer(position, params);
      torch::manual_seed(5);
      auto x = torch::randn({2, N, 32}, torch::kFloat64);
      MgkSink sink(N);
      auto traced = mgk_run(*a, x, 4, &sink);
      const bool narrow = params.value("narrow_second", false);
      auto ref = mgk_reference(*a, x, narrow);
      EXPECT_TRUE(test::all_close(sink.maps.at("probs"), ref.probs, kMgkRef));
      EXPECT_TRUE(test::all_close(traced, ref.out, kMgkRef));
      // Untraced and unchunked: the same numbers.
      EXPECT_TRUE(test::all_close(mgk_run(*a, x, 0), ref.out, kMgkRef));
    }
  }
}

TEST(Mgk, ComponentsSumToProbsAndStagesStayInRange) {
  const int64_t N = 17;
  for (const std::string position : {"rope", "alibi"}) {
    for (int64_t M : {2, 3}) {
      for (const std::string keys : {"mgk", "smgk"}) {
        SCOPED_TRACE(position + " M=" + std::to_string(M) + " " + keys);
        auto a = mgk_layer(position, {{"components", M}, {"keys", keys}});
        std::vector<std::string> want{"raw"};
        if (position == "alibi") want.push_back("bias");
        for (int64_t r = 0; r < M; ++r) want.push_back("distance_" + std::to_string(r));
        want.push_back("responsibility");
        for (int64_t r = 0; r < M; ++r) want.push_back("component_" + std::to_string(r));
        want.insert(want.end(), {"logits", "probs"});
        EXPECT_EQ(a->stages(), want);

        torch::manual_seed(9);
        MgkSink sink(N);
        mgk_run(*a, torch::randn({1, N, 32}, torch::kFloat64), 5, &sink);
        for (const auto& s : want) ASSERT_EQ(sink.maps.count(s), 1u) << s;
        const auto& probs = sink.maps.at("probs");
        auto sum = torch::zeros_like(probs);
        for (int64_t r = 0; r < M; ++r) {
          sum = sum + sink.maps.at("component_" + std::to_string(r));
          EXPECT_GE(sink.maps.at("distance_" + std::to_string(r)).min().item<double>(), 0.0);
        }
        EXPECT_TRUE(test::all_close(sum, probs, kMgkExact));
        const auto& resp = sink.maps.at("responsibility");
        EXPECT_GE(resp.min().item<double>(), 0.0);
        EXPECT_LE(resp.max().item<double>(), double(M - 1) + 1e-12);
        EXPECT_GT(resp.max().item<double>(), 0.0);
        if (M == 2) {  // the expected index is gamma_1, the share of component 1 in probs
          EXPECT_TRUE(test::all_close(resp * probs, sink.maps.at("component_1"), kMgkExact));
        }
        if (keys == "mgk") {  // component 0 is the base key: distance_0 = |q_i - k_j|^2
          auto d = (sink.q.unsqueeze(3) - sink.k.unsqueeze(2)).pow(2).sum(-1);  // (1, H, N, N)
          d = d.masked_fill(torch::ones({N, N}, torch::kBool).triu(1), 0.0);
          EXPECT_TRUE(test::all_close(sink.maps.at("distance_0"), d, kMgkRef));
        }
      }
    }
  }
}

TEST(Mgk, MgkAndSmgkParameterShapesAndCounts) {
  // Seeded: LibTorch's default generator starts from a random seed in every process, and the
  // sample std of 32 draws of N(0, 0.5^2) falls outside 0.5 +- 0.2 about once in 550 draws.
  torch::manual_seed(23);
  const int64_t kBase = 4 * (32 * 32 + 32);  // q, k, v, o projections
  struct Case {
    int64_t M;
    std::string keys;
    int64_t count;
  };
  for (const auto& [M, keys, count] :
       {Case{2, "mgk", kBase + 1056 + 8}, Case{3, "mgk", kBase + 2 * 1056 + 12},
        Case{2, "smgk", kBase + 2 * 4 * 8 + 8}, Case{3, "smgk", kBase + 3 * 4 * 8 + 12}}) {
    SCOPED_TRACE(keys + " M=" + std::to_string(M));
    auto c = test::tiny_config("nope", "mgk");
    c.attention.params = {{"components", M}, {"keys", keys}};
    auto a = std::dynamic_pointer_cast<MgkAttentionImpl>(make_attention(c, 0, "test"));
    ASSERT_NE(a, nullptr);
    auto params = a->named_parameters();
    int64_t total = 0;
    for (const auto& p : params) total += p.value().numel();
    EXPECT_EQ(total, count);
    EXPECT_EQ(params["pi"].sizes(), (std::vector<int64_t>{4, M}));
    EXPECT_TRUE(torch::all(params["pi"] == 0.5).item<bool>());
    if (keys == "mgk") {
      EXPECT_EQ(params.find("mu"), nullptr);
      for (int64_t r = 1; r < M; ++r) {
        const auto name = "k_proj_" + std::to_string(r);
        EXPECT_EQ(params[name + ".weight"].sizes(), (std::vector<int64_t>{32, 32}));
        EXPECT_EQ(params[name + ".bias"].sizes(), (std::vector<int64_t>{32}));
      }
    } else {
      EXPECT_EQ(params.find("k_proj_1.weight"), nullptr);
      const auto& mu = params["mu"];
      EXPECT_EQ(mu.sizes(), (std::vector<int64_t>{M, 4, 8}));
      EXPECT_EQ(mu[0].abs().max().item<double>(), 0.0);  // mu_0 = 0, mu_r ~ N(0, 0.5^2)
      EXPECT_NEAR(mu.narrow(0, 1, M - 1).std().item<double>(), 0.5, 0.2);
    }
  }
}

// B.3: with one component, |q - k|^2 = |q|^2 + |k|^2 - 2 q.k and |q|^2 and log pi cancel in
// the softmax, so MGK is softmax of q.k / sqrt(d) - |k|^2 / (2 sqrt(d)) (+ P).
TEST(Mgk, OneComponentIsSoftmaxWithAKeyNormPenalty) {
  const int64_t N = 15, D = 8;
  const double var = std::sqrt(double(D));
  for (const auto& position : test::all_positions()) {
    for (const std::string keys : {"smgk", "mgk"}) {
      SCOPED_TRACE(position + " " + keys);
      auto a = mgk_layer(position, {{"components", 1}, {"keys", keys}});
      torch::manual_seed(13);
      MgkSink sink(N);
      mgk_run(*a, torch::randn({1, N, 32}, torch::kFloat64), 4, &sink);
      auto key = sink.k;  // rotated k from the base; smgk shifts it by mu_0 before rotating
      if (keys == "smgk") {
        // Rotation is linear, so rotate(k - mu_0) = rotate(k) - rotate(mu_0 at every position).
        auto shift = a->mu[0].detach().view({1, 4, 1, D}).expand({1, 4, N, D}).contiguous();
        key = key - a->position_encoding()->rotate(shift);
      }
      auto logits = torch::matmul(sink.q, key.transpose(-2, -1)) / var -
                    key.pow(2).sum(-1).unsqueeze(-2) / (2 * var);  // (1, H, N, N)
      auto mask = torch::ones({N, N}, torch::kBool).triu(1);
      if (keys == "mgk") {  // the base's raw stage is q.k / sqrt(d) of the same key
        EXPECT_TRUE(test::all_close(
            sink.maps.at("raw"),
            (torch::matmul(sink.q, key.transpose(-2, -1)) / var).masked_fill(mask, 0.0), kMgkRef));
      }
      if (sink.maps.count("bias")) logits = logits + sink.maps.at("bias");
      auto want = torch::softmax(logits.masked_fill(mask, -INFINITY), -1);
      EXPECT_TRUE(test::all_close(sink.maps.at("probs"), want, kMgkRef));
    }
  }
}

TEST(Mgk, NarrowSecondChangesTheResult) {
  auto wide = mgk_layer("rope", {{"components", 2}});
  auto narrow = mgk_layer("rope", {{"components", 2}, {"narrow_second", true}});
  EXPECT_DOUBLE_EQ(wide->variance(1), std::sqrt(8.0));
  EXPECT_DOUBLE_EQ(narrow->variance(0), std::sqrt(8.0));
  EXPECT_DOUBLE_EQ(narrow->variance(1), std::sqrt(8.0) / 3.0);
  torch::manual_seed(17);
  auto x = torch::randn({1, 11, 32}, torch::kFloat64);
  auto a = mgk_run(*wide, x, 0), b = mgk_run(*narrow, x, 0);
  EXPECT_TRUE(torch::equal(wide->pi, narrow->pi));  // same weights: only sigma_1 differs
  EXPECT_GT((a - b).abs().max().item<double>(), 1e-6);
}

TEST(Mgk, GradientsReachPiMuAndTheExtraKeyProjection) {
  for (const std::string keys : {"mgk", "smgk"}) {
    SCOPED_TRACE(keys);
    auto a = mgk_layer("alibi", {{"components", 2}, {"keys", keys}});
    torch::manual_seed(19);
    AttentionInputs in;
    in.chunk_rows = 3;
    a->forward(torch::randn({2, 9, 32}, torch::kFloat64), in).pow(2).sum().backward();
    for (const auto& p : a->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
    }
  }
}

void mgk_expect_config_error(const nlohmann::json& params, const std::string& field) {
  auto c = test::tiny_config("nope", "mgk");
  c.attention.params = params;
  try {
    make_attention(c, 0, "cfg.json");
    ADD_FAILURE() << params.dump() << " was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos)
        << params.dump() << ": " << e.what();
  }
}

TEST(Mgk, BadParametersAreConfigErrorsNamingTheField) {
  mgk_expect_config_error({{"components", 0}}, "'attention.components'");
  mgk_expect_config_error({{"components", "two"}}, "'attention.components'");
  mgk_expect_config_error({{"keys", "gauss"}}, "'attention.keys'");
  mgk_expect_config_error({{"keys", 2}}, "'attention.keys'");
  mgk_expect_config_error({{"narrow_second", 1}}, "'attention.narrow_second'");
  mgk_expect_config_error({{"components", 1}, {"narrow_second", true}},
                          "'attention.narrow_second'");
  mgk_expect_config_error({{"sigma", 2.0}}, "'attention.sigma'");

  const VariantInfo* info = nullptr;
  for (const auto& v : variant_registry()) info = v.name == "mgk" ? &v : info;
  ASSERT_NE(info, nullptr);
  ASSERT_EQ(info->params.size(), 3u);
  EXPECT_EQ(info->params[0].name, "components");
  EXPECT_EQ(info->params[0].default_value, 2);
  EXPECT_EQ(info->params[1].name, "keys");
  EXPECT_EQ(info->params[1].default_value, "mgk");
  EXPECT_EQ(info->params[2].name, "narrow_second");
  EXPECT_EQ(info->params[2].default_value, false);
}

}  // namespace
}  // namespace attn
