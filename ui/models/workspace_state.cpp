// SPDX-License-Identifier: MIT
#include "ui/models/workspace_state.h"

namespace attn::ui {

ColourSettings coloursFromWorkspace(const attn::WorkspaceColours& c) {
  ColourSettings s;
  ColourMap map = ColourMap::Viridis;
  if (parseColourMap(QString::fromStdString(c.map), &map) && !isDiverging(map)) s.sequential = map;
  s.divergingForSigned = c.diverging;
  s.scale = c.scale == "log" ? ColourScale::Log : ColourScale::Linear;
  s.sharedRange = c.range == "shared";
  s.fixedRange = c.range == "fixed";
  s.lo = c.lo;
  s.hi = c.hi;
  s.skipSink = c.skip_sink;
  return s;
}

attn::WorkspaceColours coloursToWorkspace(const ColourSettings& s) {
  attn::WorkspaceColours c;
  c.map = colourMapName(s.sequential).toStdString();
  c.diverging = s.divergingForSigned;
  c.scale = s.scale == ColourScale::Log ? "log" : "linear";
  c.range = s.fixedRange ? "fixed" : (s.sharedRange ? "shared" : "auto");
  c.lo = s.lo;
  c.hi = s.hi;
  c.skip_sink = s.skipSink;
  return c;
}

QStringList checkpointProblems(const attn::Workspace& workspace) {
  QStringList problems;
  for (const auto& c : workspace.checkpoints) {
    const QString path = QString::fromStdString(c.path);
    switch (attn::check_checkpoint(c)) {
      case attn::CheckpointState::Missing:
        problems << QStringLiteral("checkpoint %1 is missing (moved or deleted?): it was left "
                                   "out; open it from its new place with File > Open checkpoint")
                        .arg(path);
        break;
      case attn::CheckpointState::Changed:
        problems << QStringLiteral("checkpoint %1 changed since the workspace was saved (its "
                                   "files differ): its maps may not match the saved figure")
                        .arg(path);
        break;
      case attn::CheckpointState::Ok:
        break;
    }
  }
  return problems;
}

}  // namespace attn::ui
