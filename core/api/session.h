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
  std::string precision;            // "float32", "bfloat16" or "float16" (after any fallback)
};

/// One token as the model sees it.
struct TokenInfo {
  int64_t id = 0;
  std::string label;  // readable label for axes
  int64_t begin = 0;  // byte span in the input text
  int64_t end = 0;
};

/// One stage of one layer seen through a window: cell (r, c) covers queries
/// [q0 + r*step, q0 + (r+1)*step) and keys [k0 + c*step, k0 + (c+1)*step) (clipped to q1, k1).
/// values[(h * rows + r) * cols + c]; NaN where the cell has no causal entry (key > query
/// throughout). step 1 is the exact map; larger steps pool as the request said.
struct StageMap {
  std::string stage;
  int64_t layer = 0;
  int64_t n_head = 0;
  int64_t n = 0;  // tokens of the traced text
  int64_t q0 = 0, q1 = 0, k0 = 0, k1 = 0;
  int64_t step = 1;
  int64_t rows = 0, cols = 0;
  std::string pool;  // "extreme" or "mean" (step > 1)
  std::vector<float> values;
  float at(int64_t h, int64_t r, int64_t c) const { return values[(h * rows + r) * cols + c]; }
  /// The whole map of one head, rows * cols values.
  std::vector<float> head(int64_t h) const {
    const auto cells = rows * cols;
    return std::vector<float>(values.begin() + h * cells, values.begin() + (h + 1) * cells);
  }
};

/// One view to compute: stages of a layer over a window, at most `grid` cells a side.
struct MapRequest {
  int64_t layer = 0;
  std::vector<std::string> stages;            // empty: every stage the layer offers
  int64_t q0 = 0, q1 = -1, k0 = 0, k1 = -1;   // token window; q1, k1 < 0: to the end;
                                              // q0, k0 < 0: from the end (-1: last token)
  int64_t grid = 0;                           // most cells a side; 0: exact (step 1)
  std::string pool = "extreme";               // "extreme" (largest magnitude) or "mean"
};

struct TraceRequest {
  std::string text;
  int64_t layer = 0;                // with `stages`: the view when `maps` is empty
  std::vector<std::string> stages;  // empty: all stages of the variant
  /// The views to compute in one forward pass (it runs up to the deepest layer asked for).
  std::vector<MapRequest> maps;
  int64_t max_tokens = 0;           // 0: no limit; else the text is cut to its first max_tokens
  const std::atomic<bool>* cancel = nullptr;      // checked between layers and query chunks
  std::function<void(double fraction)> progress;  // 0..1, called from the computing thread
};

struct LayerTrace {
  int64_t layer = 0;
  std::vector<TokenInfo> tokens;
  std::vector<StageMap> maps;  // request order, then the layer's stage order
  bool truncated = false;      // true when max_tokens cut the text
  double seconds = 0.0;
  /// What the user should know about how it was computed (e.g. that the device ran out of
  /// memory and the pass was redone in smaller chunks, or that DAPE V2 layers ran the fused
  /// CUDA kernel).
  std::vector<std::string> notes;
  /// The first map of `stage` in `layer`, or nullptr.
  const StageMap* find(const std::string& stage, int64_t layer) const {
    for (const auto& m : maps) {
      if (m.stage == stage && m.layer == layer) return &m;
    }
    return nullptr;
  }
};

/// Perplexity and attention statistics of one text at several input lengths (core/eval).
struct LengthRequest {
  std::string text;
  std::vector<int64_t> lengths;  // lengths the text is too short for are skipped (and listed)
  int64_t windows = 1;           // windows per length, evenly over the text
  int64_t tail = 256;            // perplexity of the last `tail` predictions of each window
  int64_t local_window = 16;
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(double fraction)> progress;
};

struct LengthPoint {
  int64_t length = 0, windows = 0;
  double ppl_tail = 0, ppl_window = 0;
  // [layer][head], averaged over every query of every window:
  std::vector<std::vector<double>> entropy, distance, sink;
};

struct LengthReport {
  std::vector<LengthPoint> points;  // in the order asked, skipped lengths left out
  std::vector<int64_t> skipped;     // lengths longer than the text's tokens minus one
  int64_t text_tokens = 0;
  int64_t train_len = 0;
  std::string name;                 // the checkpoint directory's name
};

class Session {
 public:
  /// Loads a checkpoint directory on "cpu" or "cuda" (falls back to the CPU when CUDA is
  /// absent, and says so in warnings()) in `precision`: "float32", "bfloat16" or "float16"
  /// (half types run on CUDA only; where CUDA fell back to the CPU they fall back to float32,
  /// also noted in warnings()). Maps, perplexities and statistics come back in float32 or
  /// float64 whatever the precision. Throws attn::Error subclasses naming what is wrong (an
  /// unknown device or precision, a half precision on the CPU asked for, a bad checkpoint).
  static std::unique_ptr<Session> open(const std::string& checkpoint_dir,
                                       const std::string& device = "cpu",
                                       const std::string& precision = "float32");
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const ModelSummary& summary() const;
  const std::vector<std::string>& warnings() const;
  /// Throws TokenizerError (invalid UTF-8, with its byte offset).
  std::vector<TokenInfo> tokenize(const std::string& text) const;
  /// Runs the model up to the deepest layer asked for and returns the requested views. When the
  /// device runs out of memory the pass is redone with work tensors a quarter the size (up to
  /// three times, noted in LayerTrace::notes); after that an Error says to use the CPU or a
  /// shorter text. Throws
  /// attn::Cancelled when cancelled, attn::Error on bad input (empty text, unknown stage, layer
  /// out of range, empty window, unknown pool mode).
  LayerTrace trace(const TraceRequest& request) const;
  /// Evaluates the text at each length; log-softmax and perplexity in float32 and float64 in
  /// any precision. Every layer streams its rows to the statistics, so DAPE V2 layers take
  /// their reference path here, never the fused kernel. Throws attn::Cancelled when cancelled,
  /// attn::Error when no length fits the text (naming the text's size) or a length or window
  /// count is < 1.
  LengthReport evaluate(const LengthRequest& request) const;

 private:
  struct Impl;
  void check_request(const MapRequest& m) const;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace attn
