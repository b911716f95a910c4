// SPDX-License-Identifier: MIT
// MainWindow's menus, actions and shortcuts, the settings kept between runs (QSettings), the
// recent and bundled checkpoint menus, opening checkpoints and text files, and drag and drop.
#include "ui/widgets/main_window.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QMimeData>
#include <QtCore/QSettings>
#include <QtCore/QStringDecoder>
#include <QtGui/QAction>
#include <QtGui/QActionGroup>
#include <QtGui/QCloseEvent>
#include <QtGui/QDragEnterEvent>
#include <QtGui/QDropEvent>
#include <QtGui/QKeySequence>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QDockWidget>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QMenu>
#include <QtWidgets/QMenuBar>
#include <QtWidgets/QStatusBar>
#include <algorithm>

#include "core/util/error.h"
#include "core/util/text_file.h"
#include "ui/models/attention_view_model.h"
#include "ui/models/compare_view_model.h"
#include "ui/widgets/main_window_internal.h"
#include "ui/widgets/map_panels.h"

namespace attn::ui {
namespace {

using main_window_detail::bundledCheckpoints;
using main_window_detail::fromStd;

constexpr int kMaxRecent = 8;

}  // namespace

// ---- menus and shortcuts ---------------------------------------------------------------------

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

  buildDeviceMenu();
}

/// Device and precision: each choice is stored in the model and reopens the checkpoint. Half
/// precisions are enabled only while CUDA is chosen (the model explains in a notice otherwise).
void MainWindow::buildDeviceMenu() {
  QMenu* menu = menuBar()->addMenu(tr("&Device"));
  menu->setToolTipsVisible(true);
  auto* devices = new QActionGroup(menu);
  auto* precisions = new QActionGroup(menu);
  auto add = [menu](QActionGroup* group, const QString& label, const QString& value,
                    const QString& objectName) {
    QAction* a = menu->addAction(label);
    a->setCheckable(true);
    a->setData(value);
    a->setObjectName(objectName);
    group->addAction(a);
    return a;
  };
  add(devices, tr("&CPU"), QStringLiteral("cpu"), QStringLiteral("deviceCpuAction"));
  add(devices, tr("C&UDA (GPU)"), QStringLiteral("cuda"), QStringLiteral("deviceCudaAction"));
  menu->addSection(tr("Precision"));
  add(precisions, tr("&Float32"), QStringLiteral("float32"), QStringLiteral("precisionFloat32Action"));
  for (auto* a : {add(precisions, tr("&BFloat16"), QStringLiteral("bfloat16"),
                      QStringLiteral("precisionBFloat16Action")),
                  add(precisions, tr("Float&16"), QStringLiteral("float16"),
                      QStringLiteral("precisionFloat16Action"))}) {
    const QString why = tr("Half precision runs on CUDA only: choose CUDA (GPU) first. DAPE V2 "
                           "layers can then run the fused CUDA kernel.");
    a->setToolTip(why);
    a->setStatusTip(why);
  }
  auto sync = [this, devices, precisions] {
    for (QAction* a : devices->actions()) a->setChecked(a->data() == m_model->device());
    for (QAction* a : precisions->actions()) {
      a->setChecked(a->data() == m_model->precision());
      a->setEnabled(m_model->precisionAvailable(a->data().toString()));
    }
  };
  sync();
  connect(m_model, &AttentionViewModel::deviceChanged, this, sync);
  connect(m_model, &AttentionViewModel::precisionChanged, this, sync);
  auto reopen = [this] {
    if (m_model->hasCheckpoint()) m_model->openCheckpoint(fromStd(m_model->summary().dir));
    m_compare->setDevice(m_model->device(), m_model->precision());  // the Compare tab follows
  };
  connect(devices, &QActionGroup::triggered, this, [this, sync, reopen](QAction* a) {
    m_model->setDevice(a->data().toString());
    sync();
    reopen();
  });
  connect(precisions, &QActionGroup::triggered, this, [this, sync, reopen](QAction* a) {
    const QString before = m_model->precision();
    m_model->setPrecision(a->data().toString());
    sync();
    if (m_model->precision() != before) reopen();
  });
}

void MainWindow::stepHead(int delta) {
  const int n = std::max(1, m_model->headCount());
  m_model->setHead(((m_model->head() + delta) % n + n) % n);
}

void MainWindow::stepLayer(int delta) {
  const int n = std::max(1, m_model->layerCount());
  m_model->setLayer(((m_model->layer() + delta) % n + n) % n);
}

// ---- settings --------------------------------------------------------------------------------

void MainWindow::restoreSettings(const QString& device, const QString& precision) {
  restoreDevice(device, precision);
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

QString MainWindow::savedDevice(const QString& fallback) {
  return QSettings().value(QStringLiteral("device"), fallback).toString();
}

/// Goes through the model's setters, as the Device menu does (the menu follows their signals):
/// what they refuse stays at the default and comes back as a notice, which is kept to be said
/// again once the first checkpoint has loaded ("Computing…" would hide it before that).
void MainWindow::restoreDevice(const QString& device, const QString& precision) {
  QStringList refused;
  const auto keep = connect(m_model, &AttentionViewModel::notice, this,
                            [&refused](const QString& message) { refused << message; });
  m_model->setDevice(!device.isEmpty() ? device : savedDevice(m_model->device()));
  m_model->setPrecision(!precision.isEmpty()
                            ? precision
                            : QSettings().value(QStringLiteral("precision"), m_model->precision())
                                  .toString());
  disconnect(keep);
  m_compare->setDevice(m_model->device(), m_model->precision());  // the Compare tab follows
  if (refused.isEmpty()) return;
  m_startNotes << tr("Saved device settings not used (%1): running on %2 in %3")
                      .arg(refused.join(QStringLiteral("; ")), m_model->device(),
                           m_model->precision());
  statusBar()->showMessage(m_startNotes.last());
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
  settings.setValue(QStringLiteral("precision"), m_model->precision());
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

}  // namespace attn::ui
