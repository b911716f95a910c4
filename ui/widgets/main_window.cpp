// SPDX-License-Identifier: MIT
// MainWindow: assembly and wiring only. Every user action goes to a model slot and every model
// signal updates a widget; errors land in the status bar and the side panel (and, for a failed
// open or export, in a non-blocking message box), never in an exception.
#include "ui/widgets/main_window.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QMimeData>
#include <QtCore/QSettings>
#include <QtCore/QStringDecoder>
#include <QtCore/QSignalBlocker>
#include <QtGui/QAction>
#include <QtGui/QCloseEvent>
#include <QtGui/QDragEnterEvent>
#include <QtGui/QDropEvent>
#include <QtGui/QKeySequence>
#include <QtWidgets/QApplication>
#include <QtWidgets/QCheckBox>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QDockWidget>
#include <QtWidgets/QDoubleSpinBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QFormLayout>
#include <QtWidgets/QGroupBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMenuBar>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QStatusBar>
#include <QtWidgets/QTabWidget>
#include <QtWidgets/QTextBrowser>
#include <QtWidgets/QToolButton>
#include <QtWidgets/QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "core/eval/eval_results.h"
#include "core/util/error.h"
#include "core/util/text_file.h"
#include "ui/figure/map_image.h"
#include "ui/models/attention_view_model.h"
#include "ui/models/compare_view_model.h"
#include "ui/models/lengths_view_model.h"
#include "ui/models/session_backend.h"
#include "ui/models/workspace_state.h"
#include "ui/widgets/attention_map_widget.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/export_dialog.h"
#include "ui/widgets/extrapolation_plot.h"
#include "ui/widgets/map_panels.h"
#include "ui/widgets/overview_widget.h"
#include "ui/widgets/lengths_view.h"
#include "ui/widgets/profile_plot.h"
#include "ui/widgets/qcustomplot_include.h"

namespace attn::ui {
namespace {

constexpr int kProgressSteps = 1000;
constexpr int kMaxRecent = 8;
constexpr int kMaxTokensShown = 3000;

QString row(const QString& name, const QString& value) {
  return QStringLiteral("<tr><td>%1</td><td>&nbsp;&nbsp;<b>%2</b></td></tr>")
      .arg(name.toHtmlEscaped(), value.toHtmlEscaped());
}

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

bool isCheckpointDir(const QString& dir) {
  return QFileInfo(dir).isDir() && QFileInfo::exists(dir + QStringLiteral("/config.json"));
}

// The long text of the lengths views and the curves: the start of the corpus's test split.
constexpr qsizetype kCorpusChars = 400000;
QString loadCorpusText(const QString& resourcesDir) {
  if (resourcesDir.isEmpty()) return {};
  const QString path = resourcesDir + QStringLiteral("/corpus/brown/test.txt.gz");
  if (!QFileInfo::exists(path)) return {};
  try {
    const std::string text = attn::read_text(path.toStdString());
    return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())).left(kCorpusChars);
  } catch (const std::exception&) {
    return {};
  }
}

QStringList bundledCheckpoints(const QString& resourcesDir) {
  QStringList out;
  if (resourcesDir.isEmpty()) return out;
  const QDir root(resourcesDir + QStringLiteral("/checkpoints"));
  for (const QString& name : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
    if (isCheckpointDir(root.filePath(name))) out << root.filePath(name);
  }
  return out;
}

}  // namespace

MainWindow::MainWindow(AttentionViewModel* model, const QString& resourcesDir,
                       BackendFactory backends, QWidget* parent)
    : QMainWindow(parent), m_model(model), m_resourcesDir(resourcesDir),
      m_backends(std::move(backends)) {
  setWindowTitle(tr("AttnScope"));
  setAcceptDrops(true);
  if (!m_backends) m_backends = [] { return std::make_unique<SessionBackend>(); };
  m_corpusText = loadCorpusText(m_resourcesDir);
  m_compare = std::make_unique<CompareViewModel>(m_backends);
  m_lengths = std::make_unique<LengthsViewModel>(m_backends());
  buildTabs();
  buildDocks();
  buildMenus();
  connectModel();
  showSummary();
  syncEditor(m_model->text());
  showTokens();
  showBusy(m_model->isBusy());
  showMaps();
  resize(1400, 960);
}

MainWindow::~MainWindow() = default;

AttentionMapWidget* MainWindow::mapWidget() const {
  return m_panels->panel(m_panels->panelCount() - 1);
}

QPixmap MainWindow::screenshot() {
  for (int i = 0; i < m_panels->panelCount(); ++i) {
    m_panels->panel(i)->plot()->replot(QCustomPlot::rpImmediateRefresh);
  }
  m_profile->plot()->replot(QCustomPlot::rpImmediateRefresh);
  return grab();
}

// ---- building --------------------------------------------------------------------------------

void MainWindow::buildTabs() {
  m_tabs = new QTabWidget(this);
  m_tabs->setObjectName(QStringLiteral("tabs"));
  m_panels = new MapPanels(m_tabs);
  m_compareView = new CompareView(m_compare.get(), bundledCheckpoints(m_resourcesDir), m_tabs);
  m_lengthsView = new LengthsView(m_lengths.get(), m_corpusText, m_tabs);
  m_tabs->addTab(m_panels, tr("Explore"));
  m_tabs->addTab(m_compareView, tr("Compare"));
  m_tabs->addTab(m_lengthsView, tr("Lengths"));
  setCentralWidget(m_tabs);
  connect(m_tabs, &QTabWidget::currentChanged, this, [this](int index) {
    // The first visit to Compare starts with the explored checkpoint.
    if (index == static_cast<int>(Tab::Compare) && m_compare->count() == 0 &&
        m_model->hasCheckpoint()) {
      m_compare->setStage(m_model->overviewStage());
      m_compare->addCheckpoint(fromStd(m_model->summary().dir));
    }
  });
}

bool MainWindow::isIdle() const {
  if (m_model->isBusy() || !m_model->currentTrace() || !m_pendingView.isEmpty()) return false;
  switch (currentTab()) {
    case Tab::Compare:
      return m_compare->count() > 0 && m_compare->isReady();
    case Tab::Lengths:
      return !m_lengths->isBusy() && !m_pendingLengthsRun && m_lengths->result() != nullptr;
    case Tab::Explore:
      break;
  }
  return true;
}

void MainWindow::showTab(Tab tab) { m_tabs->setCurrentIndex(static_cast<int>(tab)); }

MainWindow::Tab MainWindow::currentTab() const { return static_cast<Tab>(m_tabs->currentIndex()); }

