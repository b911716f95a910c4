// SPDX-License-Identifier: MIT
// The decoder-only transformer: token embedding (no absolute positions), pre-LayerNorm blocks
// of attention and a GELU MLP (ratio from the config), a final LayerNorm and an output head
// tied to the embedding or not. Tensor names are listed in README.md ("Checkpoint format").
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include <torch/torch.h>

#include "core/attention/attention.h"
#include "core/model/config.h"

namespace attn {

/// Options of one forward pass.
struct ForwardOptions {
  StageSink* sink = nullptr;            // receives traced layers' stages
  int64_t chunk_rows = 0;               // 0: automatic
  int64_t max_chunk_elements = 0;      // 0: chunk_budget(device)
  int64_t stop_after_layer = -1;        // >= 0: stop after this block (for traces)
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(int64_t layers_done)> on_layer;  // progress, after each block
  /// Each block's output (B, N, C), before the final LayerNorm (for representation measures).
  std::function<void(int64_t layer, const torch::Tensor& x)> on_hidden;
};

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const ModelConfig& config, int64_t layer, const std::string& where);
  torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in);  // (B, N, C)
  const Attention& attention() const { return attn_; }
  /// N(0, std) for the projections of attention and MLP, resid_std for the two residual
  /// outputs (o_proj, proj), zero biases; other modules keep their library defaults.
  void init_weights(double std, double resid_std);

 private:
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  Attention attn_;
  torch::nn::Linear fc{nullptr}, proj{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(Block);

class TransformerLMImpl : public torch::nn::Module {
 public:
  /// Builds the model with fresh weights (GPT-2 style init for projections and embeddings,
  /// library defaults for position-encoding and variant modules). `where` names the config.
  TransformerLMImpl(const ModelConfig& config, const std::string& where = "config");
  /// Next-token logits (B, N, vocab) for token ids (B, N).
  torch::Tensor forward(const torch::Tensor& ids, const ForwardOptions& opts = {});
  /// Hidden states after the last block run (B, N, C); after ln_f when all blocks ran.
  torch::Tensor hidden(const torch::Tensor& ids, const ForwardOptions& opts = {});
  const ModelConfig& config() const { return config_; }
  /// The stages layer `layer` reports (variants may differ between layers).
  std::vector<std::string> stages(int64_t layer) const;
  /// Every stage of any layer, in first-seen order.
  std::vector<std::string> all_stages() const;
  int64_t parameter_count() const;

 private:
  ModelConfig config_;
  torch::nn::Embedding tok_emb{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm ln_f{nullptr};
  torch::nn::Linear head{nullptr};  // absent when tied
};
TORCH_MODULE(TransformerLM);

}  // namespace attn
