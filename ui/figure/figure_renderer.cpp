// SPDX-License-Identifier: MIT
// Figure rendering on the three devices. All lengths are points times `u`, the device units per
// point, and fonts are set in points, so one layout serves every device: a QImage with its dots
// per metre set to the DPI (u = dpi / 72), a QPdfWriter at 720 dpi (u = 10) and a QSvgGenerator
// whose view box has 10 units per point. Checks of sizes and DPI live here too, next to the code
// whose limits they guard.
#include "ui/figure/figure_renderer.h"

#include <QtCore/QBuffer>
#include <QtGui/QPageSize>
#include <QtGui/QPainter>
#include <QtGui/QPdfWriter>
#include <QtSvg/QSvgGenerator>
#include <cmath>

#include "ui/figure/figure_parts.h"

namespace attn::ui {
namespace {

constexpr double kVectorDpi = 720.0;    // PDF resolution and SVG units: 10 per point
constexpr int kMaxCells = 16384;        // per side of a map image
constexpr double kMaxPixels = 200.0e6;  // a PNG of at most 200 megapixels (800 MB in memory)

fig::Context context(QPaintDevice* device, QPainter* painter, const Figure& f, double u) {
  fig::Context c;
  c.device = device;
  c.painter = painter;
  c.u = u;
  c.style = &f.style;
  return c;
}

fig::Layout layoutParts(const fig::Context& c, const Figure& f, const QSizeF& size, QRectF* title) {
  QRectF area = QRectF(QPointF(0, 0), size).adjusted(c.pt(4), c.pt(4), -c.pt(4), -c.pt(4));
  *title = QRectF();
  if (!f.title.isEmpty()) {
    *title = QRectF(area.left(), area.top(), area.width(), 1.5 * c.lineHeight(1.15));
    area.setTop(title->bottom());
  }
  return f.kind == FigureKind::Profiles ? fig::layoutProfiles(c, f, area)
                                        : fig::layoutMaps(c, f, area);
}

QSize pixelSize(const FigureStyle& s) {
  return QSize(static_cast<int>(std::lround(s.widthCm / 2.54 * s.dpi)),
               static_cast<int>(std::lround(s.heightCm / 2.54 * s.dpi)));
}

QString checkContent(const Figure& f, bool drawing) {
  if (f.kind == FigureKind::Profiles) {
    if (f.profiles.empty()) return QStringLiteral("nothing to draw: the figure has no profiles");
    bool any = false;
    for (size_t p = 0; p < f.profiles.size(); ++p)
      for (const FigureCurve& c : f.profiles[p].curves) {
        any = true;
        if (c.x.size() != c.y.size())
          return QStringLiteral(
                     "curve '%1' of panel %2 has %3 x values and %4 y values; give "
                     "one x per y")
              .arg(c.name)
              .arg(p)
              .arg(c.x.size())
              .arg(c.y.size());
      }
    return any ? QString() : QStringLiteral("nothing to draw: the profiles have no curves");
  }
  if (f.maps.empty()) return QStringLiteral("nothing to draw: the figure has no maps");
  for (size_t i = 0; i < f.maps.size(); ++i) {
    const FigureMap& m = f.maps[i];
    if (m.rows < 1 || m.cols < 1 || m.step < 1)
      return QStringLiteral(
                 "map %1 ('%2') is %3 x %4 cells with step %5; it needs at least one "
                 "cell and a step of 1 or more")
          .arg(i)
          .arg(m.title)
          .arg(m.rows)
          .arg(m.cols)
          .arg(m.step);
    if (m.colourMap < -1 || m.colourMap > static_cast<int>(ColourMap::Diverging))
      return QStringLiteral(
                 "map %1 ('%2') names colour map %3; use -1 (the style's) or a "
                 "ColourMap value 0..%4")
          .arg(i)
          .arg(m.title)
          .arg(m.colourMap)
          .arg(static_cast<int>(ColourMap::Diverging));
    if (m.values.size() != static_cast<size_t>(m.rows) * m.cols)
      return QStringLiteral("map %1 ('%2') has %3 values but rows x cols = %4 x %5 = %6")
          .arg(i)
          .arg(m.title)
          .arg(m.values.size())
          .arg(m.rows)
          .arg(m.cols)
          .arg(static_cast<qlonglong>(m.rows) * m.cols);
    if (drawing && (m.rows > kMaxCells || m.cols > kMaxCells))
      return QStringLiteral(
                 "map %1 is %2 x %3 cells; a figure draws at most %4 per side (export "
                 "a downsampled view with step > 1)")
          .arg(i)
          .arg(m.rows)
          .arg(m.cols)
          .arg(kMaxCells);
  }
  return {};
}

QString checkStyle(const FigureStyle& s, bool png) {
  auto within = [](double v, double lo, double hi) { return v >= lo && v <= hi; };  // NaN fails
  if (!within(s.widthCm, 1, 100))
    return QStringLiteral("the width %1 cm is out of range; use 1 to 100 cm").arg(s.widthCm);
  if (!within(s.heightCm, 1, 100))
    return QStringLiteral("the height %1 cm is out of range; use 1 to 100 cm").arg(s.heightCm);
  if (!within(s.fontPt, 4, 30))
    return QStringLiteral("the font size %1 pt is out of range; use 4 to 30 pt").arg(s.fontPt);
  if (s.fixedRange && !(s.hi > s.lo && std::isfinite(s.lo) && std::isfinite(s.hi)))
    return QStringLiteral("the fixed colour range %1 .. %2 is empty; set hi above lo")
        .arg(s.lo)
        .arg(s.hi);
  if (s.fixedRange && s.scale == ColourScale::Log && !(s.lo > 0))
    return QStringLiteral("the fixed colour range starts at %1; a log scale needs lo > 0")
        .arg(s.lo);
  if (!png) return {};
  if (!within(s.dpi, 30, 2400))
    return QStringLiteral("the DPI %1 is out of range; use 30 to 2400").arg(s.dpi);
  const QSize px = pixelSize(s);
  if (double(px.width()) * px.height() > kMaxPixels || px.width() > 32767 || px.height() > 32767)
    return QStringLiteral(
               "%1 x %2 cm at %3 dpi is %4 x %5 pixels, over the limit of %6 "
               "megapixels and 32767 per side; lower the DPI or the size")
        .arg(s.widthCm)
        .arg(s.heightCm)
        .arg(s.dpi)
        .arg(px.width())
        .arg(px.height())
        .arg(kMaxPixels / 1e6);
  return {};
}

}  // namespace

FigureLayout layoutFigure(const Figure& figure, const QSizeF& size, double unitsPerPt,
                          QPaintDevice* device) {
  FigureLayout out;
  const fig::Layout l =
      layoutParts(context(device, nullptr, figure, unitsPerPt), figure, size, &out.title);
  out.plots = l.plots;
  out.colourBars = l.colourBars;
  return out;
}

void paintFigure(QPainter* painter, const Figure& figure, const QSizeF& size, double unitsPerPt) {
  const fig::Context c = context(painter->device(), painter, figure, unitsPerPt);
  QRectF title;
  const fig::Layout l = layoutParts(c, figure, size, &title);
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing, true);
  painter->setRenderHint(QPainter::TextAntialiasing, true);
  painter->fillRect(QRectF(QPointF(0, 0), size), Qt::white);
  painter->setPen(Qt::black);
  if (!title.isEmpty()) {
    const QFont font = c.font(1.15, true);
    const QString text =
        QFontMetricsF(font, c.device).elidedText(figure.title, Qt::ElideRight, title.width());
    fig::drawCentred(c, font, title.center(), text);
  }
  if (figure.kind == FigureKind::Profiles)
    fig::paintProfiles(c, figure, l);
  else
    fig::paintMaps(c, figure, l);
  painter->restore();
}

