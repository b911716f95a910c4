// SPDX-License-Identifier: MIT
// AttentionMapWidget: QCustomPlot set-up for a causal attention map. Cell (j, i) of the colour
// map is key j, query i; the query axis is reversed so row 0 sits at the top, like a matrix.
// Token labels are thinned to what fits on the visible part of each axis, so long inputs stay
// readable at any zoom.
#include "ui/widgets/attention_map_widget.h"

#include <QtGui/QFontMetrics>
#include <QtWidgets/QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <limits>

#include "ui/widgets/qcustomplot_include.h"

namespace attn::ui {
namespace {

constexpr int kMaxLabelChars = 12;
constexpr double kClipQuantile = 0.995;
// Rough room that margins, the colour scale and the title take from the widget, in pixels.
constexpr int kReservedWidth = 190;
constexpr int kReservedHeight = 150;

QCPColorGradient viridis() {
  // Viridis (matplotlib), sampled at nine stops; QCustomPlot 2.1 has no preset for it.
  static const char* const kStops[] = {"#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c",
                                       "#28ae80", "#5ec962", "#addc30", "#fde725"};
  QCPColorGradient gradient;
  gradient.clearColorStops();
  const int count = static_cast<int>(std::size(kStops));
  for (int k = 0; k < count; ++k) {
    gradient.setColorStopAt(static_cast<double>(k) / (count - 1), QColor(kStops[k]));
  }
  gradient.setNanHandling(QCPColorGradient::nhNanColor);
  gradient.setNanColor(QColor(225, 225, 225));
  return gradient;
}

QString elide(const QString& label) {
  return label.size() <= kMaxLabelChars ? label : label.left(kMaxLabelChars - 1) + QChar(0x2026);
}

}  // namespace

AttentionMapWidget::AttentionMapWidget(QWidget* parent) : QWidget(parent) {
  m_plot = new QCustomPlot(this);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(m_plot);

  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  m_plot->xAxis->setLabel(tr("key"));
  m_plot->yAxis->setLabel(tr("query"));
  m_plot->yAxis->setRangeReversed(true);
  m_plot->xAxis->setTickLabelRotation(90);
  for (QCPAxis* axis : {m_plot->xAxis, m_plot->yAxis}) {
    axis->setTicker(QSharedPointer<QCPAxisTickerText>::create());
    axis->setSubTicks(false);
    axis->grid()->setVisible(false);
  }

  m_plot->plotLayout()->insertRow(0);
  m_title = new QCPTextElement(m_plot, QString(), QFont(font().family(), font().pointSize() + 1));
  m_plot->plotLayout()->addElement(0, 0, m_title);

  m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
  m_map->setInterpolate(false);
  m_scale = new QCPColorScale(m_plot);
  m_plot->plotLayout()->addElement(1, 1, m_scale);
  m_scale->setType(QCPAxis::atRight);
  m_scale->setBarWidth(14);
  m_map->setColorScale(m_scale);
  m_map->setGradient(viridis());

  // Keep the colour bar as tall as the map.
  auto* group = new QCPMarginGroup(m_plot);
  m_plot->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, group);
  m_scale->setMarginGroup(QCP::msTop | QCP::msBottom, group);

  // Zoom and drag change the visible range: thin the labels again for it.
  for (QCPAxis* axis : {m_plot->xAxis, m_plot->yAxis}) {
    connect(axis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
            [this](const QCPRange&) { updateTickers(); });
  }
  clearMap(tr("No map yet"));
}

AttentionMapWidget::~AttentionMapWidget() = default;

void AttentionMapWidget::setMap(const std::vector<float>& values, int n, const QStringList& labels,
                                const QString& title) {
  if (n <= 0 || values.size() < static_cast<std::size_t>(n) * static_cast<std::size_t>(n)) {
    clearMap(title);
    return;
  }
  m_n = n;
  m_labels = labels;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<float> shownValues;
  shownValues.reserve(static_cast<std::size_t>(n) * (n + 1) / 2);
  QCPColorMapData* data = m_map->data();
  data->setSize(n, n);
  data->setRange(QCPRange(0, n - 1), QCPRange(0, n - 1));
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const float v = values[static_cast<std::size_t>(i) * n + j];
      const bool shown = j <= i && std::isfinite(v);
      data->setCell(j, i, shown ? v : nan);
      if (shown) shownValues.push_back(v);
    }
  }
  setColourRange(shownValues);
  m_map->setVisible(true);
  m_scale->setVisible(true);
  m_title->setText(title);
  // Setting the ranges triggers updateTickers through rangeChanged.
  m_plot->xAxis->setRange(-0.5, n - 0.5);
  m_plot->yAxis->setRange(-0.5, n - 0.5);
  updateTickers();
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void AttentionMapWidget::setColourRange(std::vector<float>& shown) {
  if (shown.empty()) shown.push_back(0.0f);
  const auto [minIt, maxIt] = std::minmax_element(shown.begin(), shown.end());
  const double lo = *minIt;
  const double hi = *maxIt;
  // The few largest cells (the first rows of a causal map always hold 1 and 1/2) would push
  // everything else into the darkest colours; the top of the scale is their quantile instead.
  const auto top = shown.begin() + static_cast<std::ptrdiff_t>(kClipQuantile * (shown.size() - 1));
  std::nth_element(shown.begin(), top, shown.end());
  double upper = *top > lo ? *top : hi;
  if (upper - lo < 1e-12) upper = lo + 1.0;
  m_map->setDataRange(QCPRange(lo, upper));
  m_scale->axis()->setLabel(upper < hi ? tr("clipped above %1 (top %2% of cells)")
                                             .arg(upper, 0, 'g', 3)
                                             .arg((1.0 - kClipQuantile) * 100.0)
                                       : QString());
}

void AttentionMapWidget::clearMap(const QString& message) {
  m_n = 0;
  m_labels.clear();
  m_map->data()->clear();
  m_map->setVisible(false);
  m_scale->setVisible(false);
  m_title->setText(message);
  m_plot->xAxis->setRange(0, 1);
  m_plot->yAxis->setRange(0, 1);
  updateTickers();
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void AttentionMapWidget::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  updateTickers();
}

void AttentionMapWidget::updateTickers() {
  updateTicker(m_plot->xAxis, width() - kReservedWidth);
  updateTicker(m_plot->yAxis, height() - kReservedHeight);
}

void AttentionMapWidget::updateTicker(QCPAxis* axis, int pixels) {
  auto ticker = axis->ticker().dynamicCast<QCPAxisTickerText>();
  if (!ticker) return;
  ticker->clear();
  if (m_n <= 0) return;
  const QCPRange range = axis->range();
  const int first = std::max(0, static_cast<int>(std::ceil(range.lower)));
  const int last = std::min(m_n - 1, static_cast<int>(std::floor(range.upper)));
  if (last < first) return;
  // Labels on both axes stack along the axis by their line height (x labels are rotated).
  const int spacing = QFontMetrics(axis->tickLabelFont()).height() + 2;
  const int fit = std::max(1, std::max(pixels, 40) / spacing);
  const int step = std::max(1, (last - first + 1 + fit - 1) / fit);
  // Thinned labels carry their position, since neighbours no longer tell it.
  for (int k = (first + step - 1) / step * step; k <= last; k += step) {
    const QString label = k < m_labels.size() ? elide(m_labels[k]) : QString();
    ticker->addTick(k, step == 1 ? label : QStringLiteral("%1 %2").arg(k).arg(label));
  }
}

}  // namespace attn::ui
