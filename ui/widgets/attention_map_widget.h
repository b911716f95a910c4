// SPDX-License-Identifier: MIT
// AttentionMapWidget: one attention map (query rows top to bottom, key columns left to right) as
// a QCustomPlot colour map with a colour scale and token labels. A thin view: it takes plain
// numbers (FigureMap: cells with their token geometry), knows nothing of the core, and draws
// cells without a value (the masked future, NaN) in a neutral grey so they are not mistaken for
// zero attention. Long inputs come as a pooled whole map plus, once zoomed in, an exact detail
// map drawn over it. It shows a crosshair and a tooltip (query token, key token, value) and
// reports zoom, pan, hover and clicks so that panels can be kept in step.
#pragma once

#include <QtCore/QStringList>
#include <QtWidgets/QWidget>
#include <vector>

#include "ui/figure/colour_map.h"
#include "ui/figure/figure.h"

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPTextElement;
class QCPAxis;
class QCPItemStraightLine;

namespace attn::ui {

class AttentionMapWidget final : public QWidget {
  Q_OBJECT

 public:
  explicit AttentionMapWidget(QWidget* parent = nullptr);
  ~AttentionMapWidget() override;

  /// Shows `whole` (covering the n tokens of whole.tokens) and, when not null, `detail` over it,
  /// coloured with `map` over `range`. Keeps the zoom when the token count is unchanged.
  void setMaps(const FigureMap& whole, const FigureMap* detail, ColourMap map,
               const ColourRange& range);
  /// Removes the map and shows `message` in its place.
  void clearMap(const QString& message = QString());

  /// Tokens of the map on display (0 when none).
  int mapSize() const { return m_n; }
  /// The value under query q, key k (from the detail when it covers the cell), NaN if none.
  double valueAt(int q, int k) const;
  /// Visible token window: [k0, k1) x [q0, q1), clipped to the map.
  void visibleWindow(qint64* q0, qint64* q1, qint64* k0, qint64* k1) const;
  /// The token window asked for (by setView or the user's zoom), before the widening that keeps
  /// cells square: what a figure of "the region in view" shows.
  void wantedWindow(qint64* q0, qint64* q1, qint64* k0, qint64* k1) const;
  /// Sets the visible range in token coordinates without emitting viewChanged.
  void setView(double k0, double k1, double q0, double q1);
  void resetView();
  /// The window asked for, in token coordinates (the axes may show more, to keep cells square).
  void currentRange(double* k0, double* k1, double* q0, double* q1) const;
  /// Marks a token position on both axes (e.g. the training length); < 0 removes the mark.
  void setMarker(int position);
  /// Draws the crosshair at query q, key k (q < 0 hides it), without emitting hovered.
  void setCrosshair(int q, int k);
  QCustomPlot* plot() const { return m_plot; }
  QCPColorMap* colorMap() const { return m_map; }
  QCPColorScale* colorScale() const { return m_scale; }

 Q_SIGNALS:
  /// The user zoomed or panned: the visible key and query ranges in token coordinates.
  void viewChanged(double k0, double k1, double q0, double q1);
  /// The mouse is over query q, key k (-1, -1 when it left the map).
  void hovered(int q, int k);
  /// A click (without dragging) on query row q.
  void rowClicked(int q);

 protected:
  void resizeEvent(QResizeEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  static void fill(QCPColorMap* target, const FigureMap& map);
  /// Shows the wanted window with one side widened so that cells are square.
  void keepSquare();
  void applyRanges(double k0, double k1, double q0, double q1);
  void updateTickers();
  void updateTicker(QCPAxis* axis, int pixels);
  bool cellAt(const QPoint& pos, int* q, int* k) const;
  QString describe(int q, int k) const;

  QCustomPlot* m_plot = nullptr;
  QCPColorMap* m_map = nullptr;
  QCPColorMap* m_detailMap = nullptr;
  QCPColorScale* m_scale = nullptr;
  QCPTextElement* m_title = nullptr;
  QCPItemStraightLine* m_hLine = nullptr;
  QCPItemStraightLine* m_vLine = nullptr;
  QCPItemStraightLine* m_markH = nullptr;
  QCPItemStraightLine* m_markV = nullptr;
  FigureMap m_whole;
  FigureMap m_detail;
  bool m_hasDetail = false;
  QStringList m_labels;
  int m_n = 0;
  bool m_settingView = false;
  // The window asked for (by setView, resetView or the user's zoom); the axes show it with one
  // side widened so that cells are square.
  double m_wantK0 = 0, m_wantK1 = 1, m_wantQ0 = 0, m_wantQ1 = 1;
  QPoint m_pressPos;
};

}  // namespace attn::ui
