// SPDX-License-Identifier: MIT
// AttentionViewModel's traces (attention_view_model.h; the reading side and the slots are in
// attention_view_model.cpp): what a request asks the worker for, given the stale parts, and
// what its results, progress, cancellation and failures change.
#include "ui/models/attention_view_model.h"

#include "ui/models/figure_builder.h"
#include "ui/models/string_convert.h"

#include <algorithm>
#include <utility>

namespace attn::ui {

// ---- requests --------------------------------------------------------------------------------

void AttentionViewModel::markStale(int parts) {
  if (parts == 0) return;
  m_stale |= parts;
  scheduleTrace();
}

void AttentionViewModel::scheduleTrace() { m_debounce.start(); }

std::vector<std::pair<AttentionViewModel::Part, attn::MapRequest>>
AttentionViewModel::buildRequests(int parts) const {
  std::vector<std::pair<Part, attn::MapRequest>> out;
  const auto layer = static_cast<int64_t>(m_layer);
  if (parts & Panels) {
    attn::MapRequest r;
    r.layer = layer;
    r.stages = toStdList(m_panelStages);
    r.grid = kPanelGrid;
    out.emplace_back(Panels, r);
  }
  if (parts & Overview) {
    for (int l = 0; l < layerCount(); ++l) {
      attn::MapRequest r;
      r.layer = l;
      r.stages = {overviewStage().toStdString()};
      r.grid = kOverviewGrid;
      out.emplace_back(Overview, r);
    }
  }
  if (parts & Profile) {
    attn::MapRequest r;  // one query over all keys, exact; -1: the last token
    r.layer = layer;
    r.stages = toStdList(m_profileStages);
    r.q0 = m_queryRow < 0 ? -1 : m_queryRow;
    r.q1 = m_queryRow < 0 ? -1 : m_queryRow + 1;
    out.emplace_back(Profile, r);
  }
  if ((parts & Detail) && !m_view.isEmpty()) {
    attn::MapRequest r;
    r.layer = layer;
    r.stages = toStdList(m_panelStages);
    r.q0 = m_view.q0;
    r.q1 = m_view.q1;
    r.k0 = m_view.k0;
    r.k1 = m_view.k1;
    r.grid = kPanelGrid;
    out.emplace_back(Detail, r);
  }
  return out;
}

void AttentionViewModel::requestTrace() {
  m_debounce.stop();
  // Without a model, or with a new one on its way, the wish is kept for when it arrives.
  if (!m_hasCheckpoint || m_pendingOpens > 0 || m_stale == 0) return;
  // A running job's parts are wanted again unless this one computes them.
  if (m_traceInFlight) m_stale |= m_inFlightParts;
  cancelRunningTrace();
  if (m_text.isEmpty()) {
    m_stale = 0;
    clearTrace();
    m_tokenCount = 0;
    Q_EMIT tokensChanged(m_tokenCount);
    updateBusy();
    return;
  }
  // Without panels in hand, everything is computed afresh.
  int parts = m_trace ? m_stale : (m_stale | All);
  if (m_view.isEmpty()) parts &= ~Detail;
  m_stale = 0;
  if (parts == 0) {
    updateBusy();
    return;
  }
  TraceJob job;
  job.generation = ++m_traceGeneration;
  job.text = m_text.toStdString();
  job.layer = m_layer;
  job.maxTokens = m_maxTokens;
  m_inFlightRequests = buildRequests(parts);
  for (const auto& [part, request] : m_inFlightRequests) job.maps.push_back(request);
  job.cancel = std::make_shared<std::atomic<bool>>(false);
  m_cancel = job.cancel;
  m_traceInFlight = true;
  m_inFlightParts = parts;
  m_progress = 0.0;
  Q_EMIT progressChanged(m_progress);

  TraceWorker* worker = m_worker;
  QMetaObject::invokeMethod(
      worker, [worker, job = std::move(job)] { worker->runTrace(job); }, Qt::QueuedConnection);
  updateBusy();
}

void AttentionViewModel::cancelRunningTrace() {
  if (m_cancel) m_cancel->store(true);
  m_cancel.reset();
  m_traceInFlight = false;  // whatever the cancelled job still sends is dropped
  m_inFlightParts = 0;
}

void AttentionViewModel::clearTrace() {
  const bool had = m_trace != nullptr;
  m_trace.reset();
  m_panels.clear();
  m_detail.clear();
  m_overview.clear();
  m_profile.clear();
  if (had) {
    Q_EMIT traceChanged();
    Q_EMIT overviewChanged();
    Q_EMIT profileChanged();
    Q_EMIT detailChanged();
  }
}

void AttentionViewModel::updateBusy() {
  const bool busy = m_pendingOpens > 0 || m_traceInFlight;
  if (busy == m_busy) return;
  m_busy = busy;
  Q_EMIT busyChanged(m_busy);
}

void AttentionViewModel::setError(const QString& message) {
  m_errorText = message;
  Q_EMIT failed(message);
}

void AttentionViewModel::clampSelection() {
  const int layer = std::clamp(m_layer, 0, std::max(0, layerCount() - 1));
  const int head = std::clamp(m_head, 0, std::max(0, headCount() - 1));
  if (layer != m_layer) {
    m_layer = layer;
    Q_EMIT layerChanged(m_layer);
  }
  if (head != m_head) {
    m_head = head;
    Q_EMIT headChanged(m_head);
  }
}

void AttentionViewModel::chooseDefaultStages() {
  const QStringList offered = stages();
  const QStringList panels = defaultPanelStages(offered);
  const QStringList profile = defaultProfileStages(offered);
  m_defaultPanels = panels;
  // Keep the user's choice across checkpoints of the same kind where it still applies.
  QStringList kept;
  for (const auto& s : m_panelStages) {
    if (offered.contains(s)) kept << s;
  }
  const QStringList newPanels = kept.isEmpty() ? panels : kept;
  if (newPanels != m_panelStages) {
    m_panelStages = newPanels;
    Q_EMIT panelStagesChanged(m_panelStages);
  }
  if (profile != m_profileStages) {
    m_profileStages = profile;
    Q_EMIT profileStagesChanged(m_profileStages);
  }
}

bool AttentionViewModel::isCurrentTrace(quint64 generation) const {
  return m_traceInFlight && generation == m_traceGeneration;
}

void AttentionViewModel::applyResult(int parts, const attn::LayerTrace& trace) {
  // The maps come in request order, each request's stages in the layer's order, one map per
  // stage asked for.
  std::vector<attn::StageMap> panels, overview, profile, detail;
  size_t next = 0;
  for (const auto& [part, request] : m_inFlightRequests) {
    for (size_t k = 0; k < request.stages.size() && next < trace.maps.size(); ++k) {
      const attn::StageMap& m = trace.maps[next++];
      switch (part) {
        case Panels: panels.push_back(m); break;
        case Overview: overview.push_back(m); break;
        case Profile: profile.push_back(m); break;
        default: detail.push_back(m); break;
      }
    }
  }
  if (parts & Panels) m_panels = std::move(panels);
  if (parts & Overview) {
    m_overview = std::move(overview);
    Q_EMIT overviewChanged();
  }
  if (parts & Profile) {
    m_profile = std::move(profile);
    Q_EMIT profileChanged();
  }
  if (parts & Detail) {
    m_detail = std::move(detail);
    Q_EMIT detailChanged();
  }
}

// ---- worker results --------------------------------------------------------------------------

void AttentionViewModel::onOpened(quint64, const OpenResult& result) {
  --m_pendingOpens;
  m_summary = result.summary;
  m_warnings.clear();
  for (const auto& warning : result.warnings) m_warnings << QString::fromStdString(warning);
  m_hasCheckpoint = true;
  m_errorText.clear();
  clampSelection();
  chooseDefaultStages();
  m_view = {};
  clearTrace();  // the maps on display belong to the previous model
  Q_EMIT summaryChanged();
  m_stale |= All;
  if (m_pendingOpens == 0) requestTrace();
  updateBusy();
}

void AttentionViewModel::onOpenFailed(const QString& message) {
  --m_pendingOpens;
  setError(message);
  Q_EMIT openFailed(message);
  if (m_pendingOpens == 0 && m_stale != 0) requestTrace();
  updateBusy();
}

void AttentionViewModel::onTokenized(quint64 generation, const TokenList& tokens) {
  if (!isCurrentTrace(generation)) return;
  m_tokenCount = static_cast<int>(tokens.size());
  Q_EMIT tokensChanged(m_tokenCount);
}

void AttentionViewModel::onTraced(quint64 generation, const TracePtr& trace) {
  if (!isCurrentTrace(generation)) return;
  const int parts = m_inFlightParts;
  m_traceInFlight = false;
  m_inFlightParts = 0;
  m_cancel.reset();
  m_errorText.clear();
  if (parts & Panels) m_trace = trace;  // before the part signals, whose slots read it
  applyResult(parts, *trace);
  if (parts & Panels) Q_EMIT traceChanged();
  for (const auto& note : trace->notes) Q_EMIT notice(QString::fromStdString(note));
  m_progress = 1.0;
  Q_EMIT progressChanged(m_progress);
  updateBusy();
  if (m_stale != 0) scheduleTrace();
}

void AttentionViewModel::onProgressed(quint64 generation, double fraction) {
  if (!isCurrentTrace(generation)) return;
  m_progress = fraction;
  Q_EMIT progressChanged(m_progress);
}

void AttentionViewModel::onCancelled(quint64 generation) {
  if (!isCurrentTrace(generation)) return;
  m_traceInFlight = false;
  m_inFlightParts = 0;
  m_cancel.reset();
  updateBusy();
}

void AttentionViewModel::onFailed(quint64 generation, const QString& message) {
  if (!isCurrentTrace(generation)) return;
  m_traceInFlight = false;
  m_inFlightParts = 0;
  m_cancel.reset();
  setError(message);
  updateBusy();
}

}  // namespace attn::ui
