// SPDX-License-Identifier: MIT
// Workspace files: strict reading (every field checked for type and value; unknown fields are
// errors, as in config.json, so a typo never silently falls back to a default), stable writing
// (ordered keys, so saved workspaces diff cleanly) and checkpoint fingerprints. Error values are
// quoted only when scalar: dumping an arbitrary list or object could be huge or deeply nested.
#include "core/workspace/workspace.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace attn {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "attnscope-workspace";
constexpr const char* kFingerprintPrefix = "fnv1a64:";
constexpr size_t kMaxQuoted = 80;  // longest value quoted in an error message

std::string quoted_list(std::initializer_list<const char*> names, const char* last = " or ") {
  std::string out;
  size_t i = 0;
  for (const char* n : names) {
    out += i == 0 ? "" : (i + 1 == names.size() ? last : ", ");
    out += std::string("\"") + n + "\"";
    ++i;
  }
  return out;
}

/// A short description of a JSON value for messages: scalars as JSON, containers by kind.
std::string describe(const json& v) {
  if (v.is_array()) return "a list of " + std::to_string(v.size()) + " items";
  if (v.is_object()) return "an object";
  std::string s = v.dump();
  if (s.size() > kMaxQuoted) {
    size_t cut = kMaxQuoted;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    s = s.substr(0, cut) + "...";
  }
  return s;
}

/// nlohmann's message with the bytes it quotes made printable (they may be invalid UTF-8).
std::string printable(const char* what) {
  std::string s = what;
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = '?';
  }
  return s;
}

/// Field readers; each error names the file and the dotted field, and says what would be right.
struct Fields {
  std::string where;  // "workspace <path>"

  [[noreturn]] void fail(const std::string& field, const json& v, const std::string& hint) const {
    throw ConfigError(where + ": field \"" + field + "\" is " + describe(v) + ": " + hint);
  }
  [[noreturn]] void missing(const std::string& field, const std::string& hint) const {
    throw ConfigError(where + ": field \"" + field + "\" is missing: " + hint);
  }

  void known(const json& obj, std::initializer_list<const char*> keys,
             const std::string& prefix) const {
    for (const auto& item : obj.items()) {
      if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return item.key() == k; })) {
        throw ConfigError(where + ": unknown field \"" + prefix + item.key() +
                          "\" (known fields: " + quoted_list(keys, ", ") + ")");
      }
    }
  }

  int64_t integer(const json& v, const std::string& field, int64_t min, int64_t max) const {
    const std::string hint =
        max == std::numeric_limits<int64_t>::max()
            ? "use a whole number >= " + std::to_string(min)
            : "use a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    // Floats (1.5, 1e300), booleans and unsigned values beyond int64_t are all rejected.
    if (!v.is_number_integer()) fail(field, v, hint);
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
      fail(field, v, hint);
    }
    const int64_t x = v.get<int64_t>();
    if (x < min || x > max) fail(field, v, hint);
    return x;
  }

  int64_t integer(const json& obj, const char* key, const std::string& prefix, int64_t fallback,
                  int64_t min, int64_t max = std::numeric_limits<int64_t>::max()) const {
    const auto it = obj.find(key);
    return it == obj.end() ? fallback : integer(*it, prefix + key, min, max);
  }

  std::string string(const json& v, const std::string& field, bool non_empty) const {
    if (!v.is_string()) fail(field, v, non_empty ? "use a non-empty string" : "use a string");
    if (non_empty && v.get_ref<const std::string&>().empty())
      fail(field, v, "use a non-empty string");
    return v.get<std::string>();
  }

  std::string string(const json& obj, const char* key, const std::string& prefix,
                     const std::string& fallback, bool non_empty) const {
    const auto it = obj.find(key);
    return it == obj.end() ? fallback : string(*it, prefix + key, non_empty);
  }

  std::string choice(const json& obj, const char* key, const std::string& prefix,
                     const std::string& fallback,
                     std::initializer_list<const char*> allowed) const {
    const auto it = obj.find(key);
    if (it == obj.end()) return fallback;
    const bool ok = it->is_string() && std::any_of(allowed.begin(), allowed.end(), [&](auto a) {
                      return it->get_ref<const std::string&>() == a;
                    });
    if (!ok) fail(prefix + key, *it, "use " + quoted_list(allowed));
    return it->get<std::string>();
  }

  bool boolean(const json& obj, const char* key, const std::string& prefix, bool fallback) const {
    const auto it = obj.find(key);
    if (it == obj.end()) return fallback;
    if (!it->is_boolean()) fail(prefix + key, *it, "use true or false");
    return it->get<bool>();
  }

  double number(const json& obj, const char* key, const std::string& prefix,
                double fallback) const {
    const auto it = obj.find(key);
    if (it == obj.end()) return fallback;
    if (!it->is_number() || !std::isfinite(it->get<double>())) {
      fail(prefix + key, *it, "use a finite number");
    }
    return it->get<double>();
  }

  /// An optional nested object (nullptr when absent).
  const json* object(const json& obj, const char* key) const {
    const auto it = obj.find(key);
    if (it == obj.end()) return nullptr;
    if (!it->is_object()) fail(key, *it, "use an object");
    return &*it;
  }

  /// An optional list of at most `max_items` items (nullptr when absent).
  const json* list(const json& obj, const char* key, size_t max_items,
                   const std::string& hint) const {
    const auto it = obj.find(key);
    if (it == obj.end()) return nullptr;
    if (!it->is_array() || it->size() > max_items) fail(key, *it, hint);
    return &*it;
  }
};

