// SPDX-License-Identifier: MIT
// CompareView: the Compare tab. Two to four checkpoints' maps of the same layer, head and stage
// side by side on one colour scale, with zoom and crosshair in step, then the difference A - B
// on a diverging map, the per-row divergence of the attention rows as a curve, and summary
// numbers. A thin view over a CompareViewModel; choosing checkpoints is its only logic.
#pragma once

#include <QtWidgets/QWidget>

#include "ui/models/figure_builder.h"

class QComboBox;
class QLabel;
class QCustomPlot;

namespace attn::ui {

class CompareViewModel;
class MapPanels;

class CompareView final : public QWidget {
  Q_OBJECT

 public:
  /// `bundled` lists checkpoint folders offered in the add box.
  CompareView(CompareViewModel* model, const QStringList& bundled, QWidget* parent = nullptr);
  void setColourSettings(const ColourSettings& colours);
  MapPanels* panels() const { return m_panels; }
  QCustomPlot* divergencePlot() const { return m_kl; }
  QString summaryText() const;
  /// Refreshes from the model (called on its signals).
  void refresh();
  /// The figure of what is shown (the compared maps and the difference), for export.
  Figure figure() const;

 private:
  void showChoices();

  CompareViewModel* m_model = nullptr;
  ColourSettings m_colours;
  QComboBox* m_addBox = nullptr;
  QComboBox* m_stageBox = nullptr;
  QComboBox* m_aBox = nullptr;
  QComboBox* m_bBox = nullptr;
  MapPanels* m_panels = nullptr;
  QCustomPlot* m_kl = nullptr;
  QLabel* m_summary = nullptr;
};

}  // namespace attn::ui
