// SPDX-License-Identifier: MIT
#include "ui/widgets/compare_view.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QVBoxLayout>
#include <cmath>

#include "ui/models/compare_view_model.h"
#include "ui/widgets/map_panels.h"
#include "ui/widgets/qcustomplot_include.h"

namespace attn::ui {

CompareView::CompareView(CompareViewModel* model, const QStringList& bundled, QWidget* parent)
    : QWidget(parent), m_model(model) {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout();
  m_addBox = new QComboBox(this);
  for (const QString& dir : bundled) m_addBox->addItem(QFileInfo(dir).fileName(), dir);
  auto* add = new QPushButton(tr("Add"), this);
  auto* addFolder = new QPushButton(tr("Add folder…"), this);
  auto* remove = new QPushButton(tr("Remove last"), this);
  m_stageBox = new QComboBox(this);
  m_stageBox->setToolTip(tr("The stage compared (every checkpoint must offer it)"));
  m_aBox = new QComboBox(this);
  m_bBox = new QComboBox(this);
  bar->addWidget(new QLabel(tr("Checkpoint:"), this));
  bar->addWidget(m_addBox);
  bar->addWidget(add);
  bar->addWidget(addFolder);
  bar->addWidget(remove);
  bar->addSpacing(16);
  bar->addWidget(new QLabel(tr("Stage:"), this));
  bar->addWidget(m_stageBox);
  bar->addSpacing(16);
  bar->addWidget(new QLabel(tr("Difference:"), this));
  bar->addWidget(m_aBox);
  bar->addWidget(new QLabel(QStringLiteral("−"), this));
  bar->addWidget(m_bBox);
  bar->addStretch(1);
  layout->addLayout(bar);

  auto* split = new QSplitter(Qt::Vertical, this);
  m_panels = new MapPanels(split);
  auto* lower = new QWidget(split);
  auto* lowerLayout = new QHBoxLayout(lower);
  lowerLayout->setContentsMargins(0, 0, 0, 0);
  m_kl = new QCustomPlot(lower);
  m_kl->xAxis->setLabel(tr("query position"));
  m_kl->yAxis->setLabel(tr("KL(A row ‖ B row), nats"));
  m_kl->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  m_summary = new QLabel(lower);
  m_summary->setWordWrap(true);
  m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_summary->setMinimumWidth(260);
  m_summary->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  lowerLayout->addWidget(m_kl, 3);
  lowerLayout->addWidget(m_summary, 1);
  split->addWidget(m_panels);
  split->addWidget(lower);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);
  layout->addWidget(split, 1);
  m_summary->setObjectName(QStringLiteral("compareSummary"));
  m_addBox->setObjectName(QStringLiteral("compareAdd"));

  connect(add, &QPushButton::clicked, this, [this] {
    const QString dir = m_addBox->currentData().toString();
    if (!dir.isEmpty()) m_model->addCheckpoint(dir);
  });
  connect(addFolder, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Add a checkpoint to compare"));
    if (!dir.isEmpty()) m_model->addCheckpoint(dir);
  });
  connect(remove, &QPushButton::clicked, this,
          [this] { m_model->removeCheckpoint(m_model->count() - 1); });
  connect(m_stageBox, &QComboBox::textActivated, m_model, &CompareViewModel::setStage);
  connect(m_aBox, qOverload<int>(&QComboBox::activated), this, &CompareView::refresh);
  connect(m_bBox, qOverload<int>(&QComboBox::activated), this, &CompareView::refresh);
  connect(m_panels, &MapPanels::viewWindowChanged, this,
          [this](qint64 q0, qint64 q1, qint64 k0, qint64 k1) {
            m_model->setViewWindow({q0, q1, k0, k1});
          });
  connect(m_model, &CompareViewModel::checkpointsChanged, this, &CompareView::showChoices);
  connect(m_model, &CompareViewModel::mapsChanged, this, &CompareView::refresh);
  showChoices();
}

void CompareView::setColourSettings(const ColourSettings& colours) {
  m_colours = colours;
  refresh();
}

void CompareView::showChoices() {
  // Stages every compared checkpoint offers.
  QStringList common;
  for (int i = 0; i < m_model->count(); ++i) {
    const QStringList offered = m_model->model(i)->stages();
    if (offered.isEmpty()) continue;
    if (common.isEmpty()) {
      common = offered;
    } else {
      QStringList keep;
      for (const QString& s : common) {
        if (offered.contains(s)) keep << s;
      }
      common = keep;
    }
  }
  if (common.isEmpty()) common << QStringLiteral("probs");
  m_stageBox->clear();
  m_stageBox->addItems(common);
  m_stageBox->setCurrentText(m_model->stage());
  const int a = m_aBox->currentIndex(), b = m_bBox->currentIndex();
  m_aBox->clear();
  m_bBox->clear();
  for (int i = 0; i < m_model->count(); ++i) {
    m_aBox->addItem(m_model->name(i));
    m_bBox->addItem(m_model->name(i));
  }
  const int newA = a >= 0 && a < m_model->count() ? a : 0;
  int newB = b >= 0 && b < m_model->count() ? b : std::min(1, m_model->count() - 1);
  if (newB == newA && m_model->count() >= 2) newB = newA == 0 ? 1 : 0;  // two distinct ones
  m_aBox->setCurrentIndex(newA);
  m_bBox->setCurrentIndex(newB);
  refresh();
}

QString CompareView::summaryText() const { return m_summary->text(); }

