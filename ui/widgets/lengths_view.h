// SPDX-License-Identifier: MIT
// LengthsView: the Lengths tab. The explored checkpoint's layer and head at several input
// lengths of one text (the first N tokens, the training length and multiples of it by default),
// side by side on one colour scale per stage with the training length marked; for DAPE V2 the
// raw and processed maps at each length; and the statistics of every head of the layer across
// lengths (attention entropy, mean distance, sink mass) with perplexity, as curves. Jobs run on
// request, on a worker, with progress and cancel.
#pragma once

#include <QtWidgets/QWidget>
#include <vector>

#include "ui/models/figure_builder.h"

class QComboBox;
class QCustomPlot;
class QGridLayout;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace attn::ui {

class AttentionMapWidget;
class LengthsViewModel;

class LengthsView final : public QWidget {
  Q_OBJECT

 public:
  /// `corpusText` is offered as the long text (may be empty).
  LengthsView(LengthsViewModel* model, const QString& corpusText, QWidget* parent = nullptr);
  void setColourSettings(const ColourSettings& colours);
  /// What to show: the window's text, layer, head and stages (the last two stages shown).
  void follow(const QString& text, int layer, int head, const QStringList& stages);
  /// Sets the lengths box, e.g. from a clicked extrapolation point.
  void setLengths(const std::vector<int64_t>& lengths);
  std::vector<int64_t> lengths() const;
  /// Starts the job with the current settings.
  void run();
  int mapCount() const;
  AttentionMapWidget* map(int row, int column) const;
  QCustomPlot* statsPlot() const { return m_stats; }
  /// The maps shown, for export (one row of the first stage).
  Figure figure() const;

 private:
  void showResult();
  void showBusy(bool busy);
  QString jobText() const;

  LengthsViewModel* m_model = nullptr;
  QString m_corpus;
  QString m_text;
  int m_layer = 0;
  int m_head = 0;
  QStringList m_stages;
  ColourSettings m_colours;
  QLineEdit* m_lengthsEdit = nullptr;
  QComboBox* m_source = nullptr;
  QSpinBox* m_windows = nullptr;
  QPushButton* m_runButton = nullptr;
  QPushButton* m_cancelButton = nullptr;
  QProgressBar* m_progress = nullptr;
  QLabel* m_note = nullptr;
  QGridLayout* m_grid = nullptr;
  std::vector<std::vector<AttentionMapWidget*>> m_maps;  // [stage row][length]
  QCustomPlot* m_stats = nullptr;
};

}  // namespace attn::ui