QString checkFigure(const Figure& figure, FigureFormat format) {
  const bool drawing = format != FigureFormat::Npy && format != FigureFormat::Csv;
  QString problem = checkContent(figure, drawing);
  if (problem.isEmpty() && drawing) problem = checkStyle(figure.style, format == FigureFormat::Png);
  return problem;
}

QImage renderFigureImage(const Figure& figure) {
  if (!checkFigure(figure, FigureFormat::Png).isEmpty()) return {};
  QImage image(pixelSize(figure.style), QImage::Format_RGB32);
  const int dotsPerMetre = static_cast<int>(std::lround(figure.style.dpi / 0.0254));
  image.setDotsPerMeterX(dotsPerMetre);
  image.setDotsPerMeterY(dotsPerMetre);
  image.fill(Qt::white);
  QPainter painter(&image);
  paintFigure(&painter, figure, QSizeF(image.size()), figure.style.dpi / 72.0);
  return image;
}

QByteArray renderFigurePdf(const Figure& figure) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  {
    QPdfWriter writer(&buffer);
    writer.setResolution(static_cast<int>(kVectorDpi));
    writer.setCreator(QStringLiteral("AttnScope"));
    writer.setTitle(figure.title);
    writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout::Millimeter);
    writer.setPageSize(QPageSize(QSizeF(figure.style.widthCm * 10, figure.style.heightCm * 10),
                                 QPageSize::Millimeter, QString(), QPageSize::ExactMatch));
    writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout::Millimeter);
    QPainter painter(&writer);
    paintFigure(&painter, figure, QSizeF(writer.width(), writer.height()), kVectorDpi / 72.0);
  }
  return bytes;
}

QByteArray renderFigureSvg(const Figure& figure) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  const double u = kVectorDpi / 72.0;
  const QSize size(static_cast<int>(std::lround(figure.style.widthCm / 2.54 * 72 * u)),
                   static_cast<int>(std::lround(figure.style.heightCm / 2.54 * 72 * u)));
  QSvgGenerator generator;
  generator.setOutputDevice(&buffer);
  generator.setSize(size);
  generator.setViewBox(QRect(QPoint(0, 0), size));
  generator.setResolution(static_cast<int>(kVectorDpi));
  generator.setTitle(figure.title);
  generator.setDescription(QStringLiteral("AttnScope figure"));
  {
    QPainter painter(&generator);
    paintFigure(&painter, figure, QSizeF(size), u);
  }
  return bytes;
}

}  // namespace attn::ui
