// SPDX-License-Identifier: MIT
// Layout and painting of map figures: panels side by side with axes in token positions (token
// labels where one label per cell fits), or a grid of heads with small titles. Each map is ONE
// image of cols x rows pixels drawn into its rect without smoothing, so PDF and SVG embed it at
// cell resolution and every exported cell keeps its exact colour. Cells stay square where the
// map's aspect ratio is within 1:4.
#include <QtGui/QImage>
#include <QtGui/QPainter>
#include <QtGui/QPainterPath>
#include <algorithm>
#include <cmath>

#include "ui/figure/figure_parts.h"
#include "ui/figure/map_image.h"

namespace attn::ui::fig {
namespace {

constexpr double kTokenWidthEm = 8.0;  // longest token label, in line heights

// Width : height of the drawn map, with square cells unless that would make it a sliver.
QSizeF mapAspect(const FigureMap& m) {
  const double ratio = std::clamp(static_cast<double>(m.cols) / std::max(1, m.rows), 0.25, 4.0);
  return {ratio, 1.0};
}

bool tokensAvailable(const Context& c, const FigureMap& m) {
  return c.style->tokenLabels && m.step == 1 && m.q0 >= 0 && m.k0 >= 0 &&
         m.q0 + m.rows <= m.tokens.size() && m.k0 + m.cols <= m.tokens.size();
}

QString tokenText(const Context& c, const FigureMap& m, long pos) {
  QString t = m.tokens.value(static_cast<int>(pos));
  t.replace(QLatin1Char('\n'), QStringLiteral("\\n"))
      .replace(QLatin1Char('\t'), QStringLiteral("\\t"));
  return c.metrics().elidedText(t, Qt::ElideRight, kTokenWidthEm * c.lineHeight());
}

double tokenBlock(const Context& c, const FigureMap& m, long from, int count) {
  double w = 0.0;
  for (long p = from; p < from + count; ++p)
    w = std::max(w, c.metrics().horizontalAdvance(tokenText(c, m, p)));
  return w + c.pt(1.0);
}

// Room for the tick labels beside (y) and below (x) the map.
double yLabelBlock(const Context& c, const FigureMap& m, bool tokens) {
  if (tokens) return tokenBlock(c, m, m.q0, m.rows);
  return c.metrics().horizontalAdvance(QString::number(m.q0 + long(m.rows) * m.step)) + c.pt(1.0);
}
double xLabelBlock(const Context& c, const FigureMap& m, bool tokens) {
  return tokens ? tokenBlock(c, m, m.k0, m.cols) : c.lineHeight();
}

QMarginsF panelMargins(const Context& c, const Figure& f, const FigureMap& m, bool tokens,
                       bool titles) {
  const double lh = c.lineHeight(), tick = c.pt(2.5), gap = c.pt(1.5);
  const double axisLabel = lh + gap;
  return QMarginsF(tick + gap + yLabelBlock(c, m, tokens) + (f.yLabel.isEmpty() ? 0 : axisLabel),
                   titles ? 1.4 * lh : c.pt(2.0), c.pt(3.0),
                   tick + gap + xLabelBlock(c, m, tokens) + (f.xLabel.isEmpty() ? 0 : axisLabel));
}

// The map rect in a slot; `tokens` is set when token labels fit (one line height per cell).
QRectF placeMap(const Context& c, const Figure& f, const FigureMap& m, const QRectF& slot,
                bool titles, bool* tokens) {
  const QSizeF aspect = mapAspect(m);
  QRectF r = fitAspect(slot.marginsRemoved(panelMargins(c, f, m, false, titles)), aspect.width(),
                       aspect.height());
  *tokens = false;
  const double lh = c.lineHeight();
  auto fits = [&](const QRectF& rect) {
    return rect.width() / m.cols >= lh && rect.height() / m.rows >= lh;
  };
  if (tokensAvailable(c, m) && fits(r)) {
    const QRectF t = fitAspect(slot.marginsRemoved(panelMargins(c, f, m, true, titles)),
                               aspect.width(), aspect.height());
    if (fits(t)) {
      *tokens = true;
      return t;
    }
  }
  return r;
}

QRectF sharedBarRect(const Context& c, const std::vector<QRectF>& plots) {
  double right = 0, top = 1e300, bottom = -1e300;
  for (const QRectF& r : plots) {
    right = std::max(right, r.right());
    top = std::min(top, r.top());
    bottom = std::max(bottom, r.bottom());
  }
  return QRectF(right + c.pt(6.0), top, colourBarWidth(c), bottom - top);
}

// Panels side by side at one scale (the smallest), so that maps of one shape are one size even
// when their colour bars or labels differ; each stays centred in its place.
void equalScale(const Context& c, const Figure& f, Layout* l) {
  double scale = 1e300;
  for (size_t i = 0; i < l->plots.size(); ++i)
    scale = std::min(scale, l->plots[i].height() / mapAspect(f.maps[i]).height());
  for (size_t i = 0; i < l->plots.size(); ++i) {
    QRectF r(QPointF(0, 0), mapAspect(f.maps[i]) * scale);
    r.moveCenter(l->plots[i].center());
    l->plots[i] = r;
    const FigureMap& m = f.maps[i];
    if (r.width() / m.cols < c.lineHeight() || r.height() / m.rows < c.lineHeight())
      l->tokenAxes[i] = false;  // the labels no longer fit one per cell
  }
}


void paintAxes(const Context& c, const Figure& f, const FigureMap& m, const QRectF& r,
               bool tokens) {
  QPainter* p = c.painter;
  const QFont font = c.font();
  p->setFont(font);
  const double lh = c.lineHeight(), tick = c.pt(2.5), gap = c.pt(1.5);
  const double span = static_cast<double>(m.cols) * m.step, spanY = double(m.rows) * m.step;
  auto xAt = [&](double pos) { return r.left() + (pos - m.k0 + 0.5) / span * r.width(); };
  auto yAt = [&](double pos) { return r.top() + (pos - m.q0 + 0.5) / spanY * r.height(); };
  p->setPen(linePen(c, 0.5));
  p->setBrush(Qt::NoBrush);
  QPainterPath ticks;  // one vector path for all tick marks
  if (tokens) {
    for (int i = 0; i < m.cols; ++i) {
      const double x = xAt(m.k0 + i);
      ticks.moveTo(x, r.bottom());
      ticks.lineTo(x, r.bottom() + tick);
      drawRotated(c, font, {x, r.bottom() + tick + gap}, tokenText(c, m, m.k0 + i), Qt::AlignRight);
    }
    for (int i = 0; i < m.rows; ++i) {
      const double y = yAt(m.q0 + i);
      ticks.moveTo(r.left() - tick, y);
      ticks.lineTo(r.left(), y);
      p->drawText(QRectF(r.left() - tick - gap - 1e4, y - lh / 2, 1e4, lh),
                  Qt::AlignRight | Qt::AlignVCenter, tokenText(c, m, m.q0 + i));
    }
  } else {
    const double numW = yLabelBlock(c, m, false);
    const auto xs =
        niceTicks(m.k0, m.k0 + span - 1, std::max(2, int(r.width() / (numW + lh))), true);
    for (double pos : xs) {
      const double x = xAt(pos);
      ticks.moveTo(x, r.bottom());
      ticks.lineTo(x, r.bottom() + tick);
      drawCentred(c, font, {x, r.bottom() + tick + gap + lh / 2}, tickLabel(pos));
    }
    const auto ys =
        niceTicks(m.q0, m.q0 + spanY - 1, std::max(2, int(r.height() / (2 * lh))), true);
    for (double pos : ys) {
      const double y = yAt(pos);
      ticks.moveTo(r.left() - tick, y);
      ticks.lineTo(r.left(), y);
      p->drawText(QRectF(r.left() - tick - gap - 1e4, y - lh / 2, 1e4, lh),
                  Qt::AlignRight | Qt::AlignVCenter, tickLabel(pos));
    }
  }
  p->drawPath(ticks);
  const double below = tick + gap + xLabelBlock(c, m, tokens) + gap;
  if (!f.xLabel.isEmpty())
    drawCentred(c, font, {r.center().x(), r.bottom() + below + lh / 2}, f.xLabel);
  const double beside = tick + gap + yLabelBlock(c, m, tokens) + gap;
  if (!f.yLabel.isEmpty())
    drawRotated(c, font, {r.left() - beside - lh / 2, r.center().y()}, f.yLabel, Qt::AlignCenter);
}

}  // namespace

Layout layoutMaps(const Context& c, const Figure& f, const QRectF& area) {
  Layout l;
  const std::vector<ColourRange> ranges = mapRanges(f);
  const bool shared = sharedBar(f);
  QRectF free = area;
  if (shared) free.setRight(free.right() - colourBarBlockWidth(c, ranges.front()));
  const int n = static_cast<int>(f.maps.size());
  const bool titles = std::any_of(f.maps.begin(), f.maps.end(),
                                  [](const FigureMap& m) { return !m.title.isEmpty(); });
  if (f.kind == FigureKind::HeadGrid) {
    const int cols = f.gridColumns > 0 ? std::min(f.gridColumns, n)
                                       : static_cast<int>(std::ceil(std::sqrt(double(n))));
    const int rows = (n + cols - 1) / cols;
    const double titleH = titles ? 1.3 * c.lineHeight(0.85) : 0.0;
    const double pad = c.pt(3.0);
    // Cells as large as the area allows for the first map's shape, the grid packed and centred
    // instead of spread over the whole width.
    const QSizeF aspect = mapAspect(f.maps.front());
    const QRectF first =
        fitAspect(QRectF(0, 0, free.width() / cols - pad, free.height() / rows - pad - titleH),
                  aspect.width(), aspect.height());
    const double w = first.width() + pad, h = first.height() + pad + titleH;
    const QPointF origin(free.left() + (free.width() - cols * w) / 2, free.top());
    for (int i = 0; i < n; ++i) {
      const QRectF slot(origin.x() + (i % cols) * w, origin.y() + (i / cols) * h, w, h);
      const QSizeF a = mapAspect(f.maps[i]);
      l.plots.push_back(
          fitAspect(slot.adjusted(pad / 2, titleH, -pad / 2, -pad), a.width(), a.height()));
      l.tokenAxes.push_back(false);
    }
  } else {
    const double gap = c.lineHeight();
    const double w = (free.width() - gap * (n - 1)) / n;
    for (int i = 0; i < n; ++i) {
      QRectF slot(free.left() + i * (w + gap), free.top(), w, free.height());
      if (!shared) slot.setRight(slot.right() - colourBarBlockWidth(c, ranges[i]));
      bool tokens = false;
      l.plots.push_back(placeMap(c, f, f.maps[i], slot, titles, &tokens));
      l.tokenAxes.push_back(tokens);
    }
    equalScale(c, f, &l);
    for (const QRectF& r : l.plots)
      if (!shared)
        l.colourBars.emplace_back(r.right() + c.pt(6.0), r.top(), colourBarWidth(c), r.height());
  }
  if (shared) l.colourBars.push_back(sharedBarRect(c, l.plots));
  return l;
}

void paintMaps(const Context& c, const Figure& f, const Layout& l) {
  QPainter* p = c.painter;
  const std::vector<ColourRange> ranges = mapRanges(f);
  const bool grid = f.kind == FigureKind::HeadGrid;
  for (size_t i = 0; i < f.maps.size(); ++i) {
    const FigureMap& m = f.maps[i];
    const QRectF& r = l.plots[i];
    p->setRenderHint(QPainter::SmoothPixmapTransform, false);
    p->setRenderHint(QPainter::LosslessImageRendering, true);  // QPdfWriter would pick JPEG
    p->drawImage(r, attn::ui::mapImage(m, mapColourMap(f, i), ranges[i]));
    p->setPen(linePen(c, 0.5));
    p->setBrush(Qt::NoBrush);
    p->drawRect(r);
    const double scale = grid ? 0.85 : 1.0;
    if (!m.title.isEmpty()) {
      const QFontMetricsF fm = c.metrics(scale);
      const QString title = fm.elidedText(m.title, Qt::ElideRight, r.width() + 4 * fm.height());
      drawCentred(c, c.font(scale), {r.center().x(), r.top() - 0.75 * fm.height()}, title);
    }
    if (!grid) paintAxes(c, f, m, r, l.tokenAxes[i]);
  }
  for (size_t i = 0; i < l.colourBars.size(); ++i)
    paintColourBar(c, l.colourBars[i], mapColourMap(f, i), ranges[i]);
}

}  // namespace attn::ui::fig
