// SPDX-License-Identifier: MIT
// Layout and painting of query-row profiles: one panel per stage stacked vertically over a
// shared key axis (the DAPE paper's layout), one curve per head with a legend at the right.
// Curves break at NaN (masked keys) instead of joining across the gap. Colours: a 12-colour
// qualitative palette (Tableau 10, then black and dark violet); curves 13-16 repeat it dashed.
#include <QtGui/QPainter>
#include <QtGui/QPainterPath>
#include <algorithm>
#include <cmath>

#include "ui/figure/figure_parts.h"

namespace attn::ui::fig {
namespace {

constexpr double kNameWidthEm = 10.0;  // longest legend entry, in line heights

QColor curveColour(size_t i) {
  static const QRgb palette[12] = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948,
                                   0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac, 0x000000, 0x5b2a86};
  return QColor(palette[i % 12]);
}

struct Range {
  double lo, hi;
};

Range padded(double lo, double hi, double pad) {
  if (!(hi >= lo)) return {0.0, 1.0};  // no finite values
  if (hi == lo) {
    const double d = std::max(0.5, std::abs(lo) * 0.1);
    return {lo - d, hi + d};
  }
  const double d = (hi - lo) * pad;
  return {lo - d, hi + d};
}

Range xRange(const Figure& f) {
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (const FigureProfile& p : f.profiles)
    for (const FigureCurve& c : p.curves)
      for (double x : c.x)
        if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  return padded(lo, hi, 0.0);
}

Range yRange(const FigureProfile& p) {
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (const FigureCurve& c : p.curves)
    for (double y : c.y)
      if (std::isfinite(y)) lo = std::min(lo, y), hi = std::max(hi, y);
  return padded(lo, hi, 0.05);
}

std::vector<double> yTicks(const Range& r, double height, double lh) {
  return niceTicks(r.lo, r.hi, std::max(2, int(height / (2.2 * lh))), false);
}

double sampleWidth(const Context& c) { return 1.8 * c.lineHeight(); }

QString legendName(const Context& c, const QString& name) {
  return c.metrics(0.9).elidedText(name, Qt::ElideRight, kNameWidthEm * c.lineHeight());
}

double legendWidth(const Context& c, const Figure& f) {
  double w = 0.0;
  for (const FigureProfile& p : f.profiles)
    for (const FigureCurve& curve : p.curves)
      w = std::max(w, c.metrics(0.9).horizontalAdvance(legendName(c, curve.name)));
  return w > 0.0 ? c.pt(6.0) + sampleWidth(c) + c.pt(3.0) + w + c.pt(1.0) : c.pt(3.0);
}

double yTickLabelWidth(const Context& c, const Figure& f) {
  double w = 0.0;
  for (const FigureProfile& p : f.profiles)
    for (double t : yTicks(yRange(p), 4 * c.lineHeight(), c.lineHeight()))
      w = std::max(w, c.metrics().horizontalAdvance(tickLabel(t)));
  return w + c.pt(1.0);
}

QPen curvePen(const Context& c, size_t i) {
  QPen pen = linePen(c, 1.0, curveColour(i));
  pen.setCapStyle(Qt::RoundCap);
  pen.setJoinStyle(Qt::RoundJoin);
  if (i >= 12) pen.setStyle(Qt::DashLine);
  return pen;
}

void paintCurves(const Context& c, const FigureProfile& prof, const QRectF& r, const Range& xr,
                 const Range& yr) {
  auto map = [&](double x, double y) {
    return QPointF(r.left() + (x - xr.lo) / (xr.hi - xr.lo) * r.width(),
                   r.bottom() - (y - yr.lo) / (yr.hi - yr.lo) * r.height());
  };
  for (size_t i = 0; i < prof.curves.size(); ++i) {
    const FigureCurve& curve = prof.curves[i];
    QPainterPath path;
    bool open = false;
    for (size_t k = 0; k < std::min(curve.x.size(), curve.y.size()); ++k) {
      if (!std::isfinite(curve.x[k]) || !std::isfinite(curve.y[k])) {
        open = false;
        continue;
      }
      const QPointF pt = map(curve.x[k], curve.y[k]);
      open ? path.lineTo(pt) : path.moveTo(pt);
      open = true;
    }
    c.painter->setPen(curvePen(c, i));
    c.painter->setBrush(Qt::NoBrush);
    c.painter->drawPath(path);
  }
}

void paintLegend(const Context& c, const FigureProfile& prof, const QRectF& r) {
  QPainter* p = c.painter;
  const QFontMetricsF fm = c.metrics(0.9);
  p->setFont(c.font(0.9));
  const double x = r.right() + c.pt(6.0);
  const size_t room = static_cast<size_t>(std::max(1.0, std::floor(r.height() / fm.height())));
  const size_t n = prof.curves.size();
  const size_t shown = n <= room ? n : room - 1;  // the last line then says how many are left out
  for (size_t i = 0; i < shown; ++i) {
    const double y = r.top() + (i + 0.5) * fm.height();
    p->setPen(curvePen(c, i));
    p->drawLine(QPointF(x, y), QPointF(x + sampleWidth(c), y));
    p->setPen(Qt::black);
    p->drawText(QRectF(x + sampleWidth(c) + c.pt(3.0), y - fm.height() / 2, 1e4, fm.height()),
                Qt::AlignLeft | Qt::AlignVCenter, legendName(c, prof.curves[i].name));
  }
  if (shown < n) {
    p->setPen(Qt::black);
    p->drawText(QRectF(x, r.top() + shown * fm.height(), 1e4, fm.height()),
                Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("+%1 more").arg(n - shown));
  }
}

}  // namespace

