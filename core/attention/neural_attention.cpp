// SPDX-License-Identifier: MIT
// Neural Attention's pair scores, computed per query chunk from the chunk's rotated q and k, and
// its registry entry: which layers use it (the others get dot-product attention), the form and
// d'. The modules keep LibTorch's default initialisation, as in the official code.
#include "core/attention/neural_attention.h"

#include <algorithm>

#include "core/attention/dot_attention.h"
#include "core/attention/registry.h"
#include "core/util/error.h"

namespace attn {

int64_t neural_projection_dim(int64_t head_dim) { return std::max<int64_t>(2, head_dim / 32); }

NeuralAttentionImpl::NeuralAttentionImpl(const ModelConfig& config, PositionEncoding pe,
                                         Form form, int64_t projection_dim)
    : ScoreAttentionImpl(config, pe), form_(form), dim_(projection_dim) {
  TORCH_INTERNAL_ASSERT(dim_ >= (form_ == Form::Code ? 2 : 1), "d' checked by the factory");
  const int64_t hd = config.head_dim(), d = dim_;
  q_down = register_module("q_down", torch::nn::Linear(hd, d));
  k_down = register_module("k_down", torch::nn::Linear(hd, d));
  mlp1 = register_module("mlp1", torch::nn::Linear(2 * d, d));
  if (form_ == Form::Code) {
    mlp2 = register_module("mlp2", torch::nn::Linear(d, d / 2));
    mlp3 = register_module("mlp3", torch::nn::Linear(d / 2, 1));
  } else {
    mlp2 = register_module("mlp2", torch::nn::Linear(d, 1));  // w_a, b_a
  }
}

std::vector<std::string> NeuralAttentionImpl::extra_stages() const {
  std::vector<std::string> s;
  for (int64_t u = 0; u < dim_; ++u) s.push_back("hidden_" + std::to_string(u));
  s.push_back("gate");
  return s;
}

torch::Tensor NeuralAttentionImpl::pair_scores(const torch::Tensor& q, const torch::Tensor& k,
                                               const StageRecorder& record) const {
  // Weights follow the work dtype (float32 for half-precision models), as in DAPE.
  const auto dt = q.scalar_type();
  auto w = [&](const torch::nn::Linear& l) { return l->weight.to(dt); };
  auto b = [&](const torch::nn::Linear& l) { return l->bias.to(dt); };
  auto qp = torch::linear(q, w(q_down), b(q_down));                    // (B, H, R, d')
  auto kp = torch::linear(k.to(dt), w(k_down), b(k_down));             // (B, H, K, d')
  // W1 [q'_i ; k'_j] + b1 = (W1a q'_i + b1) + W1b k'_j: each half once per token, then a
  // broadcast add; the [.., 2d'] concatenation is never built.
  auto w1 = w(mlp1);                                                   // (d', 2d')
  auto qa = torch::linear(qp, w1.narrow(1, 0, dim_), b(mlp1));         // (B, H, R, d')
  auto kb = torch::linear(kp, w1.narrow(1, dim_, dim_));               // (B, H, K, d')
  auto h1 = torch::relu(qa.unsqueeze(3) + kb.unsqueeze(2));            // (B, H, R, K, d')
  torch::Tensor last = h1, out_w, out_b;  // the last ReLU's output, and the output layer
  if (form_ == Form::Code) {
    last = torch::relu(torch::linear(h1, w(mlp2), b(mlp2)));           // (B, H, R, K, d'/2)
    out_w = w(mlp3), out_b = b(mlp3);
  } else {
    out_w = w(mlp2), out_b = b(mlp2);
  }
  auto e = torch::linear(last, out_w, out_b).squeeze(-1);              // (B, H, R, K)
  if (record) {
    for (int64_t u = 0; u < dim_; ++u) record("hidden_" + std::to_string(u), h1.select(-1, u));
    // ReLU(x) > 0 exactly where x > 0. Where no unit of the last ReLU is active, e is exactly
    // the output bias (the plateau of variants.md §A.2).
    record("gate", (last > 0).any(-1).to(dt));                         // (B, H, R, K)
  }
  return e;
}

torch::Tensor NeuralAttentionImpl::logits(const Chunk& c) {
  // Stage maps only when the layer is traced.
  auto e = pair_scores(c.q.to(c.work_dtype), c.k.to(c.work_dtype),
                       c.tracing ? c.record : StageRecorder());  // (B, H, R, K)
  return c.P.defined() ? e + c.P : e;
}

namespace {

std::vector<int64_t> neural_layers(const nlohmann::json& p, int64_t n_layer,
                                   const std::string& where) {
  const auto& v = p.at("layers");
  const std::string hint = "a non-empty JSON array of distinct layer indices in [0, " +
                           std::to_string(n_layer) + "), e.g. [0] as the official code";
  if (!v.is_array() || v.empty()) {
    throw ConfigError(where + ": field 'attention.layers' must be " + hint + "; got " + v.dump());
  }
  std::vector<int64_t> layers;
  for (const auto& item : v) {
    const bool ok = item.is_number_integer() && item.get<int64_t>() >= 0 &&
                    item.get<int64_t>() < n_layer;
    if (!ok || std::count(layers.begin(), layers.end(), item.get<int64_t>()) > 0) {
      throw ConfigError(where + ": field 'attention.layers' must be " + hint + "; got " +
                        v.dump() + " (bad entry " + item.dump() + ")");
    }
    layers.push_back(item.get<int64_t>());
  }
  return layers;
}

NeuralAttentionImpl::Form neural_form(const nlohmann::json& p, const std::string& where) {
  const std::string form = cfg::get_string(p, "form", "attention", "code", where);
  if (form == "code") return NeuralAttentionImpl::Form::Code;
  if (form == "paper") return NeuralAttentionImpl::Form::Paper;
  throw ConfigError(where + ": field 'attention.form' must be \"code\" (the official code, two "
                    "hidden layers) or \"paper\" (one hidden layer); got \"" + form + "\"");
}

int64_t neural_dim(const nlohmann::json& p, int64_t head_dim, NeuralAttentionImpl::Form form,
                   const std::string& where) {
  if (!p.contains("projection_dim") || p.at("projection_dim").is_null()) {
    return neural_projection_dim(head_dim);
  }
  const int64_t d = cfg::get_int(p, "projection_dim", "attention", 0, 1, where);
  if (form == NeuralAttentionImpl::Form::Code && d < 2) {
    throw ConfigError(where + ": field 'attention.projection_dim' must be at least 2 with "
                      "\"form\": \"code\" (its second hidden layer has floor(d'/2) units); got " +
                      std::to_string(d));
  }
  return d;
}

}  // namespace

VariantInfo neural_attention_info() {
  return {"neural",
          "Neural Attention: an MLP scores each (query, key) pair, e = MLP([q'_i ; k'_j]), "
          "shared by the heads (DiGiugno & Mahmood, arXiv 2502.17206)",
          {{"layers", nlohmann::json::array({0}),
            "layer indices that use Neural Attention; the others use dot-product attention "
            "(the official code: the first layer only)"},
           {"form", "code",
            "\"code\": 2d' -> d' -> floor(d'/2) -> 1 as the official code; \"paper\": one hidden "
            "layer, 2d' -> d' -> 1, as the paper's equation"},
           {"projection_dim", nullptr,
            "d', the width of q', k' and the first hidden layer; null: max(2, head_dim / 32) "
            "as the official code"}},
          [](const ModelConfig& c, int64_t layer, const std::string& where) -> Attention {
            // Every field is checked on every layer, so a bad value fails whichever layer uses it.
            const auto& p = c.attention.params;
            const auto layers = neural_layers(p, c.n_layer, where);
            const auto form = neural_form(p, where);
            const int64_t dim = neural_dim(p, c.head_dim(), form, where);
            if (std::find(layers.begin(), layers.end(), layer) == layers.end()) {
              return std::make_shared<DotAttentionImpl>(c, make_position_encoding(c, where));
            }
            return std::make_shared<NeuralAttentionImpl>(c, make_position_encoding(c, where),
                                                         form, dim);
          }};
}

}  // namespace attn
