// SPDX-License-Identifier: MIT
// Colour maps as short tables of stops interpolated in RGB. viridis/magma/cividis colour maps
// (van der Walt & Smith; Nuñez et al. 2018), sampled at 17 stops from their published CC0
// tables (entries 0, 16, ..., 240, 255 of 256). The diverging map is ColorBrewer's RdBu
// (Brewer, colorbrewer2.org) reversed so that negative values are blue, its near-white class at
// 0.5; 17 stops keep RGB interpolation within a few levels of the 256-entry originals.
#include "ui/figure/colour_map.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attn::ui {
namespace {

using Stops = std::vector<std::pair<double, QColor>>;

struct Rgb {
  int r, g, b;
};

Stops evenStops(std::initializer_list<Rgb> colours) {
  Stops stops;
  const double last = static_cast<double>(colours.size() - 1);
  int i = 0;
  for (const Rgb& c : colours) stops.emplace_back(i++ / last, QColor(c.r, c.g, c.b));
  return stops;
}

const Stops& viridis() {
  static const Stops s = evenStops({{68, 1, 84},
                                    {72, 24, 106},
                                    {71, 45, 123},
                                    {66, 64, 134},
                                    {59, 82, 139},
                                    {51, 99, 141},
                                    {44, 114, 142},
                                    {38, 130, 142},
                                    {33, 145, 140},
                                    {31, 160, 136},
                                    {40, 174, 128},
                                    {63, 188, 115},
                                    {94, 201, 98},
                                    {132, 212, 75},
                                    {173, 220, 48},
                                    {216, 226, 25},
                                    {253, 231, 37}});
  return s;
}

const Stops& magma() {
  static const Stops s = evenStops({{0, 0, 4},
                                    {10, 8, 34},
                                    {29, 17, 71},
                                    {54, 16, 107},
                                    {81, 18, 124},
                                    {106, 28, 129},
                                    {131, 38, 129},
                                    {156, 46, 127},
                                    {183, 55, 121},
                                    {208, 65, 111},
                                    {231, 82, 99},
                                    {245, 107, 92},
                                    {252, 137, 97},
                                    {254, 167, 114},
                                    {254, 196, 136},
                                    {253, 226, 163},
                                    {252, 253, 191}});
  return s;
}

const Stops& cividis() {
  static const Stops s = evenStops({{0, 34, 78},
                                    {0, 46, 106},
                                    {26, 56, 111},
                                    {50, 67, 109},
                                    {67, 78, 108},
                                    {83, 90, 109},
                                    {97, 101, 111},
                                    {111, 112, 115},
                                    {125, 124, 120},
                                    {140, 136, 120},
                                    {155, 148, 118},
                                    {171, 160, 114},
                                    {188, 174, 108},
                                    {205, 187, 99},
                                    {222, 201, 88},
                                    {240, 216, 70},
                                    {254, 232, 56}});
  return s;
}

const Stops& grey() {
  static const Stops s = evenStops({{0, 0, 0}, {255, 255, 255}});
  return s;
}

const Stops& diverging() {
  static const Stops s = evenStops({{5, 48, 97},
                                    {33, 102, 172},
                                    {67, 147, 195},
                                    {146, 197, 222},
                                    {209, 229, 240},
                                    {247, 247, 247},
                                    {253, 219, 199},
                                    {244, 165, 130},
                                    {214, 96, 77},
                                    {178, 24, 43},
                                    {103, 0, 31}});
  return s;
}

double quantileOf(std::vector<double>& v, double q) {
  if (!(q >= 0.0)) q = 0.0;  // also NaN
  q = std::min(q, 1.0);
  const auto k = static_cast<size_t>(std::llround(q * static_cast<double>(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

QString colourMapName(ColourMap map) {
  switch (map) {
    case ColourMap::Viridis:
      return QStringLiteral("viridis");
    case ColourMap::Magma:
      return QStringLiteral("magma");
    case ColourMap::Cividis:
      return QStringLiteral("cividis");
    case ColourMap::Grey:
      return QStringLiteral("grey");
    case ColourMap::Diverging:
      return QStringLiteral("diverging");
  }
  return QStringLiteral("viridis");
}

QStringList colourMapNames() {
  QStringList names;
  for (ColourMap m : {ColourMap::Viridis, ColourMap::Magma, ColourMap::Cividis, ColourMap::Grey,
                      ColourMap::Diverging})
    names << colourMapName(m);
  return names;
}

bool parseColourMap(const QString& name, ColourMap* map) {
  const QString n = name.trimmed().toLower();
  for (ColourMap m : {ColourMap::Viridis, ColourMap::Magma, ColourMap::Cividis, ColourMap::Grey,
                      ColourMap::Diverging}) {
    if (n == colourMapName(m)) {
      if (map) *map = m;
      return true;
    }
  }
  return false;
}

bool isDiverging(ColourMap map) { return map == ColourMap::Diverging; }

const std::vector<std::pair<double, QColor>>& colourStops(ColourMap map) {
  switch (map) {
    case ColourMap::Viridis:
      return viridis();
    case ColourMap::Magma:
      return magma();
    case ColourMap::Cividis:
      return cividis();
    case ColourMap::Grey:
      return grey();
    case ColourMap::Diverging:
      return diverging();
  }
  return viridis();
}

QColor colourAt(ColourMap map, double t) {
  if (std::isnan(t)) return maskedColour();
  const Stops& s = colourStops(map);
  t = std::clamp(t, 0.0, 1.0);
  auto hi = std::lower_bound(s.begin(), s.end(), t,
                             [](const auto& stop, double x) { return stop.first < x; });
  if (hi == s.begin()) return hi->second;
  if (hi == s.end()) return s.back().second;
  const auto lo = hi - 1;
  const double f = (t - lo->first) / (hi->first - lo->first);
  auto mix = [f](int a, int b) { return static_cast<int>(std::lround(a + (b - a) * f)); };
  return QColor(mix(lo->second.red(), hi->second.red()),
                mix(lo->second.green(), hi->second.green()),
                mix(lo->second.blue(), hi->second.blue()));
}

QColor maskedColour() { return QColor(225, 225, 225); }

double ColourRange::position(double v) const {
  if (std::isnan(v)) return std::numeric_limits<double>::quiet_NaN();
  double t = 0.5;
  if (scale == ColourScale::Log && lo > 0.0 && hi > lo) {
    t = v <= 0.0 ? 0.0 : (std::log(v) - std::log(lo)) / (std::log(hi) - std::log(lo));
  } else if (hi > lo) {
    t = (v - lo) / (hi - lo);
  }
  return std::clamp(t, 0.0, 1.0);
}

ColourRange autoRange(const std::vector<float>& values, ColourMap map, ColourScale scale,
                      double quantile, const std::vector<bool>& skip) {
  const bool diverging = isDiverging(map);
  const bool log = scale == ColourScale::Log && !diverging;  // a log scale has no zero to centre
  std::vector<double> kept;
  kept.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v) || (i < skip.size() && skip[i])) continue;
    if (log && v <= 0.0) continue;
    kept.push_back(diverging ? std::abs(v) : v);
  }

  ColourRange range;
  range.scale = log ? ColourScale::Log : ColourScale::Linear;
  if (diverging) {
    double m = kept.empty() ? 0.0 : quantileOf(kept, quantile);
    if (!(m > 0.0)) m = kept.empty() ? 1.0 : *std::max_element(kept.begin(), kept.end());
    if (!(m > 0.0)) m = 1.0;  // all zeros
    range.lo = -m;
    range.hi = m;
    return range;
  }
  if (kept.empty()) {
    range.lo = log ? 1e-3 : 0.0;
    range.hi = 1.0;
    return range;
  }
  range.lo = *std::min_element(kept.begin(), kept.end());
  range.hi = quantileOf(kept, quantile);
  if (range.hi <= range.lo) range.hi = *std::max_element(kept.begin(), kept.end());
  if (range.hi > range.lo) return range;
  // Constant data: a range that still shows it, anchored at zero where it can be.
  const double c = range.lo;
  if (log) {
    range.hi = c * 10.0;
  } else if (c > 0.0) {
    range.lo = 0.0;
    range.hi = c;
  } else if (c < 0.0) {
    range.lo = c;
    range.hi = 0.0;
  } else {
    range.lo = 0.0;
    range.hi = 1.0;
  }
  return range;
}

}  // namespace attn::ui
