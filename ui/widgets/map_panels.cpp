// SPDX-License-Identifier: MIT
#include "ui/widgets/map_panels.h"

#include <QtWidgets/QGridLayout>
#include <algorithm>

#include "ui/widgets/attention_map_widget.h"

namespace attn::ui {

MapPanels::MapPanels(QWidget* parent) : QWidget(parent) {
  m_layout = new QGridLayout(this);
  m_layout->setContentsMargins(0, 0, 0, 0);
  m_layout->setSpacing(4);
  setPanels({});
}

AttentionMapWidget* MapPanels::panel(int index) const {
  return index >= 0 && index < panelCount() ? m_panels[static_cast<std::size_t>(index)] : nullptr;
}

int MapPanels::mapSize() const { return m_panels.empty() ? 0 : m_panels.front()->mapSize(); }

void MapPanels::setPanels(const std::vector<PanelContent>& panels) {
  const std::size_t wanted = std::max<std::size_t>(1, panels.size());
  while (m_panels.size() > wanted) {
    delete m_panels.back();
    m_panels.pop_back();
  }
  while (m_panels.size() < wanted) {
    auto* widget = new AttentionMapWidget(this);
    connect(widget, &AttentionMapWidget::viewChanged, this,
            [this, widget](double k0, double k1, double q0, double q1) {
              follow(widget, k0, k1, q0, q1);
            });
    connect(widget, &AttentionMapWidget::hovered, this, [this, widget](int q, int k) {
      for (auto* other : m_panels) {
        if (other != widget) other->setCrosshair(q, k);
      }
    });
    connect(widget, &AttentionMapWidget::rowClicked, this, &MapPanels::rowClicked);
    m_panels.push_back(widget);
  }
  m_columns = 0;  // re-place them
  arrange();
  if (panels.empty()) {
    m_panels.front()->clearMap(tr("No map yet"));
    return;
  }
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const PanelContent& p = panels[i];
    m_panels[i]->setMaps(p.whole, p.hasDetail ? &p.detail : nullptr, p.colourMap, p.range);
  }
  // Every panel follows the first one's zoom (a panel just added starts on the whole map).
  double k0 = 0, k1 = 0, q0 = 0, q1 = 0;
  m_panels.front()->currentRange(&k0, &k1, &q0, &q1);
  for (std::size_t i = 1; i < m_panels.size(); ++i) m_panels[i]->setView(k0, k1, q0, q1);
}

void MapPanels::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  arrange();
}

void MapPanels::arrange() {
  // Room a panel needs besides its map: axis labels and title (height), labels and colour bar
  // (width), in pixels.
  constexpr int kExtraWidth = 170, kExtraHeight = 130;
  const int n = static_cast<int>(m_panels.size());
  int best = 1;
  double bestSide = -1;
  for (int columns = 1; columns <= n; ++columns) {
    const int rows = (n + columns - 1) / columns;
    const double side = std::min(width() / static_cast<double>(columns) - kExtraWidth,
                                 height() / static_cast<double>(rows) - kExtraHeight);
    if (side > bestSide + 1) {
      bestSide = side;
      best = columns;
    }
  }
  if (best == m_columns) return;
  m_columns = best;
  for (auto* p : m_panels) m_layout->removeWidget(p);
  for (int i = 0; i < n; ++i) m_layout->addWidget(m_panels[static_cast<std::size_t>(i)], i / best, i % best);
  for (int c = 0; c < n; ++c) m_layout->setColumnStretch(c, c < best ? 1 : 0);
  for (int r = 0; r < n; ++r) m_layout->setRowStretch(r, r < (n + best - 1) / best ? 1 : 0);
}

void MapPanels::clear(const QString& message) {
  for (auto* p : m_panels) p->clearMap(message);
}

void MapPanels::resetView() {
  for (auto* p : m_panels) p->resetView();
  if (!m_panels.empty() && m_panels.front()->mapSize() > 0) {
    const qint64 n = m_panels.front()->mapSize();
    Q_EMIT viewWindowChanged(0, n, 0, n);
  }
}

void MapPanels::setViewWindow(qint64 q0, qint64 q1, qint64 k0, qint64 k1) {
  for (auto* p : m_panels) p->setView(k0 - 0.5, k1 - 0.5, q0 - 0.5, q1 - 0.5);
  Q_EMIT viewWindowChanged(q0, q1, k0, k1);
}

void MapPanels::follow(AttentionMapWidget* source, double k0, double k1, double q0, double q1) {
  for (auto* other : m_panels) {
    if (other != source) other->setView(k0, k1, q0, q1);
  }
  qint64 wq0, wq1, wk0, wk1;
  source->visibleWindow(&wq0, &wq1, &wk0, &wk1);
  Q_EMIT viewWindowChanged(wq0, wq1, wk0, wk1);
}

}  // namespace attn::ui