/// What a file with the wrong "format" seems to be, for the message.
std::string seems_like(const json& root) {
  const auto it = root.find("format");
  if (it != root.end() && it->is_string() && *it == "attnscope-eval") {
    return "it looks like a results file of attnscope-cli eval";
  }
  if (root.contains("model") && root.contains("attention")) {
    return "it looks like a checkpoint's config.json";
  }
  if (root.contains("model") && root.contains("pre_tokenizer")) {
    return "it looks like a tokenizer.json";
  }
  if (it == root.end()) return "it has no \"format\" field";
  return "its \"format\" is " + describe(*it);
}

void check_format(const json& root, const Fields& f) {
  if (!root.is_object()) {
    throw ConfigError(f.where + ": not a workspace file (the top level is " + describe(root) +
                      ", not an object with \"format\": \"" + kFormat + "\")");
  }
  const auto it = root.find("format");
  if (it == root.end() || !it->is_string() || *it != kFormat) {
    throw ConfigError(f.where + ": not a workspace file (" + seems_like(root) +
                      "); a workspace file has \"format\": \"" + kFormat + "\"");
  }
  const auto v = root.find("format_version");
  if (v == root.end()) f.missing("format_version", "use 1");
  // Non-negative integers parse as unsigned; negative ones, floats and the rest fall through.
  if (v->is_number_unsigned() && v->get<uint64_t>() >= 1) {
    if (v->get<uint64_t>() <= uint64_t(Workspace::kFormatVersion)) return;
    throw ConfigError(f.where + ": written by a newer AttnScope (format_version " + v->dump() +
                      "); this build reads version " + std::to_string(Workspace::kFormatVersion) +
                      ": update AttnScope to open it");
  }
  f.fail("format_version", *v, "use " + std::to_string(Workspace::kFormatVersion));
}

std::string resolve(const fs::path& folder, const std::string& p) {
  if (p.empty() || folder.empty() || fs::path(p).is_absolute()) return p;
  return (folder / p).string();
}

