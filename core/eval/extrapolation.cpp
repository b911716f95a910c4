// SPDX-License-Identifier: MIT
#include "core/eval/extrapolation.h"

#include <cmath>

#include "core/attention/stage_sink.h"
#include "core/util/error.h"

namespace attn {

namespace {
/// Accumulates the attention statistics of every layer from the "probs" chunks.
class StatsSink : public StageSink {
 public:
  StatsSink(int64_t layers, int64_t local_window) : local_(local_window), sums_(size_t(layers)) {}
  bool wants(int64_t) const override { return true; }
  bool wants_stage(const std::string& stage) const override { return stage == "probs"; }
  void on_stage(int64_t layer, const std::string& stage, const torch::Tensor& rows,
                int64_t row_begin) override {
    if (stage != "probs") return;
    torch::NoGradGuard no_grad;
    const auto p = rows.select(0, 0).to(torch::kFloat64);  // (H, R, K), future entries are 0
    const int64_t R = p.size(1), K = p.size(2);
    auto opts = torch::TensorOptions().dtype(torch::kFloat64).device(p.device());
    const auto i = torch::arange(row_begin, row_begin + R, opts).unsqueeze(1);  // (R, 1)
    const auto j = torch::arange(K, opts).unsqueeze(0);                         // (1, K)
    const auto dist = (i - j).clamp_min(0);                                     // (R, K)
    const auto a = p.abs();
    const auto q = a / a.sum(-1, true).clamp_min(1e-300);
    const auto ent = -(torch::xlogy(q, q)).sum(-1);                   // (H, R)
    auto& s = sums_[size_t(layer)];
    auto add = [](torch::Tensor& acc, const torch::Tensor& per_head) {
      acc = acc.defined() ? acc + per_head : per_head;
    };
    add(s.entropy, ent.sum(-1));
    add(s.distance, (p * dist).sum({1, 2}));
    add(s.sink, p.select(2, 0).sum(-1));
    add(s.local, (p * (dist < double(local_)).to(torch::kFloat64)).sum({1, 2}));
    add(s.negative, p.clamp_max(0).sum({1, 2}));
  }
  struct Sums {
    torch::Tensor entropy, distance, sink, local, negative;  // (H), summed over rows
  };
  std::vector<Sums>& sums() { return sums_; }

