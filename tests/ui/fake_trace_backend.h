// SPDX-License-Identifier: MIT
// A scriptable TraceBackend for the presentation-model tests: tokens are whitespace-separated
// words, head 0 attends uniformly to the past and head 1 only to itself, and a shared control
// block lets a test hold a trace at a gate, make calls throw, and count what ran.
#pragma once

#include <atomic>
#include <algorithm>
#include <chrono>
#include <cmath>
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

  OpenResult open(const std::string& dir, const std::string& device,
                  const std::string& precision) override {
    ++m_control->opens;
    if (dir.find("bad") != std::string::npos) {
      throw attn::CheckpointError(dir + "/config.json: file not found");
    }
    OpenResult result;
    result.summary.dir = dir;
    m_dir = dir;
    result.summary.variant = "dot";
    result.summary.position = "rope";
    result.summary.n_layer = kFakeLayers;
    result.summary.n_head = kFakeHeads;
    result.summary.d_model = 16;
    result.summary.train_len = 4;
    result.summary.device = device;
    result.summary.precision = precision;
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
    if (request.max_tokens > 0 && static_cast<int64_t>(trace.tokens.size()) > request.max_tokens) {
      trace.tokens.resize(static_cast<std::size_t>(request.max_tokens));
      trace.truncated = true;
    }
    const int64_t n = static_cast<int64_t>(trace.tokens.size());
    std::vector<attn::MapRequest> wanted = request.maps;
    if (wanted.empty()) wanted.push_back(attn::MapRequest{request.layer, request.stages});
    for (const auto& r : wanted) {
      std::vector<std::string> stages = r.stages;
      if (stages.empty()) stages = {"raw", "logits", "probs"};
      for (const auto& stage : stages) trace.maps.push_back(fakeMap(r, stage, n));
    }
    if (request.progress) request.progress(1.0);
    return trace;
  }

  /// Perplexity 10 + length / 100 at each length that fits; per-head statistics from the
  /// length (entropy log(length), distance length / 3, sink 1 / length).
  attn::LengthReport evaluate(const attn::LengthRequest& request) override {
    attn::LengthReport report;
    report.text_tokens = static_cast<int64_t>(tokenize(request.text).size());
    report.train_len = 4;
    report.name = m_dir.substr(m_dir.find_last_of('/') + 1);  // the folder's name, as the core
    for (int64_t len : request.lengths) {
      if (request.cancel && request.cancel->load()) throw attn::Cancelled();
      if (len + 1 > report.text_tokens) {
        report.skipped.push_back(len);
        continue;
      }
      attn::LengthPoint p;
      p.length = len;
      p.windows = request.windows;
      p.ppl_tail = p.ppl_window = 10.0 + static_cast<double>(len) / 100.0;
      for (int l = 0; l < kFakeLayers; ++l) {
        p.entropy.emplace_back(kFakeHeads, std::log(static_cast<double>(len)));
        p.distance.emplace_back(kFakeHeads, static_cast<double>(len) / 3.0);
        p.sink.emplace_back(kFakeHeads, 1.0 / static_cast<double>(len));
      }
      report.points.push_back(std::move(p));
    }
    if (report.points.empty()) throw attn::Error("the text is too short for every length");
    return report;
  }

 private:
  /// probs: head 0 uniform over the past (1 / (i + 1)), head 1 the diagonal, others zero;
  /// raw and logits: i - j. Pooled views take each block's first causal cell.
  static attn::StageMap fakeMap(const attn::MapRequest& r, const std::string& stage, int64_t n) {
    auto value = [&stage](int64_t h, int64_t i, int64_t j) -> float {
      if (stage != "probs") return static_cast<float>(i - j);
      if (h == 0) return 1.0f / static_cast<float>(i + 1);
      return (h == 1 && i == j) ? 1.0f : 0.0f;
    };
    attn::StageMap m;
    m.stage = stage;
    m.layer = r.layer;
    m.n_head = kFakeHeads;
    m.n = n;
    m.q0 = r.q0 < 0 ? std::max<int64_t>(0, n + r.q0) : std::min(r.q0, n);
    m.q1 = r.q1 < 0 ? n : std::min(r.q1, n);
    m.k0 = r.k0 < 0 ? std::max<int64_t>(0, n + r.k0) : std::min(r.k0, n);
    m.k1 = r.k1 < 0 ? n : std::min(r.k1, n);
    const int64_t side = std::max<int64_t>(1, std::max(m.q1 - m.q0, m.k1 - m.k0));
    m.step = r.grid > 0 ? std::max<int64_t>(1, (side + r.grid - 1) / r.grid) : 1;
    m.rows = (m.q1 - m.q0 + m.step - 1) / m.step;
    m.cols = (m.k1 - m.k0 + m.step - 1) / m.step;
    m.values.assign(static_cast<std::size_t>(kFakeHeads * m.rows * m.cols), NAN);
    for (int64_t h = 0; h < kFakeHeads; ++h) {
      for (int64_t a = 0; a < m.rows; ++a) {
        for (int64_t c = 0; c < m.cols; ++c) {
          const int64_t i = std::min(m.q1 - 1, m.q0 + (a + 1) * m.step - 1);
          const int64_t j = m.k0 + c * m.step;
          if (j <= i) m.values[static_cast<std::size_t>((h * m.rows + a) * m.cols + c)] = value(h, i, j);
        }
      }
    }
    return m;
  }

  std::shared_ptr<FakeControl> m_control;
  std::string m_dir;
};

}  // namespace attn::ui::test
