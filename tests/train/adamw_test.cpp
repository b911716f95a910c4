// SPDX-License-Identifier: MIT
// AdamW against LibTorch's torch::optim::AdamW (the reference), the weight-decay rule over every
// variant's parameters, and the state round trip that resume relies on.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/attention/registry.h"
#include "core/train/adamw.h"
#include "core/train/trainer.h"
#include "tests/support/fixtures.h"
#include "tests/support/tolerances.h"

namespace attn {
namespace {

TEST(AdamW, MatchesLibTorchAdamWWithTwoGroups) {
  torch::manual_seed(3);
  auto w = torch::randn({5, 7}, torch::kFloat64).requires_grad_();
  auto b = torch::randn({7}, torch::kFloat64).requires_grad_();
  auto w_ref = w.detach().clone().requires_grad_();
  auto b_ref = b.detach().clone().requires_grad_();
  AdamWOptions o;
  o.weight_decay = 0.1;
  AdamW ours({{"blocks.0.fc.weight", w}, {"blocks.0.fc.bias", b}}, o);
  const auto opts = torch::optim::AdamWOptions(1e-3).betas({0.9, 0.95}).eps(1e-8);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{w_ref},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(opts).weight_decay(0.1)));
  groups.emplace_back(std::vector<torch::Tensor>{b_ref},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(opts).weight_decay(0.0)));
  torch::optim::AdamW ref(groups, opts);
  for (int step = 0; step < 12; ++step) {
    const double lr = 1e-2 * (1.0 + 0.3 * std::sin(step));  // a changing rate, as scheduled
    const auto gw = torch::randn({5, 7}, torch::kFloat64), gb = torch::randn({7}, torch::kFloat64);
    w.mutable_grad() = gw.clone();
    b.mutable_grad() = gb.clone();
    w_ref.mutable_grad() = gw.clone();
    b_ref.mutable_grad() = gb.clone();
    for (auto& g : ref.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    ours.step(lr);
    ref.step();
  }
  EXPECT_TRUE(test::all_close(w, w_ref, test::kFloat64));
  EXPECT_TRUE(test::all_close(b, b_ref, test::kFloat64));
  EXPECT_EQ(ours.steps_taken(), 12);
}

TEST(AdamW, DecaysWeightsButNotBiasesOrNorms) {
  EXPECT_TRUE(decays("tok_emb.weight"));
  EXPECT_TRUE(decays("blocks.0.attn.q_proj.weight"));
  EXPECT_TRUE(decays("blocks.1.attn.pe.p"));       // Kerple's p and a
  EXPECT_TRUE(decays("blocks.1.attn.pe.a"));
  EXPECT_TRUE(decays("blocks.0.attn.conv1.weight"));  // DAPE V2's convolution
  EXPECT_FALSE(decays("blocks.0.attn.conv1.bias"));
  EXPECT_FALSE(decays("blocks.0.ln1.weight"));
  EXPECT_FALSE(decays("blocks.3.ln2.bias"));
  EXPECT_FALSE(decays("ln_f.weight"));
  EXPECT_FALSE(decays("blocks.0.fc.bias"));
  // Over every variant and encoding: exactly biases and LayerNorm parameters are exempt.
  for (const auto& v : variant_registry()) {
    for (const auto& p : {"kerple", "fire", "rope"}) {
      torch::manual_seed(1);
      TransformerLM m(test::tiny_config(p, v.name));
      for (const auto& item : m->named_parameters(true)) {
        const auto& n = item.key();
        const bool norm = n.find(".ln1.") != std::string::npos ||
                          n.find(".ln2.") != std::string::npos || n.rfind("ln_f.", 0) == 0;
        const bool bias = n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0;
        EXPECT_EQ(decays(n), !(norm || bias)) << v.name << "/" << p << ": " << n;
      }
    }
  }
}

TEST(GradientClip, MatchesLibTorchClipGradNorm) {
  for (const double max_norm : {0.5, 1e6}) {  // clipping, and a bound that never bites
    torch::manual_seed(8);
    std::vector<torch::Tensor> ours, ref;
    for (const auto& shape : {std::vector<int64_t>{4, 3}, {5}, {2, 2, 2}}) {
      auto g = torch::randn(shape, torch::kFloat64);
      ours.push_back(torch::zeros(shape, torch::kFloat64).requires_grad_());
      ref.push_back(torch::zeros(shape, torch::kFloat64).requires_grad_());
      ours.back().mutable_grad() = g.clone();
      ref.back().mutable_grad() = g.clone();
    }
    auto no_grad = torch::zeros({3}, torch::kFloat64).requires_grad_();  // no gradient at all
    ours.push_back(no_grad);
    const auto norms = clip_gradients(ours, max_norm);
    const double total = torch::nn::utils::clip_grad_norm_(ref, max_norm);
    EXPECT_NEAR(norms.pow(2).sum().sqrt().item<double>(), total, 1e-5 * total);
    EXPECT_EQ(norms[3].item<double>(), 0.0);
    for (size_t i = 0; i < ref.size(); ++i) {
      // The norms are float32 (one stack for every dtype): float32 rounding of the scale.
      EXPECT_TRUE(test::all_close(ours[i].grad(), ref[i].grad(), {1e-9, 1e-6})) << i;
    }
  }
}

TEST(AdamW, StateRoundTripContinuesIdentically) {
  torch::manual_seed(4);
  auto w1 = torch::randn({3, 4}).requires_grad_();
  auto w2 = w1.detach().clone().requires_grad_();
  AdamW a({{"x.weight", w1}}, {}), b({{"x.weight", w2}}, {});
  auto grad = [](int i) { return torch::full({3, 4}, 0.1 * (i + 1)) * torch::arange(12).view({3, 4}); };
  for (int i = 0; i < 3; ++i) {
    w1.mutable_grad() = grad(i);
    a.step(1e-2);
  }
  // b takes over a's state and weights after three steps, then both go on.
  {
    torch::NoGradGuard ng;
    w2.copy_(w1);
  }
  std::map<std::string, torch::Tensor> saved;
  for (const auto& [k, t] : a.state()) saved[k] = t.clone();
  b.load_state(saved, a.steps_taken(), "test");
  for (int i = 3; i < 6; ++i) {
    w1.mutable_grad() = grad(i);
    w2.mutable_grad() = grad(i);
    a.step(1e-2);
    b.step(1e-2);
  }
  EXPECT_TRUE(torch::equal(w1, w2));
  saved.erase("adam_v/x.weight");
  EXPECT_THROW(b.load_state(saved, 3, "test"), Error);
}

}  // namespace
}  // namespace attn
