// SPDX-License-Identifier: MIT
// One map as an image of one pixel per cell: the colour of each value under a colour map and
// range, cells without a value (NaN: the masked future) in the neutral masked colour. Used by
// the overview thumbnails and by the figures' embedded maps.
#pragma once

#include <QtGui/QImage>

#include "ui/figure/colour_map.h"
#include "ui/figure/figure.h"

namespace attn::ui {

QImage mapImage(const FigureMap& map, ColourMap colours, const ColourRange& range);

}  // namespace attn::ui
