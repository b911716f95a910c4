// SPDX-License-Identifier: MIT
// Shared pieces of the figure painters: fonts in points on any device, nice ticks, the colour bar
// and the colour ranges. The colour bar is a QLinearGradient with the map's own stops: the maps
// are piecewise linear in RGB, so the gradient is exact, and it stays a vector in PDF and SVG
// (the only raster images in a figure are the maps themselves).
#include "ui/figure/figure_parts.h"

#include <QtGui/QLinearGradient>
#include <QtGui/QPainter>
#include <QtGui/QPainterPath>
#include <algorithm>
#include <cmath>

namespace attn::ui::fig {

constexpr int kMaxBarTicks = 6;

QFont Context::font(double scale, bool bold) const {
  QFont f;
  f.setStyleHint(QFont::SansSerif);
  f.setFamily(QStringLiteral("Sans Serif"));
  f.setPointSizeF(style->fontPt * scale);
  f.setBold(bold);
  return f;
}

QFontMetricsF Context::metrics(double scale, bool bold) const {
  return QFontMetricsF(font(scale, bold), device);
}

namespace {

std::vector<double> ticksOnce(double lo, double hi, int maxCount, bool integer) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return ticks;
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) return {lo};
  double raw = (hi - lo) / std::max(1, maxCount);
  if (integer) raw = std::max(raw, 1.0);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  double step = mag * (r <= 1.0 ? 1.0 : r <= 2.0 ? 2.0 : r <= 5.0 ? 5.0 : 10.0);
  if (integer) step = std::max(1.0, std::round(step));
  const double first = std::ceil(lo / step - 1e-9);
  for (double k = first;; k += 1.0) {
    double v = k * step;
    if (v > hi + step * 1e-9) break;
    if (std::abs(v) < step * 1e-9) v = 0.0;
    ticks.push_back(v);
    if (ticks.size() > 1000) break;  // guards against a degenerate step
  }
  return ticks;
}

}  // namespace

std::vector<double> niceTicks(double lo, double hi, int maxCount, bool integer) {
  // A short axis can round to a step that leaves one tick or none; ask for more until two fit.
  std::vector<double> ticks = ticksOnce(lo, hi, maxCount, integer);
  for (int more = 1; ticks.size() < 2 && more <= 8; ++more)
    ticks = ticksOnce(lo, hi, maxCount + more, integer);
  return ticks;
}

std::vector<double> colourBarTicks(const ColourRange& range, int maxCount) {
  if (range.scale != ColourScale::Log || !(range.lo > 0.0) || !(range.hi > range.lo))
    return niceTicks(range.lo, range.hi, maxCount, false);
  const int d0 = static_cast<int>(std::ceil(std::log10(range.lo) - 1e-9));
  const int d1 = static_cast<int>(std::floor(std::log10(range.hi) + 1e-9));
  std::vector<double> ticks;
  const int every = std::max(1, (d1 - d0 + 1 + maxCount - 1) / std::max(1, maxCount));
  for (int d = d0; d <= d1; d += every) ticks.push_back(std::pow(10.0, d));
  if (ticks.size() >= 2) return ticks;
  ticks.clear();
  for (int d = d0 - 1; d <= d1; ++d)
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, d);
      if (v >= range.lo * (1 - 1e-9) && v <= range.hi * (1 + 1e-9)) ticks.push_back(v);
    }
  if (ticks.size() >= 2) return ticks;
  return niceTicks(range.lo, range.hi, maxCount, false);
}

QString tickLabel(double v) { return QString::number(v, 'g', 4); }

double colourBarWidth(const Context& c) { return std::max(c.pt(6.0), 0.9 * c.lineHeight()); }

double colourBarBlockWidth(const Context& c, const ColourRange& range) {
  const QFontMetricsF fm = c.metrics(0.9);
  double labels = 0.0;  // the widest label for any tick count the bar may use
  for (int count = 2; count <= kMaxBarTicks; ++count)
    for (double t : colourBarTicks(range, count))
      labels = std::max(labels, fm.horizontalAdvance(tickLabel(t)));
  return c.pt(6.0) + colourBarWidth(c) + c.pt(2.5) + labels + c.pt(1.0);
}

void paintColourBar(const Context& c, const QRectF& bar, ColourMap map, const ColourRange& range) {
  QPainter* p = c.painter;
  QLinearGradient gradient(bar.bottomLeft(), bar.topLeft());
  for (const auto& [t, colour] : colourStops(map)) gradient.setColorAt(t, colour);
  p->fillRect(bar, gradient);
  p->setPen(linePen(c, 0.5));
  p->setBrush(Qt::NoBrush);
  p->drawRect(bar);
  const QFont font = c.font(0.9);
  p->setFont(font);
  const QFontMetricsF fm(font, c.device);
  const int maxCount =
      std::clamp(static_cast<int>(bar.height() / (3.0 * fm.height())), 2, kMaxBarTicks);
  QPainterPath ticks;
  for (double t : colourBarTicks(range, maxCount)) {
    const double y = bar.bottom() - range.position(t) * bar.height();
    ticks.moveTo(bar.right(), y);
    ticks.lineTo(bar.right() + c.pt(2.0), y);
    const QRectF box(bar.right() + c.pt(2.5), y - fm.height() / 2,
                     fm.horizontalAdvance(tickLabel(t)) + c.pt(1.0), fm.height());
    p->drawText(box, Qt::AlignLeft | Qt::AlignVCenter, tickLabel(t));
  }
  p->drawPath(ticks);
}

