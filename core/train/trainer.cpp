// SPDX-License-Identifier: MIT
#include "core/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <torch/version.h>

#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"
#include "core/util/atomic_file.h"
#include "core/util/autocast.h"
#include "core/util/error.h"

namespace attn {

namespace fs = std::filesystem;

namespace {
constexpr const char* kStateFile = "train_state.safetensors";
constexpr const char* kLogFile = "train_log.jsonl";
constexpr const char* kConfigCopy = "train_config.json";

st::DType save_dtype_of(const std::string& s) {
  if (s == "float16") return st::DType::F16;
  if (s == "bfloat16") return st::DType::BF16;
  return st::DType::F32;
}

nlohmann::json finite_or_null(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

/// Keeps the log's records up to `step` (a resumed run rewrites what came after its state);
/// drops a line cut short by a crash.
void truncate_log(const std::string& path, int64_t step) {
  if (!fs::exists(path)) return;
  std::istringstream in(read_file(path));
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      const auto j = nlohmann::json::parse(line);
      if (j.contains("step") && j.at("step").is_number_integer() &&
          j.at("step").get<int64_t>() <= step) {
        kept += line + "\n";
      }
    } catch (const nlohmann::json::exception&) {
      // an unfinished last line: the run stopped while writing it
    }
  }
  write_file_atomic(path, kept);
}
}  // namespace

torch::Tensor clip_gradients(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  std::vector<int64_t> where;
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].grad().defined()) {
      grads.push_back(params[i].grad());
      where.push_back(int64_t(i));
    }
  }
  auto norms = torch::zeros({int64_t(params.size())},
                            torch::TensorOptions().device(params.at(0).device()));
  if (grads.empty()) return norms;
  norms.index_put_({torch::tensor(where, torch::kInt64).to(norms.device())},
                   torch::stack(at::_foreach_norm(grads)).to(torch::kFloat32));
  if (max_norm > 0) {
    // As torch.nn.utils.clip_grad_norm_: scale by min(1, max_norm / (norm + 1e-6)), no sync.
    const auto coef = (max_norm / (norms.pow(2).sum().sqrt() + 1e-6)).clamp_max(1.0);
#if TORCH_VERSION_MAJOR >= 2
    at::_foreach_mul_(grads, coef);
#else
    for (auto& g : grads) g.mul_(coef);
#endif
  }
  return norms;
}

Trainer::Trainer(TrainConfig config, std::string out_dir, torch::Device device, bool resume,
                 std::shared_ptr<const TrainData> data)
    : config_(std::move(config)), dir_(std::move(out_dir)), device_(device) {
  const fs::path state = fs::path(dir_) / kStateFile;
  if (!resume && fs::exists(state)) {
    throw ConfigError(dir_ + " already holds a training run (" + state.string() +
                      "): pass --resume to continue it, or choose another --out folder");
  }
  if (resume && !fs::exists(state)) {
    throw ConfigError(dir_ + ": nothing to resume (no " + std::string(kStateFile) +
                      "); start without --resume");
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw Error("cannot create the run folder '" + dir_ + "': " + ec.message());
  // Also before a fresh start: a run killed during its first save leaves a temporary and no
  // state to resume from.
  remove_stale_temporaries();
  data_ = data ? std::move(data) : load_train_data(config_);
  // The global generator seeds the initial weights: build runs one after another (train-set
  // does) so that each run's weights depend on its seed alone.
  torch::manual_seed(config_.train.seed);
  model_ = TransformerLM(config_.model, config_.path);
  model_->to(device_);
  AdamWOptions ao;
  ao.beta1 = config_.train.beta1;
  ao.beta2 = config_.train.beta2;
  ao.eps = config_.train.eps;
  ao.weight_decay = config_.train.weight_decay;
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& item : model_->named_parameters(true)) named.emplace_back(item.key(), item.value());
  opt_ = std::make_unique<AdamW>(named, ao);
  if (resume) {
    restore();
  } else {
    write_file_atomic((fs::path(dir_) / kConfigCopy).string(), config_.source.dump(2) + "\n");
    write_file_atomic((fs::path(dir_) / kLogFile).string(), "");
  }
}

