// SPDX-License-Identifier: MIT
// MapPanels: the main view, one AttentionMapWidget per stage side by side (raw next to
// processed), with zoom, pan and crosshair kept in step across the panels. Thin: it is handed
// ready figure maps and colours and reports the user's moves.
#pragma once

#include <QtWidgets/QWidget>
#include <vector>

#include "ui/figure/figure.h"

class QGridLayout;

namespace attn::ui {

class AttentionMapWidget;

/// What one panel shows.
struct PanelContent {
  FigureMap whole;
  FigureMap detail;
  bool hasDetail = false;
  ColourMap colourMap = ColourMap::Viridis;
  ColourRange range;
};

class MapPanels final : public QWidget {
  Q_OBJECT

 public:
  explicit MapPanels(QWidget* parent = nullptr);

  /// Shows these panels (creating or removing widgets as needed), keeping the common zoom.
  void setPanels(const std::vector<PanelContent>& panels);
  /// Clears every panel and shows `message`.
  void clear(const QString& message);
  int panelCount() const { return static_cast<int>(m_panels.size()); }
  AttentionMapWidget* panel(int index) const;
  /// Tokens on display (0 when none).
  int mapSize() const;
  void resetView();
  /// Shows queries [q0, q1) x keys [k0, k1) in every panel and reports it (viewWindowChanged).
  void setViewWindow(qint64 q0, qint64 q1, qint64 k0, qint64 k1);

 Q_SIGNALS:
  /// The visible token window changed (zoom or pan in any panel).
  void viewWindowChanged(qint64 q0, qint64 q1, qint64 k0, qint64 k1);
  void rowClicked(int query);

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  /// Places the panels in the grid of columns that leaves each square map the most room.
  void arrange();
  void follow(AttentionMapWidget* source, double k0, double k1, double q0, double q1);

  QGridLayout* m_layout = nullptr;
  int m_columns = 0;
  std::vector<AttentionMapWidget*> m_panels;
};

}  // namespace attn::ui
