// SPDX-License-Identifier: MIT
// Workspace files: round trips, one precise error per kind of bad input (each naming the file
// and the field), relative paths, format versions, the size limit, checkpoint fingerprints and
// atomic writes.
#include "core/workspace/workspace.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kPath = "/data/ws/figure3.attnscope.json";

bool same(const Workspace& a, const Workspace& b) {
  if (a.checkpoints.size() != b.checkpoints.size()) return false;
  for (size_t i = 0; i < a.checkpoints.size(); ++i) {
    if (a.checkpoints[i].path != b.checkpoints[i].path ||
        a.checkpoints[i].fingerprint != b.checkpoints[i].fingerprint) {
      return false;
    }
  }
  const auto &v = a.view, &w = b.view;
  const auto &c = a.colours, &d = b.colours;
  return a.text == b.text && a.layer == b.layer && a.head == b.head &&
         a.panel_stages == b.panel_stages && a.profile_stages == b.profile_stages &&
         a.query == b.query && v.q0 == w.q0 && v.q1 == w.q1 && v.k0 == w.k0 && v.k1 == w.k1 &&
         c.map == d.map && c.diverging == d.diverging && c.scale == d.scale && c.range == d.range &&
         c.lo == d.lo && c.hi == d.hi && c.skip_sink == d.skip_sink && a.tab == b.tab &&
         a.compare_stage == b.compare_stage && a.lengths == b.lengths && a.results == b.results &&
         a.device == b.device && a.precision == b.precision;
}

Workspace full_workspace() {
  Workspace w;
  w.checkpoints = {{"/ck/dape_v2", "fnv1a64:0123456789abcdef"},
                   {"/ck/rope", ""},
                   {"/ck/alibi ü", "fnv1a64:ffffffffffffffff"}};
  w.text = "Line one \"quoted\"\n\ttab, emoji \xF0\x9F\x98\x80, back\\slash, nul-free";
  w.layer = 3;
  w.head = 7;
  w.panel_stages = {"scores", "probs", "dape.out"};
  w.profile_stages = {"probs"};
  w.query = 41;
  w.view = {2, 40, 0, 33};
  w.colours = {"magma", false, "log", "fixed", 0.001, 0.7, true};
  w.tab = "lengths";
  w.compare_stage = "scores";
  w.lengths = {128, 256, 512, 1 << 20};
  w.results = "/data/results/eval.json";
  w.device = "cuda";
  w.precision = "bfloat16";
  return w;
}

std::string error_of(const std::string& text, const std::string& path = kPath) {
  try {
    parse_workspace(text, path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(WorkspaceTest, RoundTripsEveryField) {
  const Workspace w = full_workspace();
  const std::string text = workspace_json(w);
  EXPECT_TRUE(same(parse_workspace(text, kPath), w)) << text;
  EXPECT_EQ(workspace_json(parse_workspace(text, kPath)), text);  // stable
  Workspace defaults;
  defaults.checkpoints = {{"/ck/a", ""}};
  EXPECT_TRUE(same(parse_workspace(workspace_json(defaults), kPath), defaults));
  Workspace odd = defaults;  // values at the edges of what is valid
  odd.text = "";
  odd.query = -1;
  odd.view = {-1, -1, 5, 5};
  odd.colours.lo = -0.0;
  odd.colours.hi = 1e-300;
  odd.colours.range = "fixed";
  odd.layer = INT64_MAX;
  EXPECT_TRUE(same(parse_workspace(workspace_json(odd), kPath), odd));
}

TEST(WorkspaceTest, OutputHasFixedKeyOrderIndentAndNewline) {
  const std::string text = workspace_json(full_workspace());
  ASSERT_EQ(text.back(), '\n');
  EXPECT_EQ(text.rfind("{\n  \"format\": \"attnscope-workspace\",\n  \"format_version\": 1,\n", 0),
            0u)
      << text;
  size_t at = 0;
  for (const char* key :
       {"\"checkpoints\"", "\"path\"",      "\"fingerprint\"",  "\"text\"",
        "\"layer\"",       "\"head\"",      "\"panel_stages\"", "\"profile_stages\"",
        "\"query\"",       "\"view\"",      "\"q0\"",           "\"q1\"",
        "\"k0\"",          "\"k1\"",        "\"colours\"",      "\"map\"",
        "\"diverging\"",   "\"scale\"",     "\"range\"",        "\"lo\"",
        "\"hi\"",          "\"skip_sink\"", "\"tab\"",          "\"compare_stage\"",
        "\"lengths\"",     "\"results\"",   "\"device\"",       "\"precision\""}) {
    const size_t next = text.find(key, at);
    ASSERT_NE(next, std::string::npos) << key << " missing or out of order in\n" << text;
    at = next;
  }
}

TEST(WorkspaceTest, MinimalFileGetsTheDefaults) {
  const Workspace w = parse_workspace(
      R"({"format": "attnscope-workspace", "format_version": 1,
          "checkpoints": [{"path": "/ck/a"}], "text": ""})",
      kPath);
  Workspace expected;
  expected.checkpoints = {{"/ck/a", ""}};
  EXPECT_TRUE(same(w, expected)) << workspace_json(w);
  EXPECT_EQ(w.precision, "float32");
}

TEST(WorkspaceTest, PrecisionRoundTripsAndOlderFilesWithoutItRunInFloat32) {
  for (const char* precision : {"float32", "bfloat16", "float16"}) {
    Workspace w;
    w.checkpoints = {{"/ck/a", ""}};
    w.device = "cuda";
    w.precision = precision;
    const std::string text = workspace_json(w);
    EXPECT_NE(text.find(std::string("\"precision\": \"") + precision + "\""), std::string::npos)
        << text;
    EXPECT_EQ(parse_workspace(text, kPath).precision, precision);
  }
  // As written before the precision choice: a CUDA workspace without the field.
  const Workspace old = parse_workspace(
      R"({"format": "attnscope-workspace", "format_version": 1,
          "checkpoints": [{"path": "/ck/a", "fingerprint": ""}], "text": "hi",
          "tab": "explore", "results": "", "device": "cuda"})",
      kPath);
  EXPECT_EQ(old.device, "cuda");
  EXPECT_EQ(old.precision, "float32");
}

