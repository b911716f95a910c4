// SPDX-License-Identifier: MIT
// AttentionViewModel: owns the worker thread and decides when to trace. Traces are requested on
// a single-shot debounce timer; each request gets a new generation and its own cancel flag, and
// setting that flag is how a newer request (or the Cancel button) stops an older one. What a
// request computes is the set of stale parts: the panels of the chosen layer (the whole map,
// pooled to kPanelGrid cells a side), every layer's overview thumbnail, the profile row, and the
// exact maps of the zoomed window. One forward pass serves them all.
#include "ui/models/attention_view_model.h"

#include "ui/models/figure_builder.h"
#include "ui/models/string_convert.h"

#include <algorithm>
#include <utility>

namespace attn::ui {

AttentionViewModel::AttentionViewModel(std::unique_ptr<TraceBackend> backend, QObject* parent)
    : QObject(parent), m_worker(new TraceWorker(std::move(backend))) {
  qRegisterMetaType<attn::ui::MapWindowRequest>();
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

QStringList AttentionViewModel::stages() const { return toQStringList(m_summary.stages); }

QString AttentionViewModel::overviewStage() const {
  return m_panelStages.isEmpty() ? QString::fromLatin1(kStage) : m_panelStages.last();
}

int AttentionViewModel::profileQuery() const {
  const int n = mapSize();
  if (n == 0) return -1;
  return m_queryRow < 0 ? n - 1 : std::min(m_queryRow, n - 1);
}

int AttentionViewModel::mapSize() const {
  return m_trace ? static_cast<int>(m_trace->tokens.size()) : 0;
}

QStringList AttentionViewModel::mapLabels() const {
  QStringList labels;
  if (!m_trace) return labels;
  for (const auto& t : m_trace->tokens) labels << QString::fromStdString(t.label);
  return labels;
}

const attn::StageMap* AttentionViewModel::panelMap(int panel) const {
  if (panel < 0 || panel >= m_panelStages.size()) return nullptr;
  const std::string stage = m_panelStages[panel].toStdString();
  for (const auto& m : m_panels) {
    if (m.stage == stage) return &m;
  }
  return nullptr;
}

const attn::StageMap* AttentionViewModel::detailMap(int panel) const {
  if (panel < 0 || panel >= m_panelStages.size()) return nullptr;
  const std::string stage = m_panelStages[panel].toStdString();
  for (const auto& m : m_detail) {
    if (m.stage == stage && m.layer == m_layer) return &m;
  }
  return nullptr;
}

const attn::StageMap* AttentionViewModel::overviewMap(int layer) const {
  for (const auto& m : m_overview) {
    if (m.layer == layer) return &m;
  }
  return nullptr;
}

const attn::StageMap* AttentionViewModel::profileMap(const QString& stage) const {
  const std::string name = stage.toStdString();
  for (const auto& m : m_profile) {
    if (m.stage == name) return &m;
  }
  return nullptr;
}

std::vector<float> AttentionViewModel::headMap() const {
  const attn::StageMap* map = panelMap(static_cast<int>(m_panelStages.size()) - 1);
  if (!map || m_head < 0 || m_head >= map->n_head) return {};
  const auto cells = static_cast<std::size_t>(map->rows * map->cols);
  if (map->values.size() < (static_cast<std::size_t>(m_head) + 1) * cells) return {};
  return map->head(m_head);
}

// ---- slots -----------------------------------------------------------------------------------

void AttentionViewModel::openCheckpoint(const QString& dir) {
  m_debounce.stop();
  if (m_traceInFlight) {
    cancelRunningTrace();
    m_stale |= All;
  }
  ++m_pendingOpens;
  const quint64 generation = ++m_openGeneration;
  TraceWorker* worker = m_worker;
  const QString device = m_device, precision = m_precision;
  QMetaObject::invokeMethod(
      worker,
      [worker, generation, dir, device, precision] {
        worker->openCheckpoint(generation, dir, device, precision);
      },
      Qt::QueuedConnection);
  updateBusy();
}

void AttentionViewModel::setDevice(const QString& device) {
  if (device == m_device) return;
  if (device != QLatin1String("cpu") && device != QLatin1String("cuda")) {
    Q_EMIT notice(tr("Device '%1' is unknown: use cpu or cuda").arg(device));
    return;
  }
  m_device = device;
  Q_EMIT deviceChanged(m_device);
  if (!precisionAvailable(m_precision)) {
    Q_EMIT notice(tr("Precision set to float32: %1 runs on CUDA only").arg(m_precision));
    m_precision = QStringLiteral("float32");
    Q_EMIT precisionChanged(m_precision);
  }
}

void AttentionViewModel::setPrecision(const QString& precision) {
  if (precision == m_precision) return;
  const QStringList known{QStringLiteral("float32"), QStringLiteral("bfloat16"),
                          QStringLiteral("float16")};
  if (!known.contains(precision)) {
    Q_EMIT notice(tr("Precision '%1' is unknown: use float32, bfloat16 or float16").arg(precision));
    return;
  }
  if (!precisionAvailable(precision)) {
    Q_EMIT notice(tr("%1 runs on CUDA only: choose Device > CUDA first").arg(precision));
    return;
  }
  m_precision = precision;
  Q_EMIT precisionChanged(m_precision);
}

bool AttentionViewModel::precisionAvailable(const QString& precision) const {
  return precision == QLatin1String("float32") || m_device.startsWith(QLatin1String("cuda"));
}

void AttentionViewModel::setText(const QString& text) {
  if (text == m_text) return;
  m_text = text;
  m_view = {};
  m_detail.clear();
  if (m_queryRow >= 0) {  // the row may not exist in the new text
    m_queryRow = -1;
    Q_EMIT queryRowChanged(m_queryRow);
  }
  Q_EMIT textChanged(m_text);
  markStale(All);
}

void AttentionViewModel::setLayer(int layer) {
  if (m_hasCheckpoint) layer = std::clamp(layer, 0, std::max(0, layerCount() - 1));
  if (layer == m_layer) return;
  m_layer = layer;
  m_detail.clear();
  Q_EMIT layerChanged(m_layer);
  markStale(Panels | Profile | (m_view.isEmpty() ? 0 : Detail));
}

void AttentionViewModel::setHead(int head) {
  if (m_hasCheckpoint) head = std::clamp(head, 0, std::max(0, headCount() - 1));
  if (head == m_head) return;
  m_head = head;
  Q_EMIT headChanged(m_head);
}

void AttentionViewModel::setPanelStages(const QStringList& wanted) {
  const QStringList offered = stages();
  QStringList chosen;
  for (const auto& s : wanted) {
    if ((offered.isEmpty() || offered.contains(s)) && !chosen.contains(s)) chosen << s;
  }
  if (chosen.isEmpty() || chosen == m_panelStages) return;
  const QString overview = overviewStage();
  m_panelStages = chosen;
  m_detail.clear();
  Q_EMIT panelStagesChanged(m_panelStages);
  markStale(Panels | (overview != overviewStage() ? Overview : 0) |
            (m_view.isEmpty() ? 0 : Detail));
}

void AttentionViewModel::toggleRawProcessed() {
  if (m_panelStages.size() > 1) {
    setPanelStages({m_panelStages.last()});
  } else {
    setPanelStages(m_defaultPanels);
  }
}

void AttentionViewModel::setProfileStages(const QStringList& wanted) {
  const QStringList offered = stages();
  QStringList chosen;
  for (const auto& s : wanted) {
    if (offered.contains(s) && !chosen.contains(s)) chosen << s;
  }
  if (chosen.isEmpty() || chosen == m_profileStages) return;
  m_profileStages = chosen;
  Q_EMIT profileStagesChanged(m_profileStages);
  markStale(Profile);
}

void AttentionViewModel::setQueryRow(int query) {
  if (mapSize() > 0) query = std::clamp(query, 0, mapSize() - 1);
  if (query == m_queryRow) return;
  m_queryRow = query;
  Q_EMIT queryRowChanged(m_queryRow);
  markStale(Profile);
}

void AttentionViewModel::setViewWindow(const MapWindowRequest& window) {
  const attn::StageMap* whole = panelMap(0);
  if (!whole) return;
  MapWindowRequest w = window;
  const qint64 n = mapSize();
  w.q0 = std::clamp<qint64>(w.q0, 0, n);
  w.q1 = std::clamp<qint64>(w.q1, 0, n);
  w.k0 = std::clamp<qint64>(w.k0, 0, n);
  w.k1 = std::clamp<qint64>(w.k1, 0, n);
  // The whole map is fine enough when it has a cell for every pixel-sized token block of the
  // window: a window of at most kPanelGrid tokens a side wants step 1.
  const qint64 side = std::max(w.q1 - w.q0, w.k1 - w.k0);
  const qint64 needStep = std::max<qint64>(1, (side + kPanelGrid - 1) / kPanelGrid);
  if (w.isEmpty() || whole->step <= needStep) {
    m_view = {};
    if (!m_detail.empty()) {
      m_detail.clear();
      Q_EMIT detailChanged();
    }
    return;
  }
  const attn::StageMap* d = detailMap(0);
  if (d) {
    const MapWindowRequest have{d->q0, d->q1, d->k0, d->k1};
    if (have.contains(w) && d->step <= needStep) return;  // what is shown already serves
  }
  // Pad by a quarter on each side so that small pans need no new job.
  const qint64 padQ = (w.q1 - w.q0) / 4, padK = (w.k1 - w.k0) / 4;
  m_view = {std::max<qint64>(0, w.q0 - padQ), std::min(n, w.q1 + padQ),
            std::max<qint64>(0, w.k0 - padK), std::min(n, w.k1 + padK)};
  markStale(Detail);
}

void AttentionViewModel::refresh() {
  m_stale |= All;
  requestTrace();
}

void AttentionViewModel::cancel() {
  m_debounce.stop();
  m_stale = 0;
  cancelRunningTrace();
  updateBusy();
}

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