void drawCentred(const Context& c, const QFont& font, const QPointF& at, const QString& text) {
  c.painter->setFont(font);
  const QFontMetricsF fm(font, c.device);
  const double w = fm.horizontalAdvance(text) + c.pt(2.0);
  c.painter->drawText(QRectF(at.x() - w / 2, at.y() - fm.height() / 2, w, fm.height()),
                      Qt::AlignCenter, text);
}

void drawRotated(const Context& c, const QFont& font, const QPointF& at, const QString& text,
                 Qt::Alignment align) {
  QPainter* p = c.painter;
  p->save();
  p->setFont(font);
  p->translate(at);
  p->rotate(-90.0);  // local +x points up the page
  const QFontMetricsF fm(font, c.device);
  const double w = fm.horizontalAdvance(text) + c.pt(1.0);
  const double x = align & Qt::AlignRight ? -w : align & Qt::AlignLeft ? 0.0 : -w / 2;
  p->drawText(QRectF(x, -fm.height() / 2, w, fm.height()),
              (align & Qt::AlignHorizontal_Mask) | Qt::AlignVCenter, text);
  p->restore();
}

QPen linePen(const Context& c, double points, const QColor& colour) {
  QPen pen(colour, c.pt(points));
  pen.setCapStyle(Qt::FlatCap);
  pen.setJoinStyle(Qt::MiterJoin);
  return pen;
}

QRectF fitAspect(const QRectF& area, double w, double h) {
  if (area.width() <= 0 || area.height() <= 0 || w <= 0 || h <= 0) return area;
  const double scale = std::min(area.width() / w, area.height() / h);
  QRectF r(0, 0, w * scale, h * scale);
  r.moveCenter(area.center());
  return r;
}

ColourMap mapColourMap(const Figure& f, size_t i) {
  const int own = f.kind == FigureKind::HeadGrid ? f.maps.front().colourMap : f.maps[i].colourMap;
  return own >= 0 && own <= static_cast<int>(ColourMap::Diverging) ? static_cast<ColourMap>(own)
                                                                   : f.style.colourMap;
}

bool sharedBar(const Figure& f) {
  if (f.kind == FigureKind::HeadGrid) return true;
  if (!f.style.sharedRange) return false;
  for (size_t i = 1; i < f.maps.size(); ++i)
    if (mapColourMap(f, i) != mapColourMap(f, 0)) return false;
  return true;
}

std::vector<ColourRange> mapRanges(const Figure& f) {
  const FigureStyle& s = f.style;
  std::vector<ColourRange> ranges(f.maps.size());
  if (s.fixedRange) {
    for (ColourRange& r : ranges) r = ColourRange{s.lo, s.hi, s.scale};
    return ranges;
  }
  auto skipFor = [&](const FigureMap& m) {
    std::vector<bool> skip(m.values.size(), false);
    if (s.skipSink && m.k0 == 0)  // column 0 holds key position 0, the attention sink
      for (size_t i = 0; i < skip.size(); i += static_cast<size_t>(std::max(1, m.cols)))
        skip[i] = true;
    return skip;
  };
  // A head grid always pools, so that its small maps compare at a glance under one bar. Signed
  // and non-negative maps never pool: their ranges mean different things.
  const bool pooled = s.sharedRange || f.kind == FigureKind::HeadGrid;
  for (size_t i = 0; i < f.maps.size(); ++i) {
    const ColourMap map = mapColourMap(f, i);
    if (!pooled) {
      ranges[i] = autoRange(f.maps[i].values, map, s.scale, 0.995, skipFor(f.maps[i]));
      continue;
    }
    size_t first = 0;  // the first map with this colour map already holds the pooled range
    while (mapColourMap(f, first) != map) ++first;
    if (first < i) {
      ranges[i] = ranges[first];
      continue;
    }
    std::vector<float> all;
    std::vector<bool> skip;
    for (size_t j = i; j < f.maps.size(); ++j) {
      if (mapColourMap(f, j) != map) continue;
      all.insert(all.end(), f.maps[j].values.begin(), f.maps[j].values.end());
      const std::vector<bool> k = skipFor(f.maps[j]);
      skip.insert(skip.end(), k.begin(), k.end());
    }
    ranges[i] = autoRange(all, map, s.scale, 0.995, skip);
  }
  return ranges;
}

}  // namespace attn::ui::fig
