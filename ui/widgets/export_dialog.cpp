// SPDX-License-Identifier: MIT
#include "ui/widgets/export_dialog.h"

#include <QtWidgets/QComboBox>
#include <QtWidgets/QDialogButtonBox>
#include <QtWidgets/QDoubleSpinBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QFormLayout>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSpinBox>

namespace attn::ui {
namespace {
constexpr double kCmPerInch = 2.54;
}

ExportDialog::ExportDialog(const QStringList& contents, const QString& path,
                           const FigureStyle& style, QWidget* parent)
    : QDialog(parent), m_style(style) {
  setWindowTitle(tr("Export figure"));
  auto* form = new QFormLayout(this);
  m_content = new QComboBox(this);
  m_content->addItems(contents);
  form->addRow(tr("&What"), m_content);

  auto* pathRow = new QHBoxLayout();
  m_path = new QLineEdit(path, this);
  m_path->setToolTip(tr("The suffix picks the format: .pdf, .svg, .png (figures), .npy, .csv "
                        "(the numbers)"));
  auto* browseButton = new QPushButton(tr("Browse…"), this);
  connect(browseButton, &QPushButton::clicked, this, &ExportDialog::browse);
  pathRow->addWidget(m_path, 1);
  pathRow->addWidget(browseButton);
  form->addRow(tr("&File"), pathRow);

  m_title = new QLineEdit(this);
  m_title->setPlaceholderText(tr("automatic (layer, head, stage)"));
  form->addRow(tr("&Title"), m_title);

  auto* sizeRow = new QHBoxLayout();
  m_width = new QDoubleSpinBox(this);
  m_height = new QDoubleSpinBox(this);
  for (auto* spin : {m_width, m_height}) {
    spin->setDecimals(2);
    spin->setRange(0.5, 100.0);
  }
  m_width->setValue(style.widthCm);
  m_height->setValue(style.heightCm);
  m_unit = new QComboBox(this);
  m_unit->addItems({tr("cm"), tr("in")});
  connect(m_unit, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int unit) {
    const double f = unit == 1 ? 1.0 / kCmPerInch : kCmPerInch;
    m_width->setValue(m_width->value() * f);
    m_height->setValue(m_height->value() * f);
  });
  sizeRow->addWidget(m_width);
  sizeRow->addWidget(new QLabel(QStringLiteral("×"), this));
  sizeRow->addWidget(m_height);
  sizeRow->addWidget(m_unit);
  form->addRow(tr("&Size"), sizeRow);

  m_font = new QDoubleSpinBox(this);
  m_font->setRange(4.0, 30.0);
  m_font->setSuffix(tr(" pt"));
  m_font->setValue(style.fontPt);
  form->addRow(tr("F&ont"), m_font);
  m_dpi = new QSpinBox(this);
  m_dpi->setRange(30, 2400);
  m_dpi->setValue(style.dpi);
  m_dpi->setSuffix(tr(" dpi (PNG)"));
  form->addRow(tr("&Resolution"), m_dpi);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  form->addRow(buttons);
}

void ExportDialog::browse() {
  const QString chosen = QFileDialog::getSaveFileName(
      this, tr("Export figure"), m_path->text(),
      tr("Figures (*.pdf *.svg *.png);;Numbers (*.npy *.csv)"));
  if (!chosen.isEmpty()) m_path->setText(chosen);
}

int ExportDialog::content() const { return m_content->currentIndex(); }
QString ExportDialog::path() const { return m_path->text().trimmed(); }
QString ExportDialog::title() const { return m_title->text(); }

FigureStyle ExportDialog::style() const {
  FigureStyle s = m_style;
  const double f = m_unit->currentIndex() == 1 ? kCmPerInch : 1.0;
  s.widthCm = m_width->value() * f;
  s.heightCm = m_height->value() * f;
  s.fontPt = m_font->value();
  s.dpi = m_dpi->value();
  return s;
}

}  // namespace attn::ui
