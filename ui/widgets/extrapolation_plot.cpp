// SPDX-License-Identifier: MIT
#include "ui/widgets/extrapolation_plot.h"

#include <QtCore/QBuffer>
#include <QtCore/QSaveFile>
#include <QtSvg/QSvgGenerator>

#include <QtWidgets/QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "ui/widgets/qcustomplot_include.h"

namespace attn::ui {

namespace {
// Twelve distinguishable colours (a qualitative palette), then repeated with dashes.
const QColor kColours[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),
                           QColor(214, 39, 40),  QColor(148, 103, 189), QColor(140, 86, 75),
                           QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34),
                           QColor(23, 190, 207), QColor(0, 0, 0),       QColor(128, 0, 64)};
constexpr int kColourCount = int(sizeof(kColours) / sizeof(kColours[0]));
}  // namespace

ExtrapolationPlot::ExtrapolationPlot(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName(QStringLiteral("extrapolationPlot"));
  layout->addWidget(m_plot);
  m_plot->xAxis->setScaleType(QCPAxis::stLogarithmic);
  m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
  QSharedPointer<QCPAxisTickerLog> xt(new QCPAxisTickerLog);
  xt->setLogBase(2);
  m_plot->xAxis->setTicker(xt);
  m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  m_plot->xAxis->setNumberFormat(QStringLiteral("f"));
  m_plot->xAxis->setNumberPrecision(0);
  m_plot->yAxis->setNumberFormat(QStringLiteral("f"));
  m_plot->yAxis->setNumberPrecision(0);
  m_plot->xAxis->setLabel(tr("evaluation length (tokens)"));
  m_plot->legend->setVisible(true);
  m_plot->legend->setFont(QFont(font().family(), 8));
  m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  m_plot->legend->setBrush(QBrush(QColor(255, 255, 255, 220)));
  m_plot->legend->setFillOrder(QCPLayoutGrid::foRowsFirst);
  m_plot->legend->setWrap(3);  // three entries a row: twelve curves fit a low panel
  setMinimumHeight(260);
  m_plot->setInteractions(QCP::iSelectPlottables);
  connect(m_plot, &QCustomPlot::plottableClick, this,
          [this](QCPAbstractPlottable* plottable, int index, QMouseEvent*) {
            auto* graph = qobject_cast<QCPGraph*>(plottable);
            if (!graph || index < 0 || index >= graph->dataCount()) return;
            const double length = (graph->data()->constBegin() + index)->key;
            Q_EMIT pointClicked(graph->name(), static_cast<qint64>(std::llround(length)));
          });
  clear(tr("No evaluation results: File > Open evaluation results, or run attnscope-cli eval."));
}

ExtrapolationPlot::~ExtrapolationPlot() = default;

int ExtrapolationPlot::curveCount() const { return m_plot->graphCount(); }

void ExtrapolationPlot::clear(const QString& message) {
  m_plot->clearGraphs();
  m_plot->clearItems();
  m_plot->yAxis->setLabel(message);
  m_plot->replot();
}

