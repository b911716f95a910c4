// SPDX-License-Identifier: MIT
// ProfilePlot: one query's scores over all keys, one curve per head, one panel per stage stacked
// with a shared key axis (the layout of the DAPE paper's figures: raw scores, position bias,
// learned correction). A thin QCustomPlot view over a FigureProfile list.
#pragma once

#include <QtWidgets/QWidget>
#include <vector>

#include "ui/figure/figure.h"

class QCustomPlot;

namespace attn::ui {

class ProfilePlot final : public QWidget {
  Q_OBJECT

 public:
  explicit ProfilePlot(QWidget* parent = nullptr);
  void setProfiles(const std::vector<FigureProfile>& profiles, const QString& title);
  void clear(const QString& message);
  int panelCount() const { return m_panels; }
  int curveCount() const;
  QCustomPlot* plot() const { return m_plot; }

 private:
  QCustomPlot* m_plot = nullptr;
  int m_panels = 0;
};

/// Distinct colours for curves (a qualitative palette), index taken modulo its size.
QColor curveColour(int index);

}  // namespace attn::ui