QWidget* MainWindow::buildCurvesPanel() {
  auto* box = new QWidget(this);
  auto* layout = new QVBoxLayout(box);
  layout->setContentsMargins(2, 2, 2, 2);
  auto* bar = new QHBoxLayout();
  m_curvesButton = new QPushButton(tr("Compute for the compared checkpoints"), box);
  m_curvesButton->setToolTip(tr("Perplexity at the training length and 2 to 16 times it, on the "
                                "Brown corpus's test split; click a point to see its maps"));
  m_curvesCancel = new QPushButton(tr("Cancel"), box);
  m_curvesProgress = new QProgressBar(box);
  m_curvesProgress->setRange(0, kProgressSteps);
  bar->addWidget(m_curvesButton);
  bar->addWidget(m_curvesCancel);
  bar->addWidget(m_curvesProgress, 1);
  layout->addLayout(bar);
  m_curves = new ExtrapolationPlot(box);
  layout->addWidget(m_curves, 1);
  m_curvesCancel->setEnabled(false);
  m_curvesButton->setEnabled(!m_corpusText.isEmpty());
  connect(m_curvesButton, &QPushButton::clicked, this, &MainWindow::computeCurves);
  connect(m_curvesCancel, &QPushButton::clicked, this, [this] {
    for (auto& job : m_curveJobs) job->cancel();
    m_curveJobs.clear();
    showCurvesProgress();
    statusBar()->showMessage(tr("Cancelled"), 5000);
  });
  connect(m_curves, &ExtrapolationPlot::pointClicked, this,
          [this](const QString& curve, qint64 length) {
            // Open the lengths view of that checkpoint at that length.
            QString dir;
            for (const QString& c : m_compare->checkpoints()) {
              if (QFileInfo(c).fileName() == curve) dir = c;
            }
            if (dir.isEmpty() && m_model->hasCheckpoint() &&
                QFileInfo(fromStd(m_model->summary().dir)).fileName() == curve) {
              dir = fromStd(m_model->summary().dir);
            }
            for (const QString& c : bundledCheckpoints(m_resourcesDir)) {
              if (dir.isEmpty() && QFileInfo(c).fileName() == curve) dir = c;
            }
            if (dir.isEmpty()) {
              showError(tr("No checkpoint named %1 is open or bundled.").arg(curve));
              return;
            }
            if (dir != m_lengths->checkpointDir()) m_lengths->openCheckpoint(dir, m_model->device());
            std::vector<int64_t> lengths = m_lengthsView->lengths();
            if (std::find(lengths.begin(), lengths.end(), length) == lengths.end()) {
              lengths.push_back(length);
              std::sort(lengths.begin(), lengths.end());
            }
            m_lengthsView->setLengths(lengths);
            showTab(Tab::Lengths);
            m_lengthsView->run();
          });
  return box;
}

void MainWindow::computeCurves() {
  QStringList dirs = m_compare->checkpoints();
  if (dirs.isEmpty() && m_model->hasCheckpoint()) dirs << fromStd(m_model->summary().dir);
  if (dirs.isEmpty() || m_corpusText.isEmpty()) {
    showError(tr("Open a checkpoint first (the curves use the corpus under resources/)."));
    return;
  }
  for (auto& job : m_curveJobs) job->cancel();
  m_curveJobs.clear();
  for (const QString& dir : dirs) {
    auto job = std::make_unique<LengthsViewModel>(m_backends());
    LengthsViewModel* raw = job.get();
    connect(raw, &LengthsViewModel::progressChanged, this, &MainWindow::showCurvesProgress);
    connect(raw, &LengthsViewModel::failed, this, &MainWindow::showError);
    connect(raw, &LengthsViewModel::finished, this, &MainWindow::showCurvesProgress);
    connect(raw, &LengthsViewModel::opened, this, [this, raw] {
      LengthsJob j;
      j.text = m_corpusText.toStdString();
      j.lengths = LengthsViewModel::defaultLengths(raw->summary().train_len);
      j.maps = false;
      j.stats = true;
      j.windows = 2;
      raw->run(j);
    });
    raw->openCheckpoint(dir, m_model->device());
    m_curveJobs.push_back(std::move(job));
  }
  if (!m_curvesDock->isVisible()) m_curvesDock->show();
  m_curvesDock->raise();
  showCurvesProgress();
}

void MainWindow::showCurvesProgress() {
  bool running = false, done = !m_curveJobs.empty();
  double sum = 0;
  for (const auto& job : m_curveJobs) {
    const bool finished = job->result() && job->result()->hasReport;
    running = running || !finished;
    done = done && finished;
    sum += finished ? 1.0 : job->progress();
  }
  m_curvesButton->setEnabled(!running && !m_corpusText.isEmpty());
  m_curvesCancel->setEnabled(running);
  m_curvesProgress->setValue(m_curveJobs.empty() ? 0 : qRound(sum / m_curveJobs.size() * kProgressSteps));
  if (!done) return;
  EvalResults results;
  results.text = "brown/test";
  results.windows = 2;
  results.tail = 256;
  for (const auto& job : m_curveJobs) {
    const attn::LengthReport& rep = job->result()->report;
    EvalCurve curve;
    curve.name = rep.name;
    curve.variant = job->summary().variant;
    curve.position = job->summary().position;
    curve.train_len = rep.train_len;
    for (const auto& p : rep.points) {
      EvalPoint point;
      point.length = p.length;
      point.windows = p.windows;
      point.ppl_tail = p.ppl_tail;
      point.ppl_window = p.ppl_window;
      curve.points.push_back(point);
    }
    results.curves.push_back(std::move(curve));
  }
  for (const auto& c : results.curves) {
    for (const auto& p : c.points) {
      if (std::find(results.lengths.begin(), results.lengths.end(), p.length) == results.lengths.end()) {
        results.lengths.push_back(p.length);
      }
    }
  }
  m_curves->setResults(results);
  statusBar()->showMessage(tr("Extrapolation curves computed for %1 checkpoint(s)").arg(results.curves.size()), 8000);
  // Keep the results; the jobs themselves can go.
  m_curveJobs.clear();
}

