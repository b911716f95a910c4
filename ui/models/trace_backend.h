// SPDX-License-Identifier: MIT
// The few calls the trace worker makes on a loaded model: open a checkpoint, tokenize a text and
// trace one layer. An interface so that the presentation model can be tested against a fake
// backend without LibTorch; SessionBackend is the real one over attn::Session.
#pragma once

#include <string>
#include <vector>

#include "core/api/session.h"

namespace attn::ui {

/// What opening a checkpoint yields: its summary and any non-fatal warnings (e.g. CUDA fallback,
/// or a half precision that fell back to float32 with it).
struct OpenResult {
  attn::ModelSummary summary;
  std::vector<std::string> warnings;
};

/// All calls come from one worker thread, one at a time. Errors are thrown as attn::Error
/// (attn::Cancelled when the request's cancel flag was seen); the worker turns them into signals.
class TraceBackend {
 public:
  virtual ~TraceBackend() = default;
  /// Replaces the loaded checkpoint, on `device` ("cpu", "cuda") in `precision` ("float32",
  /// "bfloat16", "float16"); on failure the previous one stays loaded.
  virtual OpenResult open(const std::string& dir, const std::string& device,
                          const std::string& precision) = 0;
  virtual std::vector<attn::TokenInfo> tokenize(const std::string& text) = 0;
  virtual attn::LayerTrace trace(const attn::TraceRequest& request) = 0;
  virtual attn::LengthReport evaluate(const attn::LengthRequest& request) = 0;
};

}  // namespace attn::ui
