// SPDX-License-Identifier: MIT
// The numbers behind a figure as bytes: NumPy .npy (format version 1.0, little-endian) and CSV.
// Kept apart from the painters so the data export has no drawing code and can be tested alone.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>
#include <vector>

#include "ui/figure/figure.h"

namespace attn::ui {

/// The .npy header (magic, version 1.0, dict padded with spaces to a multiple of 64 bytes).
QByteArray npyHeader(const QString& descr, const std::vector<long long>& shape);

/// Maps as '<f4' of shape (maps, rows, cols). Empty with `problem` set when shapes differ.
QByteArray mapsToNpy(const std::vector<FigureMap>& maps, QString* problem);
/// Profiles as '<f8' of shape (panels, curves, points) holding y. Empty with `problem` set when
/// panels have different curve counts or curves different lengths.
QByteArray profilesToNpy(const std::vector<FigureProfile>& profiles, QString* problem);

/// "map,query,key,value": one line per cell; query/key are the cell's first token position,
/// value empty for NaN.
QByteArray mapsToCsv(const std::vector<FigureMap>& maps);
/// "panel,curve,key,value": one line per point; panel and curve are indices.
QByteArray profilesToCsv(const std::vector<FigureProfile>& profiles);

}  // namespace attn::ui
