// SPDX-License-Identifier: MIT
// ExportDialog: what to export (the main view's panels, a grid of the layer's heads, the query
// profile, or their numbers), where (the suffix picks PDF, SVG, PNG, .npy or .csv), and how big:
// width and height in centimetres or inches, font size in points, DPI for PNG, a title.
#pragma once

#include <QtWidgets/QDialog>

#include "ui/figure/figure.h"

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;

namespace attn::ui {

class ExportDialog final : public QDialog {
  Q_OBJECT

 public:
  /// `contents` are the names of what can be exported, in the order of the caller's enum.
  ExportDialog(const QStringList& contents, const QString& path, const FigureStyle& style,
               QWidget* parent = nullptr);

  int content() const;
  QString path() const;
  QString title() const;
  /// Size, font and DPI as chosen (the colour fields are the ones passed in).
  FigureStyle style() const;

 private:
  void browse();

  FigureStyle m_style;
  QComboBox* m_content = nullptr;
  QLineEdit* m_path = nullptr;
  QLineEdit* m_title = nullptr;
  QDoubleSpinBox* m_width = nullptr;
  QDoubleSpinBox* m_height = nullptr;
  QComboBox* m_unit = nullptr;
  QDoubleSpinBox* m_font = nullptr;
  QSpinBox* m_dpi = nullptr;
};

}  // namespace attn::ui
