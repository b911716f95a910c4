// SPDX-License-Identifier: MIT
// AttentionMapWidget: QCustomPlot set-up for a causal attention map. Cell (c, r) of a colour map
// is a block of keys and queries; its centre sits at the block's middle in token coordinates
// (token t spans t - 0.5 .. t + 0.5), so the pooled whole map and the exact detail line up. The
// query axis is reversed so row 0 sits at the top, like a matrix. Token labels are thinned to
// what fits on the visible part of each axis, so long inputs stay readable at any zoom.
#include "ui/widgets/attention_map_widget.h"

#include <QtGui/QFontMetrics>
#include <QtGui/QMouseEvent>
#include <QtWidgets/QToolTip>
#include <QtWidgets/QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <limits>

#include "ui/widgets/qcustomplot_include.h"

namespace attn::ui {
namespace {

constexpr int kMaxLabelChars = 12;
// Rough room that margins, the colour scale and the title take from the widget, in pixels.
constexpr int kReservedWidth = 190;
constexpr int kReservedHeight = 150;
constexpr int kClickSlopPx = 4;

QCPColorGradient gradientOf(ColourMap map) {
  QCPColorGradient gradient;
  gradient.clearColorStops();
  for (const auto& [t, colour] : colourStops(map)) gradient.setColorStopAt(t, colour);
  gradient.setNanHandling(QCPColorGradient::nhNanColor);
  gradient.setNanColor(maskedColour());
  return gradient;
}

QString elide(const QString& label) {
  return label.size() <= kMaxLabelChars ? label : label.left(kMaxLabelChars - 1) + QChar(0x2026);
}

double cellValue(const FigureMap& m, int q, int k) {
  if (m.rows <= 0 || m.cols <= 0 || m.step <= 0) return std::numeric_limits<double>::quiet_NaN();
  const long r = (q - m.q0) / m.step, c = (k - m.k0) / m.step;
  if (q < m.q0 || k < m.k0 || r >= m.rows || c >= m.cols) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return m.values[static_cast<std::size_t>(r * m.cols + c)];
}

bool covers(const FigureMap& m, int q, int k) {
  return q >= m.q0 && k >= m.k0 && q < m.q0 + m.rows * m.step && k < m.k0 + m.cols * m.step;
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
  m_detailMap = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
  m_detailMap->setInterpolate(false);
  m_scale = new QCPColorScale(m_plot);
  m_plot->plotLayout()->addElement(1, 1, m_scale);
  m_scale->setType(QCPAxis::atRight);
  m_scale->setBarWidth(14);
  m_map->setColorScale(m_scale);
  m_detailMap->setColorScale(m_scale);
  m_map->setGradient(gradientOf(ColourMap::Viridis));
  m_detailMap->setGradient(gradientOf(ColourMap::Viridis));

  // Keep the colour bar as tall as the map.
  auto* group = new QCPMarginGroup(m_plot);
  m_plot->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, group);
  m_scale->setMarginGroup(QCP::msTop | QCP::msBottom, group);

  const QPen crossPen(QColor(255, 80, 40, 170), 1.0, Qt::DashLine);
  m_hLine = new QCPItemStraightLine(m_plot);
  m_vLine = new QCPItemStraightLine(m_plot);
  for (auto* line : {m_hLine, m_vLine}) {
    line->setPen(crossPen);
    line->setSelectable(false);
    line->setVisible(false);
  }

  const QPen markPen(QColor(255, 255, 255, 220), 1.2, Qt::DashLine);
  m_markH = new QCPItemStraightLine(m_plot);
  m_markV = new QCPItemStraightLine(m_plot);
  for (auto* line : {m_markH, m_markV}) {
    line->setPen(markPen);
    line->setSelectable(false);
    line->setVisible(false);
  }

