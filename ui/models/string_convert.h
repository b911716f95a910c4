// SPDX-License-Identifier: MIT
// Name lists (stages, checkpoints) between core's std::vector<std::string> and Qt's QStringList,
// element by element as UTF-8; shared by the view model, the workspace code and the CLI.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>
#include <string>
#include <vector>

namespace attn::ui {

inline QStringList toQStringList(const std::vector<std::string>& names) {
  QStringList out;
  for (const auto& n : names) out << QString::fromStdString(n);
  return out;
}

inline std::vector<std::string> toStdList(const QStringList& names) {
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(n.toStdString());
  return out;
}

}  // namespace attn::ui