void Trainer::remove_stale_temporaries() {
  // A run killed while writing leaves "<file>.tmp.<pid>[.<n>]" beside the intact old file.
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (is_write_temporary(e.path().filename().string())) {
      std::error_code ec;
      fs::remove(e.path(), ec);
    }
  }
}

void Trainer::restore() {
  const std::string copy = (fs::path(dir_) / kConfigCopy).string();
  nlohmann::json started;
  try {
    started = nlohmann::json::parse(read_file(copy));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(copy + ": not valid JSON (" + e.what() + ")");
  }
  const auto patch = nlohmann::json::diff(started, config_.source);
  if (!patch.empty()) {
    throw ConfigError(config_.path + ": differs from the config the run in " + dir_ +
                      " started with, at '" + patch[0].value("path", std::string("?")) +
                      "'; --resume continues a run only with its own config (" + copy + ")");
  }
  const std::string path = (fs::path(dir_) / kStateFile).string();
  const auto reader = st::Reader::open(path);
  const auto& meta = reader.metadata();
  if (!meta.count("format") || meta.at("format") != "attnscope-train-state" ||
      !meta.count("step")) {
    throw CheckpointError(path + ": not an AttnScope training state (metadata 'format' must be "
                          "\"attnscope-train-state\" with a 'step')");
  }
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& info : reader.tensors()) {
    if (info.dtype != st::DType::F32) {
      throw CheckpointError(path + ": tensor '" + info.name + "' must be F32");
    }
    auto t = torch::empty(info.shape, torch::kFloat32);
    std::memcpy(t.data_ptr(), reader.data(info), info.end - info.begin);
    tensors[info.name] = t.to(device_);
  }
  {
    torch::NoGradGuard no_grad;
    for (const auto& item : model_->named_parameters(true)) {
      const auto it = tensors.find("param/" + item.key());
      if (it == tensors.end() || it->second.sizes() != item.value().sizes()) {
        throw CheckpointError(path + ": tensor 'param/" + item.key() +
                              "' is missing or has the wrong shape for this config");
      }
      item.value().copy_(it->second);
    }
  }
  step_ = std::stoll(meta.at("step"));
  elapsed_before_ = meta.count("elapsed_s") ? std::stod(meta.at("elapsed_s")) : 0.0;
  if (meta.count("val_ppl") && meta.at("val_ppl") != "null") {
    last_val_ppl_ = std::stod(meta.at("val_ppl"));
  }
  opt_->load_state(tensors, step_, path);
  truncate_log((fs::path(dir_) / kLogFile).string(), step_);
}

void Trainer::append_log(const nlohmann::json& record) {
  const std::string path = (fs::path(dir_) / kLogFile).string();
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (!f) throw Error("cannot append to '" + path + "'");
  const std::string line = record.dump() + "\n";
  const bool ok = std::fwrite(line.data(), 1, line.size(), f) == line.size();
  std::fclose(f);
  if (!ok) throw Error("cannot append to '" + path + "' (disk full?)");
}

double Trainer::validate(int64_t max_windows) {
  const auto r = evaluate_nll(model_, data_->validation, config_.model.train_len, max_windows,
                              std::max<int64_t>(config_.train.batch_size, 16), device_);
  model_->train();
  last_val_ppl_ = r.perplexity();
  append_log({{"step", step_},
              {"val_loss", r.nll},
              {"val_ppl", r.perplexity()},
              {"val_windows", r.windows},
              {"val_tokens", r.tokens}});
  return r.nll;
}

