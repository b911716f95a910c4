// SPDX-License-Identifier: MIT
#include "ui/figure/map_image.h"

#include <cmath>

namespace attn::ui {

QImage mapImage(const FigureMap& map, ColourMap colours, const ColourRange& range) {
  if (map.rows <= 0 || map.cols <= 0 ||
      map.values.size() < static_cast<std::size_t>(map.rows) * static_cast<std::size_t>(map.cols)) {
    return {};
  }
  QImage image(map.cols, map.rows, QImage::Format_RGB32);
  const QRgb masked = maskedColour().rgb();
  for (int r = 0; r < map.rows; ++r) {
    auto* line = reinterpret_cast<QRgb*>(image.scanLine(r));
    for (int c = 0; c < map.cols; ++c) {
      const float v = map.values[static_cast<std::size_t>(r) * map.cols + c];
      line[c] = std::isfinite(v) ? colourAt(colours, range.position(v)).rgb() : masked;
    }
  }
  return image;
}

}  // namespace attn::ui