void ExtrapolationPlot::setResults(const EvalResults& r) {
  m_results = r;
  m_plot->clearGraphs();
  m_plot->clearItems();
  double lo = 1e300, hi = 0, xmin = 1e300, xmax = 0;
  int64_t train_len = 0;
  for (size_t c = 0; c < r.curves.size(); ++c) {
    const auto& curve = r.curves[c];
    QCPGraph* g = m_plot->addGraph();
    g->setName(QString::fromStdString(curve.name));
    QPen pen(kColours[int(c) % kColourCount], 1.6);
    if (int(c) >= kColourCount) pen.setStyle(Qt::DashLine);
    g->setPen(pen);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
    for (const auto& p : curve.points) {
      if (!(p.ppl_tail > 0) || !std::isfinite(p.ppl_tail)) continue;
      g->addData(double(p.length), p.ppl_tail);
      lo = std::min(lo, p.ppl_tail);
      hi = std::max(hi, p.ppl_tail);
      xmin = std::min(xmin, double(p.length));
      xmax = std::max(xmax, double(p.length));
    }
    train_len = std::max(train_len, curve.train_len);
  }
  if (r.curves.empty() || hi <= 0) {
    clear(tr("The results file holds no curves."));
    return;
  }
  m_plot->xAxis->setRange(xmin / 1.25, xmax * 1.25);
  m_plot->yAxis->setRange(lo / 1.15, hi * 1.15);
  // Labelled ticks at round values: a log ticker would label only the decades.
  QSharedPointer<QCPAxisTickerText> yt(new QCPAxisTickerText);
  for (double decade = 1; decade < 1e7; decade *= 10) {
    for (double m : {1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0}) {
      const double v = m * decade;
      if (v >= lo / 1.15 && v <= hi * 1.15) yt->addTick(v, QString::number(v));
    }
  }
  m_plot->yAxis->setTicker(yt);
  m_plot->yAxis->setLabel(tr("perplexity, last %1 tokens").arg(r.tail));
  m_plot->xAxis->setLabel(tr("evaluation length (tokens); text %1, %2 windows per length")
                              .arg(QString::fromStdString(r.text))
                              .arg(r.windows));
  if (train_len > 0) {
    auto* line = new QCPItemStraightLine(m_plot);
    line->point1->setCoords(double(train_len), lo);
    line->point2->setCoords(double(train_len), hi);
    line->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashLine));
    auto* label = new QCPItemText(m_plot);
    label->position->setType(QCPItemPosition::ptPlotCoords);
    label->position->setCoords(double(train_len) * 1.03, lo / 1.1);
    label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
    label->setText(tr("training length %1").arg(train_len));
    label->setColor(QColor(90, 90, 90));
  }
  m_plot->replot();
}

bool ExtrapolationPlot::exportTo(const QString& path, int width, int height, QString* error) {
  const QString lower = path.toLower();
  bool ok = false;
  if (lower.endsWith(QLatin1String(".png"))) {
    ok = m_plot->savePng(path, width, height, 2.0);
  } else if (lower.endsWith(QLatin1String(".pdf"))) {
    ok = m_plot->savePdf(path, width, height);
  } else if (lower.endsWith(QLatin1String(".svg"))) {
    QBuffer buffer;
    QSvgGenerator svg;
    svg.setOutputDevice(&buffer);
    svg.setSize(QSize(width, height));
    svg.setViewBox(QRect(0, 0, width, height));
    svg.setTitle(tr("Length extrapolation"));
    QCPPainter painter;
    ok = painter.begin(&svg);
    if (ok) {
      m_plot->toPainter(&painter, width, height);
      painter.end();
      QSaveFile file(path);
      ok = file.open(QIODevice::WriteOnly) && file.write(buffer.data()) == buffer.size() &&
           file.commit();
    }
  } else if (lower.endsWith(QLatin1String(".csv"))) {
    QByteArray csv("curve,variant,position,train_len,length,ppl_tail,ppl_window\n");
    for (const auto& c : m_results.curves) {
      for (const auto& p : c.points) {
        csv += QStringLiteral("%1,%2,%3,%4,%5,%6,%7\n")
                   .arg(QString::fromStdString(c.name), QString::fromStdString(c.variant),
                        QString::fromStdString(c.position))
                   .arg(c.train_len)
                   .arg(p.length)
                   .arg(p.ppl_tail, 0, 'g', 10)
                   .arg(p.ppl_window, 0, 'g', 10)
                   .toUtf8();
      }
    }
    QSaveFile file(path);
    ok = file.open(QIODevice::WriteOnly) && file.write(csv) == csv.size() && file.commit();
  } else {
    if (error) {
      *error = tr("%1: the figure's name must end in .png, .pdf, .svg or .csv").arg(path);
    }
    return false;
  }
  if (!ok && error) *error = tr("cannot write %1 (does its folder exist and can it be written?)").arg(path);
  return ok;
}

}  // namespace attn::ui