// A valid file with one change; nullptr as value erases the field.
std::string edited(const std::string& pointer, const json* value) {
  json j = {{"format", "attnscope-workspace"},
            {"format_version", 1},
            {"checkpoints", {{{"path", "ck"}, {"fingerprint", ""}}}},
            {"text", "hello"}};
  const json::json_pointer p(pointer);
  if (value) {
    j[p] = *value;
  } else {
    j[p.parent_pointer()].erase(p.back());
  }
  return j.dump();
}
std::string with(const std::string& pointer, const json& value) { return edited(pointer, &value); }
std::string without(const std::string& pointer) { return edited(pointer, nullptr); }

struct BadCase {
  std::string text;
  std::string expect;
};

TEST(WorkspaceTest, EveryBadFieldIsNamedWithAHint) {
  const json fixed_log = {{"scale", "log"}, {"range", "fixed"}, {"lo", 0}, {"hi", 1}};
  const json fixed_flat = {{"range", "fixed"}, {"lo", 0.5}, {"hi", 0.5}};
  const std::vector<BadCase> cases = {
      {"{\"format\": ", "not valid JSON at byte 12"},  // 1-based: just past the end
      {"{\"text\": \"\xC3\x28\"}", "not valid JSON at byte"},
      {R"({"format": 1e400})", "not valid JSON"},
      {"[1, 2]", "top level is a list of 2 items"},
      {without("/text"), R"(field "text" is missing)"},
      {with("/text", 5), R"(field "text" is 5: use a string)"},
      {without("/format_version"), R"(field "format_version" is missing)"},
      {with("/format_version", "1"), R"(field "format_version" is "1": use 1)"},
      {with("/format_version", 0), R"(field "format_version" is 0: use 1)"},
      {with("/format_version", 1.0), R"(field "format_version" is 1.0: use 1)"},
      {with("/checkpoints", json::array()), R"(field "checkpoints" is a list of 0 items: use )"},
      {with("/checkpoints", json::array({{{"path", "a"}},
                                         {{"path", "b"}},
                                         {{"path", "c"}},
                                         {{"path", "d"}},
                                         {{"path", "e"}}})),
       R"(field "checkpoints" is a list of 5 items: use a list of 1 to 4)"},
      {with("/checkpoints/0", "ck"), R"(field "checkpoints[0]" is "ck")"},
      {with("/checkpoints/0/path", ""), R"(field "checkpoints[0].path" is "": use a non-empty)"},
      {without("/checkpoints/0/path"), R"(field "checkpoints[0].path" is missing)"},
      {with("/checkpoints/0/name", "x"), R"(unknown field "checkpoints[0].name")"},
      {with("/checkpoints/0/fingerprint", "md5:12"),
       R"(field "checkpoints[0].fingerprint" is "md5:12": use "" or "fnv1a64:")"},
      {with("/layer", -1), R"(field "layer" is -1: use a whole number >= 0)"},
      {with("/layer", 1.5), R"(field "layer" is 1.5: use a whole number)"},
      {with("/layer", 1e300), R"(field "layer" is 1e+300: use a whole number)"},
      {with("/layer", 9223372036854775808ULL), R"(field "layer" is 9223372036854775808)"},
      {with("/head", true), R"(field "head" is true: use a whole number)"},
      {with("/query", -2), R"(field "query" is -2: use a whole number >= -1)"},
      {with("/view", json::array()), R"(field "view" is a list of 0 items: use an object)"},
      {with("/view", {{"q1", -3}}), R"(field "view.q1" is -3)"},
      {with("/view", {{"q0", 9}, {"q1", 4}}), R"(field "view.q0" is 9: use at most view.q1 (4))"},
      {with("/view", {{"k0", 2}, {"k1", 1}}), R"(field "view.k0" is 2)"},
      {with("/view", {{"z0", 2}}), R"(unknown field "view.z0")"},
      {with("/colours", {{"scale", "loga"}}),
       R"(field "colours.scale" is "loga": use "linear" or "log")"},
      {with("/colours", {{"map", "jet"}}),
       R"(field "colours.map" is "jet": use "viridis", "magma", "cividis" or "grey")"},
      {with("/colours", {{"range", 3}}), R"(field "colours.range" is 3: use "auto")"},
      {with("/colours", {{"diverging", "yes"}}),
       R"(field "colours.diverging" is "yes": use true or false)"},
      {with("/colours", {{"lo", "0"}}), R"(field "colours.lo" is "0": use a finite number)"},
      {with("/colours", fixed_flat),
       R"(field "colours.lo" is 0.5: with range "fixed", use lo < hi)"},
      {with("/colours", fixed_log), R"(field "colours.lo" is 0.0: with scale "log")"},
      {with("/colours", {{"gamma", 2}}), R"(unknown field "colours.gamma")"},
      {with("/tab", "graphs"), R"(field "tab" is "graphs": use "explore", "compare" or "lengths")"},
      {with("/compare_stage", ""), R"(field "compare_stage" is "": use a non-empty string)"},
      {with("/device", "gpu"), R"(field "device" is "gpu": use "cpu" or "cuda")"},
      {with("/precision", "half"),
       R"(field "precision" is "half": use "float32", "bfloat16" or "float16")"},
      {with("/precision", 16), R"(field "precision" is 16: use "float32")"},
      {with("/precision", "bfloat16"),  // the device defaults to the CPU
       R"(field "precision" is "bfloat16": half precisions run on CUDA only: with device "cpu" )"
       R"(use "float32")"},
      {with("/panel_stages", "probs"),
       R"(field "panel_stages" is "probs": use a list of at most 32)"},
      {with("/panel_stages", {"probs", ""}), R"(field "panel_stages[1]" is "")"},
      {with("/profile_stages", json(std::vector<std::string>(33, "probs"))),
       R"(field "profile_stages" is a list of 33 items)"},
      {with("/lengths", {128, 0}),
       R"(field "lengths[1]" is 0: use a whole number from 1 to 1048576)"},
      {with("/lengths", {(1 << 20) + 1}), R"(field "lengths[0]" is 1048577)"},
      {with("/lengths", json(std::vector<int>(17, 64))),
       R"(field "lengths" is a list of 17 items)"},
      {with("/results", 3), R"(field "results" is 3: use a string)"},
      {with("/zoom", 2), R"(unknown field "zoom" (known fields: "format", )"},
      {with("/colours", {{"map", std::string(500, 'x')}}), R"(field "colours.map" is "xxx)"},
  };
  for (const auto& c : cases) {
    const std::string e = error_of(c.text);
    EXPECT_EQ(e.rfind("workspace " + kPath + ": ", 0), 0u) << c.text << "\n -> " << e;
    EXPECT_NE(e.find(c.expect), std::string::npos)
        << "input: " << c.text << "\n got: " << e << "\n want: " << c.expect;
  }
  // Long values are cut in messages.
  EXPECT_LT(error_of(with("/text", json::array({std::string(500, 'x')}))).size(), 200u);
  EXPECT_LT(error_of(with("/colours", {{"map", std::string(500, 'x')}})).size(), 250u);
}