bool is_fingerprint(const std::string& s) {
  const size_t n = std::char_traits<char>::length(kFingerprintPrefix);
  if (s.size() != n + 16 || s.compare(0, n, kFingerprintPrefix) != 0) return false;
  return std::all_of(s.begin() + n, s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

void read_checkpoints(const json& root, const Fields& f, const fs::path& folder, Workspace& w) {
  const std::string hint = "use a list of 1 to " +
                           std::to_string(WorkspaceLimits::kMaxCheckpoints) +
                           " checkpoints, each {\"path\": ..., \"fingerprint\": ...}";
  const auto it = root.find("checkpoints");
  if (it == root.end()) f.missing("checkpoints", hint);
  if (!it->is_array() || it->empty() || it->size() > WorkspaceLimits::kMaxCheckpoints) {
    f.fail("checkpoints", *it, hint);
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string prefix = "checkpoints[" + std::to_string(i) + "].";
    const json& c = (*it)[i];
    if (!c.is_object()) f.fail(prefix.substr(0, prefix.size() - 1), c, hint);
    f.known(c, {"path", "fingerprint"}, prefix);
    if (!c.contains("path")) f.missing(prefix + "path", "use the checkpoint's folder");
    WorkspaceCheckpoint ck;
    ck.path = resolve(folder, f.string(c, "path", prefix, "", true));
    ck.fingerprint = f.string(c, "fingerprint", prefix, "", false);
    if (!ck.fingerprint.empty() && !is_fingerprint(ck.fingerprint)) {
      f.fail(prefix + "fingerprint", c.at("fingerprint"),
             "use \"\" or \"fnv1a64:\" and 16 hex digits (as saved by AttnScope)");
    }
    w.checkpoints.push_back(std::move(ck));
  }
}

std::vector<std::string> read_stages(const json& root, const char* key, const Fields& f) {
  const json* list = f.list(
      root, key, WorkspaceLimits::kMaxStages,
      "use a list of at most " + std::to_string(WorkspaceLimits::kMaxStages) + " stage names");
  std::vector<std::string> out;
  for (size_t i = 0; list && i < list->size(); ++i) {
    out.push_back(f.string((*list)[i], std::string(key) + "[" + std::to_string(i) + "]", true));
  }
  return out;
}

void read_view(const json& root, const Fields& f, WorkspaceView& v) {
  const json* view = f.object(root, "view");
  if (!view) return;
  f.known(*view, {"q0", "q1", "k0", "k1"}, "view.");
  v.q0 = f.integer(*view, "q0", "view.", v.q0, -1);
  v.q1 = f.integer(*view, "q1", "view.", v.q1, -1);
  v.k0 = f.integer(*view, "k0", "view.", v.k0, -1);
  v.k1 = f.integer(*view, "k1", "view.", v.k1, -1);
  if (v.q1 >= 0 && v.q0 > v.q1) {
    f.fail("view.q0", json(v.q0), "use at most view.q1 (" + std::to_string(v.q1) + ")");
  }
  if (v.k1 >= 0 && v.k0 > v.k1) {
    f.fail("view.k0", json(v.k0), "use at most view.k1 (" + std::to_string(v.k1) + ")");
  }
}

void read_colours(const json& root, const Fields& f, WorkspaceColours& c) {
  const json* col = f.object(root, "colours");
  if (!col) return;
  const std::string p = "colours.";
  f.known(*col, {"map", "diverging", "scale", "range", "lo", "hi", "skip_sink"}, p);
  c.map = f.choice(*col, "map", p, c.map, {"viridis", "magma", "cividis", "grey"});
  c.diverging = f.boolean(*col, "diverging", p, c.diverging);
  c.scale = f.choice(*col, "scale", p, c.scale, {"linear", "log"});
  c.range = f.choice(*col, "range", p, c.range, {"auto", "shared", "fixed"});
  c.lo = f.number(*col, "lo", p, c.lo);
  c.hi = f.number(*col, "hi", p, c.hi);
  c.skip_sink = f.boolean(*col, "skip_sink", p, c.skip_sink);
  if (c.range != "fixed") return;
  if (c.scale == "log" && c.lo <= 0) {
    f.fail("colours.lo", json(c.lo), "with scale \"log\" and range \"fixed\", use lo > 0");
  }
  if (!(c.lo < c.hi)) {
    f.fail("colours.lo", json(c.lo),
           "with range \"fixed\", use lo < hi (hi is " + json(c.hi).dump() + ")");
  }
}

void read_rest(const json& root, const Fields& f, const fs::path& folder, Workspace& w) {
  w.layer = f.integer(root, "layer", "", w.layer, 0);
  w.head = f.integer(root, "head", "", w.head, 0);
  w.panel_stages = read_stages(root, "panel_stages", f);
  w.profile_stages = read_stages(root, "profile_stages", f);
  w.query = f.integer(root, "query", "", w.query, -1);
  read_view(root, f, w.view);
  read_colours(root, f, w.colours);
  w.tab = f.choice(root, "tab", "", w.tab, {"explore", "compare", "lengths"});
  w.compare_stage = f.string(root, "compare_stage", "", w.compare_stage, true);
  const json* lengths =
      f.list(root, "lengths", WorkspaceLimits::kMaxLengths,
             "use a list of at most " + std::to_string(WorkspaceLimits::kMaxLengths) + " lengths");
  for (size_t i = 0; lengths && i < lengths->size(); ++i) {
    w.lengths.push_back(f.integer((*lengths)[i], "lengths[" + std::to_string(i) + "]", 1,
                                  WorkspaceLimits::kMaxLength));
  }
  w.results = resolve(folder, f.string(root, "results", "", "", false));
  w.device = f.choice(root, "device", "", w.device, {"cpu", "cuda"});
  // Absent in files written before the precision choice: float32, as those ran.
  w.precision = f.choice(root, "precision", "", w.precision, {"float32", "bfloat16", "float16"});
  if (w.precision != "float32" && w.device != "cuda") {
    f.fail("precision", json(w.precision),
           "half precisions run on CUDA only: with device \"" + w.device + "\" use \"float32\"");
  }
}

std::string too_big(const std::string& where, uint64_t size) {
  return where + ": the file is " + std::to_string(size) + " bytes, over the limit of " +
         std::to_string(WorkspaceLimits::kMaxFileBytes) +
         " (WorkspaceLimits::kMaxFileBytes); a workspace file holds settings and one text";
}

}  // namespace

Workspace parse_workspace(const std::string& json_text, const std::string& path) {
  const Fields f{"workspace " + path};
  if (json_text.size() > WorkspaceLimits::kMaxFileBytes) {
    throw ConfigError(too_big(f.where, json_text.size()));
  }
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw ConfigError(f.where + ": not valid JSON at byte " + std::to_string(e.byte) + " (" +
                      printable(e.what()) + ")");
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    throw ConfigError(f.where + ": not valid JSON (" + printable(e.what()) + ")");
  }
  check_format(root, f);
  f.known(root,
          {"format", "format_version", "checkpoints", "text", "layer", "head", "panel_stages",
           "profile_stages", "query", "view", "colours", "tab", "compare_stage", "lengths",
           "results", "device", "precision"},
          "");
  const fs::path folder = fs::path(path).parent_path();
  Workspace w;
  read_checkpoints(root, f, folder, w);
  if (!root.contains("text")) f.missing("text", "use a string (it may be empty)");
  w.text = f.string(root.at("text"), "text", false);
  read_rest(root, f, folder, w);
  return w;
}

