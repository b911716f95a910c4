// SPDX-License-Identifier: MIT
// The Session facade: a loaded checkpoint on a device, tokenization with display labels, and
// one-layer traces that stop the forward pass after the traced layer.
#include "core/api/session.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <set>

#include "core/eval/extrapolation.h"
#include "core/model/checkpoint.h"
#include "core/model/map_view.h"
#include "core/util/device.h"
#include "core/util/error.h"

namespace attn {

namespace {

/// Whether an exception is an allocation failure (LibTorch's out-of-memory errors, bad_alloc).
bool is_out_of_memory(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) return true;
  const std::string what = e.what();
  return what.find("out of memory") != std::string::npos ||
         what.find("Out of memory") != std::string::npos;
}

/// Fault injection for the out-of-memory path: with ATTN_TEST_OOM_ABOVE=E in the environment,
/// any stage chunk of more than E elements fails as an allocation would. Tests use it to
/// exercise the retry on machines whose memory never runs out; unset, it does nothing.
struct OomInjector : StageSink {
  explicit OomInjector(StageSink* t) : target(t) {
    if (const char* v = std::getenv("ATTN_TEST_OOM_ABOVE")) limit = std::atoll(v);
  }
  bool active() const { return limit > 0; }
  bool wants(int64_t layer) const override { return target->wants(layer); }
  bool wants_stage(const std::string& stage) const override { return target->wants_stage(stage); }
  void on_qk(int64_t layer, const torch::Tensor& q, const torch::Tensor& k) override {
    target->on_qk(layer, q, k);
  }
  void on_stage(int64_t layer, const std::string& stage, const torch::Tensor& rows,
                int64_t row_begin) override {
    if (rows.numel() > limit) throw std::bad_alloc();
    target->on_stage(layer, stage, rows, row_begin);
  }
  StageSink* target;
  int64_t limit = 0;
};

}  // namespace