TEST(WorkspaceTest, FutureVersionSaysSoBeforeAnythingElse) {
  json j = json::parse(with("/format_version", 2));
  j["new_panel"] = true;  // a field this build does not know
  const std::string text = j.dump();
  EXPECT_NE(error_of(text).find("written by a newer AttnScope (format_version 2); this build "
                                "reads version 1"),
            std::string::npos)
      << error_of(text);
}

TEST(WorkspaceTest, WrongFormatSaysWhatTheFileSeemsToBe) {
  EXPECT_NE(error_of(R"({"format": "attnscope-eval", "format_version": 1})")
                .find("not a workspace file (it looks like a results file of attnscope-cli eval)"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model": {}, "attention": {}, "position": {}})")
                .find("it looks like a checkpoint's config.json"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"version": "1.0", "model": {}, "pre_tokenizer": {}})")
                .find("it looks like a tokenizer.json"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"format": "other"})").find(R"(its "format" is "other")"),
            std::string::npos);
  EXPECT_NE(error_of("{}").find(R"(it has no "format" field)"), std::string::npos);
}

TEST(WorkspaceTest, RelativePathsResolveAgainstTheFileFolder) {
  json j = json::parse(without("/checkpoints"));
  j["checkpoints"] = {{{"path", "ck/a"}}, {{"path", "/abs/b"}}, {{"path", "../c"}}};
  j["results"] = "eval.json";
  const Workspace w = parse_workspace(j.dump(), kPath);
  ASSERT_EQ(w.checkpoints.size(), 3u);
  EXPECT_EQ(w.checkpoints[0].path, "/data/ws/ck/a");
  EXPECT_EQ(w.checkpoints[1].path, "/abs/b");
  EXPECT_EQ(w.checkpoints[2].path, "/data/ws/../c");
  EXPECT_EQ(w.results, "/data/ws/eval.json");
  const Workspace here = parse_workspace(j.dump(), "figure.json");  // no folder: kept relative
  EXPECT_EQ(here.checkpoints[0].path, "ck/a");
  EXPECT_EQ(here.results, "eval.json");
  j["results"] = "";
  EXPECT_EQ(parse_workspace(j.dump(), kPath).results, "");
}