void CompareView::refresh() {
  std::vector<PanelContent> panels;
  std::vector<const FigureMap*> maps;
  for (int i = 0; i < m_model->count(); ++i) {
    AttentionViewModel* m = m_model->model(i);
    const attn::StageMap* whole = m->panelMap(0);
    if (!whole || !m->currentTrace()) continue;
    PanelContent p;
    const QString title = QStringLiteral("%1: %2").arg(m_model->name(i),
                                                       mapTitle(m_model->stage(), m->layer(), m->head()));
    p.whole = headFigureMap(*whole, m->head(), m->mapLabels(), title);
    if (const attn::StageMap* detail = m->detailMap(0)) {
      p.detail = headFigureMap(*detail, m->head(), m->mapLabels(), title);
      p.hasDetail = true;
    }
    panels.push_back(std::move(p));
  }
  // One colour scale for the compared maps.
  std::vector<float> all;
  for (const auto& p : panels) all.insert(all.end(), p.whole.values.begin(), p.whole.values.end());
  const ColourMap map = colourMapFor(m_colours, all);
  for (const auto& p : panels) maps.push_back(&p.whole);
  const ColourRange range = colourRangeFor(m_colours, map, maps);
  for (auto& p : panels) {
    p.colourMap = map;
    p.range = range;
  }
  // The difference, when two are chosen.
  const int a = m_aBox->currentIndex(), b = m_bBox->currentIndex();
  QString summary;
  m_kl->clearGraphs();
  if (m_model->count() >= 2 && a >= 0 && b >= 0 && a != b) {
    const MapDifference d = m_model->difference(a, b);
    if (d.valid) {
      PanelContent diff;
      diff.whole.title = tr("%1 − %2").arg(m_model->name(a), m_model->name(b));
      diff.whole.rows = diff.whole.cols = d.n;
      diff.whole.values = d.values;
      diff.whole.tokens = m_model->model(a)->mapLabels();
      diff.colourMap = ColourMap::Diverging;
      ColourSettings signedColours = m_colours;
      signedColours.fixedRange = false;
      signedColours.scale = ColourScale::Linear;
      diff.range = colourRangeFor(signedColours, ColourMap::Diverging, {&diff.whole});
      panels.push_back(std::move(diff));
      summary += tr("<b>%1 − %2</b><br>mean |difference| %3 over the causal cells")
                     .arg(m_model->name(a), m_model->name(b))
                     .arg(d.meanAbs, 0, 'g', 4);
      if (d.aligned) {
        summary += tr("<br><i>The tokenizers differ: %1's tokens are aligned to %2's by text "
                      "position.</i>")
                       .arg(m_model->name(b), m_model->name(a));
      }
      const QStringList labels = m_model->model(a)->mapLabels();
      summary += tr("<br>rows that differ most:");
      for (int row : d.topRows) {
        summary += QStringLiteral("<br>&nbsp;&nbsp;%1 \"%2\"%3")
                       .arg(row)
                       .arg(row < labels.size() ? labels[row].toHtmlEscaped() : QString())
                       .arg(d.rowKl.empty() ? QString()
                                            : tr(": KL %1").arg(d.rowKl[static_cast<std::size_t>(row)], 0, 'g', 3));
      }
      if (!d.rowKl.empty()) {
        QCPGraph* g = m_kl->addGraph();
        QVector<double> x, y;
        for (int i = 0; i < d.n; ++i) {
          x << i;
          y << d.rowKl[static_cast<std::size_t>(i)];
        }
        g->setData(x, y, true);
        g->setPen(QPen(QColor(214, 39, 40), 1.4));
        m_kl->rescaleAxes();
      }
    } else {
      summary = tr("No difference: %1").arg(d.problem);
    }
  } else if (m_model->count() < 2) {
    summary = tr("Add a second checkpoint to see the difference.");
  }
  m_summary->setText(summary);
  m_kl->replot(QCustomPlot::rpQueuedReplot);
  if (panels.empty()) {
    m_panels->clear(m_model->count() == 0 ? tr("Add checkpoints to compare") : tr("Computing…"));
  } else {
    m_panels->setPanels(panels);
  }
}

Figure CompareView::figure() const {
  Figure f;
  f.kind = FigureKind::Maps;
  f.style = figureStyle(m_colours);
  for (int i = 0; i < m_model->count(); ++i) {
    AttentionViewModel* m = m_model->model(i);
    const attn::StageMap* whole = m->panelMap(0);
    if (!whole) continue;
    f.maps.push_back(headFigureMap(*whole, m->head(), m->mapLabels(), m_model->name(i)));
  }
  f.style.sharedRange = true;
  std::vector<float> all;
  for (const auto& m : f.maps) all.insert(all.end(), m.values.begin(), m.values.end());
  f.style.colourMap = colourMapFor(m_colours, all);
  const int a = m_aBox->currentIndex(), b = m_bBox->currentIndex();
  if (m_model->count() >= 2 && a != b) {
    const MapDifference d = m_model->difference(a, b);
    if (d.valid) {
      FigureMap diff;
      diff.title = QStringLiteral("%1 − %2").arg(m_model->name(a), m_model->name(b));
      diff.rows = diff.cols = d.n;
      diff.values = d.values;
      diff.tokens = m_model->model(a)->mapLabels();
      diff.colourMap = static_cast<int>(ColourMap::Diverging);
      f.maps.push_back(std::move(diff));
    }
  }
  if (m_model->count() > 0) {
    f.title = mapTitle(m_model->stage(), m_model->layer(), m_model->head());
  }
  return f;
}

}  // namespace attn::ui