void Trainer::save(bool final_checkpoint, double elapsed_s) {
  nlohmann::json provenance = {
      {"trained", true},
      {"created_by", "attnscope-cli train"},
      {"step", step_},
      {"steps", config_.train.steps},
      {"complete", final_checkpoint},
      {"val_ppl_at_train_len", finite_or_null(last_val_ppl_)},
      {"data", {{"train", fs::path(config_.train_file).filename().string()},
                {"validation", fs::path(config_.validation_file).filename().string()}}},
      {"train", config_.source.value("train", nlohmann::json::object())}};
  save_checkpoint(dir_, model_, *data_->tokenizer, provenance,
                  save_dtype_of(config_.train.save_dtype));
  // The resume point: float32 weights and moments on the CPU, one atomic file.
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& item : model_->named_parameters(true)) {
    named.emplace_back("param/" + item.key(), item.value());
  }
  for (const auto& [name, t] : opt_->state()) named.emplace_back(name, t);
  std::vector<torch::Tensor> keep;
  std::vector<st::TensorData> tensors;
  for (const auto& [name, t] : named) {
    keep.push_back(t.detach().to(torch::kCPU, torch::kFloat32).contiguous());
    tensors.push_back({name, st::DType::F32, keep.back().sizes().vec(), keep.back().data_ptr(),
                       size_t(keep.back().numel()) * sizeof(float)});
  }
  st::write((fs::path(dir_) / kStateFile).string(), tensors,
            {{"format", "attnscope-train-state"},
             {"format_version", "1"},
             {"step", std::to_string(step_)},
             {"elapsed_s", std::to_string(elapsed_s)},
             {"val_ppl", finite_or_null(last_val_ppl_).dump()}});
}

