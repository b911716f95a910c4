// SPDX-License-Identifier: MIT
#include "core/train/train_config.h"

#include <cmath>
#include <filesystem>

#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace attn {

namespace fs = std::filesystem;

namespace {
std::string resolve(const std::string& base_file, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(base_file).parent_path() / p).lexically_normal().string();
}

const nlohmann::json& section(const nlohmann::json& root, const char* key,
                              const std::string& where) {
  static const nlohmann::json empty = nlohmann::json::object();
  if (!root.contains(key)) return empty;
  const auto& s = root.at(key);
  if (!s.is_object()) {
    throw ConfigError(where + ": field '" + key + "' must be an object, got " + s.dump());
  }
  return s;
}

std::string required_file(const nlohmann::json& obj, const char* key, const std::string& path,
                          const std::string& where) {
  const std::string v = cfg::get_string(obj, key, path, "", where);
  if (v.empty()) {
    throw ConfigError(where + ": field '" + path + "." + key + "' is required (a file path, "
                      "relative to the config file's folder)");
  }
  const std::string full = resolve(where, v);
  if (!fs::is_regular_file(full)) {
    throw ConfigError(where + ": field '" + path + "." + key + "' names '" + v +
                      "', which is not a file (looked for '" + full + "')");
  }
  return full;
}

void check_range(bool ok, const std::string& where, const std::string& field,
                 const std::string& want, double got) {
  if (!ok) {
    throw ConfigError(where + ": field '" + field + "' must be " + want + ", got " +
                      nlohmann::json(got).dump());
  }
}
}  // namespace

TrainConfig train_config_from_json(const nlohmann::json& root, const std::string& where) {
  if (!root.is_object()) throw ConfigError(where + ": the config must be a JSON object");
  cfg::reject_unknown(root, {"model", "attention", "position", "tokenizer", "data", "train"}, "",
                      where);
  TrainConfig c;
  c.path = where;
  c.source = root;
  c.model = model_config_from_json(root, where);

  const auto& tok = section(root, "tokenizer", where);
  cfg::reject_unknown(tok, {"kind", "file"}, "tokenizer", where);
  c.tokenizer_kind = cfg::get_string(tok, "kind", "tokenizer", "bpe", where);
  if (c.tokenizer_kind == "bpe") {
    c.tokenizer_file = required_file(tok, "file", "tokenizer", where);
  } else if (c.tokenizer_kind != "byte") {
    throw ConfigError(where + ": field 'tokenizer.kind' must be \"bpe\" or \"byte\", got \"" +
                      c.tokenizer_kind + "\"");
  } else if (tok.contains("file")) {
    throw ConfigError(where + ": field 'tokenizer.file' is only for \"kind\": \"bpe\"");
  }

  const auto& data = section(root, "data", where);
  cfg::reject_unknown(data, {"train", "validation"}, "data", where);
  c.train_file = required_file(data, "train", "data", where);
  c.validation_file = required_file(data, "validation", "data", where);

  const auto& t = section(root, "train", where);
  cfg::reject_unknown(t, {"steps", "batch_size", "lr", "min_lr", "warmup_steps", "weight_decay",
                          "beta1", "beta2", "eps", "grad_clip", "seed", "eval_interval",
                          "eval_windows", "checkpoint_interval", "log_interval", "save_dtype",
                          "bf16_autocast"},
                      "train", where);
  TrainOptions& o = c.train;
  o.steps = cfg::get_int(t, "steps", "train", o.steps, 1, where);
  o.batch_size = cfg::get_int(t, "batch_size", "train", o.batch_size, 1, where);
  o.lr = cfg::get_double(t, "lr", "train", o.lr, where);
  check_range(o.lr > 0 && o.lr < 1, where, "train.lr", "in (0, 1)", o.lr);
  o.min_lr = cfg::get_double(t, "min_lr", "train", o.min_lr, where);
  check_range(o.min_lr >= 0 && o.min_lr <= o.lr, where, "train.min_lr",
              "between 0 and train.lr", o.min_lr);
  o.warmup_steps = cfg::get_int(t, "warmup_steps", "train", o.warmup_steps, 0, where);
  check_range(o.warmup_steps < o.steps, where, "train.warmup_steps",
              "smaller than train.steps", double(o.warmup_steps));
  o.weight_decay = cfg::get_double(t, "weight_decay", "train", o.weight_decay, where);
  check_range(o.weight_decay >= 0 && o.weight_decay < 10, where, "train.weight_decay",
              "in [0, 10)", o.weight_decay);
  o.beta1 = cfg::get_double(t, "beta1", "train", o.beta1, where);
  check_range(o.beta1 >= 0 && o.beta1 < 1, where, "train.beta1", "in [0, 1)", o.beta1);
  o.beta2 = cfg::get_double(t, "beta2", "train", o.beta2, where);
  check_range(o.beta2 >= 0 && o.beta2 < 1, where, "train.beta2", "in [0, 1)", o.beta2);
  o.eps = cfg::get_double(t, "eps", "train", o.eps, where);
  check_range(o.eps > 0, where, "train.eps", "positive", o.eps);
  o.grad_clip = cfg::get_double(t, "grad_clip", "train", o.grad_clip, where);
  check_range(o.grad_clip >= 0, where, "train.grad_clip", "0 (off) or positive", o.grad_clip);
  o.seed = uint64_t(cfg::get_int(t, "seed", "train", int64_t(o.seed), 0, where));
  o.eval_interval = cfg::get_int(t, "eval_interval", "train", o.eval_interval, 1, where);
  o.eval_windows = cfg::get_int(t, "eval_windows", "train", o.eval_windows, 1, where);
  o.checkpoint_interval =
      cfg::get_int(t, "checkpoint_interval", "train", o.checkpoint_interval, 1, where);
  o.log_interval = cfg::get_int(t, "log_interval", "train", o.log_interval, 1, where);
  o.save_dtype = cfg::get_string(t, "save_dtype", "train", o.save_dtype, where);
  if (o.save_dtype != "float32" && o.save_dtype != "float16" && o.save_dtype != "bfloat16") {
    throw ConfigError(where + ": field 'train.save_dtype' must be \"float32\", \"float16\" or "
                      "\"bfloat16\", got \"" + o.save_dtype + "\"");
  }
  o.bf16_autocast = cfg::get_bool(t, "bf16_autocast", "train", o.bf16_autocast, where);
  return c;
}

TrainConfig load_train_config(const std::string& path) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path + ": not valid JSON (" + e.what() + ")");
  }
  return train_config_from_json(root, path);
}

double learning_rate(const TrainOptions& o, int64_t step) {
  if (step < o.warmup_steps) return o.lr * double(step + 1) / double(o.warmup_steps);
  const int64_t span = o.steps - 1 - o.warmup_steps;
  if (span <= 0) return o.lr;
  const double progress = std::min(1.0, double(step - o.warmup_steps) / double(span));
  return o.min_lr + 0.5 * (o.lr - o.min_lr) * (1.0 + std::cos(M_PI * progress));
}

uint64_t window_hash(uint64_t seed, int64_t step, int64_t index) {
  auto mix = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return mix(mix(mix(seed) ^ uint64_t(step)) ^ uint64_t(index));
}

}  // namespace attn
