// SPDX-License-Identifier: MIT
// AdamW with decoupled weight decay (PyTorch's update rule), over a model's named parameters,
// with its state as named tensors so that a run can be saved and resumed exactly.
// Weight decay goes to every parameter but biases and LayerNorm parameters: projection and MLP
// weights, the embedding, DAPE's convolutions and MLP, Kerple's p and a, FIRE's and the
// variants' own parameters.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace attn {

/// Whether the parameter `name` (as in model.safetensors) gets weight decay.
bool decays(const std::string& name);

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1;
};

class AdamW {
 public:
  AdamW(const std::vector<std::pair<std::string, torch::Tensor>>& params, AdamWOptions opts);
  /// One update with learning rate `lr` from the parameters' .grad (undefined grads skip).
  void step(double lr);
  int64_t steps_taken() const { return t_; }
  /// Moments by name ("adam_m/<param>", "adam_v/<param>"), on the parameters' device.
  std::map<std::string, torch::Tensor> state() const;
  /// Restores moments saved by state() and the number of steps taken. Throws attn::Error
  /// naming a missing or mis-shaped entry.
  void load_state(const std::map<std::string, torch::Tensor>& state, int64_t steps_taken,
                  const std::string& where);

 private:
  struct Slot {
    std::string name;
    torch::Tensor param, m, v;
    bool decay;
  };
  std::vector<Slot> slots_;
  AdamWOptions o_;
  int64_t t_ = 0;
};

}  // namespace attn