void MainWindow::buildDocks() {
  m_sideDock = new QDockWidget(tr("Model and text"), this);
  m_sideDock->setObjectName(QStringLiteral("sidePanel"));
  m_sideDock->setWidget(buildSidePanel());
  addDockWidget(Qt::LeftDockWidgetArea, m_sideDock);

  auto* overviewBox = new QWidget(this);
  auto* overviewLayout = new QVBoxLayout(overviewBox);
  overviewLayout->setContentsMargins(2, 2, 2, 2);
  m_overviewModeBox = new QComboBox(overviewBox);
  m_overviewModeBox->addItems({tr("Heads of this layer"), tr("Layers × heads")});
  m_overviewModeBox->setCurrentIndex(1);
  m_overviewModeBox->setObjectName(QStringLiteral("overviewMode"));
  m_overview = new OverviewWidget(overviewBox);
  m_overview->setObjectName(QStringLiteral("overview"));
  overviewLayout->addWidget(m_overviewModeBox);
  overviewLayout->addWidget(m_overview, 1);
  connect(m_overviewModeBox, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
    m_overview->setMode(i == 0 ? OverviewWidget::Mode::HeadsOfLayer
                               : OverviewWidget::Mode::LayersByHeads);
  });
  m_overviewDock = new QDockWidget(tr("Overview"), this);
  m_overviewDock->setObjectName(QStringLiteral("overviewPanel"));
  m_overviewDock->setWidget(overviewBox);
  addDockWidget(Qt::BottomDockWidgetArea, m_overviewDock);

  auto* profileBox = new QWidget(this);
  auto* profileLayout = new QVBoxLayout(profileBox);
  profileLayout->setContentsMargins(2, 2, 2, 2);
  m_profileStageRow = new QHBoxLayout();
  m_profileStageRow->addWidget(new QLabel(tr("Stages:"), profileBox));
  m_profileStageRow->addStretch(1);
  profileLayout->addLayout(m_profileStageRow);
  m_profile = new ProfilePlot(profileBox);
  profileLayout->addWidget(m_profile, 1);
  m_profileDock = new QDockWidget(tr("Query profile"), this);
  m_profileDock->setObjectName(QStringLiteral("profilePanel"));
  m_profileDock->setWidget(profileBox);
  splitDockWidget(m_overviewDock, m_profileDock, Qt::Horizontal);

  m_curvesDock = new QDockWidget(tr("Length extrapolation"), this);
  m_curvesDock->setObjectName(QStringLiteral("extrapolationPanel"));
  m_curvesDock->setWidget(buildCurvesPanel());
  addDockWidget(Qt::BottomDockWidgetArea, m_curvesDock);
  tabifyDockWidget(m_profileDock, m_curvesDock);
  m_profileDock->raise();
  m_curvesDock->hide();  // shown once results are loaded
  resizeDocks({m_profileDock}, {300}, Qt::Vertical);
  resizeDocks({m_overviewDock, m_profileDock}, {380, 1000}, Qt::Horizontal);
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open = file->addAction(tr("&Open checkpoint directory…"));
  open->setShortcut(QKeySequence::Open);
  connect(open, &QAction::triggered, this, &MainWindow::chooseCheckpoint);
  m_bundledMenu = file->addMenu(tr("Open &bundled checkpoint"));
  m_recentMenu = file->addMenu(tr("Open &recent"));
  QAction* text = file->addAction(tr("Open &text file…"));
  text->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+O")));
  connect(text, &QAction::triggered, this, &MainWindow::chooseTextFile);
  QAction* results = file->addAction(tr("Open &evaluation results…"));
  connect(results, &QAction::triggered, this, [this] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open evaluation results"), QString(), tr("Evaluation results (*.json)"));
    if (!path.isEmpty()) showResults(path);
  });
  file->addSeparator();
  QAction* openWs = file->addAction(tr("Open &workspace…"));
  openWs->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+W")));
  connect(openWs, &QAction::triggered, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open workspace"), QString(),
                                                      tr("AttnScope workspace (*.json)"));
    if (!path.isEmpty()) openWorkspace(path);
  });
  QAction* saveWs = file->addAction(tr("&Save workspace…"));
  saveWs->setShortcut(QKeySequence::Save);
  connect(saveWs, &QAction::triggered, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save workspace"),
                                                      QStringLiteral("workspace.json"),
                                                      tr("AttnScope workspace (*.json)"));
    if (!path.isEmpty()) saveWorkspace(path);
  });
  file->addSeparator();
  QAction* exportAction = file->addAction(tr("E&xport figure…"));
  exportAction->setShortcut(QKeySequence(QStringLiteral("Ctrl+E")));
  connect(exportAction, &QAction::triggered, this, &MainWindow::showExportDialog);
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"));
  quit->setShortcut(QKeySequence::Quit);
  connect(quit, &QAction::triggered, this, &QWidget::close);
  rebuildBundledMenu();
  rebuildRecentMenu();

  QMenu* view = menuBar()->addMenu(tr("&View"));
  auto add = [this, view](const QString& name, const QString& keys, auto slot) {
    QAction* a = view->addAction(name);
    a->setShortcut(QKeySequence(keys));
    a->setShortcutContext(Qt::WindowShortcut);
    connect(a, &QAction::triggered, this, slot);
    return a;
  };
  add(tr("&Next head"), QStringLiteral("Ctrl+]"), [this] { stepHead(1); });
  add(tr("&Previous head"), QStringLiteral("Ctrl+["), [this] { stepHead(-1); });
  add(tr("Next &layer"), QStringLiteral("Ctrl+PgDown"), [this] { stepLayer(1); });
  add(tr("Previous l&ayer"), QStringLiteral("Ctrl+PgUp"), [this] { stepLayer(-1); });
  add(tr("&Toggle raw / processed"), QStringLiteral("Ctrl+R"),
      [this] { m_model->toggleRawProcessed(); });
  add(tr("&Reset zoom"), QStringLiteral("Ctrl+0"), [this] { m_panels->resetView(); });
  view->addSeparator();
  for (QDockWidget* dock : {m_sideDock, m_overviewDock, m_profileDock, m_curvesDock}) {
    view->addAction(dock->toggleViewAction());
  }

  QMenu* device = menuBar()->addMenu(tr("&Device"));
  auto* cpu = device->addAction(tr("&CPU"));
  auto* cuda = device->addAction(tr("C&UDA (GPU)"));
  cpu->setCheckable(true);
  cuda->setCheckable(true);
  auto sync = [this, cpu, cuda] {
    cpu->setChecked(m_model->device() == QLatin1String("cpu"));
    cuda->setChecked(m_model->device() == QLatin1String("cuda"));
  };
  sync();
  auto choose = [this, sync](const QString& name) {
    m_model->setDevice(name);
    sync();
    if (m_model->hasCheckpoint()) m_model->openCheckpoint(fromStd(m_model->summary().dir));
  };
  connect(cpu, &QAction::triggered, this, [choose] { choose(QStringLiteral("cpu")); });
  connect(cuda, &QAction::triggered, this, [choose] { choose(QStringLiteral("cuda")); });
}

QWidget* MainWindow::buildSidePanel() {
  auto* panel = new QWidget(this);
  auto* layout = new QVBoxLayout(panel);

  auto* checkpointBox = new QGroupBox(tr("Checkpoint"), panel);
  auto* checkpointLayout = new QVBoxLayout(checkpointBox);
  m_untrainedLabel = new QLabel(tr("UNTRAINED: random weights, no learned patterns"), panel);
  m_untrainedLabel->setStyleSheet(
      QStringLiteral("QLabel { color: white; background: #b3261e; font-weight: bold; "
                     "padding: 3px; }"));
  m_untrainedLabel->setWordWrap(true);
  m_summaryLabel = new QLabel(panel);
  m_summaryLabel->setTextFormat(Qt::RichText);
  m_summaryLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_summaryLabel->setWordWrap(true);
  checkpointLayout->addWidget(m_untrainedLabel);
  checkpointLayout->addWidget(m_summaryLabel);
  layout->addWidget(checkpointBox);

  auto* textBox = new QGroupBox(tr("Text"), panel);
  auto* textLayout = new QVBoxLayout(textBox);
  m_textEdit = new QPlainTextEdit(panel);
  m_textEdit->setPlaceholderText(
      tr("Type, paste or drop a text; the maps follow after a short pause."));
  m_tokenLabel = new QLabel(panel);
  m_tokenView = new QTextBrowser(panel);
  m_tokenView->setToolTip(tr("The tokens as the model sees them"));
  m_tokenView->setMaximumHeight(110);
  // Offered when the text is longer than the window traces by default.
  m_truncatedBar = new QWidget(panel);
  auto* barLayout = new QHBoxLayout(m_truncatedBar);
  barLayout->setContentsMargins(0, 0, 0, 0);
  m_truncatedLabel = new QLabel(m_truncatedBar);
  m_truncatedLabel->setWordWrap(true);
  auto* showAll = new QPushButton(tr("Show all"), m_truncatedBar);
  showAll->setToolTip(tr("Trace every token: long maps are computed in chunks and pooled, "
                         "exact on zoom (slower)"));
  auto* keep = new QPushButton(tr("Keep"), m_truncatedBar);
  barLayout->addWidget(m_truncatedLabel, 1);
  barLayout->addWidget(showAll);
  barLayout->addWidget(keep);
  m_truncatedBar->setStyleSheet(QStringLiteral("QWidget { background: #fff4d6; }"));
  m_truncatedBar->hide();
  showAll->setObjectName(QStringLiteral("showAllTokens"));
  m_truncatedBar->setObjectName(QStringLiteral("truncatedBar"));
  connect(showAll, &QPushButton::clicked, this, [this] {
    m_model->setMaxTokens(0);
    m_truncatedBar->hide();
    m_model->refresh();
  });
  connect(keep, &QPushButton::clicked, this, [this] {
    m_truncationDismissed = true;
    m_truncatedBar->hide();
  });
  textLayout->addWidget(m_textEdit, 2);
  textLayout->addWidget(m_tokenLabel);
  textLayout->addWidget(m_truncatedBar);
  textLayout->addWidget(m_tokenView, 1);
  layout->addWidget(textBox, 1);

  auto* form = new QFormLayout();
  m_layerSpin = new QSpinBox(panel);
  m_headSpin = new QSpinBox(panel);
  form->addRow(tr("&Layer"), m_layerSpin);
  form->addRow(tr("&Head"), m_headSpin);
  m_stageRow = new QHBoxLayout();
  m_stageRow->addStretch(1);
  form->addRow(tr("Stages"), m_stageRow);
  layout->addLayout(form);
  layout->addWidget(buildColourBox(panel));

  auto* jobRow = new QHBoxLayout();
  m_progress = new QProgressBar(panel);
  m_progress->setRange(0, kProgressSteps);
  m_cancelButton = new QPushButton(tr("Cancel"), panel);
  jobRow->addWidget(m_progress, 1);
  jobRow->addWidget(m_cancelButton);
  layout->addLayout(jobRow);

  m_errorLabel = new QLabel(panel);
  m_errorLabel->setWordWrap(true);
  m_errorLabel->setStyleSheet(QStringLiteral("QLabel { color: #b3261e; }"));
  m_errorLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_errorLabel->hide();
  layout->addWidget(m_errorLabel);

  // Object names let tests and style sheets find the parts.
  m_untrainedLabel->setObjectName(QStringLiteral("untrainedLabel"));
  m_summaryLabel->setObjectName(QStringLiteral("summaryLabel"));
  m_textEdit->setObjectName(QStringLiteral("textEdit"));
  m_tokenLabel->setObjectName(QStringLiteral("tokenLabel"));
  m_tokenView->setObjectName(QStringLiteral("tokenView"));
  m_layerSpin->setObjectName(QStringLiteral("layerSpin"));
  m_headSpin->setObjectName(QStringLiteral("headSpin"));
  m_cancelButton->setObjectName(QStringLiteral("cancelButton"));
  m_errorLabel->setObjectName(QStringLiteral("errorLabel"));
  panel->setMinimumWidth(300);
  return panel;
}

