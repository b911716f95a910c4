// SPDX-License-Identifier: MIT
// MainWindow's workspaces: the window's state as an attn::Workspace, saving it, and opening one
// (parts that need the checkpoint's variant or maps wait in m_pending* until they arrive).
#include "ui/widgets/main_window.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QStatusBar>

#include "core/util/error.h"
#include "ui/models/attention_view_model.h"
#include "ui/models/compare_view_model.h"
#include "ui/models/string_convert.h"
#include "ui/models/workspace_state.h"
#include "ui/widgets/attention_map_widget.h"
#include "ui/widgets/extrapolation_plot.h"
#include "ui/widgets/lengths_view.h"
#include "ui/widgets/main_window_internal.h"
#include "ui/widgets/map_panels.h"

namespace attn::ui {
namespace {

using main_window_detail::fromStd;

}  // namespace

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
  w.precision = m_model->precision().toStdString();
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
  m_model->setPrecision(fromStd(w.precision));
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
  m_compare->setDevice(m_model->device(), m_model->precision());
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

}  // namespace attn::ui
