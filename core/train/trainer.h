// SPDX-License-Identifier: MIT
// The training loop. A run lives in one folder:
//   train_config.json        the config it was started with (resume checks it is unchanged)
//   train_state.safetensors  the resume point: float32 weights, AdamW moments, step (one file,
//                            written atomically, so a crash leaves the last one whole)
//   train_log.jsonl          one JSON object per line: training records every log_interval
//                            steps, validation records every eval_interval steps, a final one
//   config.json, model.safetensors, tokenizer.json
//                            a checkpoint the viewer opens (weights in train.save_dtype)
//   train_summary.json       written when the run completes
// The data a step sees depends only on (seed, step), so --resume continues exactly.
#pragma once

#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "core/train/adamw.h"
#include "core/train/train_config.h"
#include "core/train/train_data.h"

namespace attn {

struct TrainProgress {
  int64_t step = 0, steps = 0;  // steps done, of all
  double loss = 0, lr = 0, grad_norm = 0;
  double tokens_per_s = 0, elapsed_s = 0, eta_s = 0;
  double val_ppl = std::nan("");  // the latest validation, NaN before the first
};

struct TrainResult {
  int64_t step = 0;
  bool complete = false;  // false: stopped by cancel or time limit, saved at `step`
  double val_ppl = std::nan(""), unigram_ppl = std::nan("");
  int64_t val_tokens = 0, parameters = 0;
  double seconds = 0;
};

/// Gradient norms of `params` (float32, one per parameter, 0 without a gradient), then, when
/// max_norm > 0, every gradient scaled by min(1, max_norm / (total norm + 1e-6)) as PyTorch's
/// clip_grad_norm_, without a device-to-host sync.
torch::Tensor clip_gradients(const std::vector<torch::Tensor>& params, double max_norm);

class Trainer {
 public:
  /// Prepares a run in `out_dir`. Without `resume` the folder must not hold a run yet; with it,
  /// it must, started from the same config. `data` may be shared between runs (else loaded).
  Trainer(TrainConfig config, std::string out_dir, torch::Device device, bool resume,
          std::shared_ptr<const TrainData> data = nullptr);
  /// Trains to the end, or until `cancel` is set or `time_limit_s` (> 0) passes: then it saves
  /// the step reached and returns with complete = false. `on_progress` runs after every step.
  TrainResult run(const std::atomic<bool>* cancel = nullptr,
                  const std::function<void(const TrainProgress&)>& on_progress = {},
                  double time_limit_s = 0);
  int64_t start_step() const { return step_; }
  const TrainConfig& config() const { return config_; }

 private:
  void save(bool final_checkpoint, double elapsed_s);
  void restore();
  void remove_stale_temporaries();
  void append_log(const nlohmann::json& record);
  double validate(int64_t max_windows);

  TrainConfig config_;
  std::string dir_;
  torch::Device device_;
  std::shared_ptr<const TrainData> data_;
  TransformerLM model_{nullptr};
  std::unique_ptr<AdamW> opt_;
  int64_t step_ = 0;
  double elapsed_before_ = 0;  // seconds of earlier sessions of this run
  double last_val_ppl_ = std::nan("");
};

}  // namespace attn
