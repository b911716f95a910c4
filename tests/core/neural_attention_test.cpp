// SPDX-License-Identifier: MIT
// Neural Attention: the additive split against the naive [q'_i ; k'_j] concatenation in float64
// (both forms, every encoding, chunked and not), d' and parameter counts, which layers use it,
// config errors naming the field, the gate's plateau property, and chunk sizing.
#include <gtest/gtest.h>

#include "core/attention/neural_attention.h"
#include "core/util/error.h"
#include "tests/support/fixtures.h"
#include "tests/support/tolerances.h"

namespace attn {
namespace {

// Names carry a neural_ prefix: the test sources share unity batches.
ModelConfig neural_config(const std::string& position, const nlohmann::json& params = {}) {
  auto c = test::tiny_config(position, "neural");
  c.attention.params = params.is_null() ? nlohmann::json::object() : params;
  return c;
}

TransformerLM neural_model(const ModelConfig& c, torch::Dtype dtype = torch::kFloat64,
                           uint64_t seed = 7) {
  torch::manual_seed(seed);
  TransformerLM m(c);
  m->to(dtype);
  m->eval();
  return m;
}

Attention neural_layer_of(TransformerLM& m, int64_t layer) {
  auto block = m->named_children()["blocks"]->children().at(size_t(layer));
  return std::dynamic_pointer_cast<AttentionImpl>(block->named_children()["attn"]);
}

std::shared_ptr<NeuralAttentionImpl> neural_of(TransformerLM& m, int64_t layer = 0) {
  return std::dynamic_pointer_cast<NeuralAttentionImpl>(neural_layer_of(m, layer));
}

/// Keeps whole (B, H, N, N) stage maps of one layer in their own dtype (MapCollector keeps
/// float32, too coarse for a 1e-10 comparison), and counts chunks per stage.
class NeuralSink : public StageSink {
 public:
  NeuralSink(int64_t layer, int64_t n) : layer_(layer), n_(n) {}
  bool wants(int64_t layer) const override { return layer == layer_; }
  void on_stage(int64_t, const std::string& stage, const torch::Tensor& rows,
                int64_t row_begin) override {
    auto& t = maps[stage];
    if (!t.defined()) t = torch::zeros({rows.size(0), rows.size(1), n_, n_}, rows.options());
    t.narrow(2, row_begin, rows.size(2)).narrow(3, 0, rows.size(3)).copy_(rows);
    ++chunks[stage];
  }
  std::map<std::string, torch::Tensor> maps;
  std::map<std::string, int64_t> chunks;

