// SPDX-License-Identifier: MIT
// Colour maps of the window and of exported figures: perceptual sequential maps for
// non-negative stages (attention weights) and a diverging map centred at zero for signed ones
// (raw logits, daGPAM's signed weights, differences). One definition used by every view, so a
// figure looks like the panel it came from. Plain Qt (no QCustomPlot, no torch).
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtGui/QColor>
#include <utility>
#include <vector>

namespace attn::ui {

enum class ColourMap { Viridis, Magma, Cividis, Grey, Diverging };

/// "viridis", "magma", "cividis", "grey", "diverging".
QString colourMapName(ColourMap map);
/// All names, in the order of the enum.
QStringList colourMapNames();
/// Parses a name (case-insensitive); returns false for an unknown one.
bool parseColourMap(const QString& name, ColourMap* map);
/// Whether the map is meant for signed data, with its middle colour at zero.
bool isDiverging(ColourMap map);
/// Colour stops (position in [0, 1], colour), sorted, first at 0 and last at 1.
const std::vector<std::pair<double, QColor>>& colourStops(ColourMap map);
/// The colour at t in [0, 1] (clamped), linearly interpolated between stops in RGB.
QColor colourAt(ColourMap map, double t);
/// Colour of cells without a value (the masked future, NaN).
QColor maskedColour();

/// How values map to [0, 1]: linear, or logarithmic (values <= 0 below the range).
enum class ColourScale { Linear, Log };

/// The value range of a colour bar and how values are placed on it.
struct ColourRange {
  double lo = 0.0;
  double hi = 1.0;
  ColourScale scale = ColourScale::Linear;
  /// Position of v in [0, 1] (clamped); NaN for NaN.
  double position(double v) const;
};

/// A colour range for `values` (NaN skipped): for diverging maps symmetric around zero
/// (-m, m) with m the `quantile` of |v|; otherwise from the smallest value (or the smallest
/// positive one for a log scale) to the `quantile` of the values. `skip` marks values to leave
/// out (for instance the first key's column, the attention sink); may be empty.
ColourRange autoRange(const std::vector<float>& values, ColourMap map, ColourScale scale,
                      double quantile = 0.995, const std::vector<bool>& skip = {});

}  // namespace attn::ui
