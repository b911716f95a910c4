// SPDX-License-Identifier: MIT
#include "core/attention/dape_v1.h"

#include "core/attention/registry.h"

namespace attn {

DapeV1Impl::DapeV1Impl(const ModelConfig& config, PositionEncoding pe, int64_t width)
    : ScoreAttentionImpl(config, pe), width_(width) {
  const int64_t H = config.n_head, c_in = pe->has_bias() ? 2 * H : H;
  // PyTorch's default initialisation, as in the official code.
  mlp1 = register_module("mlp1", torch::nn::Linear(c_in, width));
  mlp2 = register_module("mlp2", torch::nn::Linear(width, H));
}

torch::Tensor DapeV1Impl::logits(const Chunk& c) {
  auto X = scores_and_bias(c);  // (B, 2H, R, K), or (B, H, R, K) without a bias
  const auto dt = X.scalar_type();
  auto h = torch::linear(X.permute({0, 2, 3, 1}), mlp1->weight.to(dt), mlp1->bias.to(dt));
  h = torch::leaky_relu(h, 0.01);                                           // (B, R, K, D)
  auto f = torch::linear(h, mlp2->weight.to(dt), mlp2->bias.to(dt)).permute({0, 3, 1, 2});
  c.record("mlp", f);                                                       // (B, H, R, K)
  return c.P.defined() ? c.S + c.P + f : c.S + f;
}

VariantInfo dape_v1_info() {
  return {"dape_v1",
          "DAPE V1: MLP across heads per (query, key), logits = S + P + MLP([S;P]) "
          "(Zheng et al., NeurIPS 2024, arXiv 2405.14722)",
          {{"width", 32, "D, the MLP's hidden units"}},
          [](const ModelConfig& c, int64_t, const std::string& where) -> Attention {
            const int64_t width = cfg::get_int(c.attention.params, "width", "attention", 32, 1,
                                               where);
            return std::make_shared<DapeV1Impl>(c, make_position_encoding(c, where), width);
          }};
}

}  // namespace attn
