// SPDX-License-Identifier: MIT
#include "ui/models/compare_view_model.h"

#include <QtCore/QFileInfo>

namespace attn::ui {

CompareViewModel::CompareViewModel(BackendFactory factory, QObject* parent)
    : QObject(parent), m_factory(std::move(factory)) {}

CompareViewModel::~CompareViewModel() = default;

AttentionViewModel* CompareViewModel::model(int index) const {
  return index >= 0 && index < count() ? m_models[static_cast<std::size_t>(index)].get() : nullptr;
}

QStringList CompareViewModel::checkpoints() const {
  QStringList out;
  for (const auto& m : m_models) out << m->property("checkpointDir").toString();
  return out;
}

QString CompareViewModel::name(int index) const {
  const AttentionViewModel* m = model(index);
  if (!m) return {};
  return QFileInfo(m->property("checkpointDir").toString()).fileName();
}

bool CompareViewModel::isBusy() const {
  for (const auto& m : m_models) {
    if (m->isBusy()) return true;
  }
  return false;
}

bool CompareViewModel::isReady() const {
  if (m_models.empty()) return false;
  for (const auto& m : m_models) {
    if (m->isBusy() || !m->panelMap(0)) return false;
  }
  return true;
}

MapDifference CompareViewModel::difference(int a, int b) const {
  const AttentionViewModel* ma = model(a);
  const AttentionViewModel* mb = model(b);
  if (!ma || !mb || !ma->panelMap(0) || !mb->panelMap(0) || !ma->currentTrace() ||
      !mb->currentTrace()) {
    MapDifference d;
    d.problem = tr("both maps are needed first");
    return d;
  }
  const bool weights = m_stage == QLatin1String("probs");
  return mapDifference(*ma->panelMap(0), ma->currentTrace()->tokens, *mb->panelMap(0),
                       mb->currentTrace()->tokens, m_head, weights);
}

void CompareViewModel::configure(AttentionViewModel* model) {
  model->setDevice(m_device);
  model->setPrecision(m_precision);
  model->setText(m_text);
  model->setLayer(m_layer);
  model->setHead(m_head);
}

bool CompareViewModel::addCheckpoint(const QString& dir) {
  if (count() >= kMaxCheckpoints) {
    Q_EMIT failed(tr("At most %1 checkpoints can be compared; remove one first.")
                      .arg(kMaxCheckpoints));
    return false;
  }
  auto model = std::make_unique<AttentionViewModel>(m_factory());
  AttentionViewModel* raw = model.get();
  raw->setProperty("checkpointDir", dir);
  configure(raw);
  // The stage is set once the variant is known (not every variant offers every stage).
  connect(raw, &AttentionViewModel::summaryChanged, this, [this, raw] {
    raw->setLayer(m_layer);
    raw->setHead(m_head);
    raw->setPanelStages({m_stage});
    Q_EMIT checkpointsChanged();
  });
  connect(raw, &AttentionViewModel::traceChanged, this, &CompareViewModel::mapsChanged);
  connect(raw, &AttentionViewModel::detailChanged, this, &CompareViewModel::mapsChanged);
  connect(raw, &AttentionViewModel::failed, this, [this, raw](const QString& message) {
    Q_EMIT failed(QStringLiteral("%1: %2").arg(QFileInfo(raw->property("checkpointDir").toString()).fileName(), message));
  });
  connect(raw, &AttentionViewModel::busyChanged, this, [this] {
    const bool busy = isBusy();
    if (busy != m_busy) {
      m_busy = busy;
      Q_EMIT busyChanged(busy);
    }
  });
  m_models.push_back(std::move(model));
  raw->openCheckpoint(dir);
  Q_EMIT checkpointsChanged();
  return true;
}

void CompareViewModel::removeCheckpoint(int index) {
  if (index < 0 || index >= count()) return;
  m_models.erase(m_models.begin() + index);
  Q_EMIT checkpointsChanged();
  Q_EMIT mapsChanged();
}

void CompareViewModel::clear() {
  m_models.clear();
  Q_EMIT checkpointsChanged();
  Q_EMIT mapsChanged();
}

void CompareViewModel::setText(const QString& text) {
  m_text = text;
  for (auto& m : m_models) m->setText(text);
}

void CompareViewModel::setLayer(int layer) {
  m_layer = layer;
  for (auto& m : m_models) m->setLayer(layer);
}

void CompareViewModel::setHead(int head) {
  m_head = head;
  for (auto& m : m_models) m->setHead(head);
  Q_EMIT mapsChanged();
}

void CompareViewModel::setStage(const QString& stage) {
  m_stage = stage;
  for (auto& m : m_models) m->setPanelStages({stage});
}

void CompareViewModel::setDevice(const QString& device, const QString& precision) {
  if (device == m_device && precision == m_precision) return;
  m_device = device;
  m_precision = precision;
  for (auto& m : m_models) {
    m->setDevice(m_device);
    m->setPrecision(m_precision);
    if (m->hasCheckpoint()) m->openCheckpoint(m->property("checkpointDir").toString());
  }
}

void CompareViewModel::setViewWindow(const MapWindowRequest& window) {
  for (auto& m : m_models) m->setViewWindow(window);
}

}  // namespace attn::ui
