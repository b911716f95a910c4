// SPDX-License-Identifier: MIT
// OverviewWidget: a grid laid out from the widget's size; heads of one layer wrap into rows of
// about square shape, the layers x heads grid has one row per layer. The current head is framed.
#include "ui/widgets/overview_widget.h"

#include <QtGui/QMouseEvent>
#include <QtGui/QPainter>
#include <algorithm>
#include <cmath>

namespace attn::ui {
namespace {
constexpr int kLabelWidth = 28;
constexpr int kLabelHeight = 16;
constexpr int kGap = 3;
}  // namespace

OverviewWidget::OverviewWidget(QWidget* parent) : QWidget(parent) {
  setMinimumSize(120, 120);
  setToolTip(tr("Click a thumbnail to show that layer and head"));
}

void OverviewWidget::setThumbnails(std::vector<std::vector<QImage>> thumbnails,
                                   const QString& stage) {
  m_images = std::move(thumbnails);
  m_stage = stage;
  update();
}

void OverviewWidget::clear() {
  m_images.clear();
  update();
}

void OverviewWidget::setCurrent(int layer, int head) {
  m_layer = layer;
  m_head = head;
  update();
}

void OverviewWidget::setMode(Mode mode) {
  m_mode = mode;
  update();
}

int OverviewWidget::headCount() const {
  std::size_t heads = 0;
  for (const auto& row : m_images) heads = std::max(heads, row.size());
  return static_cast<int>(heads);
}

int OverviewWidget::firstLayer() const { return m_mode == Mode::HeadsOfLayer ? m_layer : 0; }

int OverviewWidget::rowsShown() const {
  return m_mode == Mode::HeadsOfLayer ? 1 : static_cast<int>(m_images.size());
}

QRect OverviewWidget::thumbnailRect(int layer, int head) const {
  const int heads = headCount();
  if (heads == 0 || layer < 0 || layer >= layerCount()) return {};
  const QRect area = rect().adjusted(kLabelWidth, 2 * kLabelHeight, -kGap, -kGap);
  int cols = heads, rows = rowsShown(), row = layer - firstLayer(), col = head;
  if (m_mode == Mode::HeadsOfLayer) {
    if (layer != m_layer) return {};
    cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(heads))));
    rows = (heads + cols - 1) / cols;
    row = head / cols;
    col = head % cols;
  }
  const int side = std::max(8, std::min((area.width() - (cols - 1) * kGap) / cols,
                                        (area.height() - (rows - 1) * kGap) / rows));
  return {area.left() + col * (side + kGap), area.top() + row * (side + kGap), side, side};
}

bool OverviewWidget::cellAt(const QPoint& pos, int* layer, int* head) const {
  for (int l = 0; l < layerCount(); ++l) {
    for (int h = 0; h < headCount(); ++h) {
      if (thumbnailRect(l, h).contains(pos)) {
        *layer = l;
        *head = h;
        return true;
      }
    }
  }
  return false;
}

void OverviewWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  if (m_images.empty()) {
    p.drawText(rect(), Qt::AlignCenter, tr("No overview yet"));
    return;
  }
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);
  QFont small = font();
  small.setPointSizeF(std::max(6.0, small.pointSizeF() - 1.5));
  p.setFont(small);
  p.drawText(QRect(0, 0, width(), kLabelHeight), Qt::AlignCenter, m_stage);
  for (int l = 0; l < layerCount(); ++l) {
    for (int h = 0; h < headCount(); ++h) {
      const QRect r = thumbnailRect(l, h);
      if (r.isEmpty()) continue;
      const auto& row = m_images[static_cast<std::size_t>(l)];
      if (h < static_cast<int>(row.size()) && !row[static_cast<std::size_t>(h)].isNull()) {
        p.drawImage(r, row[static_cast<std::size_t>(h)]);
      } else {
        p.setPen(palette().mid().color());
        p.drawRect(r.adjusted(0, 0, -1, -1));
      }
      if (l == m_layer && h == m_head) {
        p.setPen(QPen(palette().highlight().color(), 2));
        p.drawRect(r.adjusted(-1, -1, 0, 0));
      }
      p.setPen(palette().text().color());
      if (m_mode == Mode::LayersByHeads && h == 0) {
        p.drawText(QRect(0, r.top(), kLabelWidth - 2, r.height()), Qt::AlignRight | Qt::AlignVCenter,
                   QStringLiteral("L%1").arg(l));
      }
      if (m_mode == Mode::HeadsOfLayer || l == 0) {
        p.drawText(QRect(r.left(), r.top() - kLabelHeight + 2, r.width(), kLabelHeight - 2),
                   Qt::AlignCenter, QStringLiteral("H%1").arg(h));
      }
    }
  }
}

void OverviewWidget::mousePressEvent(QMouseEvent* event) {
  int layer = 0, head = 0;
  if (cellAt(event->pos(), &layer, &head)) Q_EMIT headPicked(layer, head);
}

}  // namespace attn::ui
