// SPDX-License-Identifier: MIT
// From traced maps to what is drawn: one head's map as a FigureMap with its token geometry, the
// colour settings the window and the CLI share (a sequential map, diverging for signed stages,
// linear or log, automatic or fixed range, per map or shared, the sink optionally left out), and
// the three figures of the export: the panels of a head, a grid of heads, query-row profiles.
// Torch-free: it reads attn::StageMap (plain data) only.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>
#include <vector>

#include "core/api/session.h"
#include "ui/figure/figure.h"

namespace attn::ui {

struct ColourSettings {
  ColourMap sequential = ColourMap::Viridis;
  bool divergingForSigned = true;  // stages with negative values use the diverging map
  ColourScale scale = ColourScale::Linear;
  bool fixedRange = false;
  double lo = 0.0, hi = 1.0;
  bool sharedRange = false;  // one range for all panels, else one per panel
  bool skipSink = false;     // leave key 0 (the attention sink) out of the automatic range
};

/// The stages shown side by side by default: raw next to the processed ones (DAPE V2's conv
/// output, then probs, or logits where there are no probs).
QStringList defaultPanelStages(const QStringList& offered);
/// The stages of the query-row profile by default: raw scores, position bias and learned
/// correction where the variant offers them (the DAPE paper's figure layout), else raw and probs.
QStringList defaultProfileStages(const QStringList& offered);

/// Token labels of a trace.
QStringList tokenLabels(const attn::LayerTrace& trace);
/// Head `head` of `map` as a figure map titled `title`.
FigureMap headFigureMap(const attn::StageMap& map, int head, const QStringList& tokens,
                        const QString& title);
/// The cells of an exact map (step 1) within queries [q0, q1) x keys [k0, k1) (clipped to the
/// map); a pooled map is returned unchanged.
FigureMap cropFigureMap(const FigureMap& map, long q0, long q1, long k0, long k1);
/// "raw, layer 2, head 5".
QString mapTitle(const QString& stage, int layer, int head);
/// Whether any value is negative.
bool hasNegative(const std::vector<float>& values);
/// The colour map for these values under the settings.
ColourMap colourMapFor(const ColourSettings& settings, const std::vector<float>& values);
/// The colour range for `maps` (NaN skipped; key 0 skipped with skipSink).
ColourRange colourRangeFor(const ColourSettings& settings, ColourMap map,
                           const std::vector<const FigureMap*>& maps);
/// Figure style from colour settings (the rest left at its defaults).
FigureStyle figureStyle(const ColourSettings& settings);

/// The panels of one head: one FigureMap per stage, side by side.
Figure panelsFigure(const attn::LayerTrace& trace, int layer, int head,
                    const QStringList& stages, const ColourSettings& settings);
/// Every head of `layer` for `stage`, in a grid.
Figure headGridFigure(const attn::LayerTrace& trace, int layer, const QString& stage,
                      const ColourSettings& settings);
/// One query's row over keys 0..query, one curve per head, one panel per stage.
Figure profileFigure(const attn::LayerTrace& trace, int layer, const QStringList& stages);

}  // namespace attn::ui