TEST(WorkspaceTest, FuzzSeedsAreWhatTheirNamesSay) {
  const std::string dir = std::string(ATTN_SOURCE_DIR) + "/tests/fuzz/corpus/workspace/";
  const Workspace full = read_workspace(dir + "full.json");
  EXPECT_EQ(full.checkpoints.at(0).path, dir + "checkpoints/dape_v2");
  EXPECT_EQ(full.results, dir + "eval.json");
  EXPECT_EQ(full.text, "The quick brown fox \"jumps\"\n\xC3\xBC\xE2\x82\xAC");
  EXPECT_EQ(full.precision, "bfloat16");
  EXPECT_NO_THROW(read_workspace(dir + "minimal.json"));
  for (const char* bad :
       {"future_version.json", "eval_results.json", "bad_values.json", "truncated_bad_utf8.json"}) {
    EXPECT_THROW(read_workspace(dir + bad), ConfigError) << bad;
  }
}

class WorkspaceFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("attn_workspace_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string at(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(WorkspaceFileTest, SizeLimitIsCheckedBeforeParsingAndReading) {
  const std::string big(WorkspaceLimits::kMaxFileBytes + 1, ' ');
  EXPECT_NE(error_of(big).find("kMaxFileBytes"), std::string::npos);
  const std::string path = at("huge.json");
  { std::ofstream(path) << "{"; }
  fs::resize_file(path, WorkspaceLimits::kMaxFileBytes * 4);  // sparse: no disk used
  try {
    read_workspace(path);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(WorkspaceLimits::kMaxFileBytes * 4) +
                       " bytes, over the "
                       "limit of " +
                       std::to_string(WorkspaceLimits::kMaxFileBytes)),
              std::string::npos)
        << msg;
  }
}