TrainResult Trainer::run(const std::atomic<bool>* cancel,
                         const std::function<void(const TrainProgress&)>& on_progress,
                         double time_limit_s) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const TrainOptions& o = config_.train;
  const int64_t B = o.batch_size, L = config_.model.train_len, V = config_.model.vocab_size;
  const auto train = data_->train.to(device_);
  const int64_t span = train.size(0) - L - 1;  // window starts lie in [0, span]
  const auto ramp = torch::arange(L + 1, torch::kInt64).unsqueeze(0);  // (1, L + 1)
  std::vector<torch::Tensor> params;
  std::vector<int64_t> q_index;  // positions in `params` of each layer's query projection
  for (const auto& item : model_->named_parameters(true)) {
    if (item.key().find(".attn.q_proj.weight") != std::string::npos) {
      q_index.push_back(int64_t(params.size()));
    }
    params.push_back(item.value());
  }
  model_->train();
  auto loss_sum = torch::zeros({}, torch::TensorOptions().device(device_));
  int64_t loss_n = 0, session_steps = 0;
  torch::Tensor last_norms;
  TrainProgress pr;
  pr.steps = o.steps;
  pr.loss = std::nan("");  // until the first log step
  pr.val_ppl = last_val_ppl_;
  int64_t saved_step = step_;
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };

  // Writes the accumulated training record (at log steps and before any save).
  auto flush_log = [&] {
    if (loss_n == 0) return;
    const double loss = (loss_sum / double(loss_n)).item<double>();
    const auto norms = last_norms.to(torch::kCPU, torch::kFloat64);
    const double total = norms.pow(2).sum().sqrt().item<double>();
    nlohmann::json q = nlohmann::json::array();
    for (int64_t i : q_index) q.push_back(norms[i].item<double>());
    pr.loss = loss;
    pr.grad_norm = total;
    append_log({{"step", step_},
                {"loss", loss},
                {"lr", learning_rate(o, step_ - 1)},
                {"grad_norm", total},
                {"q_grad_norm", q},
                {"tokens_per_s", pr.tokens_per_s},
                {"elapsed_s", elapsed_before_ + elapsed()}});
    loss_sum.zero_();
    loss_n = 0;
  };

  while (step_ < o.steps) {
    if ((cancel && cancel->load()) || (time_limit_s > 0 && elapsed() >= time_limit_s)) break;
    const double lr = learning_rate(o, step_);
    std::vector<int64_t> starts(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
      starts[size_t(b)] = int64_t(window_hash(o.seed, step_, b) % uint64_t(span + 1));
    }
    const auto idx = (torch::tensor(starts, torch::kInt64).unsqueeze(1) + ramp).to(device_);
    const auto batch = train.index_select(0, idx.reshape({-1})).reshape({B, L + 1});
    if (config_.model.dropout > 0) torch::manual_seed(window_hash(o.seed, step_, -1));
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    torch::Tensor loss;
    {
      AutocastGuard autocast(device_, o.bf16_autocast);
      const auto logits = model_->forward(batch.narrow(1, 0, L));
      loss = torch::nn::functional::cross_entropy(
          logits.to(torch::kFloat32).reshape({-1, V}), batch.narrow(1, 1, L).reshape({-1}));
    }
    loss.backward();
    last_norms = clip_gradients(params, o.grad_clip);
    opt_->step(lr);
    loss_sum += loss.detach();
    ++loss_n;
    ++step_;
    ++session_steps;
    const double secs = elapsed();
    pr.step = step_;
    pr.lr = lr;
    pr.elapsed_s = elapsed_before_ + secs;
    pr.tokens_per_s = secs > 0 ? double(session_steps * B * L) / secs : 0.0;
    pr.eta_s = session_steps > 0 ? secs / double(session_steps) * double(o.steps - step_) : 0.0;
    if (step_ % o.log_interval == 0) flush_log();
    if (step_ < o.steps && step_ % o.eval_interval == 0) {
      validate(o.eval_windows);
      pr.val_ppl = last_val_ppl_;
    }
    if (step_ < o.steps && step_ % o.checkpoint_interval == 0) {
      flush_log();
      save(false, elapsed_before_ + elapsed());
      saved_step = step_;
    }
    if (on_progress) on_progress(pr);
  }

  TrainResult r;
  r.parameters = model_->parameter_count();
  r.step = step_;
  flush_log();
  const std::string summary_path = (fs::path(dir_) / "train_summary.json").string();
  if (session_steps == 0 && step_ >= o.steps && fs::exists(summary_path)) {
    // A finished run resumed again: report it, change nothing.
    const auto done = nlohmann::json::parse(read_file(summary_path));
    r.complete = true;
    r.val_ppl = done.value("val_ppl", r.val_ppl);
    r.unigram_ppl = done.value("unigram_ppl", r.unigram_ppl);
    r.val_tokens = done.value("val_tokens", int64_t(0));
    r.seconds = done.value("seconds", 0.0);
    return r;
  }
  if (step_ >= o.steps) {
    validate(0);  // the final validation: every window of the split
    const auto uni = unigram_nll(data_->train, data_->validation, data_->tokenizer->vocab_size(),
                                 L, 0);
    r.val_ppl = last_val_ppl_;
    r.unigram_ppl = uni.perplexity();
    r.val_tokens = uni.tokens;
    r.complete = true;
    r.seconds = elapsed_before_ + elapsed();
    append_log({{"step", step_},
                {"final", true},
                {"val_ppl", r.val_ppl},
                {"unigram_ppl", r.unigram_ppl},
                {"val_tokens", r.val_tokens},
                {"elapsed_s", r.seconds}});
    save(true, r.seconds);
    const nlohmann::json summary = {
        {"config", fs::path(config_.path).filename().string()},
        {"variant", config_.model.attention.variant},
        {"position", config_.model.position.kind},
        {"parameters", r.parameters},
        {"steps", step_},
        {"tokens_seen", step_ * B * L},
        {"train_len", L},
        {"val_ppl", r.val_ppl},
        {"unigram_ppl", r.unigram_ppl},
        {"val_tokens", r.val_tokens},
        {"seconds", r.seconds},
        {"device", device_.str()}};
    write_file_atomic(summary_path, summary.dump(2) + "\n");
  } else {
    r.seconds = elapsed_before_ + elapsed();
    if (step_ > saved_step) save(false, r.seconds);
    r.val_ppl = last_val_ppl_;
  }
  return r;
}

}  // namespace attn