  // Zoom and drag change the visible range: thin the labels again and tell the listeners.
  for (QCPAxis* axis : {m_plot->xAxis, m_plot->yAxis}) {
    connect(axis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
            [this](const QCPRange&) {
              updateTickers();
              if (m_settingView || m_n == 0) return;
              const QCPRange x = m_plot->xAxis->range(), y = m_plot->yAxis->range();
              m_wantK0 = x.lower;
              m_wantK1 = x.upper;
              m_wantQ0 = y.lower;
              m_wantQ1 = y.upper;
              Q_EMIT viewChanged(x.lower, x.upper, y.lower, y.upper);
            });
  }
  m_plot->setMouseTracking(true);
  m_plot->installEventFilter(this);
  clearMap(tr("No map yet"));
}

AttentionMapWidget::~AttentionMapWidget() = default;

void AttentionMapWidget::fill(QCPColorMap* target, const FigureMap& map) {
  QCPColorMapData* data = target->data();
  data->setSize(map.cols, map.rows);
  const double half = (static_cast<double>(map.step) - 1.0) / 2.0;
  const double kFirst = map.k0 + half, qFirst = map.q0 + half;
  const double kLast = kFirst + (map.cols - 1) * static_cast<double>(map.step);
  const double qLast = qFirst + (map.rows - 1) * static_cast<double>(map.step);
  // QCustomPlot needs a non-empty range even for a single cell.
  data->setRange(QCPRange(kFirst, std::max(kLast, kFirst + 1e-9)),
                 QCPRange(qFirst, std::max(qLast, qFirst + 1e-9)));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int r = 0; r < map.rows; ++r) {
    for (int c = 0; c < map.cols; ++c) {
      const float v = map.values[static_cast<std::size_t>(r) * map.cols + c];
      data->setCell(c, r, std::isfinite(v) ? v : nan);
    }
  }
}

