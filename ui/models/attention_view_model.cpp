// SPDX-License-Identifier: MIT
// AttentionViewModel: owns the worker thread and decides when to trace. Traces are requested on
// a single-shot debounce timer; each request gets a new generation and its own cancel flag, and
// setting that flag is how a newer request (or the Cancel button) stops an older one.
#include "ui/models/attention_view_model.h"

#include <algorithm>
#include <utility>

namespace attn::ui {

AttentionViewModel::AttentionViewModel(std::unique_ptr<TraceBackend> backend, QObject* parent)
    : QObject(parent), m_worker(new TraceWorker(std::move(backend))) {
  m_thread.setObjectName(QStringLiteral("attn-trace-worker"));
  m_worker->moveToThread(&m_thread);
  // Deleted on its own thread as that thread finishes (before wait() in the destructor returns).
  connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);

  m_debounce.setSingleShot(true);
  m_debounce.setInterval(kDefaultDebounceMs);
  connect(&m_debounce, &QTimer::timeout, this, &AttentionViewModel::requestTrace);

  connect(m_worker, &TraceWorker::opened, this, &AttentionViewModel::onOpened);
  connect(m_worker, &TraceWorker::openFailed, this,
          [this](quint64, const QString& message) { onOpenFailed(message); });
  connect(m_worker, &TraceWorker::tokenized, this, &AttentionViewModel::onTokenized);
  connect(m_worker, &TraceWorker::traced, this, &AttentionViewModel::onTraced);
  connect(m_worker, &TraceWorker::progressed, this, &AttentionViewModel::onProgressed);
  connect(m_worker, &TraceWorker::cancelled, this, &AttentionViewModel::onCancelled);
  connect(m_worker, &TraceWorker::failed, this, &AttentionViewModel::onFailed);
  m_thread.start();
}

AttentionViewModel::~AttentionViewModel() {
  m_debounce.stop();
  cancelRunningTrace();
  m_thread.quit();
  m_thread.wait();
}

// ---- reading ---------------------------------------------------------------------------------

const attn::StageMap* AttentionViewModel::shownMap() const {
  if (!m_trace || m_trace->maps.empty()) return nullptr;
  for (const auto& map : m_trace->maps) {
    if (map.stage == kStage) return &map;
  }
  return &m_trace->maps.front();
}

int AttentionViewModel::mapSize() const {
  const attn::StageMap* map = shownMap();
  return map ? static_cast<int>(map->n) : 0;
}

QStringList AttentionViewModel::mapLabels() const {
  QStringList labels;
  if (!m_trace) return labels;
  const auto n = static_cast<std::size_t>(mapSize());
  for (std::size_t t = 0; t < std::min(n, m_trace->tokens.size()); ++t) {
    labels << QString::fromStdString(m_trace->tokens[t].label);
  }
  return labels;
}

std::vector<float> AttentionViewModel::headMap() const {
  const attn::StageMap* map = shownMap();
  if (!map || m_head < 0 || m_head >= map->n_head) return {};
  const auto cells = static_cast<std::size_t>(map->n * map->n);
  const auto head = static_cast<std::size_t>(m_head);
  if (map->values.size() < (head + 1) * cells) return {};
  const auto first = map->values.begin() + static_cast<std::ptrdiff_t>(head * cells);
  return std::vector<float>(first, first + static_cast<std::ptrdiff_t>(cells));
}

// ---- slots -----------------------------------------------------------------------------------

void AttentionViewModel::openCheckpoint(const QString& dir) {
  m_debounce.stop();
  if (m_traceInFlight) {
    cancelRunningTrace();
    m_traceWanted = true;
  }
  ++m_pendingOpens;
  const quint64 generation = ++m_openGeneration;
  TraceWorker* worker = m_worker;
  const QString device = m_device;
  QMetaObject::invokeMethod(
      worker,
      [worker, generation, dir, device] { worker->openCheckpoint(generation, dir, device); },
      Qt::QueuedConnection);
  updateBusy();
}

