// SPDX-License-Identifier: MIT
// A scriptable TraceBackend for the presentation-model tests: tokens are whitespace-separated
// words, head 0 attends uniformly to the past and head 1 only to itself, and a shared control
// block lets a test hold a trace at a gate, make calls throw, and count what ran.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/util/error.h"
#include "ui/models/trace_backend.h"

namespace attn::ui::test {

enum class Failure { None, AttnError, StdError, NonStandard };

/// Shared between the test (GUI thread) and the backend (worker thread).
struct FakeControl {
  std::atomic<int> opens{0};
  std::atomic<int> tracesStarted{0};
  std::atomic<int> tracesFinished{0};
  std::atomic<bool> gate{false};         // while set, a trace waits
  std::atomic<bool> honourCancel{true};  // false: finish (with a result) even when cancelled
  std::atomic<bool> sawCancel{false};    // a running trace saw its cancel flag set
  std::atomic<Failure> traceFailure{Failure::None};
  std::mutex mutex;
  std::string lastText;  // guarded by mutex

  std::string text() {
    std::lock_guard<std::mutex> lock(mutex);
    return lastText;
  }
};

inline constexpr int kFakeLayers = 3;
inline constexpr int kFakeHeads = 2;

class FakeTraceBackend final : public TraceBackend {
 public:
  explicit FakeTraceBackend(std::shared_ptr<FakeControl> control) : m_control(std::move(control)) {}

  OpenResult open(const std::string& dir, const std::string& device) override {
    ++m_control->opens;
    if (dir.find("bad") != std::string::npos) {
      throw attn::CheckpointError(dir + "/config.json: file not found");
    }
    OpenResult result;
    result.summary.dir = dir;
    result.summary.variant = "dot";
    result.summary.position = "rope";
    result.summary.n_layer = kFakeLayers;
    result.summary.n_head = kFakeHeads;
    result.summary.d_model = 16;
    result.summary.device = device;
    result.summary.stages = {"raw", "logits", "probs"};
    return result;
  }

  std::vector<attn::TokenInfo> tokenize(const std::string& text) override {
    std::vector<attn::TokenInfo> tokens;
    std::istringstream words(text);
    std::string word;
    for (int64_t id = 0; words >> word; ++id) tokens.push_back({id, word, 0, 0});
    return tokens;
  }

  attn::LayerTrace trace(const attn::TraceRequest& request) override {
    ++m_control->tracesStarted;
    {
      std::lock_guard<std::mutex> lock(m_control->mutex);
      m_control->lastText = request.text;
    }
    // Bounded, so that a model that never cancels fails a test instead of hanging it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (m_control->gate.load() && std::chrono::steady_clock::now() < deadline) {
      if (request.cancel && request.cancel->load() && m_control->honourCancel.load()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    struct Finish {  // counts the trace as finished however it leaves
      FakeControl& c;
      ~Finish() { ++c.tracesFinished; }
    } finish{*m_control};

    if (request.cancel && request.cancel->load()) {
      m_control->sawCancel = true;
      if (m_control->honourCancel.load()) throw attn::Cancelled();
    }
    switch (m_control->traceFailure.load()) {
      case Failure::AttnError:
        throw attn::Error("boom: layer out of range");
      case Failure::StdError:
        throw std::runtime_error("bad_alloc-like trouble");
      case Failure::NonStandard:
        throw 42;
      case Failure::None:
        break;
    }
    if (request.progress) request.progress(0.5);
    attn::LayerTrace trace;
    trace.layer = request.layer;
    trace.tokens = tokenize(request.text);
    const int64_t n = static_cast<int64_t>(trace.tokens.size());
    attn::StageMap probs;
    probs.stage = "probs";
    probs.n_head = kFakeHeads;
    probs.n = n;
    probs.values.assign(static_cast<std::size_t>(kFakeHeads * n * n), 0.0f);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j <= i; ++j) {
        probs.values[static_cast<std::size_t>((0 * n + i) * n + j)] = 1.0f / (i + 1);
      }
      probs.values[static_cast<std::size_t>((1 * n + i) * n + i)] = 1.0f;
    }
    trace.maps.push_back(std::move(probs));
    if (request.progress) request.progress(1.0);
    return trace;
  }

 private:
  std::shared_ptr<FakeControl> m_control;
};

}  // namespace attn::ui::test
