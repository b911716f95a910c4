// SPDX-License-Identifier: MIT
// What the translation units of MainWindow (main_window*.cpp) share, and nothing else includes:
// the resolution of its progress bars, a std::string to QString shorthand and the bundled list.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>
#include <string>

namespace attn::ui::main_window_detail {

constexpr int kProgressSteps = 1000;

inline QString fromStd(const std::string& s) { return QString::fromStdString(s); }

/// The checkpoint directories (with a config.json) under `resourcesDir`/checkpoints, by name.
QStringList bundledCheckpoints(const QString& resourcesDir);

}  // namespace attn::ui::main_window_detail
