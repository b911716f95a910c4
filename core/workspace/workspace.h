// SPDX-License-Identifier: MIT
// Workspace files: everything needed to rebuild a view of the window exactly (the checkpoints
// and a fingerprint of each, the text, layer, head, stages, query row, zoom, colours, the open
// tab, the compared checkpoints and the lengths view), as versioned JSON ("attnscope-workspace",
// format_version 1). The window saves and opens them; `attnscope-cli figure --workspace` renders
// one. Torch-free and Qt-free (attn_base), so it can be fuzzed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attn {

/// One checkpoint of a workspace: its directory (absolute, or relative to the workspace file's
/// folder) and the fingerprint it had when the workspace was saved (may be empty).
struct WorkspaceCheckpoint {
  std::string path;
  std::string fingerprint;
};

/// The zoomed window of the main view, in tokens: queries [q0, q1) x keys [k0, k1); q1 or k1
/// of -1: the whole map (no zoom).
struct WorkspaceView {
  int64_t q0 = 0, q1 = -1, k0 = 0, k1 = -1;
};

struct WorkspaceColours {
  std::string map = "viridis";  // viridis, magma, cividis or grey
  bool diverging = true;        // the diverging map for signed stages
  std::string scale = "linear"; // linear or log
  std::string range = "auto";   // auto (per map), shared or fixed
  double lo = 0.0, hi = 1.0;    // the fixed range (lo < hi)
  bool skip_sink = false;
};

struct Workspace {
  static constexpr int kFormatVersion = 1;
  /// The explored checkpoint first; with tab "compare", all of them are compared (1 to 4).
  std::vector<WorkspaceCheckpoint> checkpoints;
  std::string text;
  int64_t layer = 0;
  int64_t head = 0;
  std::vector<std::string> panel_stages;    // empty: the variant's default
  std::vector<std::string> profile_stages;  // empty: the variant's default
  int64_t query = -1;                       // the profile's query; -1: the last token
  WorkspaceView view;
  WorkspaceColours colours;
  std::string tab = "explore";              // explore, compare or lengths
  std::string compare_stage = "probs";
  std::vector<int64_t> lengths;             // the lengths view; empty: the default
  std::string results;                      // an eval results file for the curves; may be empty
  std::string device = "cpu";               // cpu or cuda
  std::string precision = "float32";        // float32; bfloat16 or float16 with device cuda
};

/// Limits on what a workspace file may hold; exceeding one is an error naming it.
struct WorkspaceLimits {
  static constexpr size_t kMaxFileBytes = size_t{64} << 20;
  static constexpr size_t kMaxCheckpoints = 4;
  static constexpr size_t kMaxStages = 32;
  static constexpr size_t kMaxLengths = 16;
  static constexpr int64_t kMaxLength = int64_t{1} << 20;
};

/// Parses the JSON text of a workspace file. `path` names the file in errors and resolves
/// relative checkpoint and results paths (against its folder). Throws ConfigError naming the
/// file, the field (e.g. "colours.scale") and what would be right; a format_version newer than
/// this build reads is an error that says so.
Workspace parse_workspace(const std::string& json_text, const std::string& path);
/// Reads and parses a workspace file (errors name the file).
Workspace read_workspace(const std::string& path);
/// The JSON text of a workspace (stable key order, 2-space indent, trailing newline).
std::string workspace_json(const Workspace& workspace);
/// Writes the workspace atomically (temporary file, then rename).
void write_workspace(const std::string& path, const Workspace& workspace);

/// A fingerprint of a checkpoint directory's content: FNV-1a 64 over config.json, the model
/// file and tokenizer.json where present, with their sizes: "fnv1a64:<16 hex digits>". Throws
/// CheckpointError when the directory or its config.json cannot be read.
std::string checkpoint_fingerprint(const std::string& dir);

/// What opening a workspace found about one of its checkpoints.
enum class CheckpointState { Ok, Missing, Changed };
/// Compares a saved checkpoint with what is on disk now: Missing when its config.json cannot be
/// read, Changed when the fingerprint differs (an empty saved fingerprint is never Changed).
CheckpointState check_checkpoint(const WorkspaceCheckpoint& checkpoint);

}  // namespace attn