Layout layoutProfiles(const Context& c, const Figure& f, const QRectF& area) {
  Layout l;
  const double lh = c.lineHeight(), tick = c.pt(2.5), gap = c.pt(1.5);
  const bool yLabels = std::any_of(f.profiles.begin(), f.profiles.end(),
                                   [](const FigureProfile& p) { return !p.yLabel.isEmpty(); });
  const bool titles = std::any_of(f.profiles.begin(), f.profiles.end(),
                                  [](const FigureProfile& p) { return !p.title.isEmpty(); });
  const double left = (yLabels ? lh + gap : 0.0) + yTickLabelWidth(c, f) + gap + tick;
  const double bottom = tick + gap + lh + (f.xLabel.isEmpty() ? 0.0 : gap + lh);
  const double titleH = titles ? 1.4 * lh : c.pt(2.0);
  const int n = static_cast<int>(f.profiles.size());
  const double between = c.pt(4.0);
  const QRectF plots = area.adjusted(left, 0, -legendWidth(c, f), -bottom);
  const double h = std::max(lh, (plots.height() - n * titleH - (n - 1) * between) / n);
  for (int i = 0; i < n; ++i)
    l.plots.emplace_back(plots.left(), plots.top() + i * (h + titleH + between) + titleH,
                         plots.width(), h);
  return l;
}

void paintProfiles(const Context& c, const Figure& f, const Layout& l) {
  QPainter* p = c.painter;
  const double lh = c.lineHeight(), tick = c.pt(2.5), gap = c.pt(1.5);
  const Range xr = xRange(f);
  const QFont font = c.font();
  const double yLabelX = l.plots.front().left() - tick - gap - yTickLabelWidth(c, f) - gap - lh / 2;
  for (size_t i = 0; i < f.profiles.size(); ++i) {
    const FigureProfile& prof = f.profiles[i];
    const QRectF& r = l.plots[i];
    const Range yr = yRange(prof);
    const bool last = i + 1 == f.profiles.size();
    if (yr.lo < 0.0 && yr.hi > 0.0) {  // a zero line for signed stages
      const double y0 = r.bottom() + yr.lo / (yr.hi - yr.lo) * r.height();
      p->setPen(linePen(c, 0.4, QColor(160, 160, 160)));
      p->drawLine(QPointF(r.left(), y0), QPointF(r.right(), y0));
    }
    paintCurves(c, prof, r, xr, yr);
    p->setPen(linePen(c, 0.5));
    p->setBrush(Qt::NoBrush);
    p->drawRect(r);
    p->setFont(font);
    QPainterPath ticks;
    for (double t : yTicks(yr, r.height(), lh)) {
      const double y = r.bottom() - (t - yr.lo) / (yr.hi - yr.lo) * r.height();
      ticks.moveTo(r.left() - tick, y);
      ticks.lineTo(r.left(), y);
      p->drawText(QRectF(r.left() - tick - gap - 1e4, y - lh / 2, 1e4, lh),
                  Qt::AlignRight | Qt::AlignVCenter, tickLabel(t));
    }
    const double labelW = c.metrics().horizontalAdvance(tickLabel(xr.hi)) + lh;
    for (double t : niceTicks(xr.lo, xr.hi, std::max(2, int(r.width() / labelW)), true)) {
      const double x = r.left() + (t - xr.lo) / (xr.hi - xr.lo) * r.width();
      ticks.moveTo(x, r.bottom());
      ticks.lineTo(x, r.bottom() + tick);
      if (last) drawCentred(c, font, {x, r.bottom() + tick + gap + lh / 2}, tickLabel(t));
    }
    p->drawPath(ticks);
    if (!prof.title.isEmpty())
      drawCentred(c, font, {r.center().x(), r.top() - 0.75 * lh}, prof.title);
    if (!prof.yLabel.isEmpty())
      drawRotated(c, font, {yLabelX, r.center().y()},
                  c.metrics().elidedText(prof.yLabel, Qt::ElideRight, r.height()), Qt::AlignCenter);
    paintLegend(c, prof, r);
  }
  const QRectF& r = l.plots.back();
  if (!f.xLabel.isEmpty())
    drawCentred(c, font, {r.center().x(), r.bottom() + tick + gap + lh + gap + lh / 2}, f.xLabel);
}

}  // namespace attn::ui::fig