Workspace read_workspace(const std::string& path) {
  const std::string where = "workspace " + path;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && size > WorkspaceLimits::kMaxFileBytes) throw ConfigError(too_big(where, size));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(where + ": cannot open the file (missing or not readable)");
  // Read at most one byte past the limit too: a pipe has no size, and a file may grow.
  std::string text;
  char buf[1 << 16];
  while (text.size() <= WorkspaceLimits::kMaxFileBytes && in.read(buf, sizeof buf).gcount() > 0) {
    text.append(buf, size_t(in.gcount()));
  }
  if (in.bad()) throw ConfigError(where + ": reading the file failed");
  if (text.size() > WorkspaceLimits::kMaxFileBytes) throw ConfigError(too_big(where, text.size()));
  return parse_workspace(text, path);
}

std::string workspace_json(const Workspace& w) {
  using ojson = nlohmann::ordered_json;
  ojson checkpoints = ojson::array();
  for (const auto& c : w.checkpoints) {
    checkpoints.push_back(ojson{{"path", c.path}, {"fingerprint", c.fingerprint}});
  }
  ojson root;
  root["format"] = kFormat;
  root["format_version"] = Workspace::kFormatVersion;
  root["checkpoints"] = std::move(checkpoints);
  root["text"] = w.text;
  root["layer"] = w.layer;
  root["head"] = w.head;
  root["panel_stages"] = w.panel_stages;
  root["profile_stages"] = w.profile_stages;
  root["query"] = w.query;
  root["view"] = ojson{{"q0", w.view.q0}, {"q1", w.view.q1}, {"k0", w.view.k0}, {"k1", w.view.k1}};
  const auto& c = w.colours;
  root["colours"] = ojson{{"map", c.map},
                          {"diverging", c.diverging},
                          {"scale", c.scale},
                          {"range", c.range},
                          {"lo", c.lo},
                          {"hi", c.hi},
                          {"skip_sink", c.skip_sink}};
  root["tab"] = w.tab;
  root["compare_stage"] = w.compare_stage;
  root["lengths"] = w.lengths;
  root["results"] = w.results;
  root["device"] = w.device;
  root["precision"] = w.precision;
  try {
    return root.dump(2) + "\n";
  } catch (const ojson::exception& e) {  // a string that is not valid UTF-8
    throw ConfigError(std::string("workspace: cannot be saved, a text field is not valid UTF-8 (") +
                      e.what() + ")");
  }
}

void write_workspace(const std::string& path, const Workspace& workspace) {
  write_file_atomic(path, workspace_json(workspace));
}

}  // namespace attn
