// SPDX-License-Identifier: MIT
// SessionBackend: a thin adapter over attn::Session. Opening builds the new session before the
// old one is dropped, so a failed open leaves the previous checkpoint usable.
#include "ui/models/session_backend.h"

#include <utility>

#include "core/util/error.h"

namespace attn::ui {

SessionBackend::SessionBackend() = default;
SessionBackend::~SessionBackend() = default;

OpenResult SessionBackend::open(const std::string& dir, const std::string& device,
                                const std::string& precision) {
  auto session = attn::Session::open(dir, device, precision);
  OpenResult result{session->summary(), session->warnings()};
  m_session = std::move(session);
  return result;
}

std::vector<attn::TokenInfo> SessionBackend::tokenize(const std::string& text) {
  return session().tokenize(text);
}

attn::LayerTrace SessionBackend::trace(const attn::TraceRequest& request) {
  return session().trace(request);
}

attn::LengthReport SessionBackend::evaluate(const attn::LengthRequest& request) {
  return session().evaluate(request);
}

const attn::Session& SessionBackend::session() const {
  if (!m_session) {
    throw attn::Error("no checkpoint is loaded; open one with File > Open checkpoint directory");
  }
  return *m_session;
}

}  // namespace attn::ui
