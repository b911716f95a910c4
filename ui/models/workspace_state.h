// SPDX-License-Identifier: MIT
// Between a workspace file's plain fields and the window's settings: colour settings, and what
// opening a workspace found about its checkpoints, in words a user can act on. (Stage lists
// convert with ui/models/string_convert.h.)
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>

#include "core/workspace/workspace.h"
#include "ui/models/figure_builder.h"

namespace attn::ui {

ColourSettings coloursFromWorkspace(const attn::WorkspaceColours& colours);
attn::WorkspaceColours coloursToWorkspace(const ColourSettings& colours);

/// One message per checkpoint that is missing or changed since the workspace was saved (empty
/// when all are as saved).
QStringList checkpointProblems(const attn::Workspace& workspace);

}  // namespace attn::ui
