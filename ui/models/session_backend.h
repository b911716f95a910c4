// SPDX-License-Identifier: MIT
// The real TraceBackend: forwards to an attn::Session. Kept torch-free (the session is a pimpl),
// so Qt code can include it; only core/api/session.cpp sees LibTorch.
#pragma once

#include <memory>

#include "ui/models/trace_backend.h"

namespace attn::ui {

class SessionBackend final : public TraceBackend {
 public:
  SessionBackend();
  ~SessionBackend() override;

  OpenResult open(const std::string& dir, const std::string& device,
                  const std::string& precision) override;
  std::vector<attn::TokenInfo> tokenize(const std::string& text) override;
  attn::LayerTrace trace(const attn::TraceRequest& request) override;
  attn::LengthReport evaluate(const attn::LengthRequest& request) override;

 private:
  const attn::Session& session() const;
  std::unique_ptr<attn::Session> m_session;
};

}  // namespace attn::ui