 private:
  int64_t local_;
  std::vector<Sums> sums_;
};

std::vector<double> to_vector(const torch::Tensor& t, double scale) {
  const auto c = (t.to(torch::kCPU, torch::kFloat64) * scale).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}
}  // namespace

Spread spread_of(const std::vector<double>& xs) {
  Spread s;
  if (xs.empty()) return s;
  s.min = s.max = xs[0];
  for (double x : xs) {
    s.mean += x;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
  }
  s.mean /= double(xs.size());
  if (xs.size() > 1) {
    double v = 0;
    for (double x : xs) v += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(v / double(xs.size() - 1));
  }
  return s;
}

std::vector<int64_t> eval_window_starts(int64_t n_tokens, int64_t length, int64_t windows) {
  if (length < 1 || windows < 1) throw Error("evaluation lengths and windows must be positive");
  const int64_t room = n_tokens - length - 1;
  if (room < 0) {
    throw Error("length " + std::to_string(length) + " needs at least " +
                std::to_string(length + 1) + " tokens of text; the evaluation text has " +
                std::to_string(n_tokens));
  }
  std::vector<int64_t> out;
  for (int64_t w = 0; w < windows; ++w) {
    out.push_back(windows == 1 ? 0 : int64_t(std::llround(double(w) * double(room) /
                                                          double(windows - 1))));
  }
  return out;
}

LengthResult evaluate_length(TransformerLM& model, const torch::Tensor& tokens, int64_t length,
                             const EvalOptions& opts, const torch::Device& device,
                             const std::atomic<bool>* cancel,
                             const std::function<void()>& on_window) {
  torch::NoGradGuard no_grad;
  model->eval();
  const auto& cfg = model->config();
  const auto starts = eval_window_starts(tokens.size(0), length, opts.windows);
  const int64_t tail = std::min(opts.tail, length);
  StatsSink sink(cfg.n_layer, opts.local_window);
  std::vector<double> residual(size_t(cfg.n_layer), 0.0), cosine(size_t(cfg.n_layer), 0.0);
  LengthResult r;
  r.length = length;
  r.windows = int64_t(starts.size());
  double tail_sum = 0, window_sum = 0;
  for (int64_t s : starts) {
    if (cancel && cancel->load()) throw Cancelled();
    const auto w = tokens.narrow(0, s, length + 1).to(device).unsqueeze(0);  // (1, L + 1)
    ForwardOptions fo;
    fo.sink = &sink;
    fo.cancel = cancel;
    fo.max_chunk_elements = opts.max_chunk_elements;
    fo.on_hidden = [&](int64_t layer, const torch::Tensor& x) {
      const auto X = x.select(0, 0).to(torch::kFloat64);  // (L, C)
      const double norm = X.norm().item<double>();
      residual[size_t(layer)] += (X - X.mean(0, true)).norm().item<double>() / std::max(norm, 1e-300);
      const auto u = X / X.norm(2, {1}, true).clamp_min(1e-300);
      const double s2 = u.sum(0).pow(2).sum().item<double>();
      const double n = double(X.size(0));
      cosine[size_t(layer)] += n > 1 ? (s2 - n) / (n * (n - 1)) : 1.0;
    };
    const auto logits = model->forward(w.narrow(1, 0, length), fo).select(0, 0).to(torch::kFloat32);
    const auto nll = -torch::log_softmax(logits, -1)
                          .gather(1, w.select(0, 0).narrow(0, 1, length).unsqueeze(1))
                          .squeeze(1)
                          .to(torch::kFloat64);  // (L)
    const double whole = nll.mean().item<double>();
    const double last = nll.narrow(0, length - tail, tail).mean().item<double>();
    window_sum += whole;
    tail_sum += last;
    r.window_ppl.push_back(std::exp(whole));
    r.tail_ppl.push_back(std::exp(last));
    if (on_window) on_window();
  }
  const double K = double(starts.size());
  r.ppl_window = std::exp(window_sum / K);
  r.ppl_tail = std::exp(tail_sum / K);
  const double rows = K * double(length);
  for (int64_t l = 0; l < cfg.n_layer; ++l) {
    const auto& s = sink.sums()[size_t(l)];
    LayerStats ls;
    ls.entropy = to_vector(s.entropy, 1.0 / rows);
    ls.distance = to_vector(s.distance, 1.0 / rows);
    ls.sink = to_vector(s.sink, 1.0 / rows);
    ls.local = to_vector(s.local, 1.0 / rows);
    ls.negative = to_vector(s.negative, 1.0 / rows);
    ls.residual = residual[size_t(l)] / K;
    ls.cosine = cosine[size_t(l)] / K;
    r.layers.push_back(std::move(ls));
  }
  return r;
}

nlohmann::json length_result_json(const LengthResult& r) {
  auto spread = [](const std::vector<double>& xs) {
    const auto s = spread_of(xs);
    return nlohmann::json{{"mean", s.mean}, {"sd", s.sd}, {"min", s.min}, {"max", s.max},
                          {"per_window", xs}};
  };
  nlohmann::json layers = nlohmann::json::array();
  for (size_t l = 0; l < r.layers.size(); ++l) {
    const auto& s = r.layers[l];
    layers.push_back({{"layer", l},
                      {"residual", s.residual},
                      {"cosine", s.cosine},
                      {"entropy", s.entropy},
                      {"distance", s.distance},
                      {"sink", s.sink},
                      {"local", s.local},
                      {"negative", s.negative}});
  }
  return {{"length", r.length},
          {"windows", r.windows},
          {"ppl_tail", r.ppl_tail},
          {"ppl_window", r.ppl_window},
          {"tail_ppl", spread(r.tail_ppl)},
          {"window_ppl", spread(r.window_ppl)},
          {"layers", layers}};
}

}  // namespace attn
