// SPDX-License-Identifier: MIT
// Internal pieces shared by the figure painters (maps, head grid, profiles): the drawing context
// in device units, "nice" ticks, text helpers and the colour bar. Not part of the figure API;
// included only by ui/figure/*.cpp.
#pragma once

#include <QtCore/QRectF>
#include <QtCore/QString>
#include <QtGui/QFont>
#include <QtGui/QFontMetricsF>
#include <QtGui/QPen>
#include <vector>

#include "ui/figure/figure.h"

class QPainter;
class QPaintDevice;

namespace attn::ui::fig {

/// What every painter needs: the device (for font metrics), units per point and the style.
struct Context {
  QPaintDevice* device = nullptr;
  QPainter* painter = nullptr;  // null while laying out
  double u = 1.0;               // device units per point
  const FigureStyle* style = nullptr;

  QFont font(double scale = 1.0, bool bold = false) const;
  QFontMetricsF metrics(double scale = 1.0, bool bold = false) const;
  double lineHeight(double scale = 1.0) const { return metrics(scale).height(); }
  double pt(double points) const { return points * u; }
};

/// About `maxCount` round ticks (1, 2 or 5 times a power of ten) in [lo, hi]; whole numbers
/// only when `integer`.
std::vector<double> niceTicks(double lo, double hi, int maxCount, bool integer);
/// Ticks for a colour bar: nice linear ticks, or powers of ten (with 2x and 5x when the range
/// spans less than a decade) for a log scale.
std::vector<double> colourBarTicks(const ColourRange& range, int maxCount);
/// A tick label without float noise ("0.3", "1e-05", "250").
QString tickLabel(double v);

/// Width of a colour bar block (gap, bar, ticks, labels) for `range`, and its bar's width.
double colourBarBlockWidth(const Context& c, const ColourRange& range);
double colourBarWidth(const Context& c);
/// Draws the bar in `bar` (bottom = lo, top = hi) as a vector gradient, with ticks and labels
/// on its right.
void paintColourBar(const Context& c, const QRectF& bar, ColourMap map, const ColourRange& range);

/// Text helpers: `text` centred on (x, y), or rotated 90 degrees counter-clockwise.
void drawCentred(const Context& c, const QFont& font, const QPointF& at, const QString& text);
void drawRotated(const Context& c, const QFont& font, const QPointF& at, const QString& text,
                 Qt::Alignment align);
/// A pen `points` wide in device units.
QPen linePen(const Context& c, double points, const QColor& colour = Qt::black);

/// The largest rect of aspect `w` : `h` inside `area`, centred.
QRectF fitAspect(const QRectF& area, double w, double h);

/// Layout and painting of the two figure families (figure_maps.cpp, figure_profiles.cpp).
struct Layout {
  QRectF title;
  std::vector<QRectF> plots;
  std::vector<QRectF> colourBars;
  std::vector<bool> tokenAxes;  // Maps: token labels instead of numbers, per panel
};
Layout layoutMaps(const Context& c, const Figure& f, const QRectF& area);
void paintMaps(const Context& c, const Figure& f, const Layout& l);
Layout layoutProfiles(const Context& c, const Figure& f, const QRectF& area);
void paintProfiles(const Context& c, const Figure& f, const Layout& l);

/// The colour map of map i: its own (FigureMap::colourMap) or the style's. A head grid uses
/// map 0's for every map, since it has one colour bar.
ColourMap mapColourMap(const Figure& f, size_t i);
/// Whether the maps share one colour bar: always in a head grid; side by side when the range is
/// shared and every map uses the same colour map.
bool sharedBar(const Figure& f);
/// One colour range per map: fixed, shared (pooled over the maps with the same colour map), or
/// per map.
std::vector<ColourRange> mapRanges(const Figure& f);

}  // namespace attn::ui::fig
