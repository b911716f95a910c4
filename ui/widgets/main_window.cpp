// SPDX-License-Identifier: MIT
// MainWindow: assembly and wiring only. Every user action goes to a model slot and every model
// signal updates a widget; errors land in the status bar and the side panel (and, for a failed
// open, in a non-blocking message box), never in an exception.
#include "ui/widgets/main_window.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QSignalBlocker>
#include <QtGui/QAction>
#include <QtGui/QKeySequence>
#include <QtWidgets/QApplication>
#include <QtWidgets/QDockWidget>
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
#include <QtWidgets/QVBoxLayout>

#include "ui/models/attention_view_model.h"
#include "core/eval/eval_results.h"
#include "core/util/error.h"
#include "ui/widgets/attention_map_widget.h"
#include "ui/widgets/extrapolation_plot.h"
#include "ui/widgets/qcustomplot_include.h"

namespace attn::ui {
namespace {

constexpr int kProgressSteps = 1000;

QString row(const QString& name, const QString& value) {
  return QStringLiteral("<tr><td>%1</td><td>&nbsp;&nbsp;<b>%2</b></td></tr>")
      .arg(name.toHtmlEscaped(), value.toHtmlEscaped());
}

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

MainWindow::MainWindow(AttentionViewModel* model, QWidget* parent)
    : QMainWindow(parent), m_model(model) {
  setWindowTitle(tr("AttnScope"));
  m_map = new AttentionMapWidget(this);
  setCentralWidget(m_map);

  auto* dock = new QDockWidget(tr("Model and text"), this);
  dock->setObjectName(QStringLiteral("sidePanel"));
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
  dock->setWidget(buildSidePanel());
  addDockWidget(Qt::LeftDockWidgetArea, dock);

  m_curves = new ExtrapolationPlot(this);
  m_curvesDock = new QDockWidget(tr("Length extrapolation"), this);
  m_curvesDock->setObjectName(QStringLiteral("extrapolationPanel"));
  m_curvesDock->setWidget(m_curves);
  addDockWidget(Qt::BottomDockWidgetArea, m_curvesDock);
  m_curvesDock->hide();  // shown once results are loaded

  buildMenus();
  connectModel();
  showSummary();
  syncEditor(m_model->text());
  showTokenCount();
  showBusy(m_model->isBusy());
  showMap();
  resize(1200, 960);
}

MainWindow::~MainWindow() = default;

QPixmap MainWindow::screenshot() {
  m_map->plot()->replot(QCustomPlot::rpImmediateRefresh);
  return grab();
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open = file->addAction(tr("&Open checkpoint directory…"));
  open->setShortcut(QKeySequence::Open);
  connect(open, &QAction::triggered, this, &MainWindow::chooseCheckpoint);
  QAction* results = file->addAction(tr("Open &evaluation results…"));
  connect(results, &QAction::triggered, this, [this] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open evaluation results"), QString(), tr("Evaluation results (*.json)"));
    if (!path.isEmpty()) showResults(path);
  });
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"));
  quit->setShortcut(QKeySequence::Quit);
  connect(quit, &QAction::triggered, this, &QWidget::close);
}

bool MainWindow::showResults(const QString& path) {
  try {
    const EvalResults results = read_eval_results(path.toStdString());
    m_curves->setResults(results);
    if (!m_curvesDock->isVisible()) {
      m_curvesDock->show();
      resizeDocks({m_curvesDock}, {300}, Qt::Vertical);
    }
    statusBar()->showMessage(tr("Evaluation results: %1").arg(QFileInfo(path).fileName()));
    return true;
  } catch (const Error& e) {
    m_curves->clear(tr("Cannot read the results."));
    showError(fromStd(e.what()));
    return false;
  }
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
  m_textEdit->setPlaceholderText(tr("Type or paste a text; the map follows after a short pause."));
  m_tokenLabel = new QLabel(panel);
  textLayout->addWidget(m_textEdit);
  textLayout->addWidget(m_tokenLabel);
  layout->addWidget(textBox, 1);

  auto* form = new QFormLayout();
  m_layerSpin = new QSpinBox(panel);
  m_headSpin = new QSpinBox(panel);
  form->addRow(tr("&Layer"), m_layerSpin);
  form->addRow(tr("&Head"), m_headSpin);
  layout->addLayout(form);

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
  m_layerSpin->setObjectName(QStringLiteral("layerSpin"));
  m_headSpin->setObjectName(QStringLiteral("headSpin"));
  m_cancelButton->setObjectName(QStringLiteral("cancelButton"));
  m_errorLabel->setObjectName(QStringLiteral("errorLabel"));
  panel->setMinimumWidth(300);
  return panel;
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

  connect(model, &AttentionViewModel::summaryChanged, this, &MainWindow::showSummary);
  connect(model, &AttentionViewModel::textChanged, this, &MainWindow::syncEditor);
  connect(model, &AttentionViewModel::layerChanged, m_layerSpin, &QSpinBox::setValue);
  connect(model, &AttentionViewModel::headChanged, m_headSpin, &QSpinBox::setValue);
  connect(model, &AttentionViewModel::layerChanged, this, &MainWindow::showMap);
  connect(model, &AttentionViewModel::headChanged, this, &MainWindow::showMap);
  connect(model, &AttentionViewModel::traceChanged, this, &MainWindow::showMap);
  connect(model, &AttentionViewModel::tokensChanged, this, &MainWindow::showTokenCount);
  connect(model, &AttentionViewModel::traceChanged, this, &MainWindow::showTokenCount);
  connect(model, &AttentionViewModel::busyChanged, this, &MainWindow::showBusy);
  connect(model, &AttentionViewModel::progressChanged, this,
          [this](double fraction) { m_progress->setValue(qRound(fraction * kProgressSteps)); });
  connect(model, &AttentionViewModel::failed, this, &MainWindow::showError);
  connect(model, &AttentionViewModel::openFailed, this, &MainWindow::showOpenError);
}

void MainWindow::chooseCheckpoint() {
  const QString start = m_model->hasCheckpoint() ? fromStd(m_model->summary().dir) : QString();
  const QString dir =
      QFileDialog::getExistingDirectory(this, tr("Open checkpoint directory"), start);
  if (dir.isEmpty()) return;
  statusBar()->showMessage(tr("Opening %1…").arg(QDir::toNativeSeparators(dir)));
  m_model->openCheckpoint(dir);
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
  if (!loaded) {
    m_summaryLabel->setText(tr("No checkpoint loaded. Use File > Open checkpoint directory."));
    return;
  }
  const QString name = QFileInfo(fromStd(s.dir)).fileName();
  setWindowTitle(tr("AttnScope: %1").arg(name));
  QString html = QStringLiteral("<table>");
  html += row(tr("checkpoint"), name);
  html += row(tr("variant"), fromStd(s.variant));
  html += row(tr("position encoding"), fromStd(s.position));
  html += row(tr("layers"), QString::number(s.n_layer));
  html += row(tr("heads"), QString::number(s.n_head));
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

void MainWindow::showMap() {
  const int n = m_model->mapSize();
  if (n == 0) {
    m_map->clearMap(m_model->hasCheckpoint() ? tr("No map yet") : tr("No checkpoint loaded"));
    return;
  }
  const int layer = static_cast<int>(m_model->currentTrace()->layer);
  QString title = tr("%1: layer %2, head %3")
                      .arg(QString::fromLatin1(AttentionViewModel::kStage))
                      .arg(layer)
                      .arg(m_model->head());
  if (!m_model->summary().trained) title += tr("  (untrained model)");
  m_map->setMap(m_model->headMap(), n, m_model->mapLabels(), title);
  m_errorLabel->hide();
}

void MainWindow::showTokenCount() {
  const int count = m_model->tokenCount();
  if (count < 0) {
    m_tokenLabel->setText(tr("tokens: –"));
    return;
  }
  QString text = count == 1 ? tr("1 token") : tr("%1 tokens").arg(count);
  if (m_model->isTruncated()) text += tr("; the map shows the first %1").arg(m_model->mapSize());
  m_tokenLabel->setText(text);
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

}  // namespace attn::ui
