// SPDX-License-Identifier: MIT
#include "core/model/trace.h"

#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"

namespace attn {

MapCollector::MapCollector(std::set<int64_t> layers, std::set<std::string> stages, int64_t n)
    : layers_(std::move(layers)), stages_(std::move(stages)), n_(n) {}

void MapCollector::on_qk(int64_t layer, const torch::Tensor& q, const torch::Tensor& k) {
  auto& m = maps_[layer];
  m.q = q[0].detach().to(torch::kCPU, torch::kFloat32).contiguous();  // (H, N, head_dim)
  m.k = k[0].detach().to(torch::kCPU, torch::kFloat32).contiguous();
}

void MapCollector::on_stage(int64_t layer, const std::string& stage, const torch::Tensor& rows,
                            int64_t row_begin) {
  if (!stages_.empty() && stages_.count(stage) == 0) return;
  auto& full = maps_[layer].stages[stage];
  const int64_t H = rows.size(1), R = rows.size(2), K = rows.size(3);
  if (!full.defined()) full = torch::zeros({H, n_, n_}, torch::kFloat32);  // (H, N, N)
  full.narrow(1, row_begin, R).narrow(2, 0, K).copy_(rows[0].detach().to(torch::kCPU, torch::kFloat32));
}

void write_trace(const std::string& path, const TraceInfo& info,
                 const std::map<int64_t, LayerMaps>& layers) {
  std::vector<int64_t> ids;
  nlohmann::json spans = nlohmann::json::array(), layer_list = nlohmann::json::array();
  for (const auto& t : info.tokens) {
    ids.push_back(t.id);
    spans.push_back({t.begin, t.end});
  }
  std::vector<st::TensorData> tensors;
  tensors.push_back({"token_ids", st::DType::I64, {int64_t(ids.size())}, ids.data(),
                     ids.size() * sizeof(int64_t)});
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    tensors.push_back({name, st::DType::F32, t.sizes().vec(), t.data_ptr(),
                       size_t(t.numel()) * sizeof(float)});
  };
  for (const auto& [l, m] : layers) {
    layer_list.push_back(l);
    const std::string prefix = "layers." + std::to_string(l) + ".";
    if (m.q.defined()) add(prefix + "q", m.q);
    if (m.k.defined()) add(prefix + "k", m.k);
    for (const auto& [stage, t] : m.stages) add(prefix + stage, t);
  }
  std::map<std::string, std::string> meta = {
      {"format", "attnscope-trace"},
      {"format_version", "1"},
      {"checkpoint", info.checkpoint},
      {"variant", info.variant},
      {"position", info.position},
      {"tokens", nlohmann::json(info.labels).dump()},
      {"token_spans", spans.dump()},
      {"stages", nlohmann::json(info.stages).dump()},
      {"layers", layer_list.dump()},
  };
  st::write(path, tensors, meta);
}

}  // namespace attn
