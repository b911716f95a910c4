// SPDX-License-Identifier: MIT
// AttentionMapWidget: one attention map (query rows top to bottom, key columns left to right) as
// a QCustomPlot colour map with a colour scale and token labels. A thin view: it takes plain
// numbers and labels, knows nothing of the core, and draws the causally masked cells (j > i)
// in a neutral grey so they are not mistaken for zero attention.
#pragma once

#include <QtCore/QStringList>
#include <QtWidgets/QWidget>
#include <vector>

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPTextElement;
class QCPAxis;

namespace attn::ui {

class AttentionMapWidget final : public QWidget {
  Q_OBJECT

 public:
  explicit AttentionMapWidget(QWidget* parent = nullptr);
  ~AttentionMapWidget() override;

  /// Shows an n x n map; values are row-major (query i, key j) and cells with j > i are masked.
  void setMap(const std::vector<float>& values, int n, const QStringList& labels,
              const QString& title);
  /// Removes the map and shows `message` in its place.
  void clearMap(const QString& message = QString());

  /// Side of the map on display (0 when none).
  int mapSize() const { return m_n; }
  QCustomPlot* plot() const { return m_plot; }
  QCPColorMap* colorMap() const { return m_map; }
  QCPColorScale* colorScale() const { return m_scale; }

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  /// Sets the colour range from the shown values (reorders them).
  void setColourRange(std::vector<float>& shown);
  void updateTickers();
  void updateTicker(QCPAxis* axis, int pixels);

  QCustomPlot* m_plot = nullptr;
  QCPColorMap* m_map = nullptr;
  QCPColorScale* m_scale = nullptr;
  QCPTextElement* m_title = nullptr;
  QStringList m_labels;
  int m_n = 0;
};

}  // namespace attn::ui
