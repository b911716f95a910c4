// SPDX-License-Identifier: MIT
// MainWindow's side panel: checkpoint summary, text editor and tokens, layer and head, the
// colour controls, the job row and the error label; building it and showing the model's state.
#include "ui/widgets/main_window.h"

#include <QtCore/QFileInfo>
#include <QtCore/QLocale>
#include <QtCore/QSignalBlocker>
#include <QtWidgets/QCheckBox>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QDoubleSpinBox>
#include <QtWidgets/QFormLayout>
#include <QtWidgets/QGroupBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QStatusBar>
#include <QtWidgets/QTextBrowser>
#include <QtWidgets/QVBoxLayout>
#include <algorithm>
#include <utility>

#include "ui/models/attention_view_model.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/lengths_view.h"
#include "ui/widgets/main_window_internal.h"

namespace attn::ui {
namespace {

using main_window_detail::fromStd;
using main_window_detail::kProgressSteps;

constexpr int kMaxTokensShown = 3000;

QString row(const QString& name, const QString& value) {
  return QStringLiteral("<tr><td>%1</td><td>&nbsp;&nbsp;<b>%2</b></td></tr>")
      .arg(name.toHtmlEscaped(), value.toHtmlEscaped());
}

}  // namespace

// ---- building --------------------------------------------------------------------------------

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

// ---- showing ---------------------------------------------------------------------------------

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
  html += row(tr("precision"), fromStd(s.precision));
  html += row(tr("trained"), s.trained ? tr("yes") : tr("NO"));
  html += QStringLiteral("</table>");
  m_summaryLabel->setText(html);
  m_summaryLabel->setToolTip(fromStd(s.dir));
  m_errorLabel->hide();
  const QStringList warnings = std::exchange(m_startNotes, {}) + m_model->warnings();
  statusBar()->showMessage(warnings.isEmpty() ? tr("Loaded %1").arg(name) : warnings.join("; "));
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

void MainWindow::syncEditor(const QString& text) {
  if (m_textEdit->toPlainText() == text) return;
  const QSignalBlocker blocker(m_textEdit);
  m_textEdit->setPlainText(text);
}

}  // namespace attn::ui
