// SPDX-License-Identifier: MIT
#include "ui/widgets/lengths_view.h"

#include <QtWidgets/QComboBox>
#include <QtWidgets/QGridLayout>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QVBoxLayout>
#include <cmath>

#include "ui/models/lengths_view_model.h"
#include "ui/widgets/attention_map_widget.h"
#include "ui/widgets/profile_plot.h"
#include "ui/widgets/qcustomplot_include.h"

namespace attn::ui {
namespace {
constexpr int kProgressSteps = 1000;
constexpr int kGrid = 256;  // cells a side of each map: many maps share the tab
}  // namespace

LengthsView::LengthsView(LengthsViewModel* model, const QString& corpusText, QWidget* parent)
    : QWidget(parent), m_model(model), m_corpus(corpusText) {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout();
  m_lengthsEdit = new QLineEdit(this);
  m_lengthsEdit->setPlaceholderText(tr("training length × 1, 2, 4, 8, 16"));
  m_lengthsEdit->setToolTip(tr("Comma-separated input lengths in tokens"));
  m_source = new QComboBox(this);
  m_source->addItem(tr("the window's text"));
  if (!m_corpus.isEmpty()) m_source->addItem(tr("Brown corpus, test split"));
  m_source->setCurrentIndex(m_corpus.isEmpty() ? 0 : 1);
  m_windows = new QSpinBox(this);
  m_windows->setRange(1, 64);
  m_windows->setValue(2);
  m_windows->setToolTip(tr("Windows per length for the perplexity and statistics"));
  m_runButton = new QPushButton(tr("Run"), this);
  m_cancelButton = new QPushButton(tr("Cancel"), this);
  m_progress = new QProgressBar(this);
  m_progress->setRange(0, kProgressSteps);
  bar->addWidget(new QLabel(tr("Lengths:"), this));
  bar->addWidget(m_lengthsEdit, 2);
  bar->addWidget(new QLabel(tr("Text:"), this));
  bar->addWidget(m_source);
  bar->addWidget(new QLabel(tr("Windows:"), this));
  bar->addWidget(m_windows);
  bar->addWidget(m_runButton);
  bar->addWidget(m_cancelButton);
  bar->addWidget(m_progress, 1);
  layout->addLayout(bar);
  m_note = new QLabel(this);
  m_note->setWordWrap(true);
  layout->addWidget(m_note);

  auto* split = new QSplitter(Qt::Vertical, this);
  auto* mapsBox = new QWidget(split);
  m_grid = new QGridLayout(mapsBox);
  m_grid->setContentsMargins(0, 0, 0, 0);
  m_stats = new QCustomPlot(split);
  m_stats->setMinimumHeight(200);
  split->addWidget(mapsBox);
  split->addWidget(m_stats);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  layout->addWidget(split, 1);
  m_lengthsEdit->setObjectName(QStringLiteral("lengthsEdit"));
  m_runButton->setObjectName(QStringLiteral("lengthsRun"));

  connect(m_runButton, &QPushButton::clicked, this, &LengthsView::run);
  connect(m_cancelButton, &QPushButton::clicked, m_model, &LengthsViewModel::cancel);
  connect(m_model, &LengthsViewModel::finished, this, &LengthsView::showResult);
  connect(m_model, &LengthsViewModel::busyChanged, this, &LengthsView::showBusy);
  connect(m_model, &LengthsViewModel::progressChanged, this,
          [this](double f) { m_progress->setValue(qRound(f * kProgressSteps)); });
  connect(m_model, &LengthsViewModel::failed, this,
          [this](const QString& message) { m_note->setText(message); });
  connect(m_model, &LengthsViewModel::opened, this, [this] {
    if (m_lengthsEdit->text().isEmpty()) {
      setLengths(LengthsViewModel::defaultLengths(m_model->summary().train_len));
    }
    m_note->setText(tr("%1: press Run to compute the maps and statistics at these lengths.")
                        .arg(QString::fromStdString(m_model->summary().dir)));
  });
  showBusy(false);
}

void LengthsView::setColourSettings(const ColourSettings& colours) {
  m_colours = colours;
  showResult();
}

void LengthsView::follow(const QString& text, int layer, int head, const QStringList& stages) {
  const bool changed = layer != m_layer || stages != m_stages;
  m_text = text;
  m_layer = layer;
  m_head = head;
  m_stages = stages;
  if (changed) {
    m_note->setText(tr("Layer or stages changed: press Run to recompute."));
  }
  showResult();  // a head change needs no new job: every head is in the result
}

void LengthsView::setLengths(const std::vector<int64_t>& lengths) {
  QStringList parts;
  for (int64_t len : lengths) parts << QString::number(len);
  m_lengthsEdit->setText(parts.join(QStringLiteral(", ")));
}

std::vector<int64_t> LengthsView::lengths() const {
  std::vector<int64_t> out;
  for (const QString& part : m_lengthsEdit->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
    bool ok = false;
    const qint64 v = part.trimmed().toLongLong(&ok);
    if (ok && v > 0) out.push_back(v);
  }
  return out;
}

QString LengthsView::jobText() const {
  return m_source->currentIndex() == 1 ? m_corpus : m_text;
}

void LengthsView::run() {
  const std::vector<int64_t> wanted = lengths();
  if (wanted.empty()) {
    m_note->setText(tr("Give lengths as positive numbers separated by commas, e.g. 128, 256, 512."));
    return;
  }
  if (!m_model->hasCheckpoint()) {
    m_note->setText(tr("No checkpoint is loaded yet."));
    return;
  }
  LengthsJob job;
  job.text = jobText().toStdString();
  job.lengths = wanted;
  job.layer = m_layer;
  // Raw and processed (the last two panel stages), as in the main view.
  const QStringList shown = m_stages.size() > 2 ? QStringList{m_stages.first(), m_stages.last()}
                                                : m_stages;
  for (const QString& s : shown) job.stages.push_back(s.toStdString());
  if (job.stages.empty()) job.stages.push_back("probs");
  job.grid = kGrid;
  job.windows = m_windows->value();
  m_note->setText(tr("Computing %1 lengths…").arg(wanted.size()));
  m_model->run(job);
}

void LengthsView::showBusy(bool busy) {
  m_runButton->setEnabled(!busy);
  m_cancelButton->setEnabled(busy);
  if (!busy) m_progress->setValue(m_model->result() ? kProgressSteps : 0);
}

int LengthsView::mapCount() const {
  int n = 0;
  for (const auto& row : m_maps) n += static_cast<int>(row.size());
  return n;
}

AttentionMapWidget* LengthsView::map(int row, int column) const {
  if (row < 0 || row >= static_cast<int>(m_maps.size())) return nullptr;
  const auto& r = m_maps[static_cast<std::size_t>(row)];
  return column >= 0 && column < static_cast<int>(r.size()) ? r[static_cast<std::size_t>(column)]
                                                            : nullptr;
}

void LengthsView::showResult() {
  const LengthsResult* r = m_model->result();
  if (!r) return;
  // Stages present in the traces, in order.
  QStringList stages;
  if (!r->traces.empty()) {
    for (const auto& m : r->traces.front().maps) stages << QString::fromStdString(m.stage);
  }
  const int columns = static_cast<int>(r->traces.size());
  // Rebuild the grid when its shape changed.
  const bool reshape = static_cast<int>(m_maps.size()) != stages.size() ||
                       (!m_maps.empty() && static_cast<int>(m_maps.front().size()) != columns);
  if (reshape) {
    for (auto& row : m_maps) {
      for (auto* w : row) delete w;
    }
    m_maps.assign(static_cast<std::size_t>(stages.size()), {});
    for (int s = 0; s < stages.size(); ++s) {
      for (int c = 0; c < columns; ++c) {
        auto* w = new AttentionMapWidget(this);
        m_grid->addWidget(w, s, c);
        m_maps[static_cast<std::size_t>(s)].push_back(w);
      }
    }
  }
  const int64_t trainLen = m_model->summary().train_len;
  for (int s = 0; s < stages.size(); ++s) {
    // One colour scale per stage across the lengths.
    std::vector<FigureMap> maps;
    for (const auto& t : r->traces) {
      if (s >= static_cast<int>(t.maps.size())) continue;
      maps.push_back(headFigureMap(t.maps[static_cast<std::size_t>(s)], m_head, tokenLabels(t),
                                   tr("%1, %2 tokens").arg(stages[s]).arg(t.tokens.size())));
    }
    std::vector<float> all;
    std::vector<const FigureMap*> ptrs;
    for (const auto& m : maps) {
      all.insert(all.end(), m.values.begin(), m.values.end());
      ptrs.push_back(&m);
    }
    const ColourMap colours = colourMapFor(m_colours, all);
    const ColourRange range = colourRangeFor(m_colours, colours, ptrs);
    for (int c = 0; c < static_cast<int>(maps.size()) && c < columns; ++c) {
      AttentionMapWidget* w = m_maps[static_cast<std::size_t>(s)][static_cast<std::size_t>(c)];
      w->setMaps(maps[static_cast<std::size_t>(c)], nullptr, colours, range);
      w->setMarker(static_cast<int>(trainLen) < static_cast<int>(maps[static_cast<std::size_t>(c)].tokens.size())
                       ? static_cast<int>(trainLen)
                       : -1);
    }
  }
  // Statistics of the layer's heads across lengths.
  m_stats->clearGraphs();
  m_stats->plotLayout()->clear();
  if (r->hasReport && !r->report.points.empty()) {
    const auto& pts = r->report.points;
    struct Panel {
      QString label;
      std::function<double(const attn::LengthPoint&, int)> value;
      bool perHead;
    };
    const std::vector<Panel> panels = {
        {tr("perplexity"), [](const attn::LengthPoint& p, int) { return p.ppl_tail; }, false},
        {tr("entropy (nats)"),
         [this](const attn::LengthPoint& p, int h) { return p.entropy.at(static_cast<std::size_t>(m_layer)).at(static_cast<std::size_t>(h)); }, true},
        {tr("mean distance"),
         [this](const attn::LengthPoint& p, int h) { return p.distance.at(static_cast<std::size_t>(m_layer)).at(static_cast<std::size_t>(h)); }, true},
        {tr("sink mass"),
         [this](const attn::LengthPoint& p, int h) { return p.sink.at(static_cast<std::size_t>(m_layer)).at(static_cast<std::size_t>(h)); }, true}};
    const int heads = pts.front().entropy.empty() ? 0 : static_cast<int>(pts.front().entropy.front().size());
    if (m_layer < static_cast<int>(pts.front().entropy.size())) {
      for (std::size_t p = 0; p < panels.size(); ++p) {
        auto* rect = new QCPAxisRect(m_stats);
        m_stats->plotLayout()->addElement(0, static_cast<int>(p), rect);
        QCPAxis* x = rect->axis(QCPAxis::atBottom);
        x->setScaleType(QCPAxis::stLogarithmic);
        auto ticker = QSharedPointer<QCPAxisTickerLog>::create();
        ticker->setLogBase(2);
        x->setTicker(ticker);
        x->setNumberFormat(QStringLiteral("f"));
        x->setNumberPrecision(0);
        x->setLabel(tr("length"));
        rect->axis(QCPAxis::atLeft)->setLabel(panels[p].label);
        const int curves = panels[p].perHead ? heads : 1;
        for (int h = 0; h < curves; ++h) {
          QCPGraph* g = m_stats->addGraph(x, rect->axis(QCPAxis::atLeft));
          g->setPen(QPen(curveColour(panels[p].perHead ? h : 0), h == m_head ? 2.4 : 1.0));
          g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 3));
          for (const auto& pt : pts) g->addData(static_cast<double>(pt.length), panels[p].value(pt, h));
        }
        rect->axis(QCPAxis::atLeft)->rescale(true);
        x->setRange(pts.front().length / 1.3, pts.back().length * 1.3);
        if (trainLen > 0) {
          auto* line = new QCPItemStraightLine(m_stats);
          line->setClipAxisRect(rect);
          line->point1->setAxes(x, rect->axis(QCPAxis::atLeft));
          line->point2->setAxes(x, rect->axis(QCPAxis::atLeft));
          line->point1->setCoords(static_cast<double>(trainLen), 0);
          line->point2->setCoords(static_cast<double>(trainLen), 1);
          line->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashLine));
        }
      }
    }
  }
  m_stats->replot(QCustomPlot::rpQueuedReplot);
  QString note = tr("Layer %1, head %2 (thick curve); the dashed lines mark the training length %3.")
                     .arg(m_layer)
                     .arg(m_head)
                     .arg(trainLen);
  const std::vector<int64_t> skipped = m_model->skippedLengths();
  if (!skipped.empty()) {
    QStringList s;
    for (int64_t len : skipped) s << QString::number(len);
    note += tr(" Skipped (the text is too short): %1.").arg(s.join(QStringLiteral(", ")));
  }
  m_note->setText(note);
}

Figure LengthsView::figure() const {
  Figure f;
  f.kind = FigureKind::Maps;
  f.style = figureStyle(m_colours);
  f.style.sharedRange = true;
  const LengthsResult* r = m_model->result();
  if (!r) return f;
  std::vector<float> all;
  for (const auto& t : r->traces) {
    if (t.maps.empty()) continue;
    // The processed stage (the last) at each length.
    f.maps.push_back(headFigureMap(t.maps.back(), m_head, tokenLabels(t),
                                   QStringLiteral("%1 tokens").arg(t.tokens.size())));
    all.insert(all.end(), f.maps.back().values.begin(), f.maps.back().values.end());
  }
  f.style.colourMap = colourMapFor(m_colours, all);
  if (!r->traces.empty() && !r->traces.front().maps.empty()) {
    f.title = QStringLiteral("%1, layer %2, head %3")
                  .arg(QString::fromStdString(r->traces.front().maps.back().stage))
                  .arg(m_layer)
                  .arg(m_head);
  }
  return f;
}

}  // namespace attn::ui