struct Session::Impl {
  Checkpoint ck;
  torch::Device device{torch::kCPU};
  torch::Dtype dtype = torch::kFloat32;
  ModelSummary summary;
  std::vector<std::string> warnings;
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

std::unique_ptr<Session> Session::open(const std::string& checkpoint_dir,
                                       const std::string& device, const std::string& precision) {
  init_torch_threads();
  auto impl = std::make_unique<Impl>();
  impl->device = resolve_device(device, &impl->warnings);
  impl->dtype = resolve_precision(precision, device, impl->device, &impl->warnings);
  impl->ck = load_checkpoint(checkpoint_dir);
  impl->ck.model->to(impl->device, impl->dtype);
  const auto& c = impl->ck.config;
  auto& s = impl->summary;
  s.dir = checkpoint_dir;
  s.variant = c.attention.variant;
  s.position = c.position.kind;
  s.tokenizer_kind = impl->ck.tokenizer->kind();
  s.vocab_size = c.vocab_size;
  s.d_model = c.d_model;
  s.n_layer = c.n_layer;
  s.n_head = c.n_head;
  s.train_len = c.train_len;
  s.n_params = impl->ck.model->parameter_count();
  const auto& prov = impl->ck.provenance;
  s.trained = prov.is_object() && prov.value("trained", false) == true;
  s.note = prov.is_object() && prov.contains("note") && prov["note"].is_string()
               ? prov["note"].get<std::string>() : "";
  s.stages = impl->ck.model->all_stages();
  s.device = impl->device.is_cuda() ? "cuda" : "cpu";
  s.precision = precision_name(impl->dtype);
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

const ModelSummary& Session::summary() const { return impl_->summary; }
const std::vector<std::string>& Session::warnings() const { return impl_->warnings; }

std::vector<TokenInfo> Session::tokenize(const std::string& text) const {
  const auto& tok = *impl_->ck.tokenizer;
  std::vector<TokenInfo> out;
  for (const auto& t : tok.encode_with_offsets(text)) {
    out.push_back({t.id, tok.display(t.id), t.begin, t.end});
  }
  return out;
}

LayerTrace Session::trace(const TraceRequest& req) const {
  const auto start = std::chrono::steady_clock::now();
  const auto& s = impl_->summary;
  std::vector<MapRequest> wanted = req.maps;
  if (wanted.empty()) wanted.push_back(MapRequest{req.layer, req.stages});
  for (const auto& m : wanted) check_request(m);

  LayerTrace out;
  out.layer = wanted.front().layer;
  out.tokens = tokenize(req.text);
  if (out.tokens.empty()) throw Error("the text is empty: type or load a text to trace");
  if (req.max_tokens > 0 && int64_t(out.tokens.size()) > req.max_tokens) {
    out.tokens.resize(size_t(req.max_tokens));
    out.truncated = true;
  }
  const int64_t N = int64_t(out.tokens.size());
  std::vector<ViewSpec> specs;
  int64_t deepest = 0;
  for (const auto& m : wanted) {
    const auto offered = impl_->ck.model->stages(m.layer);
    ViewSpec spec;
    spec.layer = m.layer;
    spec.stages = m.stages.empty() ? std::set<std::string>(offered.begin(), offered.end())
                                   : std::set<std::string>(m.stages.begin(), m.stages.end());
    spec.window = make_window(N, m.q0, m.q1, m.k0, m.k1, m.grid);
    spec.pool = m.pool == "mean" ? PoolMode::Mean : PoolMode::Extreme;
    specs.push_back(std::move(spec));
    deepest = std::max(deepest, m.layer);
  }
  std::vector<int64_t> ids;
  for (const auto& t : out.tokens) ids.push_back(t.id);
  ViewCollector collector(specs);
  ForwardOptions opts;
  opts.sink = &collector;
  opts.stop_after_layer = deepest;
  opts.cancel = req.cancel;
  if (req.progress) {
    opts.on_layer = [&](int64_t done) { req.progress(double(done) / double(deepest + 1)); };
  }
  // Out of memory: redo the pass with work tensors a quarter the size, a few times.
  constexpr int kRetries = 3;
  int64_t budget = chunk_budget(impl_->device);
  std::unique_ptr<ViewCollector> fresh;
  OomInjector injector(&collector);
  for (int attempt = 0;; ++attempt) {
    ViewCollector* sink = fresh ? fresh.get() : &collector;
    injector.target = sink;
    opts.sink = injector.active() ? static_cast<StageSink*>(&injector) : sink;
    opts.max_chunk_elements = budget;
    try {
      torch::NoGradGuard no_grad;
      auto x = torch::tensor(ids, torch::kInt64).unsqueeze(0).to(impl_->device);  // (1, N)
      impl_->ck.model->hidden(x, opts);
      break;
    } catch (const std::exception& e) {
      if (!is_out_of_memory(e) || attempt == kRetries) {
        if (!is_out_of_memory(e)) throw;
        throw Error("out of memory on " + s.device + " for " + std::to_string(N) +
                    " tokens, even with work tensors of " + std::to_string(budget) +
                    " elements: choose the CPU (Device menu, --device cpu) or a shorter text");
      }
      budget = std::max<int64_t>(1 << 12, budget / 4);
      out.notes.push_back("the " + s.device + " ran out of memory; the pass was redone with work "
                          "tensors of at most " + std::to_string(budget) + " elements (slower)");
      fresh = std::make_unique<ViewCollector>(specs);
    }
  }
  ViewCollector& result = fresh ? *fresh : collector;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    for (const auto& name : impl_->ck.model->stages(spec.layer)) {
      if (spec.stages.count(name) == 0) continue;
      // Views are float32 whatever the model's precision (ViewCollector converts).
      const auto t = result.view(i, name).to(torch::kFloat32).contiguous();  // (H, rows, cols)
      StageMap m;
      m.stage = name;
      m.layer = spec.layer;
      m.n_head = s.n_head;
      m.n = N;
      m.q0 = spec.window.q0;
      m.q1 = spec.window.q1;
      m.k0 = spec.window.k0;
      m.k1 = spec.window.k1;
      m.step = spec.window.step;
      m.rows = spec.window.rows();
      m.cols = spec.window.cols();
      m.pool = spec.pool == PoolMode::Mean ? "mean" : "extreme";
      m.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
      out.maps.push_back(std::move(m));
    }
  }
  const std::string note = fused_views_note(result, s.variant, s.precision);
  if (!note.empty()) out.notes.push_back(note);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

LengthReport Session::evaluate(const LengthRequest& req) const {
  const auto& s = impl_->summary;
  LengthReport report;
  report.train_len = s.train_len;
  report.name = std::filesystem::path(s.dir).filename().string();
  if (report.name.empty()) report.name = std::filesystem::path(s.dir).parent_path().filename().string();
  if (req.windows < 1) throw ConfigError("windows must be at least 1, not " + std::to_string(req.windows));
  std::vector<int64_t> ids;
  for (const auto& t : tokenize(req.text)) ids.push_back(t.id);
  report.text_tokens = int64_t(ids.size());
  std::vector<int64_t> fit;
  for (int64_t len : req.lengths) {
    if (len < 1) throw ConfigError("length " + std::to_string(len) + " must be at least 1");
    (len + 1 <= report.text_tokens ? fit : report.skipped).push_back(len);
  }
  if (fit.empty()) {
    throw Error("the text has " + std::to_string(report.text_tokens) +
                " tokens: too few for any of the lengths asked (each needs length + 1); use a "
                "longer text");
  }
  EvalOptions opts;
  opts.windows = req.windows;
  opts.tail = req.tail;
  opts.local_window = req.local_window;
  const auto tokens = torch::tensor(ids, torch::kInt64);
  // Work grows with length squared: progress weighs each window by it.
  double total = 0, done = 0;
  for (int64_t len : fit) total += double(len) * double(len) * double(req.windows);
  for (int64_t len : fit) {
    const double unit = double(len) * double(len);
    const LengthResult r = evaluate_length(impl_->ck.model, tokens, len, opts, impl_->device,
                                           req.cancel, [&] {
                                             done += unit;
                                             if (req.progress) req.progress(done / total);
                                           });
    LengthPoint p;
    p.length = r.length;
    p.windows = r.windows;
    p.ppl_tail = r.ppl_tail;
    p.ppl_window = r.ppl_window;
    for (const auto& l : r.layers) {
      p.entropy.push_back(l.entropy);
      p.distance.push_back(l.distance);
      p.sink.push_back(l.sink);
    }
    report.points.push_back(std::move(p));
  }
  return report;
}

void Session::check_request(const MapRequest& m) const {
  const auto& s = impl_->summary;
  if (m.layer < 0 || m.layer >= s.n_layer) {
    throw ConfigError("layer " + std::to_string(m.layer) + " does not exist: the model has " +
                      std::to_string(s.n_layer) + " layers (0.." + std::to_string(s.n_layer - 1) +
                      ")");
  }
  const auto offered = impl_->ck.model->stages(m.layer);
  for (const auto& st : m.stages) {
    if (std::find(offered.begin(), offered.end(), st) == offered.end()) {
      std::string names;
      for (const auto& o : offered) names += (names.empty() ? "" : ", ") + o;
      throw ConfigError("stage \"" + st + "\" is not offered by layer " +
                        std::to_string(m.layer) + " of variant " + s.variant + " (it offers " +
                        names + ")");
    }
  }
  if (m.pool != "extreme" && m.pool != "mean") {
    throw ConfigError("pool \"" + m.pool + "\" is unknown: use \"extreme\" or \"mean\"");
  }
  if (m.grid < 0) throw ConfigError("grid " + std::to_string(m.grid) + " must be >= 0");
}

}  // namespace attn
