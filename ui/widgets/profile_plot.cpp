// SPDX-License-Identifier: MIT
#include "ui/widgets/profile_plot.h"

#include <QtWidgets/QVBoxLayout>
#include <limits>

#include "ui/widgets/qcustomplot_include.h"

namespace attn::ui {

QColor curveColour(int index) {
  static const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                         "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                         "#bcbd22", "#17becf", "#393b79", "#ad494a"};
  const int n = static_cast<int>(std::size(kPalette));
  return QColor(kPalette[((index % n) + n) % n]);
}

ProfilePlot::ProfilePlot(QWidget* parent) : QWidget(parent) {
  m_plot = new QCustomPlot(this);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(m_plot);
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  clear(tr("Click a row of the map to see that query's scores"));
}

int ProfilePlot::curveCount() const { return m_plot->graphCount(); }

void ProfilePlot::clear(const QString& message) {
  m_plot->clearGraphs();
  m_plot->plotLayout()->clear();
  m_plot->plotLayout()->addElement(0, 0, new QCPTextElement(m_plot, message));
  m_panels = 0;
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void ProfilePlot::setProfiles(const std::vector<FigureProfile>& profiles, const QString& title) {
  if (profiles.empty()) {
    clear(tr("No profile"));
    return;
  }
  m_plot->clearGraphs();
  m_plot->plotLayout()->clear();
  m_plot->plotLayout()->addElement(0, 0, new QCPTextElement(m_plot, title));
  auto* group = new QCPMarginGroup(m_plot);
  std::vector<QCPAxisRect*> rects;
  double lo = std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::lowest();
  for (std::size_t p = 0; p < profiles.size(); ++p) {
    auto* rect = new QCPAxisRect(m_plot);
    m_plot->plotLayout()->addElement(static_cast<int>(p) + 1, 0, rect);
    rect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    rect->axis(QCPAxis::atLeft)->setLabel(profiles[p].yLabel);
    rect->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    rect->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    const bool last = p + 1 == profiles.size();
    rect->axis(QCPAxis::atBottom)->setTickLabels(last);
    if (last) rect->axis(QCPAxis::atBottom)->setLabel(tr("key position"));
    int index = 0;
    for (const FigureCurve& curve : profiles[p].curves) {
      QCPGraph* graph = m_plot->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
      graph->setName(curve.name);
      graph->setPen(QPen(curveColour(index++), 1.2));
      QVector<double> x(curve.x.begin(), curve.x.end()), y(curve.y.begin(), curve.y.end());
      graph->setData(x, y, true);
      for (double v : curve.x) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    rect->axis(QCPAxis::atLeft)->rescale(true);
    rects.push_back(rect);
  }
  if (hi < lo) hi = lo = 0;
  // The key axes move together.
  for (auto* rect : rects) {
    rect->axis(QCPAxis::atBottom)->setRange(lo - 0.5, hi + 0.5);
    for (auto* other : rects) {
      if (other == rect) continue;
      connect(rect->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::rangeChanged),
              other->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::setRange));
    }
  }
  // One legend for the heads, beside the first panel.
  auto* legend = new QCPLegend;
  rects.front()->insetLayout()->addElement(legend, Qt::AlignRight | Qt::AlignTop);
  legend->setLayer(QStringLiteral("legend"));
  for (int g = 0; g < static_cast<int>(profiles.front().curves.size()); ++g) {
    legend->addItem(new QCPPlottableLegendItem(legend, m_plot->graph(g)));
  }
  QFont small = legend->font();
  small.setPointSizeF(std::max(6.0, small.pointSizeF() - 2));
  legend->setFont(small);
  legend->setBrush(QColor(255, 255, 255, 200));
  m_panels = static_cast<int>(profiles.size());
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace attn::ui
