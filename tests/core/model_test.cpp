// SPDX-License-Identifier: MIT
// The model: shapes, parameter counts (tied and untied), config validation with errors that name
// the field, any evaluation length, and stopping after a layer.
#include <gtest/gtest.h>

#include "core/attention/attention.h"
#include "core/attention/position_encoding.h"
#include "core/util/error.h"
#include "tests/support/fixtures.h"

namespace attn {
namespace {

int64_t expected_params(const ModelConfig& c, int64_t pe_params) {
  const int64_t C = c.d_model, V = c.vocab_size, M = c.mlp_ratio * C;
  const int64_t block = 2 * 2 * C + 4 * (C * C + C) + (C * M + M) + (M * C + C) + pe_params;
  return V * C + c.n_layer * block + 2 * C + (c.tie_embeddings ? 0 : V * C);
}

TEST(Model, ParameterCountsMatchTheArchitecture) {
  for (const auto& pe : test::all_positions()) {
    auto c = test::tiny_config(pe);
    const int64_t pe_params =
        pe == "kerple" ? 2 * c.n_head : pe == "fire" ? (32 + 32) + (32 * c.n_head + c.n_head) + 2 : 0;
    for (bool tied : {true, false}) {
      c.tie_embeddings = tied;
      TransformerLM m(c);
      EXPECT_EQ(m->parameter_count(), expected_params(c, pe_params)) << pe << " tied " << tied;
    }
  }
}

TEST(Model, LogitsHaveShapeBatchByTokensByVocab) {
  auto m = test::tiny_model("alibi", torch::kFloat32);
  torch::NoGradGuard g;
  auto ids = torch::randint(64, {3, 10}, torch::kInt64);
  EXPECT_EQ(m->forward(ids).sizes(), (std::vector<int64_t>{3, 10, 256}));
}

TEST(Model, RunsFarBeyondTheTrainingLength) {
  for (const auto& pe : test::all_positions()) {
    auto m = test::tiny_model(pe, torch::kFloat32);  // train_len 16
    torch::NoGradGuard g;
    auto out = m->forward(test::random_ids(1024));
    EXPECT_FALSE(out.isnan().any().item<bool>()) << pe;
    EXPECT_FALSE(out.isinf().any().item<bool>()) << pe;
  }
}

TEST(Model, HiddenStopsAfterTheAskedLayer) {
  auto m = test::tiny_model("rope");
  auto ids = test::random_ids(9);
  torch::NoGradGuard g;
  int64_t layers_run = 0;
  ForwardOptions opts;
  opts.stop_after_layer = 0;
  opts.on_layer = [&](int64_t done) { layers_run = done; };
  auto h = m->hidden(ids, opts);
  EXPECT_EQ(layers_run, 1);
  EXPECT_EQ(h.sizes(), (std::vector<int64_t>{1, 9, 32}));
}

TEST(Model, EmptyInputIsAClearError) {
  auto m = test::tiny_model("nope");
  EXPECT_THROW(m->forward(torch::zeros({1, 0}, torch::kInt64)), Error);
}

TEST(Model, CancelStopsTheForwardPass) {
  auto m = test::tiny_model("nope");
  std::atomic<bool> cancel{true};
  ForwardOptions opts;
  opts.cancel = &cancel;
  EXPECT_THROW(m->forward(test::random_ids(8), opts), Cancelled);
}

void expect_config_error(const nlohmann::json& j, const std::string& needle) {
  try {
    auto c = model_config_from_json(j, "cfg.json");
    TransformerLM m(c, "cfg.json");
    ADD_FAILURE() << "no error for " << j.dump();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos) << e.what();
  }
}

TEST(ModelConfig, ErrorsNameTheField) {
  nlohmann::json good = {{"model", {{"vocab_size", 64}, {"d_model", 32}, {"n_layer", 2},
                                    {"n_head", 4}}},
                         {"attention", {{"variant", "dot"}}},
                         {"position", {{"kind", "alibi"}}}};
  EXPECT_NO_THROW(TransformerLM(model_config_from_json(good, "cfg.json")));
  auto bad = good;
  bad["attention"]["variant"] = "flash";
  expect_config_error(bad, "attention.variant");
  bad = good;
  bad["position"]["kind"] = "t5";
  expect_config_error(bad, "position.kind");
  bad = good;
  bad["position"]["base"] = 500;
  expect_config_error(bad, "position.base");
  bad = good;
  bad["model"]["n_head"] = 5;
  expect_config_error(bad, "model.n_head");
  bad = good;
  bad["model"]["layers"] = 3;
  expect_config_error(bad, "model.layers");
  bad = good;
  bad["model"].erase("d_model");
  expect_config_error(bad, "model.d_model");
  bad = good;
  bad["model"]["dropout"] = "none";
  expect_config_error(bad, "model.dropout");
  bad = good;
  bad["position"] = {{"kind", "fire"}, {"activation", "tanh"}};
  expect_config_error(bad, "position.activation");
}

TEST(ModelConfig, JsonRoundTrip) {
  auto c = test::tiny_config("fire");
  c.tie_embeddings = false;
  nlohmann::json j;
  model_config_to_json(c, j);
  auto back = model_config_from_json(j, "x");
  nlohmann::json j2;
  model_config_to_json(back, j2);
  EXPECT_EQ(j, j2);
  EXPECT_FALSE(back.tie_embeddings);
  EXPECT_EQ(back.position.params.at("threshold"), 4);
}

}  // namespace
}  // namespace attn
