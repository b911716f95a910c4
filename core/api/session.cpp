// SPDX-License-Identifier: MIT
// The Session facade: a loaded checkpoint on a device, tokenization with display labels, and
// one-layer traces that stop the forward pass after the traced layer.
#include "core/api/session.h"

#include <chrono>
#include <set>

#include "core/model/checkpoint.h"
#include "core/model/trace.h"
#include "core/util/device.h"
#include "core/util/error.h"

namespace attn {

struct Session::Impl {
  Checkpoint ck;
  torch::Device device{torch::kCPU};
  ModelSummary summary;
  std::vector<std::string> warnings;
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

std::unique_ptr<Session> Session::open(const std::string& checkpoint_dir,
                                       const std::string& device) {
  init_torch_threads();
  auto impl = std::make_unique<Impl>();
  impl->device = resolve_device(device, &impl->warnings);
  impl->ck = load_checkpoint(checkpoint_dir);
  impl->ck.model->to(impl->device);
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
  if (req.layer < 0 || req.layer >= s.n_layer) {
    throw ConfigError("layer " + std::to_string(req.layer) + " does not exist: the model has " +
                      std::to_string(s.n_layer) + " layers (0.." + std::to_string(s.n_layer - 1) +
                      ")");
  }
  const auto layer_stages = impl_->ck.model->stages(req.layer);
  std::set<std::string> stages(req.stages.begin(), req.stages.end());
  for (const auto& st : stages) {
    if (std::find(layer_stages.begin(), layer_stages.end(), st) == layer_stages.end()) {
      throw ConfigError("stage \"" + st + "\" is not offered by layer " +
                        std::to_string(req.layer) + " of variant " + s.variant);
    }
  }
  LayerTrace out;
  out.layer = req.layer;
  out.tokens = tokenize(req.text);
  if (out.tokens.empty()) throw Error("the text is empty: type or load a text to trace");
  if (req.max_tokens > 0 && int64_t(out.tokens.size()) > req.max_tokens) {
    out.tokens.resize(size_t(req.max_tokens));
    out.truncated = true;
  }
  const int64_t N = int64_t(out.tokens.size());
  std::vector<int64_t> ids;
  for (const auto& t : out.tokens) ids.push_back(t.id);
  MapCollector collector({req.layer}, stages, N);
  ForwardOptions opts;
  opts.sink = &collector;
  opts.stop_after_layer = req.layer;
  opts.cancel = req.cancel;
  if (req.progress) {
    opts.on_layer = [&](int64_t done) { req.progress(double(done) / double(req.layer + 1)); };
  }
  {
    torch::NoGradGuard no_grad;
    auto x = torch::tensor(ids, torch::kInt64).unsqueeze(0).to(impl_->device);  // (1, N)
    impl_->ck.model->hidden(x, opts);
  }
  const auto& maps = collector.layers().at(req.layer).stages;
  for (const auto& name : layer_stages) {
    auto it = maps.find(name);
    if (it == maps.end()) continue;
    StageMap m{name, s.n_head, N, {}};
    const auto& t = it->second;  // (H, N, N) float32, contiguous
    m.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    out.maps.push_back(std::move(m));
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace attn
