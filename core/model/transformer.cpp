// SPDX-License-Identifier: MIT
#include "core/model/transformer.h"

#include <algorithm>
#include <cmath>

#include "core/util/error.h"

namespace attn {

namespace {
void model_init_linear(torch::nn::Linear& l, double std) {
  torch::NoGradGuard no_grad;
  l->weight.normal_(0.0, std);
  if (l->bias.defined()) l->bias.zero_();
}
}  // namespace

BlockImpl::BlockImpl(const ModelConfig& c, int64_t layer, const std::string& where) {
  const int64_t C = c.d_model;
  ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({C})));
  attn_ = register_module("attn", make_attention(c, layer, where));
  ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({C})));
  fc = register_module("fc", torch::nn::Linear(C, c.mlp_ratio * C));
  proj = register_module("proj", torch::nn::Linear(c.mlp_ratio * C, C));
  drop = register_module("drop", torch::nn::Dropout(c.dropout));
}

void BlockImpl::init_weights(double std, double resid_std) {
  model_init_linear(fc, std);
  model_init_linear(proj, resid_std);
  // Only the projections: position-encoding and variant modules (DAPE's MLP and
  // convolutions, FIRE's MLP) keep LibTorch's defaults, as in the official code.
  for (const auto& item : attn_->named_children()) {
    const auto& name = item.key();
    // k_proj_r: MGK's extra keys start like the first one.
    const bool projection = name == "q_proj" || name.rfind("k_proj", 0) == 0 ||
                            name == "v_proj" || name == "o_proj";
    if (!projection) continue;
    auto lin = std::dynamic_pointer_cast<torch::nn::LinearImpl>(item.value());
    if (!lin) continue;
    torch::nn::Linear holder(lin);
    model_init_linear(holder, name == "o_proj" ? resid_std : std);
  }
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const AttentionInputs& in) {
  auto h = x + drop->forward(attn_->forward(ln1->forward(x), in));
  auto m = proj->forward(torch::gelu(fc->forward(ln2->forward(h))));
  return h + drop->forward(m);
}

TransformerLMImpl::TransformerLMImpl(const ModelConfig& c, const std::string& where)
    : config_(c) {
  tok_emb = register_module("tok_emb", torch::nn::Embedding(c.vocab_size, c.d_model));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t l = 0; l < c.n_layer; ++l) blocks->push_back(Block(c, l, where));
  ln_f = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  if (!c.tie_embeddings) {
    head = register_module("head", torch::nn::Linear(
                                       torch::nn::LinearOptions(c.d_model, c.vocab_size).bias(false)));
  }
  // GPT-2 style: N(0, 0.02), residual projections scaled by 1/sqrt(2 * layers), zero biases.
  const double std = 0.02, resid_std = 0.02 / std::sqrt(2.0 * double(c.n_layer));
  {
    torch::NoGradGuard no_grad;
    tok_emb->weight.normal_(0.0, std);
  }
  for (const auto& m : *blocks) m->as<BlockImpl>()->init_weights(std, resid_std);
  if (head) model_init_linear(head, std);
}

torch::Tensor TransformerLMImpl::hidden(const torch::Tensor& ids, const ForwardOptions& opts) {
  if (ids.dim() != 2) throw Error("token ids must have shape (B, N)");
  if (ids.size(1) == 0) throw Error("the input has no tokens: give a non-empty text");
  auto x = tok_emb->forward(ids);  // (B, N, C)
  AttentionInputs in;
  in.sink = opts.sink;
  in.chunk_rows = opts.chunk_rows;
  in.max_chunk_elements = opts.max_chunk_elements;
  in.cancel = opts.cancel;
  const int64_t last = opts.stop_after_layer >= 0
                           ? std::min<int64_t>(opts.stop_after_layer, config_.n_layer - 1)
                           : config_.n_layer - 1;
  for (int64_t l = 0; l <= last; ++l) {
    if (opts.cancel && opts.cancel->load()) throw Cancelled();
    in.layer = l;
    x = blocks[l]->as<BlockImpl>()->forward(x, in);
    if (opts.on_hidden) opts.on_hidden(l, x);
    if (opts.on_layer) opts.on_layer(l + 1);
  }
  return last == config_.n_layer - 1 ? ln_f->forward(x) : x;
}

torch::Tensor TransformerLMImpl::forward(const torch::Tensor& ids, const ForwardOptions& opts) {
  ForwardOptions all = opts;
  all.stop_after_layer = -1;
  auto h = hidden(ids, all);  // (B, N, C)
  return head ? head->forward(h) : torch::matmul(h, tok_emb->weight.t());  // (B, N, vocab)
}

std::vector<std::string> TransformerLMImpl::stages(int64_t layer) const {
  return std::dynamic_pointer_cast<BlockImpl>(blocks->children().at(size_t(layer)))
      ->attention()
      ->stages();
}

std::vector<std::string> TransformerLMImpl::all_stages() const {
  std::vector<std::string> out;
  for (int64_t l = 0; l < config_.n_layer; ++l) {
    for (const auto& s : stages(l)) {
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
  }
  return out;
}

int64_t TransformerLMImpl::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace attn
