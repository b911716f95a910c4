// SPDX-License-Identifier: MIT
// ViewCollector: each chunk (B, H, R, K) of a stage (entries with key > query already zero)
// meets each wanted window. Step 1 copies the window's cells and marks the future NaN. Larger
// steps pool in two passes on the chunk's device: along keys (a causal mask per row, padded to
// whole blocks), then along queries into running per-cell accumulators (scatter max and min,
// index_add for sums), since a chunk's rows need not line up with the blocks. Only the finished
// view is copied to the CPU. A layer with a fused kernel may instead hand over finished views
// (pooled_requests / on_pooled).
#include "core/model/map_view.h"

#include <algorithm>
#include <limits>

#include "core/util/error.h"

namespace attn {
namespace {

/// A finished view, float32 on the CPU. From a GPU it goes through page-locked memory (LibTorch
/// caches those blocks): a fresh pageable tensor took 45 ms for a 12 x 1024 x 1024 view on the
/// H100 machine (page faults and staging), which was most of a fused view's time.
torch::Tensor to_cpu(const torch::Tensor& t) {
  auto f = t.detach().to(torch::kFloat32);
  if (!f.is_cuda()) return f.contiguous();
  const auto pinned = torch::TensorOptions().dtype(torch::kFloat32).pinned_memory(true);
  auto out = torch::empty(f.sizes(), pinned);
  out.copy_(f);
  return out;
}

}  // namespace

MapWindow make_window(int64_t n, int64_t q0, int64_t q1, int64_t k0, int64_t k1, int64_t grid) {
  MapWindow w;
  w.q0 = std::clamp<int64_t>(q0 < 0 ? n + q0 : q0, 0, n);
  w.q1 = q1 < 0 ? n : std::clamp<int64_t>(q1, 0, n);
  w.k0 = std::clamp<int64_t>(k0 < 0 ? n + k0 : k0, 0, n);
  w.k1 = k1 < 0 ? n : std::clamp<int64_t>(k1, 0, n);
  if (w.q1 <= w.q0 || w.k1 <= w.k0) {
    throw ConfigError("the map window queries [" + std::to_string(q0) + ", " + std::to_string(q1) +
                      ") x keys [" + std::to_string(k0) + ", " + std::to_string(k1) +
                      ") holds no cell of a " + std::to_string(n) +
                      "-token map: give bounds within 0.." + std::to_string(n));
  }
  const int64_t side = std::max(w.q1 - w.q0, w.k1 - w.k0);
  w.step = grid > 0 ? std::max<int64_t>(1, (side + grid - 1) / grid) : 1;
  return w;
}

ViewCollector::ViewCollector(std::vector<ViewSpec> specs)
    : specs_(std::move(specs)), acc_(specs_.size()) {}

bool ViewCollector::wants(int64_t layer) const {
  return std::any_of(specs_.begin(), specs_.end(),
                     [layer](const ViewSpec& s) { return s.layer == layer; });
}

bool ViewCollector::wants_stage(const std::string& stage) const {
  return std::any_of(specs_.begin(), specs_.end(),
                     [&stage](const ViewSpec& s) { return s.stages.count(stage) > 0; });
}

void ViewCollector::on_stage(int64_t layer, const std::string& stage, const torch::Tensor& rows,
                             int64_t row_begin) {
  for (size_t i = 0; i < specs_.size(); ++i) {
    const auto& spec = specs_[i];
    if (spec.layer != layer || spec.stages.count(stage) == 0) continue;
    add(spec, acc_[i][stage], rows, row_begin);
  }
}

std::vector<PooledRequest> ViewCollector::pooled_requests(int64_t layer) const {
  std::vector<PooledRequest> out;
  for (size_t i = 0; i < specs_.size(); ++i) {
    const auto& spec = specs_[i];
    if (spec.layer != layer) continue;
    for (const auto& stage : spec.stages) {
      PooledRequest r;
      r.id = i;
      r.stage = stage;
      r.q0 = spec.window.q0, r.q1 = spec.window.q1, r.k0 = spec.window.k0, r.k1 = spec.window.k1;
      r.step = spec.window.step;
      r.mean = spec.pool == PoolMode::Mean;
      out.push_back(std::move(r));
    }
  }
  return out;
}

void ViewCollector::on_pooled(int64_t layer, const PooledRequest& r, const torch::Tensor& view) {
  const auto& spec = specs_.at(r.id);
  const MapWindow& w = spec.window;
  if (spec.layer != layer || spec.stages.count(r.stage) == 0 || view.dim() != 3 ||
      view.size(1) != w.rows() || view.size(2) != w.cols()) {
    throw Error("a pooled view of stage \"" + r.stage + "\" in layer " + std::to_string(layer) +
                " does not match view " + std::to_string(r.id) + " (layer " +
                std::to_string(spec.layer) + ", " + std::to_string(w.rows()) + " x " +
                std::to_string(w.cols()) + " cells)");
  }
  acc_[r.id][r.stage].pooled = to_cpu(view);
}

void ViewCollector::add(const ViewSpec& spec, Accumulator& acc, const torch::Tensor& rows,
                        int64_t row_begin) {
  torch::NoGradGuard no_grad;
  const MapWindow& w = spec.window;
  const int64_t H = rows.size(1), R = rows.size(2), K = rows.size(3);
  const int64_t nr = w.rows(), nc = w.cols(), s = w.step;
  const auto cpu32 = torch::TensorOptions().dtype(torch::kFloat32);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  if (s == 1 && !acc.exact.defined()) acc.exact = torch::full({H, nr, nc}, nan, cpu32);
  if (s > 1 && !acc.sum.defined()) {
    // Accumulators live on the stage's device: only the finished cells travel to the CPU.
    const auto dev = rows.device();
    acc.sum = torch::zeros({H, nr, nc}, torch::TensorOptions().dtype(torch::kFloat64).device(dev));
    acc.count = torch::zeros({1, nr, nc}, acc.sum.options());
    acc.max = torch::full({H, nr, nc}, -std::numeric_limits<float>::infinity(),
                          cpu32.device(dev));
    acc.min = torch::full({H, nr, nc}, std::numeric_limits<float>::infinity(), cpu32.device(dev));
  }
  const int64_t a = std::max(row_begin, w.q0), b = std::min(row_begin + R, w.q1);
  // Keys a row of this chunk can see: below b (causal) and below K (the chunk's width).
  const int64_t kend = std::min({w.k1, K, b});
  if (a >= b || kend <= w.k0) return;
  auto block = rows[0].narrow(1, a - row_begin, b - a).narrow(2, w.k0, kend - w.k0);  // (H, r, k)
  const auto dev = block.device();
  auto q = torch::arange(a, b, torch::TensorOptions().dtype(torch::kInt64).device(dev));
  if (s == 1) {
    auto key = torch::arange(w.k0, kend, q.options());
    auto causal = key.unsqueeze(0) <= q.unsqueeze(1);  // (r, k)
    auto cells = block.to(torch::kFloat32).masked_fill(causal.logical_not(), nan).to(torch::kCPU);
    acc.exact.narrow(1, a - w.q0, b - a).narrow(2, 0, kend - w.k0).copy_(cells);
    return;
  }
  // Along keys, on the device: pad to whole blocks, mask the future and the padding.
  const int64_t ncb = (kend - w.k0 + s - 1) / s, width = ncb * s;
  auto v = block.to(torch::kFloat32);
  if (width > kend - w.k0) v = torch::constant_pad_nd(v, {0, width - (kend - w.k0)}, 0.0);
  auto key = torch::arange(w.k0, w.k0 + width, q.options());
  auto valid = (key.unsqueeze(0) <= q.unsqueeze(1)) & (key < kend).unsqueeze(0);  // (r, width)
  v = v.view({H, b - a, ncb, s});
  valid = valid.view({1, b - a, ncb, s});
  const float inf = std::numeric_limits<float>::infinity();
  // Padded to the view's full width, so the reductions below work on whole accumulators.
  auto widen = [&](const torch::Tensor& t, double fill) {
    return ncb == nc ? t : torch::constant_pad_nd(t, {0, nc - ncb}, fill);
  };
  const auto invalid = valid.logical_not();
  auto rmax = widen(v.masked_fill(invalid, -inf).amax(-1), -inf);            // (H, r, nc)
  auto rmin = widen(v.masked_fill(invalid, inf).amin(-1), inf);
  auto rsum = widen(v.to(torch::kFloat64).masked_fill(invalid, 0.0).sum(-1), 0.0);
  auto rcnt = widen(valid.to(torch::kFloat64).sum(-1), 0.0);                  // (1, r, nc)
  // Along queries: row i adds into block row (i - q0) / step; rows of a chunk need not line up
  // with the blocks, and scatter and index_add take care of that.
  const auto cell = torch::div(q - w.q0, s, "floor");  // (r)
  const auto index = cell.view({1, b - a, 1}).expand({H, b - a, nc});
  acc.max.scatter_reduce_(1, index, rmax, "amax", true);
  acc.min.scatter_reduce_(1, index, rmin, "amin", true);
  acc.sum.index_add_(1, cell, rsum);
  acc.count.index_add_(1, cell, rcnt);
}

bool ViewCollector::came_pooled(size_t index, const std::string& stage) const {
  const auto& specs = acc_.at(index);
  auto it = specs.find(stage);
  return it != specs.end() && it->second.pooled.defined();
}

std::string fused_views_note(const ViewCollector& views, const std::string& variant,
                             const std::string& precision) {
  std::set<int64_t> fused, streamed;
  for (size_t i = 0; i < views.specs().size(); ++i) {
    const auto& spec = views.specs()[i];
    const bool pooled = std::all_of(spec.stages.begin(), spec.stages.end(), [&](const auto& st) {
      return views.came_pooled(i, st);
    });
    (pooled ? fused : streamed).insert(spec.layer);
  }
  // A layer runs one path: fused when any of its views came so (a layer answers all or none).
  for (int64_t l : fused) streamed.erase(l);
  if (fused.empty()) return "";
  const std::string name = variant == "dape_v2" ? "DAPE V2" : variant;
  const std::string note = name + " layers ran the fused CUDA kernel (" + precision + ")";
  if (streamed.empty()) return note;
  std::string list;
  for (int64_t l : streamed) list += (list.empty() ? "" : ", ") + std::to_string(l);
  return note + ", but traced layer" + (streamed.size() > 1 ? "s " : " ") + list +
         " took the reference path: " + (streamed.size() > 1 ? "their" : "its") +
         " maps need exact cells or stages other than logits and probs";
}

torch::Tensor ViewCollector::view(size_t index, const std::string& stage) const {
  const auto& specs = acc_.at(index);
  auto it = specs.find(stage);
  if (it == specs.end()) {
    throw Error("the view of stage \"" + stage + "\" in layer " +
                std::to_string(specs_.at(index).layer) + " was not produced by the pass");
  }
  const Accumulator& acc = it->second;
  if (acc.pooled.defined()) return acc.pooled;
  if (acc.exact.defined()) return acc.exact;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto empty = (acc.count == 0).expand_as(acc.sum);
  if (specs_.at(index).pool == PoolMode::Mean) {
    return to_cpu((acc.sum / acc.count).to(torch::kFloat32).masked_fill(empty, nan));
  }
  auto out = torch::where(acc.max.abs() >= acc.min.abs(), acc.max, acc.min);
  return to_cpu(out.masked_fill(empty, nan));
}

}  // namespace attn
