// SPDX-License-Identifier: MIT
// MainWindow's length-extrapolation curves: the dock's panel, computing the curves of the
// compared (or explored) checkpoints on workers, and loading a results file of attnscope-cli eval.
#include "ui/widgets/main_window.h"

#include <QtCore/QFileInfo>
#include <QtWidgets/QDockWidget>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QStatusBar>
#include <QtWidgets/QVBoxLayout>
#include <algorithm>
#include <memory>
#include <utility>

#include "core/eval/eval_results.h"
#include "core/util/error.h"
#include "ui/models/attention_view_model.h"
#include "ui/models/compare_view_model.h"
#include "ui/models/lengths_view_model.h"
#include "ui/widgets/extrapolation_plot.h"
#include "ui/widgets/lengths_view.h"
#include "ui/widgets/main_window_internal.h"

namespace attn::ui {
namespace {

using main_window_detail::bundledCheckpoints;
using main_window_detail::fromStd;
using main_window_detail::kProgressSteps;

}  // namespace

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
            if (dir != m_lengths->checkpointDir()) {
              m_lengths->openCheckpoint(dir, m_model->device(), m_model->precision());
            }
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
    raw->openCheckpoint(dir, m_model->device(), m_model->precision());
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

}  // namespace attn::ui