void AttentionMapWidget::setMaps(const FigureMap& whole, const FigureMap* detail, ColourMap map,
                                 const ColourRange& range) {
  const int n = static_cast<int>(whole.tokens.size());
  if (n <= 0 || whole.rows <= 0 || whole.cols <= 0 ||
      whole.values.size() < static_cast<std::size_t>(whole.rows) * whole.cols) {
    clearMap(whole.title);
    return;
  }
  const bool sameTokens = n == m_n;
  m_n = n;
  m_labels = whole.tokens;
  m_whole = whole;
  m_hasDetail = detail && detail->rows > 0 && detail->cols > 0;
  if (m_hasDetail) m_detail = *detail;
  fill(m_map, whole);
  if (m_hasDetail) fill(m_detailMap, *detail);
  m_detailMap->setVisible(m_hasDetail);
  const QCPColorGradient gradient = gradientOf(map);
  const auto scale =
      range.scale == ColourScale::Log ? QCPAxis::stLogarithmic : QCPAxis::stLinear;
  for (QCPColorMap* m : {m_map, m_detailMap}) {
    m->setGradient(gradient);
    m->setDataScaleType(scale);
    m->setDataRange(QCPRange(range.lo, range.hi));
  }
  m_scale->setDataScaleType(scale);
  if (range.scale == ColourScale::Log) {
    m_scale->axis()->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
  } else {
    m_scale->axis()->setTicker(QSharedPointer<QCPAxisTicker>::create());
  }
  m_scale->setDataRange(QCPRange(range.lo, range.hi));
  m_map->setVisible(true);
  m_scale->setVisible(true);
  m_title->setText(whole.step > 1 && !m_hasDetail
                       ? tr("%1  (pooled %2×%2; zoom in for exact cells)")
                             .arg(whole.title)
                             .arg(whole.step)
                       : whole.title);
  if (!sameTokens) resetView();
  updateTickers();
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void AttentionMapWidget::clearMap(const QString& message) {
  m_n = 0;
  m_labels.clear();
  m_hasDetail = false;
  m_map->data()->clear();
  m_detailMap->data()->clear();
  m_map->setVisible(false);
  m_detailMap->setVisible(false);
  m_scale->setVisible(false);
  m_hLine->setVisible(false);
  m_vLine->setVisible(false);
  m_title->setText(message);
  setView(0, 1, 0, 1);
  updateTickers();
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

double AttentionMapWidget::valueAt(int q, int k) const {
  if (m_hasDetail && covers(m_detail, q, k)) return cellValue(m_detail, q, k);
  return cellValue(m_whole, q, k);
}

void AttentionMapWidget::visibleWindow(qint64* q0, qint64* q1, qint64* k0, qint64* k1) const {
  const QCPRange x = m_plot->xAxis->range(), y = m_plot->yAxis->range();
  *k0 = std::clamp<qint64>(static_cast<qint64>(std::floor(x.lower + 0.5)), 0, m_n);
  *k1 = std::clamp<qint64>(static_cast<qint64>(std::ceil(x.upper + 0.5)), 0, m_n);
  *q0 = std::clamp<qint64>(static_cast<qint64>(std::floor(y.lower + 0.5)), 0, m_n);
  *q1 = std::clamp<qint64>(static_cast<qint64>(std::ceil(y.upper + 0.5)), 0, m_n);
}

void AttentionMapWidget::wantedWindow(qint64* q0, qint64* q1, qint64* k0, qint64* k1) const {
  *k0 = std::clamp<qint64>(static_cast<qint64>(std::floor(m_wantK0 + 0.5)), 0, m_n);
  *k1 = std::clamp<qint64>(static_cast<qint64>(std::ceil(m_wantK1 + 0.5 - 1e-9)), 0, m_n);
  *q0 = std::clamp<qint64>(static_cast<qint64>(std::floor(m_wantQ0 + 0.5)), 0, m_n);
  *q1 = std::clamp<qint64>(static_cast<qint64>(std::ceil(m_wantQ1 + 0.5 - 1e-9)), 0, m_n);
}

void AttentionMapWidget::setView(double k0, double k1, double q0, double q1) {
  m_wantK0 = k0;
  m_wantK1 = k1;
  m_wantQ0 = q0;
  m_wantQ1 = q1;
  keepSquare();
}

void AttentionMapWidget::applyRanges(double k0, double k1, double q0, double q1) {
  m_settingView = true;
  m_plot->xAxis->setRange(k0, k1);
  m_plot->yAxis->setRange(q0, q1);
  m_settingView = false;
  updateTickers();
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void AttentionMapWidget::currentRange(double* k0, double* k1, double* q0, double* q1) const {
  *k0 = m_wantK0;
  *k1 = m_wantK1;
  *q0 = m_wantQ0;
  *q1 = m_wantQ1;
}

void AttentionMapWidget::resetView() { setView(-0.5, m_n - 0.5, -0.5, m_n - 0.5); }

void AttentionMapWidget::keepSquare() {
  double k0 = m_wantK0, k1 = m_wantK1, q0 = m_wantQ0, q1 = m_wantQ1;
  const QRect area = m_plot->axisRect()->rect();
  if (m_n > 0 && area.width() >= 10 && area.height() >= 10) {
    const double perPx = std::max((k1 - k0) / area.width(), (q1 - q0) / area.height());
    // The map keeps its top-left corner; the widened side grows right or down.
    k1 = k0 + perPx * area.width();
    q1 = q0 + perPx * area.height();
  }
  applyRanges(k0, k1, q0, q1);
}

void AttentionMapWidget::setMarker(int position) {
  const bool show = position > 0;
  m_markH->setVisible(show);
  m_markV->setVisible(show);
  if (show) {
    const double at = position - 0.5;
    m_markH->point1->setCoords(0, at);
    m_markH->point2->setCoords(1, at);
    m_markV->point1->setCoords(at, 0);
    m_markV->point2->setCoords(at, 1);
  }
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void AttentionMapWidget::setCrosshair(int q, int k) {
  const bool show = q >= 0 && k >= 0 && m_n > 0;
  m_hLine->setVisible(show);
  m_vLine->setVisible(show);
  if (show) {
    m_hLine->point1->setCoords(0, q);
    m_hLine->point2->setCoords(1, q);
    m_vLine->point1->setCoords(k, 0);
    m_vLine->point2->setCoords(k, 1);
  }
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

bool AttentionMapWidget::cellAt(const QPoint& pos, int* q, int* k) const {
  if (m_n <= 0 || !m_plot->axisRect()->rect().contains(pos)) return false;
  *k = static_cast<int>(std::lround(m_plot->xAxis->pixelToCoord(pos.x())));
  *q = static_cast<int>(std::lround(m_plot->yAxis->pixelToCoord(pos.y())));
  return *q >= 0 && *k >= 0 && *q < m_n && *k < m_n;
}

QString AttentionMapWidget::describe(int q, int k) const {
  const double v = valueAt(q, k);
  const QString value = std::isnan(v) ? (k > q ? tr("masked (future)") : tr("no value"))
                                      : QString::number(v, 'g', 5);
  QString text = tr("query %1 \"%2\"\nkey %3 \"%4\"\ndistance %5\nvalue %6")
                     .arg(q)
                     .arg(q < m_labels.size() ? m_labels[q] : QString())
                     .arg(k)
                     .arg(k < m_labels.size() ? m_labels[k] : QString())
                     .arg(q - k)
                     .arg(value);
  const bool exact = (m_hasDetail && covers(m_detail, q, k) && m_detail.step == 1) ||
                     m_whole.step == 1;
  if (!exact) text += tr("\n(pooled cell: zoom in for the exact value)");
  return text;
}

bool AttentionMapWidget::eventFilter(QObject* watched, QEvent* event) {
  if (watched == m_plot) {
    if (event->type() == QEvent::MouseMove) {
      auto* e = static_cast<QMouseEvent*>(event);
      int q = -1, k = -1;
      if (cellAt(e->pos(), &q, &k)) {
        setCrosshair(q, k);
        QToolTip::showText(e->globalPosition().toPoint(), describe(q, k), m_plot);
        Q_EMIT hovered(q, k);
      } else {
        setCrosshair(-1, -1);
        QToolTip::hideText();
        Q_EMIT hovered(-1, -1);
      }
    } else if (event->type() == QEvent::Leave) {
      setCrosshair(-1, -1);
      Q_EMIT hovered(-1, -1);
    } else if (event->type() == QEvent::MouseButtonPress) {
      m_pressPos = static_cast<QMouseEvent*>(event)->pos();
    } else if (event->type() == QEvent::MouseButtonRelease) {
      auto* e = static_cast<QMouseEvent*>(event);
      int q = -1, k = -1;
      if ((e->pos() - m_pressPos).manhattanLength() <= kClickSlopPx && cellAt(e->pos(), &q, &k)) {
        Q_EMIT rowClicked(q);
      }
    }
  }
  return QWidget::eventFilter(watched, event);
}

void AttentionMapWidget::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  // The axis rect gets its new size at the next layout pass.
  QMetaObject::invokeMethod(
      this,
      [this] {
        m_plot->plotLayout()->update(QCPLayoutElement::upLayout);
        keepSquare();
        updateTickers();
      },
      Qt::QueuedConnection);
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
  // Only the part of the axis that holds tokens counts (a square map may leave margins).
  const double covered = std::min(1.0, (last - first + 1) / std::max(1.0, range.size()));
  const int fit = std::max(1, static_cast<int>(std::max(pixels, 40) * covered / spacing));
  const int step = std::max(1, (last - first + 1 + fit - 1) / fit);
  // Thinned labels carry their position, since neighbours no longer tell it.
  for (int k = (first + step - 1) / step * step; k <= last; k += step) {
    const QString label = k < m_labels.size() ? elide(m_labels[k]) : QString();
    ticker->addTick(k, step == 1 ? label : QStringLiteral("%1 %2").arg(k).arg(label));
  }
}

}  // namespace attn::ui