 private:
  int64_t layer_, n_;
};

torch::Tensor neural_lin(const torch::nn::Linear& l, const torch::Tensor& t) {
  return torch::matmul(t, l->weight.t()) + l->bias;
}

/// The score network written out as the official code does: repeat q' and k', concatenate to
/// (B, H, N, K, 2d'), then the MLP. Also returns the first hidden layer.
torch::Tensor neural_naive(const NeuralAttentionImpl& a, const torch::Tensor& q,
                           const torch::Tensor& k, torch::Tensor* hidden = nullptr) {
  const int64_t N = q.size(2), K = k.size(2);
  auto qp = neural_lin(a.q_down, q).unsqueeze(3).expand({-1, -1, -1, K, -1});  // (B, H, N, K, d')
  auto kp = neural_lin(a.k_down, k).unsqueeze(2).expand({-1, -1, N, -1, -1});  // (B, H, N, K, d')
  auto z = torch::cat({qp, kp}, -1);                                          // (B, H, N, K, 2d')
  auto h = torch::relu(neural_lin(a.mlp1, z));                                // (B, H, N, K, d')
  if (hidden) *hidden = h;
  if (a.form() == NeuralAttentionImpl::Form::Paper) return neural_lin(a.mlp2, h).squeeze(-1);
  return neural_lin(a.mlp3, torch::relu(neural_lin(a.mlp2, h))).squeeze(-1);  // (B, H, N, K)
}

class NeuralSplit : public ::testing::TestWithParam<std::string> {};

TEST_P(NeuralSplit, AdditiveSplitEqualsTheNaiveConcatenation) {
  for (const std::string form : {"code", "paper"}) {
    auto m = neural_model(neural_config(GetParam(), {{"form", form}}));
    auto attn = neural_of(m);
    ASSERT_NE(attn, nullptr);
    auto params = attn->named_parameters();
    {
      // Wider q and k projections than the model's init, so that q' and k' vary from token to
      // token and the MLP's output is not the same for every pair.
      torch::NoGradGuard g;
      params["q_proj.weight"].normal_(0.0, 0.5);
      params["k_proj.weight"].normal_(0.0, 0.5);
    }
    torch::manual_seed(3);
    const int64_t B = 2, N = 13, H = 4, D = 8;
    auto x = torch::randn({B, N, 32}, torch::kFloat64);
    auto lin = [&](const std::string& name) {
      return torch::matmul(x, params[name + ".weight"].t()) + params[name + ".bias"];
    };
    auto heads = [&](const torch::Tensor& t) { return t.view({B, N, H, D}).transpose(1, 2); };
    const auto& pe = attn->position_encoding();
    auto q = pe->rotate(heads(lin("q_proj"))), k = pe->rotate(heads(lin("k_proj")));
    torch::NoGradGuard g;
    torch::Tensor hidden;
    auto e = neural_naive(*attn, q, k, &hidden);  // (B, H, N, N)
    ASSERT_GT(e.std().item<double>(), 1e-3) << form << ": the scores do not vary";
    EXPECT_TRUE(test::all_close(attn->pair_scores(q, k), e, {1e-10, 0.0})) << form;
    auto future = torch::ones({N, N}, torch::kBool).triu(1);
    auto want = (pe->has_bias() ? e + pe->bias(0, N, N) : e).masked_fill(future, 0.0);
    for (int64_t chunk : {0, 1, 4}) {
      NeuralSink sink(0, N);
      AttentionInputs in;
      in.sink = &sink;
      in.chunk_rows = chunk;
      attn->forward(x, in);
      EXPECT_TRUE(test::all_close(sink.maps.at("logits"), want, {1e-10, 0.0}))
          << form << " chunk_rows " << chunk;
      for (int64_t u = 0; u < attn->projection_dim(); ++u) {
        EXPECT_TRUE(test::all_close(sink.maps.at("hidden_" + std::to_string(u)),
                                    hidden.select(-1, u).masked_fill(future, 0.0), {1e-10, 0.0}))
            << form << " hidden_" << u;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllPositionEncodings, NeuralSplit,
                         ::testing::ValuesIn(test::all_positions()),
                         [](const auto& info) { return info.param; });

TEST(NeuralAttention, ProjectionDimFollowsTheOfficialCodeOrTheOverride) {
  for (auto [hd, want] : std::vector<std::pair<int64_t, int64_t>>{
           {16, 2}, {64, 2}, {96, 3}, {128, 4}}) {
    EXPECT_EQ(neural_projection_dim(hd), want) << "head_dim " << hd;
    auto c = neural_config("nope");
    c.n_head = 2;
    c.d_model = 2 * hd;
    c.n_layer = 1;
    auto m = neural_model(c);
    EXPECT_EQ(neural_of(m)->projection_dim(), want) << "head_dim " << hd;
    EXPECT_EQ(neural_of(m)->q_down->weight.sizes(), torch::IntArrayRef({want, hd}));
  }
  auto m = neural_model(neural_config("nope", {{"projection_dim", 5}}));
  auto a = neural_of(m);
  EXPECT_EQ(a->projection_dim(), 5);
  EXPECT_EQ(a->k_down->weight.sizes(), torch::IntArrayRef({5, 8}));
  EXPECT_EQ(a->mlp1->weight.sizes(), torch::IntArrayRef({5, 10}));
  EXPECT_EQ(a->mlp2->weight.sizes(), torch::IntArrayRef({2, 5}));
  EXPECT_EQ(a->mlp3->weight.sizes(), torch::IntArrayRef({1, 2}));
  auto explicit_null = neural_model(neural_config("nope", {{"projection_dim", nullptr}}));
  EXPECT_EQ(neural_of(explicit_null)->projection_dim(), 2);
}

int64_t neural_added_params(const NeuralAttentionImpl& a) {
  int64_t n = 0;
  for (const auto& item : a.named_parameters()) {
    const auto& name = item.key();
    if (name.rfind("q_down", 0) == 0 || name.rfind("k_down", 0) == 0 || name.rfind("mlp", 0) == 0)
      n += item.value().numel();
  }
  return n;
}

TEST(NeuralAttention, AddedParameterCounts) {
  // d' = 2: two Linear(hd -> 2) with bias, then 4 -> 2 -> 1 -> 1 (10 + 3 + 2).
  auto m = neural_model(neural_config("nope"));
  EXPECT_EQ(neural_added_params(*neural_of(m)), 2 * (8 * 2 + 2) + 15);
  auto dot = test::tiny_model("nope");
  EXPECT_EQ(m->parameter_count() - dot->parameter_count(), 51);  // only layer 0 adds any
  auto c = neural_config("nope");
  c.n_head = 2;
  c.d_model = 128;  // head_dim 64, the NLP setting: about 275 (variants.md §A.2)
  auto nlp = neural_model(c);
  EXPECT_EQ(neural_added_params(*neural_of(nlp)), 275);
  auto paper = neural_model(neural_config("nope", {{"form", "paper"}}));
  EXPECT_EQ(neural_added_params(*neural_of(paper)), 2 * (8 * 2 + 2) + 10 + 3);
  EXPECT_TRUE(neural_of(paper)->mlp3.is_empty());
}

TEST(NeuralAttention, OnlyTheConfiguredLayersUseIt) {
  auto has_hidden = [](const std::vector<std::string>& s) {
    return std::find(s.begin(), s.end(), "hidden_0") != s.end() &&
           std::find(s.begin(), s.end(), "gate") != s.end();
  };
  auto first = neural_model(neural_config("alibi"));  // default: [0]
  EXPECT_TRUE(has_hidden(first->stages(0)));
  EXPECT_FALSE(has_hidden(first->stages(1)));
  EXPECT_EQ(neural_layer_of(first, 1)->name(), "dot");
  EXPECT_EQ(first->stages(0), (std::vector<std::string>{"raw", "bias", "hidden_0", "hidden_1",
                                                        "gate", "logits", "probs"}));
  auto second = neural_model(neural_config("alibi", {{"layers", nlohmann::json::array({1})}}));
  EXPECT_FALSE(has_hidden(second->stages(0)));
  EXPECT_TRUE(has_hidden(second->stages(1)));
  EXPECT_EQ(neural_layer_of(second, 0)->name(), "dot");
  EXPECT_EQ(neural_layer_of(second, 1)->name(), "neural");
  auto both = neural_model(neural_config("rope", {{"layers", nlohmann::json::array({1, 0})}}));
  EXPECT_TRUE(has_hidden(both->stages(0)) && has_hidden(both->stages(1)));
}

void neural_expect_config_error(const nlohmann::json& params, const std::string& field) {
  try {
    TransformerLM m(neural_config("nope", params));
    ADD_FAILURE() << "no ConfigError for " << params.dump();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'" + field + "'"), std::string::npos)
        << params.dump() << ": " << e.what();
  }
}

TEST(NeuralAttention, BadValuesAreConfigErrorsNamingTheField) {
  using nlohmann::json;
  for (const json& layers : {json::array({2}), json::array({-1}), json::array({"0"}), json(0),
                             json::array({0.5}), json::array(), json::array({0, 0}), json(),
                             json("0"), json::array({json::array({0})})}) {
    neural_expect_config_error({{"layers", layers}}, "attention.layers");
  }
  for (const json& form : {json("Paper"), json(3), json("")}) {
    neural_expect_config_error({{"form", form}}, "attention.form");
  }
  for (const json& dim : {json(0), json("2"), json(1.5), json(1), json(-3)}) {
    neural_expect_config_error({{"projection_dim", dim}}, "attention.projection_dim");
  }
  neural_expect_config_error({{"width", 3}}, "attention.width");
  // One unit suffices for the paper's single hidden layer.
  TransformerLM ok(neural_config("nope", {{"form", "paper"}, {"projection_dim", 1}}));
  EXPECT_EQ(neural_of(ok)->projection_dim(), 1);
}

TEST(NeuralAttention, GateIsBinaryAndMarksTheConstantPlateau) {
  const int64_t N = 40;
  auto past = torch::ones({N, N}, torch::kBool).tril().expand({1, 4, N, N});
  for (const std::string position : {"nope", "kerple"}) {
    for (const std::string form : {"code", "paper"}) {
      // A gate both open and closed somewhere needs suitable weights (with W2 >= 0 and b2 > 0 it
      // never closes), and the tiny model's q and k (std ~0.1) barely move q' and k': so widen
      // the q and k projections and take the first seed whose gate is mixed.
      for (uint64_t seed = 1; seed <= 30; ++seed) {
        auto m = neural_model(neural_config(position, {{"form", form}}), torch::kFloat64, seed);
        auto a = neural_of(m);
        torch::NoGradGuard g;
        auto params = a->named_parameters();
        params["q_proj.weight"].normal_(0.0, 0.5);
        params["k_proj.weight"].normal_(0.0, 0.5);
        NeuralSink sink(0, N);
        ForwardOptions opts;
        opts.sink = &sink;
        opts.chunk_rows = 7;
        m->forward(test::random_ids(N), opts);
        const auto& gate = sink.maps.at("gate");
        auto off = past & (gate == 0), on = past & (gate == 1);
        if (off.sum().item<int64_t>() == 0 || on.sum().item<int64_t>() == 0) {
          ASSERT_LT(seed, 30u) << position << " " << form << ": no seed with a mixed gate";
          continue;
        }
        const std::string what = position + " " + form + " seed " + std::to_string(seed);
        EXPECT_TRUE(torch::equal(gate, (gate > 0.5).to(gate.scalar_type()))) << what;
        auto e = sink.maps.at("logits");
        if (sink.maps.count("bias")) e = e - sink.maps.at("bias");
        const auto out_bias = (form == "code" ? a->mlp3 : a->mlp2)->bias.item<double>();
        EXPECT_LE((e.masked_select(off) - out_bias).abs().max().item<double>(), 1e-12) << what;
        if (position == "nope") {  // no bias to subtract: exactly the output bias
          EXPECT_TRUE(torch::all(e.masked_select(off) == out_bias).item<bool>()) << what;
        }
        EXPECT_GT((e.masked_select(on) - out_bias).abs().min().item<double>(), 0.0) << what;
        break;
      }
    }
  }
}

// The degenerate case: a gate closed at every pair makes e the constant output bias, so the
// layer attends uniformly (with NoPE) and no gradient reaches its score network or its q and k
// projections. At PyTorch's default init this happens to about half of the neural layers of the
// tiny model (all pairs share nearly the same q' and k'), a property of the official design.
TEST(NeuralAttention, AClosedGateIsUniformAttentionAndStopsGradients) {
  auto m = neural_model(neural_config("nope"));
  auto a = neural_of(m);
  {
    torch::NoGradGuard g;
    a->mlp2->bias.fill_(-1e3);  // u = W2 h1 + b2 < 0 for every pair
  }
  const int64_t N = 12;
  NeuralSink sink(0, N);
  ForwardOptions opts;
  opts.sink = &sink;
  m->train();
  auto ids = test::random_ids(N);
  auto logits = m->forward(ids, opts);
  EXPECT_EQ(sink.maps.at("gate").abs().max().item<double>(), 0.0);
  auto uniform = torch::ones({N, N}, torch::kFloat64).tril();
  uniform = (uniform / uniform.sum(-1, true)).expand({1, 4, N, N});
  EXPECT_TRUE(test::all_close(sink.maps.at("probs"), uniform, test::kFloat64));
  torch::nn::functional::cross_entropy(logits.reshape({-1, 256}), ids.reshape({-1})).backward();
  for (const auto& item : a->named_parameters()) {
    const auto& name = item.key();
    if (name.rfind("v_proj", 0) == 0 || name.rfind("o_proj", 0) == 0) continue;
    // The output bias gets rounding noise only (see the next test); the rest exactly nothing.
    const double limit = name == "mlp3.bias" ? 1e-12 : 0.0;
    EXPECT_LE(item.value().grad().abs().max().item<double>(), limit) << name;
  }
}

TEST(NeuralAttention, PaperFormRunsAndDiffersFromTheCodeForm) {
  auto code = neural_model(neural_config("rope"));
  auto paper = neural_model(neural_config("rope", {{"form", "paper"}}));
  EXPECT_EQ(neural_of(paper)->form(), NeuralAttentionImpl::Form::Paper);
  EXPECT_EQ(neural_of(paper)->mlp2->weight.sizes(), torch::IntArrayRef({1, 2}));
  auto ids = test::random_ids(21);
  torch::NoGradGuard g;
  auto a = code->forward(ids), b = paper->forward(ids);
  EXPECT_EQ(b.sizes(), a.sizes());
  EXPECT_FALSE(b.isnan().any().item<bool>());
  EXPECT_GT((a - b).abs().max().item<double>(), 1e-6);
}

TEST(NeuralAttention, ChunksAreSizedByTheHiddenWidth) {
  // Neural layer: H (d' + 1) = 12 values per score cell; dot layer: H = 4.
  auto m = neural_model(neural_config("nope"), torch::kFloat32);
  const int64_t N = 64;
  ForwardOptions opts;
  opts.max_chunk_elements = 12 * N * 8;  // 8 rows of the neural layer, 24 of the dot layer
  torch::NoGradGuard g;
  NeuralSink first(0, N), second(1, N);
  opts.sink = &first;
  m->forward(test::random_ids(N), opts);
  opts.sink = &second;
  m->forward(test::random_ids(N), opts);
  EXPECT_EQ(first.chunks.at("logits"), 8);
  EXPECT_EQ(second.chunks.at("logits"), 3);
}

TEST(NeuralAttention, GradientsReachTheScoreNetworkButNotTheOutputBias) {
  // Seed 48: every neural layer's gate is open somewhere (see the closed-gate test above).
  for (const std::string form : {"code", "paper"}) {
    auto m = neural_model(neural_config("alibi", {{"form", form}}), torch::kFloat64, 48);
    auto a = neural_of(m);
    m->train();
    auto ids = test::random_ids(24);
    auto logits = m->forward(ids);
    torch::nn::functional::cross_entropy(logits.reshape({-1, 256}), ids.reshape({-1})).backward();
    // The output bias (b3; b_a in the paper form) shifts every logit of a row alike, and softmax
    // ignores that: its gradient is zero up to rounding. Faithful to the official code.
    const std::string out_bias = form == "code" ? "mlp3.bias" : "mlp2.bias";
    for (const auto& item : a->named_parameters()) {
      const auto& grad = item.value().grad();
      ASSERT_TRUE(grad.defined()) << item.key();
      if (item.key() == out_bias) {
        EXPECT_LE(grad.abs().max().item<double>(), 1e-12) << form;
      } else {
        EXPECT_GT(grad.abs().max().item<double>(), 0.0) << form << " " << item.key();
      }
    }
  }
}

}  // namespace
}  // namespace attn