TEST_F(WorkspaceFileTest, WriteIsAtomicAndReplaces) {
  const std::string path = at("view.json");
  Workspace a = full_workspace();
  write_workspace(path, a);
  EXPECT_TRUE(same(read_workspace(path), a));
  Workspace b = a;
  b.text = "replaced";
  b.checkpoints.resize(1);
  write_workspace(path, b);
  EXPECT_TRUE(same(read_workspace(path), b));
  EXPECT_EQ(read_file(path), workspace_json(b));
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"view.json"});  // no temporary file left
  EXPECT_THROW(write_workspace(at("no/such/folder/view.json"), b), Error);
  try {
    read_workspace(at("missing.json"));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(at("missing.json")), std::string::npos);
  }
}

// The documented layout, spelt out independently: name, 8 little-endian size bytes, content.
std::string reference_fingerprint(const std::vector<std::pair<std::string, std::string>>& files) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto add = [&](const std::string& bytes) {
    for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  };
  for (const auto& [name, content] : files) {
    add(name);
    std::string size(8, '\0');
    for (int i = 0; i < 8; ++i) size[i] = char((uint64_t(content.size()) >> (8 * i)) & 0xff);
    add(size);
    add(content);
  }
  char out[32];
  std::snprintf(out, sizeof out, "fnv1a64:%016llx", static_cast<unsigned long long>(h));
  return out;
}

TEST_F(WorkspaceFileTest, FingerprintFollowsTheContent) {
  const std::string ck = at("ck");
  fs::create_directories(ck);
  const std::string config = "{\"model\": {}}\n";
  std::string model(3 * (1 << 20) + 123, '\0');  // several read chunks
  for (size_t i = 0; i < model.size(); ++i) model[i] = char((i * 2654435761u) >> 13);
  const std::string tokenizer = "{\"model\": {\"type\": \"BPE\"}}";
  write_file_atomic(ck + "/config.json", config);
  EXPECT_EQ(checkpoint_fingerprint(ck), reference_fingerprint({{"config.json", config}}));
  write_file_atomic(ck + "/model.safetensors", model);
  write_file_atomic(ck + "/tokenizer.json", tokenizer);
  write_file_atomic(ck + "/notes.txt", "not part of the fingerprint");
  const std::string fp = checkpoint_fingerprint(ck);
  EXPECT_TRUE(std::regex_match(fp, std::regex("fnv1a64:[0-9a-f]{16}"))) << fp;
  EXPECT_EQ(fp, reference_fingerprint({{"config.json", config},
                                       {"model.safetensors", model},
                                       {"tokenizer.json", tokenizer}}));
  EXPECT_EQ(checkpoint_fingerprint(ck), fp);  // stable
  EXPECT_EQ(check_checkpoint({ck, fp}), CheckpointState::Ok);

  std::string flipped = model;
  flipped[model.size() - 7] ^= 1;  // one bit, in the last chunk
  write_file_atomic(ck + "/model.safetensors", flipped);
  EXPECT_NE(checkpoint_fingerprint(ck), fp);
  EXPECT_EQ(check_checkpoint({ck, fp}), CheckpointState::Changed);
  EXPECT_EQ(check_checkpoint({ck, ""}), CheckpointState::Ok);  // nothing saved to compare
  write_file_atomic(ck + "/model.safetensors", model);
  EXPECT_EQ(checkpoint_fingerprint(ck), fp);
  EXPECT_EQ(check_checkpoint({ck, fp}), CheckpointState::Ok);

  fs::remove(ck + "/config.json");
  EXPECT_EQ(check_checkpoint({ck, fp}), CheckpointState::Missing);
  EXPECT_EQ(check_checkpoint({ck, ""}), CheckpointState::Missing);
  EXPECT_EQ(check_checkpoint({at("nowhere"), fp}), CheckpointState::Missing);
  EXPECT_EQ(check_checkpoint({"", ""}), CheckpointState::Missing);
  EXPECT_THROW(checkpoint_fingerprint(ck), CheckpointError);
  EXPECT_THROW(checkpoint_fingerprint(at("nowhere")), CheckpointError);
}

TEST_F(WorkspaceFileTest, SavedFingerprintIsAcceptedOnReading) {
  const std::string ck = at("ck");
  fs::create_directories(ck);
  write_file_atomic(ck + "/config.json", "{}");
  Workspace w;
  w.checkpoints = {{ck, checkpoint_fingerprint(ck)}};
  write_workspace(at("w.json"), w);
  const Workspace back = read_workspace(at("w.json"));
  EXPECT_TRUE(same(back, w));
  EXPECT_EQ(check_checkpoint(back.checkpoints[0]), CheckpointState::Ok);
}

}  // namespace
}  // namespace attn
