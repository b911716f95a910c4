// SPDX-License-Identifier: MIT
// A torch-free facade over one loaded checkpoint, for the window and other front ends: open a
// checkpoint directory, tokenize a text, and trace one layer's stage maps as plain float arrays.
// Everything LibTorch stays behind the pimpl, so Qt code can include this header.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace attn {

/// What the window shows about a loaded checkpoint.
struct ModelSummary {
  std::string dir;
  std::string variant;         // attention variant, e.g. "dot", "dape_v2"
  std::string position;        // position encoding, e.g. "alibi"
  std::string tokenizer_kind;  // "bpe" or "byte"
  int64_t vocab_size = 0;
  int64_t d_model = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t train_len = 0;
  int64_t n_params = 0;
  bool trained = false;
  std::string note;                 // provenance note from config.json
  std::vector<std::string> stages;  // the stage names the variant offers, in order
  std::string device;               // "cpu" or "cuda" (after any fallback)
};

/// One token as the model sees it.
struct TokenInfo {
  int64_t id = 0;
  std::string label;  // readable label for axes
  int64_t begin = 0;  // byte span in the input text
  int64_t end = 0;
};

/// One stage of one layer: values[h * n * n + i * n + j], query i, key j; zero where j > i.
struct StageMap {
  std::string stage;
  int64_t n_head = 0;
  int64_t n = 0;
  std::vector<float> values;
  float at(int64_t h, int64_t i, int64_t j) const { return values[(h * n + i) * n + j]; }
};

struct TraceRequest {
  std::string text;
  int64_t layer = 0;
  std::vector<std::string> stages;  // empty: all stages of the variant
  int64_t max_tokens = 0;           // 0: no limit; else the text is cut to its first max_tokens
  const std::atomic<bool>* cancel = nullptr;      // checked between layers and query chunks
  std::function<void(double fraction)> progress;  // 0..1, called from the computing thread
};

struct LayerTrace {
  int64_t layer = 0;
  std::vector<TokenInfo> tokens;
  std::vector<StageMap> maps;
  bool truncated = false;  // true when max_tokens cut the text
  double seconds = 0.0;
};

class Session {
 public:
  /// Loads a checkpoint directory on "cpu" or "cuda" (falls back to the CPU when CUDA is
  /// absent, and says so in warnings()). Throws attn::Error subclasses naming what is wrong.
  static std::unique_ptr<Session> open(const std::string& checkpoint_dir,
                                       const std::string& device = "cpu");
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const ModelSummary& summary() const;
  const std::vector<std::string>& warnings() const;
  /// Throws TokenizerError (invalid UTF-8, with its byte offset).
  std::vector<TokenInfo> tokenize(const std::string& text) const;
  /// Runs the model up to `layer` and returns its stage maps. Throws attn::Cancelled when
  /// cancelled, attn::Error on bad input (empty text, unknown stage, layer out of range).
  LayerTrace trace(const TraceRequest& request) const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace attn
