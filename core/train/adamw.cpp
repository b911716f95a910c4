// SPDX-License-Identifier: MIT
#include "core/train/adamw.h"

#include <cmath>

#include "core/util/error.h"

namespace attn {

bool decays(const std::string& name) {
  auto ends_with = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".bias") || name == "bias") return false;
  // LayerNorms: blocks.N.ln1, blocks.N.ln2 and ln_f.
  const auto last_dot = name.rfind('.');
  const std::string owner = last_dot == std::string::npos ? "" : name.substr(0, last_dot);
  const auto owner_dot = owner.rfind('.');
  const std::string module = owner_dot == std::string::npos ? owner : owner.substr(owner_dot + 1);
  return module.rfind("ln", 0) != 0;
}

AdamW::AdamW(const std::vector<std::pair<std::string, torch::Tensor>>& params, AdamWOptions opts)
    : o_(opts) {
  for (const auto& [name, p] : params) {
    if (!p.requires_grad()) continue;
    slots_.push_back({name, p, torch::zeros_like(p, torch::MemoryFormat::Preserve),
                      torch::zeros_like(p, torch::MemoryFormat::Preserve), decays(name)});
  }
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++t_;
  const double bc1 = 1.0 - std::pow(o_.beta1, double(t_));
  const double bc2 = 1.0 - std::pow(o_.beta2, double(t_));
  const double step_size = lr / bc1, sqrt_bc2 = std::sqrt(bc2);
  // Multi-tensor (_foreach) updates: a handful of kernels per step on CUDA instead of several per
  // parameter; the same arithmetic as PyTorch's AdamW (see adamw_test.cpp).
  std::vector<torch::Tensor> ps, gs, ms, vs, decayed;
  for (auto& s : slots_) {
    const auto& g = s.param.grad();
    if (!g.defined()) continue;
    ps.push_back(s.param);
    gs.push_back(g);
    ms.push_back(s.m);
    vs.push_back(s.v);
    if (s.decay) decayed.push_back(s.param);
  }
  if (ps.empty()) return;
  if (!decayed.empty() && o_.weight_decay != 0) at::_foreach_mul_(decayed, 1.0 - lr * o_.weight_decay);
  at::_foreach_mul_(ms, o_.beta1);
  at::_foreach_add_(ms, gs, 1.0 - o_.beta1);
  at::_foreach_mul_(vs, o_.beta2);
  at::_foreach_addcmul_(vs, gs, gs, 1.0 - o_.beta2);
  auto denom = at::_foreach_sqrt(vs);
  at::_foreach_div_(denom, sqrt_bc2);
  at::_foreach_add_(denom, o_.eps);
  at::_foreach_addcdiv_(ps, ms, denom, -step_size);
}

std::map<std::string, torch::Tensor> AdamW::state() const {
  std::map<std::string, torch::Tensor> out;
  for (const auto& s : slots_) {
    out["adam_m/" + s.name] = s.m;
    out["adam_v/" + s.name] = s.v;
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, torch::Tensor>& state, int64_t steps_taken,
                       const std::string& where) {
  torch::NoGradGuard no_grad;
  for (auto& s : slots_) {
    for (auto* pair : {&s.m, &s.v}) {
      const std::string key = (pair == &s.m ? "adam_m/" : "adam_v/") + s.name;
      const auto it = state.find(key);
      if (it == state.end()) throw Error(where + ": optimizer state '" + key + "' is missing");
      if (it->second.sizes() != pair->sizes()) {
        throw Error(where + ": optimizer state '" + key + "' has the wrong shape");
      }
      pair->copy_(it->second);
    }
  }
  t_ = steps_taken;
}

}  // namespace attn
