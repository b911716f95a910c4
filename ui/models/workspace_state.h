// SPDX-License-Identifier: MIT
// Between a workspace file's plain fields and the window's settings: colour settings, stage
// lists, and what opening a workspace found about its checkpoints, in words a user can act on.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>

#include "core/workspace/workspace.h"
#include "ui/models/figure_builder.h"

namespace attn::ui {

ColourSettings coloursFromWorkspace(const attn::WorkspaceColours& colours);
attn::WorkspaceColours coloursToWorkspace(const ColourSettings& colours);
QStringList toQStringList(const std::vector<std::string>& names);
std::vector<std::string> toStdList(const QStringList& names);

/// One message per checkpoint that is missing or changed since the workspace was saved (empty
/// when all are as saved).
QStringList checkpointProblems(const attn::Workspace& workspace);

}  // namespace attn::ui
