// SPDX-License-Identifier: MIT
// Figures for papers: a plain description of what to draw (one or more attention maps side by
// side, a grid of heads, or query-row profiles), with its size in centimetres, font size and DPI,
// and the writers that render it as PDF or SVG (vector axes, labels and colour bars; each map an
// embedded image at one pixel per cell) or PNG at a chosen DPI, and the numbers as .npy or .csv.
// The same code serves the window's export dialog and `attnscope-cli figure`. Plain Qt: no
// QCustomPlot, no widgets, no torch.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>
#include <vector>

#include "ui/figure/colour_map.h"

namespace attn::ui {

/// One map panel: rows x cols cells, row-major, NaN where there is no value (masked future).
/// Cell (r, c) covers queries [q0 + r*step, q0 + (r+1)*step) and keys [k0 + c*step, ...).
struct FigureMap {
  QString title;  // e.g. "raw, layer 2, head 5"
  int rows = 0;
  int cols = 0;
  std::vector<float> values;
  long q0 = 0;
  long k0 = 0;
  long step = 1;
  QStringList tokens;  // labels of all tokens of the text (index = position); may be empty
  int colourMap = -1;  // a ColourMap for this map alone (e.g. diverging for signed raw
                       // scores beside sequential weights); -1: the style's
};

/// One curve of a profile panel.
struct FigureCurve {
  QString name;           // legend entry, e.g. "head 3"
  std::vector<double> x;  // key positions
  std::vector<double> y;
};

/// One profile panel: curves over the key axis (the DAPE paper's figure layout: one panel per
/// stage, one curve per head).
struct FigureProfile {
  QString title;  // e.g. "raw scores"
  QString yLabel;
  std::vector<FigureCurve> curves;
};

enum class FigureKind { Maps, HeadGrid, Profiles };

struct FigureStyle {
  double widthCm = 16.0;
  double heightCm = 7.0;
  double fontPt = 8.0;
  int dpi = 300;  // PNG only
  ColourMap colourMap = ColourMap::Viridis;
  ColourScale scale = ColourScale::Linear;
  bool sharedRange = true;  // one colour bar for all maps, else one per map
  bool fixedRange = false;  // use lo/hi below instead of the automatic range
  double lo = 0.0, hi = 1.0;
  bool skipSink = false;    // leave key 0 out of the automatic range
  bool tokenLabels = true;  // token labels on the axes where they fit
};

struct Figure {
  FigureKind kind = FigureKind::Maps;
  QString title;  // above everything; may be empty
  QString xLabel = QStringLiteral("key");
  QString yLabel = QStringLiteral("query");
  std::vector<FigureMap> maps;          // Maps: side by side; HeadGrid: in a grid
  int gridColumns = 0;                  // HeadGrid: columns (0: about square)
  std::vector<FigureProfile> profiles;  // Profiles: stacked or side by side
  FigureStyle style;
};

enum class FigureFormat { Pdf, Svg, Png, Npy, Csv };

/// The format from a file name's suffix (.pdf .svg .png .npy .csv, case-insensitive); false
/// for any other.
bool figureFormatFromPath(const QString& path, FigureFormat* format);

/// Writes the figure to `path` in the format its suffix names, atomically (temporary file, then
/// rename). .npy writes the maps as float32 (maps, rows, cols) (all maps must have the same
/// shape) or the profiles as float64 (panels, curves, points); .csv one line per cell or point
/// with its coordinates. On failure returns false and sets `error` to a message that names the
/// path and says what would be right (unknown suffix, unwritable folder, nothing to draw).
bool writeFigure(const Figure& figure, const QString& path, QString* error);

}  // namespace attn::ui