void AttentionViewModel::setText(const QString& text) {
  if (text == m_text) return;
  m_text = text;
  Q_EMIT textChanged(m_text);
  scheduleTrace();
}

void AttentionViewModel::setLayer(int layer) {
  if (m_hasCheckpoint) layer = std::clamp(layer, 0, std::max(0, layerCount() - 1));
  if (layer == m_layer) return;
  m_layer = layer;
  Q_EMIT layerChanged(m_layer);
  scheduleTrace();
}

void AttentionViewModel::setHead(int head) {
  if (m_hasCheckpoint) head = std::clamp(head, 0, std::max(0, headCount() - 1));
  if (head == m_head) return;
  m_head = head;
  Q_EMIT headChanged(m_head);
}

void AttentionViewModel::refresh() {
  m_traceWanted = true;
  requestTrace();
}

void AttentionViewModel::cancel() {
  m_debounce.stop();
  m_traceWanted = false;
  cancelRunningTrace();
  updateBusy();
}

// ---- requests --------------------------------------------------------------------------------

void AttentionViewModel::scheduleTrace() {
  m_traceWanted = true;
  m_debounce.start();
}

void AttentionViewModel::requestTrace() {
  m_debounce.stop();
  // Without a model, or with a new one on its way, the wish is kept for when it arrives.
  if (!m_hasCheckpoint || m_pendingOpens > 0) return;
  m_traceWanted = false;
  cancelRunningTrace();
  if (m_text.isEmpty()) {
    clearTrace();
    m_tokenCount = 0;
    Q_EMIT tokensChanged(m_tokenCount);
    updateBusy();
    return;
  }
  TraceJob job;
  job.generation = ++m_traceGeneration;
  job.text = m_text.toStdString();
  job.layer = m_layer;
  job.maxTokens = m_maxTokens;
  job.stages = {kStage};
  job.cancel = std::make_shared<std::atomic<bool>>(false);
  m_cancel = job.cancel;
  m_traceInFlight = true;
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
}

void AttentionViewModel::clearTrace() {
  if (!m_trace) return;
  m_trace.reset();
  Q_EMIT traceChanged();
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

bool AttentionViewModel::isCurrentTrace(quint64 generation) const {
  return m_traceInFlight && generation == m_traceGeneration;
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
  clearTrace();  // the map on display belongs to the previous model
  Q_EMIT summaryChanged();
  m_traceWanted = true;
  if (m_pendingOpens == 0) requestTrace();
  updateBusy();
}

void AttentionViewModel::onOpenFailed(const QString& message) {
  --m_pendingOpens;
  setError(message);
  Q_EMIT openFailed(message);
  if (m_pendingOpens == 0 && m_traceWanted) requestTrace();
  updateBusy();
}

void AttentionViewModel::onTokenized(quint64 generation, const TokenList& tokens) {
  if (!isCurrentTrace(generation)) return;
  m_tokenCount = static_cast<int>(tokens.size());
  Q_EMIT tokensChanged(m_tokenCount);
}

void AttentionViewModel::onTraced(quint64 generation, const TracePtr& trace) {
  if (!isCurrentTrace(generation)) return;
  m_traceInFlight = false;
  m_cancel.reset();
  m_trace = trace;
  m_errorText.clear();
  m_progress = 1.0;
  Q_EMIT progressChanged(m_progress);
  Q_EMIT traceChanged();
  updateBusy();
}

void AttentionViewModel::onProgressed(quint64 generation, double fraction) {
  if (!isCurrentTrace(generation)) return;
  m_progress = fraction;
  Q_EMIT progressChanged(m_progress);
}

void AttentionViewModel::onCancelled(quint64 generation) {
  if (!isCurrentTrace(generation)) return;
  m_traceInFlight = false;
  m_cancel.reset();
  updateBusy();
}

void AttentionViewModel::onFailed(quint64 generation, const QString& message) {
  if (!isCurrentTrace(generation)) return;
  m_traceInFlight = false;
  m_cancel.reset();
  setError(message);
  updateBusy();
}

}  // namespace attn::ui
