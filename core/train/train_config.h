// SPDX-License-Identifier: MIT
// A training run's config file: the model sections of a checkpoint's config.json ("model",
// "attention", "position") plus "tokenizer", "data" and "train". Relative paths are taken from
// the config file's folder. Every unknown or invalid field is a ConfigError naming it.
// No LibTorch here.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/model/config.h"

namespace attn {

struct TrainOptions {
  int64_t steps = 4000;
  int64_t batch_size = 32;
  double lr = 1e-3;           // peak learning rate, reached after warm-up
  double min_lr = 1e-4;       // the cosine schedule's floor, reached at the last step
  int64_t warmup_steps = 200;
  double weight_decay = 0.1;  // on weights; never on biases and norms
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double grad_clip = 1.0;     // global gradient-norm clip; 0 disables
  uint64_t seed = 1234;
  int64_t eval_interval = 250;     // validation every this many steps (and at the end)
  int64_t eval_windows = 256;      // validation windows at intervals; the final one uses all
  int64_t checkpoint_interval = 500;
  int64_t log_interval = 10;
  std::string save_dtype = "float32";  // the viewer checkpoint's weights: float32|float16|bfloat16
  bool bf16_autocast = true;           // on CUDA; the CPU always trains in float32
};

struct TrainConfig {
  std::string path;             // the config file, for messages
  nlohmann::json source;        // the file's JSON as read (copied into the run folder)
  ModelConfig model;
  std::string tokenizer_kind;   // "bpe" or "byte"
  std::string tokenizer_file;   // absolute or cwd-relative path, for "bpe"
  std::string train_file, validation_file;
  TrainOptions train;
};

/// Parses a config document; `path` is used for messages and to resolve relative paths.
TrainConfig train_config_from_json(const nlohmann::json& root, const std::string& path);
/// Reads and parses a config file. Throws ConfigError naming the file and field.
TrainConfig load_train_config(const std::string& path);

/// The learning rate at `step` (0-based): linear warm-up from lr/warmup to lr over warmup_steps,
/// then a cosine from lr down to min_lr at step steps-1.
double learning_rate(const TrainOptions& o, int64_t step);

/// A deterministic 64-bit hash of (seed, step, index) (SplitMix64 steps): the training windows
/// depend on the step alone, so a resumed run sees exactly the data it would have seen.
uint64_t window_hash(uint64_t seed, int64_t step, int64_t index);

}  // namespace attn
