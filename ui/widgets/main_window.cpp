// SPDX-License-Identifier: MIT
// MainWindow: assembly and wiring only. Every user action goes to a model slot and every model
// signal updates a widget; errors land in the status bar and the side panel (and, for a failed
// open or export, in a non-blocking message box), never in an exception. This file builds the
// tabs and docks and connects the model; the other concerns live in main_window_*.cpp.
#include "ui/widgets/main_window.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QDockWidget>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QStatusBar>
#include <QtWidgets/QTabWidget>
#include <QtWidgets/QVBoxLayout>
#include <memory>
#include <utility>

#include "core/util/text_file.h"
#include "ui/models/attention_view_model.h"
#include "ui/models/compare_view_model.h"
#include "ui/models/lengths_view_model.h"
#include "ui/models/session_backend.h"
#include "ui/widgets/attention_map_widget.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/lengths_view.h"
#include "ui/widgets/main_window_internal.h"
#include "ui/widgets/map_panels.h"
#include "ui/widgets/overview_widget.h"
#include "ui/widgets/profile_plot.h"
#include "ui/widgets/qcustomplot_include.h"

namespace attn::ui {

namespace main_window_detail {
namespace {

bool isCheckpointDir(const QString& dir) {
  return QFileInfo(dir).isDir() && QFileInfo::exists(dir + QStringLiteral("/config.json"));
}

}  // namespace

QStringList bundledCheckpoints(const QString& resourcesDir) {
  QStringList out;
  if (resourcesDir.isEmpty()) return out;
  const QDir root(resourcesDir + QStringLiteral("/checkpoints"));
  for (const QString& name : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
    if (isCheckpointDir(root.filePath(name))) out << root.filePath(name);
  }
  return out;
}

}  // namespace main_window_detail

namespace {

using main_window_detail::bundledCheckpoints;
using main_window_detail::fromStd;
using main_window_detail::kProgressSteps;

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

// ---- wiring ----------------------------------------------------------------------------------

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
      m_lengths->openCheckpoint(fromStd(m_model->summary().dir), m_model->device(),
                                m_model->precision());
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
  m_compare->setDevice(m_model->device(), m_model->precision());
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

// ---- reporting -------------------------------------------------------------------------------

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

}  // namespace attn::ui
