// SPDX-License-Identifier: MIT
// AttentionViewModel: owns the worker thread and decides when to trace (the reading side and the
// slots here; the requests and the worker's results in attention_view_model_trace.cpp). Traces
// are requested on a single-shot debounce timer; each request gets a new generation and its own
// cancel flag, and setting that flag is how a newer request (or the Cancel button) stops an older
// one. What a request computes is the set of stale parts: the panels of the chosen layer (the
// whole map, pooled to kPanelGrid cells a side), every layer's overview thumbnail, the profile
// row, and the exact maps of the zoomed window. One forward pass serves them all.
#include "ui/models/attention_view_model.h"

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

}  // namespace attn::ui
