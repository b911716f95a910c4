// SPDX-License-Identifier: MIT
// Draws a Figure with QPainter on any device, in device units with a factor of units per point
// and fonts in points (so the same code serves PNG at any DPI, PDF and SVG), and renders it to
// PNG image, PDF bytes or SVG bytes. The layout is public so that previews and tests can find
// where each map or plot landed.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QRectF>
#include <QtCore/QSizeF>
#include <QtGui/QImage>
#include <vector>

#include "ui/figure/figure.h"

class QPainter;
class QPaintDevice;

namespace attn::ui {

/// Where the parts of a figure go, in device units.
struct FigureLayout {
  QRectF title;                    // empty when the figure has no title
  std::vector<QRectF> plots;       // one per map (Maps, HeadGrid) or per profile panel
  std::vector<QRectF> colourBars;  // gradient rects: one shared, one per map, or none
};

/// The layout on `device` (used for font metrics) of `size` device units, `unitsPerPt` device
/// units per point. The figure must be valid (checkFigure returns empty).
FigureLayout layoutFigure(const Figure& figure, const QSizeF& size, double unitsPerPt,
                          QPaintDevice* device);
/// Paints the figure on the painter's device over (0, 0, size).
void paintFigure(QPainter* painter, const Figure& figure, const QSizeF& size, double unitsPerPt);

/// What is wrong with the figure for `format` (nothing to draw, values that do not match their
/// shape, a style value out of range), or empty when it can be written.
QString checkFigure(const Figure& figure, FigureFormat format);

/// The PNG image: widthCm / 2.54 * dpi by heightCm / 2.54 * dpi pixels, white background, its
/// dots per metre set to the DPI. Null if checkFigure(Png) fails.
QImage renderFigureImage(const Figure& figure);
/// PDF bytes: one page of the figure's size, no margins.
QByteArray renderFigurePdf(const Figure& figure);
/// SVG bytes: the figure's size in millimetres, 10 user units per point.
QByteArray renderFigureSvg(const Figure& figure);

}  // namespace attn::ui