QWidget* MainWindow::buildColourBox(QWidget* parent) {
  auto* box = new QGroupBox(tr("Colour"), parent);
  auto* form = new QFormLayout(box);
  m_colourMapBox = new QComboBox(box);
  for (ColourMap m : {ColourMap::Viridis, ColourMap::Magma, ColourMap::Cividis, ColourMap::Grey}) {
    m_colourMapBox->addItem(colourMapName(m), static_cast<int>(m));
  }
  m_divergingBox = new QCheckBox(tr("diverging map for signed stages"), box);
  m_divergingBox->setChecked(true);
  m_scaleBox = new QComboBox(box);
  m_scaleBox->addItems({tr("linear"), tr("log")});
  m_rangeBox = new QComboBox(box);
  m_rangeBox->addItems({tr("per map"), tr("shared by the panels"), tr("fixed")});
  auto* rangeRow = new QHBoxLayout();
  m_loSpin = new QDoubleSpinBox(box);
  m_hiSpin = new QDoubleSpinBox(box);
  for (auto* spin : {m_loSpin, m_hiSpin}) {
    spin->setDecimals(4);
    spin->setRange(-1e6, 1e6);
    spin->setEnabled(false);
  }
  m_hiSpin->setValue(1.0);
  rangeRow->addWidget(m_loSpin);
  rangeRow->addWidget(new QLabel(QStringLiteral("…"), box));
  rangeRow->addWidget(m_hiSpin);
  m_sinkBox = new QCheckBox(tr("leave the first token (sink) out of the range"), box);
  form->addRow(tr("Map"), m_colourMapBox);
  form->addRow(m_divergingBox);
  form->addRow(tr("Scale"), m_scaleBox);
  form->addRow(tr("Range"), m_rangeBox);
  form->addRow(QString(), rangeRow);
  form->addRow(m_sinkBox);
  m_colourMapBox->setObjectName(QStringLiteral("colourMap"));
  m_scaleBox->setObjectName(QStringLiteral("colourScale"));
  m_rangeBox->setObjectName(QStringLiteral("colourRange"));
  m_sinkBox->setObjectName(QStringLiteral("skipSink"));
  auto changed = [this] { readColourControls(); };
  connect(m_colourMapBox, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(m_scaleBox, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(m_rangeBox, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(m_loSpin, qOverload<double>(&QDoubleSpinBox::valueChanged), this, changed);
  connect(m_hiSpin, qOverload<double>(&QDoubleSpinBox::valueChanged), this, changed);
  connect(m_divergingBox, &QCheckBox::toggled, this, changed);
  connect(m_sinkBox, &QCheckBox::toggled, this, changed);
  return box;
}

void MainWindow::readColourControls() {
  ColourSettings s;
  s.sequential = static_cast<ColourMap>(m_colourMapBox->currentData().toInt());
  s.divergingForSigned = m_divergingBox->isChecked();
  s.scale = m_scaleBox->currentIndex() == 1 ? ColourScale::Log : ColourScale::Linear;
  s.sharedRange = m_rangeBox->currentIndex() == 1;
  s.fixedRange = m_rangeBox->currentIndex() == 2;
  s.lo = m_loSpin->value();
  s.hi = m_hiSpin->value();
  s.skipSink = m_sinkBox->isChecked();
  m_loSpin->setEnabled(s.fixedRange);
  m_hiSpin->setEnabled(s.fixedRange);
  m_colours = s;
  showMaps();
  showOverview();
  if (m_compareView) m_compareView->setColourSettings(s);
  if (m_lengthsView) m_lengthsView->setColourSettings(s);
}

void MainWindow::setColourSettings(const ColourSettings& s) {
  const QSignalBlocker b1(m_colourMapBox), b2(m_scaleBox), b3(m_rangeBox), b4(m_loSpin),
      b5(m_hiSpin), b6(m_divergingBox), b7(m_sinkBox);
  m_colourMapBox->setCurrentIndex(std::max(0, m_colourMapBox->findData(static_cast<int>(s.sequential))));
  m_divergingBox->setChecked(s.divergingForSigned);
  m_scaleBox->setCurrentIndex(s.scale == ColourScale::Log ? 1 : 0);
  m_rangeBox->setCurrentIndex(s.fixedRange ? 2 : (s.sharedRange ? 1 : 0));
  m_loSpin->setValue(s.lo);
  m_hiSpin->setValue(s.hi);
  m_sinkBox->setChecked(s.skipSink);
  readColourControls();
}

void MainWindow::connectModel() {
  AttentionViewModel* model = m_model;
  connect(m_textEdit, &QPlainTextEdit::textChanged, this,
          [this] { m_model->setText(m_textEdit->toPlainText()); });
  connect(m_layerSpin, qOverload<int>(&QSpinBox::valueChanged), model,
          &AttentionViewModel::setLayer);
  connect(m_headSpin, qOverload<int>(&QSpinBox::valueChanged), model, &AttentionViewModel::setHead);
  connect(m_cancelButton, &QPushButton::clicked, model, &AttentionViewModel::cancel);
  connect(m_cancelButton, &QPushButton::clicked, this,
          [this] { statusBar()->showMessage(tr("Cancelled"), 5000); });
  connect(m_panels, &MapPanels::viewWindowChanged, this,
          [this](qint64 q0, qint64 q1, qint64 k0, qint64 k1) {
            m_model->setViewWindow({q0, q1, k0, k1});
          });
  connect(m_panels, &MapPanels::rowClicked, model, &AttentionViewModel::setQueryRow);
  connect(m_overview, &OverviewWidget::headPicked, this, [this](int layer, int head) {
    m_model->setLayer(layer);
    m_model->setHead(head);
  });

  connect(model, &AttentionViewModel::summaryChanged, this, &MainWindow::showSummary);
  connect(model, &AttentionViewModel::summaryChanged, this, [this] {
    if (!m_pendingStages) return;  // a workspace's stages wait for its checkpoint's variant
    m_pendingStages = false;
    if (!m_pendingPanels.isEmpty()) m_model->setPanelStages(m_pendingPanels);
    if (!m_pendingProfile.isEmpty()) m_model->setProfileStages(m_pendingProfile);
    if (m_pendingQuery >= 0) m_model->setQueryRow(m_pendingQuery);
  });
  connect(model, &AttentionViewModel::traceChanged, this, [this] {
    if (m_pendingView.isEmpty() || m_model->mapSize() == 0 || m_pendingStages) return;
    const MapWindowRequest v = m_pendingView;
    m_pendingView = {};
    m_panels->setViewWindow(v.q0, v.q1, v.k0, v.k1);
  }, Qt::QueuedConnection);
  // The lengths view follows the explored checkpoint; Compare follows text, layer and head.
  connect(model, &AttentionViewModel::summaryChanged, this, [this] {
    if (m_model->hasCheckpoint()) {
      m_lengths->openCheckpoint(fromStd(m_model->summary().dir), m_model->device());
    }
  });
  connect(m_lengths.get(), &LengthsViewModel::opened, this, [this] {
    if (!m_pendingLengthsRun) return;
    m_pendingLengthsRun = false;
    m_lengthsView->follow(m_model->text(), m_model->layer(), m_model->head(),
                          m_model->panelStages());
    m_lengthsView->run();
  }, Qt::QueuedConnection);
  auto follow = [this] {
    m_lengthsView->follow(m_model->text(), m_model->layer(), m_model->head(),
                          m_model->panelStages());
  };
  connect(model, &AttentionViewModel::textChanged, this, follow);
  connect(model, &AttentionViewModel::layerChanged, this, follow);
  connect(model, &AttentionViewModel::headChanged, this, follow);
  connect(model, &AttentionViewModel::panelStagesChanged, this, follow);
  connect(model, &AttentionViewModel::textChanged, m_compare.get(), &CompareViewModel::setText);
  connect(model, &AttentionViewModel::layerChanged, m_compare.get(), &CompareViewModel::setLayer);
  connect(model, &AttentionViewModel::headChanged, m_compare.get(), &CompareViewModel::setHead);
  connect(m_compare.get(), &CompareViewModel::failed, this, &MainWindow::showError);
  m_compare->setText(m_model->text());
  m_compare->setLayer(m_model->layer());
  m_compare->setHead(m_model->head());
  follow();
  connect(model, &AttentionViewModel::textChanged, this, &MainWindow::syncEditor);
  connect(model, &AttentionViewModel::layerChanged, m_layerSpin, &QSpinBox::setValue);
  connect(model, &AttentionViewModel::headChanged, m_headSpin, &QSpinBox::setValue);
  connect(model, &AttentionViewModel::layerChanged, this, &MainWindow::showMaps);
  connect(model, &AttentionViewModel::headChanged, this, [this] {
    showMaps();
    showOverview();
  });
  connect(model, &AttentionViewModel::layerChanged, this, &MainWindow::showOverview);
  connect(model, &AttentionViewModel::traceChanged, this, &MainWindow::showMaps);
  connect(model, &AttentionViewModel::detailChanged, this, &MainWindow::showMaps);
  connect(model, &AttentionViewModel::overviewChanged, this, &MainWindow::showOverview);
  connect(model, &AttentionViewModel::profileChanged, this, &MainWindow::showProfile);
  connect(model, &AttentionViewModel::panelStagesChanged, this, &MainWindow::showStageChoices);
  connect(model, &AttentionViewModel::profileStagesChanged, this, &MainWindow::showStageChoices);
  connect(model, &AttentionViewModel::tokensChanged, this, &MainWindow::showTokens);
  connect(model, &AttentionViewModel::traceChanged, this, &MainWindow::showTokens);
  connect(model, &AttentionViewModel::busyChanged, this, &MainWindow::showBusy);
  connect(model, &AttentionViewModel::progressChanged, this,
          [this](double fraction) { m_progress->setValue(qRound(fraction * kProgressSteps)); });
  connect(model, &AttentionViewModel::failed, this, &MainWindow::showError);
  connect(model, &AttentionViewModel::notice, this,
          [this](const QString& message) { statusBar()->showMessage(message, 15000); });
  connect(model, &AttentionViewModel::textChanged, this, [this] { m_truncationDismissed = false; });
  connect(model, &AttentionViewModel::openFailed, this, &MainWindow::showOpenError);
}

// ---- settings --------------------------------------------------------------------------------

void MainWindow::restoreSettings() {
  QSettings settings;
  restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
  m_recent = settings.value(QStringLiteral("recent")).toStringList();
  rebuildRecentMenu();
  ColourSettings c = m_colours;
  ColourMap map = c.sequential;
  if (parseColourMap(settings.value(QStringLiteral("colour/map")).toString(), &map)) {
    c.sequential = map;
  }
  c.divergingForSigned = settings.value(QStringLiteral("colour/diverging"), true).toBool();
  c.scale = settings.value(QStringLiteral("colour/log"), false).toBool() ? ColourScale::Log
                                                                         : ColourScale::Linear;
  c.sharedRange = settings.value(QStringLiteral("colour/shared"), false).toBool();
  c.fixedRange = settings.value(QStringLiteral("colour/fixed"), false).toBool();
  c.lo = settings.value(QStringLiteral("colour/lo"), 0.0).toDouble();
  c.hi = settings.value(QStringLiteral("colour/hi"), 1.0).toDouble();
  c.skipSink = settings.value(QStringLiteral("colour/skipSink"), false).toBool();
  setColourSettings(c);
  m_overviewModeBox->setCurrentIndex(settings.value(QStringLiteral("overview/mode"), 1).toInt());
}

void MainWindow::saveSettings() const {
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  settings.setValue(QStringLiteral("recent"), m_recent);
  settings.setValue(QStringLiteral("colour/map"), colourMapName(m_colours.sequential));
  settings.setValue(QStringLiteral("colour/diverging"), m_colours.divergingForSigned);
  settings.setValue(QStringLiteral("colour/log"), m_colours.scale == ColourScale::Log);
  settings.setValue(QStringLiteral("colour/shared"), m_colours.sharedRange);
  settings.setValue(QStringLiteral("colour/fixed"), m_colours.fixedRange);
  settings.setValue(QStringLiteral("colour/lo"), m_colours.lo);
  settings.setValue(QStringLiteral("colour/hi"), m_colours.hi);
  settings.setValue(QStringLiteral("colour/skipSink"), m_colours.skipSink);
  settings.setValue(QStringLiteral("overview/mode"), m_overviewModeBox->currentIndex());
  settings.setValue(QStringLiteral("device"), m_model->device());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  saveSettings();
  QMainWindow::closeEvent(event);
}

// ---- checkpoints and text --------------------------------------------------------------------

void MainWindow::chooseCheckpoint() {
  const QString start = m_model->hasCheckpoint() ? fromStd(m_model->summary().dir) : QString();
  const QString dir =
      QFileDialog::getExistingDirectory(this, tr("Open checkpoint directory"), start);
  if (!dir.isEmpty()) openCheckpoint(dir);
}

void MainWindow::openCheckpoint(const QString& dir) {
  statusBar()->showMessage(tr("Opening %1…").arg(QDir::toNativeSeparators(dir)));
  m_model->openCheckpoint(dir);
}

void MainWindow::rememberRecent(const QString& dir) {
  const QString path = QFileInfo(dir).absoluteFilePath();
  m_recent.removeAll(path);
  m_recent.prepend(path);
  while (m_recent.size() > kMaxRecent) m_recent.removeLast();
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  m_recentMenu->clear();
  for (const QString& dir : m_recent) {
    QAction* a = m_recentMenu->addAction(QDir::toNativeSeparators(dir));
    connect(a, &QAction::triggered, this, [this, dir] { openCheckpoint(dir); });
  }
  m_recentMenu->setEnabled(!m_recent.isEmpty());
}

void MainWindow::rebuildBundledMenu() {
  m_bundledMenu->clear();
  for (const QString& dir : bundledCheckpoints(m_resourcesDir)) {
    QAction* a = m_bundledMenu->addAction(QFileInfo(dir).fileName());
    connect(a, &QAction::triggered, this, [this, dir] { openCheckpoint(dir); });
  }
  m_bundledMenu->setEnabled(!m_bundledMenu->actions().isEmpty());
}

void MainWindow::chooseTextFile() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open text"), QString(),
                                                    tr("Text (*.txt *.md *.gz);;All files (*)"));
  if (!path.isEmpty()) loadTextFile(path);
}

bool MainWindow::loadTextFile(const QString& path) {
  try {
    const std::string text = attn::read_text(path.toStdString());
    QStringDecoder utf8(QStringDecoder::Utf8);
    const QString decoded = utf8(QByteArrayView(text.data(), static_cast<qsizetype>(text.size())));
    if (utf8.hasError()) {
      throw attn::Error(path.toStdString() +
                        " is not valid UTF-8 text: convert it to UTF-8 first (for instance "
                        "iconv -f LATIN1 -t UTF-8)");
    }
    m_model->setText(decoded);
    statusBar()->showMessage(tr("Text: %1").arg(QFileInfo(path).fileName()));
    return true;
  } catch (const std::exception& e) {
    showError(fromStd(e.what()));
    return false;
  }
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  for (const QUrl& url : event->mimeData()->urls()) {
    const QString path = url.toLocalFile();
    if (path.isEmpty()) continue;
    if (QFileInfo(path).isDir()) {
      openCheckpoint(path);  // a folder without config.json is reported by the open
    } else if (QFileInfo(path).fileName() == QLatin1String("config.json")) {
      openCheckpoint(QFileInfo(path).absolutePath());
    } else {
      loadTextFile(path);
    }
    event->acceptProposedAction();
    return;
  }
}

// ---- workspaces ------------------------------------------------------------------------------

attn::Workspace MainWindow::workspace() const {
  attn::Workspace w;
  auto entry = [](const QString& dir) {
    attn::WorkspaceCheckpoint c;
    c.path = QFileInfo(dir).absoluteFilePath().toStdString();
    try {
      c.fingerprint = attn::checkpoint_fingerprint(c.path);
    } catch (const std::exception&) {
      c.fingerprint.clear();
    }
    return c;
  };
  if (m_model->hasCheckpoint()) w.checkpoints.push_back(entry(fromStd(m_model->summary().dir)));
  for (const QString& dir : m_compare->checkpoints()) {
    if (w.checkpoints.size() < attn::WorkspaceLimits::kMaxCheckpoints &&
        (w.checkpoints.empty() || QFileInfo(dir).absoluteFilePath().toStdString() != w.checkpoints.front().path)) {
      w.checkpoints.push_back(entry(dir));
    }
  }
  w.text = m_model->text().toStdString();
  w.layer = m_model->layer();
  w.head = m_model->head();
  w.panel_stages = toStdList(m_model->panelStages());
  w.profile_stages = toStdList(m_model->profileStages());
  w.query = m_model->queryRow();
  if (AttentionMapWidget* first = m_panels->panel(0); first && first->mapSize() > 0) {
    qint64 q0, q1, k0, k1;
    first->wantedWindow(&q0, &q1, &k0, &k1);
    const qint64 n = first->mapSize();
    if (!(q0 == 0 && k0 == 0 && q1 == n && k1 == n)) w.view = {q0, q1, k0, k1};
  }
  w.colours = coloursToWorkspace(m_colours);
  const Tab tab = currentTab();
  w.tab = tab == Tab::Compare ? "compare" : (tab == Tab::Lengths ? "lengths" : "explore");
  w.compare_stage = m_compare->stage().toStdString();
  w.lengths = m_lengthsView->lengths();
  w.results = m_curves->results().path;
  w.device = m_model->device().toStdString();
  return w;
}

bool MainWindow::saveWorkspace(const QString& path) {
  try {
    const attn::Workspace w = workspace();
    if (w.checkpoints.empty()) throw attn::Error("open a checkpoint before saving a workspace");
    attn::write_workspace(path.toStdString(), w);
    statusBar()->showMessage(tr("Saved workspace %1").arg(QDir::toNativeSeparators(path)), 8000);
    return true;
  } catch (const std::exception& e) {
    const QString message = tr("Could not save the workspace %1: %2").arg(path, fromStd(e.what()));
    showError(message);
    return false;
  }
}

bool MainWindow::openWorkspace(const QString& path) {
  attn::Workspace w;
  try {
    w = attn::read_workspace(path.toStdString());
  } catch (const std::exception& e) {
    showError(fromStd(e.what()));
    auto* box = new QMessageBox(QMessageBox::Warning, tr("Could not open the workspace"),
                                fromStd(e.what()), QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
    return false;
  }
  m_workspaceProblems = checkpointProblems(w);
  setColourSettings(coloursFromWorkspace(w.colours));
  m_model->setDevice(fromStd(w.device));
  m_model->setText(fromStd(w.text));
  m_model->setLayer(static_cast<int>(w.layer));
  m_model->setHead(static_cast<int>(w.head));
  m_pendingStages = true;
  m_pendingPanels = toQStringList(w.panel_stages);
  m_pendingProfile = toQStringList(w.profile_stages);
  m_pendingQuery = static_cast<int>(w.query);
  m_pendingView = {};
  if (w.view.q1 >= 0 && w.view.k1 >= 0) m_pendingView = {w.view.q0, w.view.q1, w.view.k0, w.view.k1};
  const auto& main = w.checkpoints.front();
  if (attn::check_checkpoint(main) != attn::CheckpointState::Missing) {
    m_model->openCheckpoint(fromStd(main.path));
  } else {
    m_pendingStages = false;
  }
  m_compare->clear();
  m_compare->setStage(fromStd(w.compare_stage));
  if (w.tab == "compare") {
    for (const auto& c : w.checkpoints) {
      if (attn::check_checkpoint(c) != attn::CheckpointState::Missing) {
        m_compare->addCheckpoint(fromStd(c.path));
      }
    }
  }
  if (!w.lengths.empty()) m_lengthsView->setLengths(w.lengths);
  // A workspace saved on the Lengths tab shows its maps: run once the checkpoint is open.
  m_pendingLengthsRun = w.tab == "lengths";
  if (!w.results.empty()) showResults(fromStd(w.results));
  showTab(w.tab == "compare" ? Tab::Compare : (w.tab == "lengths" ? Tab::Lengths : Tab::Explore));
  if (m_workspaceProblems.isEmpty()) {
    statusBar()->showMessage(tr("Opened workspace %1").arg(QFileInfo(path).fileName()), 8000);
  } else {
    const QString message = m_workspaceProblems.join(QStringLiteral("\n"));
    showError(m_workspaceProblems.join(QStringLiteral("; ")));
    auto* box = new QMessageBox(QMessageBox::Warning, tr("The workspace was opened with problems"),
                                message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
  }
  return true;
}

// ---- export ----------------------------------------------------------------------------------

Figure MainWindow::currentFigure(ExportContent content) const {
  if (content == ExportContent::Compare) return m_compareView->figure();
  if (content == ExportContent::Lengths) return m_lengthsView->figure();
  if (content == ExportContent::Curves) return {};  // drawn by the curves' own plot
  const attn::LayerTrace* trace = m_model->currentTrace();
  if (!trace) return {};
  // What is on display: the zoomed region's maps where there are some, and the profile rows.
  attn::LayerTrace shown;
  shown.layer = m_model->layer();
  shown.tokens = trace->tokens;
  for (int i = 0; i < static_cast<int>(m_model->panelStages().size()); ++i) {
    const attn::StageMap* m = m_model->detailMap(i);
    if (!m) m = m_model->panelMap(i);
    if (m) shown.maps.push_back(*m);
  }
  for (const QString& stage : m_model->profileStages()) {
    if (const attn::StageMap* m = m_model->profileMap(stage)) shown.maps.push_back(*m);
  }
  switch (content) {
    case ExportContent::Panels: {
      Figure f = panelsFigure(shown, m_model->layer(), m_model->head(), m_model->panelStages(),
                              m_colours);
      // Zoomed in: the figure shows the region in view.
      if (AttentionMapWidget* first = m_panels->panel(0); first && first->mapSize() > 0) {
        qint64 q0, q1, k0, k1;
        first->wantedWindow(&q0, &q1, &k0, &k1);
        const qint64 n = first->mapSize();
        if (!(q0 == 0 && k0 == 0 && q1 == n && k1 == n)) {
          for (auto& m : f.maps) m = cropFigureMap(m, q0, q1, k0, k1);
        }
      }
      return f;
    }
    case ExportContent::HeadGrid:
      return headGridFigure(shown, m_model->layer(), m_model->overviewStage(), m_colours);
    case ExportContent::Profile:
      return profileFigure(shown, m_model->layer(), m_model->profileStages());
    case ExportContent::Compare:
      return m_compareView->figure();
    case ExportContent::Lengths:
      return m_lengthsView->figure();
    case ExportContent::Curves:
      break;
  }
  return {};
}

bool MainWindow::exportFigure(ExportContent content, const QString& path,
                              const FigureStyle& style) {
  if (content == ExportContent::Curves) {
    // The curves are a QCustomPlot of their own: its size in points (pixels for PNG at the DPI).
    const double inchW = style.widthCm / 2.54, inchH = style.heightCm / 2.54;
    const bool png = path.endsWith(QLatin1String(".png"), Qt::CaseInsensitive);
    const int w = qRound(inchW * (png ? style.dpi : 72)), h = qRound(inchH * (png ? style.dpi : 72));
    QString error;
    if (m_curves->curveCount() == 0) {
      error = tr("No curves to export: open a results file or compute them first.");
    } else if (m_curves->exportTo(path, w, h, &error)) {
      statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 8000);
      return true;
    }
    showError(error);
    return false;
  }
  Figure figure = currentFigure(content);
  const QString title = figure.title;
  const FigureStyle colours = figure.style;
  figure.style = style;
  // The colour choices are the window's; size, font and DPI are the dialog's.
  figure.style.colourMap = colours.colourMap;
  figure.style.scale = colours.scale;
  figure.style.sharedRange = colours.sharedRange;
  figure.style.fixedRange = colours.fixedRange;
  figure.style.lo = colours.lo;
  figure.style.hi = colours.hi;
  figure.style.skipSink = colours.skipSink;
  figure.style.tokenLabels = colours.tokenLabels;
  if (figure.title.isEmpty()) figure.title = title;
  QString error;
  if (!writeFigure(figure, path, &error)) {
    showError(error);
    QMessageBox* box = new QMessageBox(QMessageBox::Warning, tr("Could not export the figure"),
                                       error, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setInformativeText(tr("Choose a folder you can write to and a name ending in .pdf, "
                               ".svg, .png, .npy or .csv."));
    box->open();
    return false;
  }
  statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 8000);
  return true;
}

void MainWindow::showExportDialog() {
  if (!m_model->currentTrace()) {
    showError(tr("Nothing to export yet: open a checkpoint and enter a text first."));
    return;
  }
  QSettings settings;
  FigureStyle style;
  style.widthCm = settings.value(QStringLiteral("export/widthCm"), style.widthCm).toDouble();
  style.heightCm = settings.value(QStringLiteral("export/heightCm"), style.heightCm).toDouble();
  style.fontPt = settings.value(QStringLiteral("export/fontPt"), style.fontPt).toDouble();
  style.dpi = settings.value(QStringLiteral("export/dpi"), style.dpi).toInt();
  const QString lastPath =
      settings.value(QStringLiteral("export/path"), QDir::home().filePath(QStringLiteral("attention.pdf")))
          .toString();
  auto* dialog = new ExportDialog({tr("Main view (the panels of this head)"),
                                   tr("All heads of this layer"), tr("Query profile"),
                                   tr("Compared checkpoints and their difference"),
                                   tr("Maps across lengths"), tr("Length-extrapolation curves")},
                                  lastPath, style, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::accepted, this, [this, dialog] {
    const FigureStyle chosen = dialog->style();
    QSettings s;
    s.setValue(QStringLiteral("export/widthCm"), chosen.widthCm);
    s.setValue(QStringLiteral("export/heightCm"), chosen.heightCm);
    s.setValue(QStringLiteral("export/fontPt"), chosen.fontPt);
    s.setValue(QStringLiteral("export/dpi"), chosen.dpi);
    s.setValue(QStringLiteral("export/path"), dialog->path());
    exportFigure(static_cast<ExportContent>(dialog->content()), dialog->path(), chosen);
  });
  dialog->open();
}

// ---- showing ---------------------------------------------------------------------------------

bool MainWindow::showResults(const QString& path) {
  try {
    const EvalResults results = read_eval_results(path.toStdString());
    m_curves->setResults(results);
    if (!m_curvesDock->isVisible()) m_curvesDock->show();
    statusBar()->showMessage(tr("Evaluation results: %1").arg(QFileInfo(path).fileName()));
    return true;
  } catch (const Error& e) {
    m_curves->clear(tr("Cannot read the results."));
    showError(fromStd(e.what()));
    return false;
  }
}

void MainWindow::showSummary() {
  const bool loaded = m_model->hasCheckpoint();
  const attn::ModelSummary& s = m_model->summary();
  m_untrainedLabel->setVisible(loaded && !s.trained);
  m_layerSpin->setRange(0, std::max<int>(0, m_model->layerCount() - 1));
  m_headSpin->setRange(0, std::max<int>(0, m_model->headCount() - 1));
  m_layerSpin->setValue(m_model->layer());
  m_headSpin->setValue(m_model->head());
  m_layerSpin->setEnabled(loaded);
  m_headSpin->setEnabled(loaded);
  showStageChoices();
  if (!loaded) {
    m_summaryLabel->setText(tr("No checkpoint loaded. Use File > Open checkpoint directory."));
    return;
  }
  const QString name = QFileInfo(fromStd(s.dir)).fileName();
  rememberRecent(fromStd(s.dir));
  setWindowTitle(tr("AttnScope: %1").arg(name));
  QString html = QStringLiteral("<table>");
  html += row(tr("checkpoint"), name);
  html += row(tr("variant"), fromStd(s.variant));
  html += row(tr("position encoding"), fromStd(s.position));
  html += row(tr("layers × heads"), tr("%1 × %2").arg(s.n_layer).arg(s.n_head));
  html += row(tr("d_model"), QString::number(s.d_model));
  html += row(tr("training length"), QString::number(s.train_len));
  html += row(tr("parameters"), QLocale().toString(static_cast<qlonglong>(s.n_params)));
  html += row(tr("tokenizer"), tr("%1 (%2)").arg(fromStd(s.tokenizer_kind)).arg(s.vocab_size));
  html += row(tr("device"), fromStd(s.device));
  html += row(tr("trained"), s.trained ? tr("yes") : tr("NO"));
  html += QStringLiteral("</table>");
  m_summaryLabel->setText(html);
  m_summaryLabel->setToolTip(fromStd(s.dir));
  m_errorLabel->hide();
  const QStringList warnings = m_model->warnings();
  statusBar()->showMessage(warnings.isEmpty() ? tr("Loaded %1").arg(name) : warnings.join("; "));
}

void MainWindow::showStageChoices() {
  // One toggle button per stage the variant offers, for the panels and for the profile.
  auto rebuild = [this](QHBoxLayout* rowLayout, const QStringList& chosen, bool panels) {
    while (rowLayout->count() > (panels ? 1 : 2)) {
      QLayoutItem* item = rowLayout->takeAt(panels ? 0 : 1);
      delete item->widget();
      delete item;
    }
    int at = panels ? 0 : 1;
    for (const QString& stage : m_model->stages()) {
      auto* button = new QToolButton(this);
      button->setText(stage);
      button->setCheckable(true);
      button->setChecked(chosen.contains(stage));
      button->setObjectName((panels ? QStringLiteral("panelStage_") : QStringLiteral("profileStage_")) + stage);
      rowLayout->insertWidget(at++, button);
      connect(button, &QToolButton::toggled, this, [this, stage, panels](bool on) {
        QStringList now = panels ? m_model->panelStages() : m_model->profileStages();
        if (on && !now.contains(stage)) {
          // Keep the core's stage order: raw before processed.
          QStringList ordered;
          for (const QString& s : m_model->stages()) {
            if (now.contains(s) || s == stage) ordered << s;
          }
          now = ordered;
        } else if (!on) {
          now.removeAll(stage);
        }
        if (panels) {
          m_model->setPanelStages(now);
        } else {
          m_model->setProfileStages(now);
        }
        QMetaObject::invokeMethod(this, &MainWindow::showStageChoices, Qt::QueuedConnection);
      });
    }
  };
  rebuild(m_stageRow, m_model->panelStages(), true);
  rebuild(m_profileStageRow, m_model->profileStages(), false);
}

void MainWindow::showMaps() {
  const int n = m_model->mapSize();
  if (n == 0) {
    m_panels->clear(m_model->hasCheckpoint() ? tr("No map yet") : tr("No checkpoint loaded"));
    return;
  }
  const QStringList tokens = m_model->mapLabels();
  const QStringList stages = m_model->panelStages();
  std::vector<PanelContent> panels;
  for (int i = 0; i < stages.size(); ++i) {
    const attn::StageMap* whole = m_model->panelMap(i);
    if (!whole) continue;
    PanelContent p;
    QString title = mapTitle(stages[i], m_model->layer(), m_model->head());
    if (!m_model->summary().trained) title += tr("  (untrained model)");
    p.whole = headFigureMap(*whole, m_model->head(), tokens, title);
    if (const attn::StageMap* detail = m_model->detailMap(i)) {
      p.detail = headFigureMap(*detail, m_model->head(), tokens, title);
      p.hasDetail = true;
    }
    p.colourMap = colourMapFor(m_colours, p.whole.values);
    panels.push_back(std::move(p));
  }
  // Ranges: per map, or one for all panels of the same colour map.
  for (auto& p : panels) {
    std::vector<const FigureMap*> maps;
    if (m_colours.sharedRange) {
      for (const auto& o : panels) {
        if (o.colourMap == p.colourMap) maps.push_back(&o.whole);
      }
    } else {
      maps.push_back(p.hasDetail ? &p.detail : &p.whole);
    }
    p.range = colourRangeFor(m_colours, p.colourMap, maps);
  }
  m_panels->setPanels(panels);
  m_errorLabel->hide();
}

void MainWindow::showOverview() {
  const QString stage = m_model->overviewStage();
  std::vector<std::vector<QImage>> images;
  std::vector<const FigureMap*> all;
  std::vector<std::vector<FigureMap>> maps(static_cast<std::size_t>(m_model->layerCount()));
  for (int l = 0; l < m_model->layerCount(); ++l) {
    const attn::StageMap* m = m_model->overviewMap(l);
    if (!m) continue;
    for (int h = 0; h < m->n_head; ++h) {
      maps[static_cast<std::size_t>(l)].push_back(headFigureMap(*m, h, {}, QString()));
    }
  }
  std::vector<float> values;
  for (const auto& layer : maps) {
    for (const auto& m : layer) {
      all.push_back(&m);
      values.insert(values.end(), m.values.begin(), m.values.end());
    }
  }
  if (all.empty()) {
    m_overview->clear();
    return;
  }
  const ColourMap map = colourMapFor(m_colours, values);
  for (const auto& layer : maps) {
    images.emplace_back();
    for (const auto& m : layer) {
      // Each thumbnail on its own range: the point is the pattern of every head.
      images.back().push_back(mapImage(m, map, colourRangeFor(m_colours, map, {&m})));
    }
  }
  m_overview->setThumbnails(std::move(images), stage);
  m_overview->setCurrent(m_model->layer(), m_model->head());
}

void MainWindow::showProfile() {
  const attn::LayerTrace* trace = m_model->currentTrace();
  if (!trace) {
    m_profile->clear(tr("No profile yet"));
    return;
  }
  attn::LayerTrace shown;
  shown.tokens = trace->tokens;
  for (const QString& stage : m_model->profileStages()) {
    if (const attn::StageMap* m = m_model->profileMap(stage)) shown.maps.push_back(*m);
  }
  const Figure f = profileFigure(shown, m_model->layer(), m_model->profileStages());
  m_profile->setProfiles(f.profiles, f.title + tr("   (click a row of the map to choose)"));
}

void MainWindow::showTokens() {
  const int count = m_model->tokenCount();
  if (count < 0) {
    m_tokenLabel->setText(tr("tokens: –"));
    m_tokenView->clear();
    return;
  }
  QString text = count == 1 ? tr("1 token") : tr("%1 tokens").arg(count);
  if (m_model->isTruncated()) {
    text += tr("; the maps show the first %1").arg(m_model->mapSize());
    m_truncatedLabel->setText(
        tr("The text has %1 tokens; the maps show the first %2. Show all of them (computed in "
           "chunks, pooled for display, exact on zoom; slower), or keep the first %2?")
            .arg(count)
            .arg(m_model->mapSize()));
  }
  m_truncatedBar->setVisible(m_model->isTruncated() && !m_truncationDismissed);
  m_tokenLabel->setText(text);
  // Tokens on alternating backgrounds, as the model sees them.
  const QStringList labels = m_model->mapLabels();
  QString html;
  for (int i = 0; i < std::min<int>(labels.size(), kMaxTokensShown); ++i) {
    html += QStringLiteral("<span style=\"background:%1\" title=\"%2\">%3</span>")
                .arg(i % 2 ? QStringLiteral("#dbe9f7") : QStringLiteral("#f7e3c8"))
                .arg(i)
                .arg(labels[i].toHtmlEscaped());
  }
  if (labels.size() > kMaxTokensShown) html += tr(" … (%1 more)").arg(labels.size() - kMaxTokensShown);
  m_tokenView->setHtml(html);
}

void MainWindow::showBusy(bool busy) {
  m_cancelButton->setEnabled(busy);
  m_progress->setEnabled(busy);
  if (busy) {
    m_progress->setValue(0);
    statusBar()->showMessage(tr("Computing…"));
  } else if (statusBar()->currentMessage() == tr("Computing…")) {
    statusBar()->clearMessage();
  }
}

void MainWindow::showError(const QString& message) {
  statusBar()->showMessage(message);
  m_errorLabel->setText(message);
  m_errorLabel->show();
}

void MainWindow::showOpenError(const QString& message) {
  if (!m_errorBox) {
    m_errorBox = new QMessageBox(QMessageBox::Warning, tr("Could not open checkpoint"), QString(),
                                 QMessageBox::Ok, this);
    m_errorBox->setAttribute(Qt::WA_DeleteOnClose);
    m_errorBox->setInformativeText(
        tr("Choose a directory that holds config.json and model.safetensors "
           "(and tokenizer.json for a BPE tokenizer). The previous checkpoint stays loaded."));
  }
  m_errorBox->setText(message);
  m_errorBox->open();  // window-modal and non-blocking: no nested event loop
}

void MainWindow::syncEditor(const QString& text) {
  if (m_textEdit->toPlainText() == text) return;
  const QSignalBlocker blocker(m_textEdit);
  m_textEdit->setPlainText(text);
}

void MainWindow::stepHead(int delta) {
  const int n = std::max(1, m_model->headCount());
  m_model->setHead(((m_model->head() + delta) % n + n) % n);
}

void MainWindow::stepLayer(int delta) {
  const int n = std::max(1, m_model->layerCount());
  m_model->setLayer(((m_model->layer() + delta) % n + n) % n);
}

}  // namespace attn::ui
