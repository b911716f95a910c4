// SPDX-License-Identifier: MIT
#include "core/eval/eval_results.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace attn {

namespace {
constexpr int kReadsVersion = 1;  // kEvalFormatVersion in extrapolation.h (torch side)

const nlohmann::json& field(const nlohmann::json& obj, const char* key, const std::string& where,
                            const std::string& path) {
  if (!obj.is_object() || !obj.contains(key)) {
    throw FormatError(where + ": field '" + path + key + "' is missing");
  }
  return obj.at(key);
}

double number(const nlohmann::json& obj, const char* key, const std::string& where,
              const std::string& path) {
  const auto& v = field(obj, key, where, path);
  if (!v.is_number()) {
    throw FormatError(where + ": field '" + path + key + "' must be a number, got " + v.dump());
  }
  return v.get<double>();
}

/// Whether v is a whole number of at least `lo` (written as an integer, or as a float with no
/// fraction) small enough for int64_t; if so, its value in *out.
bool whole_number(const nlohmann::json& v, int64_t lo, int64_t* out) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<int64_t>::max())) return false;
    *out = int64_t(u);
  } else if (v.is_number_integer()) {
    *out = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9007199254740992.0) return false;
    *out = int64_t(d);
  } else {
    return false;
  }
  return *out >= lo;
}

/// Field `key` as a whole number of at least `lo`; anything else names the field and the value.
int64_t integer(const nlohmann::json& obj, const char* key, const std::string& where,
                const std::string& path, int64_t lo) {
  const auto& v = field(obj, key, where, path);
  int64_t x = 0;
  if (!whole_number(v, lo, &x)) {
    throw FormatError(where + ": field '" + path + key + "' must be a whole number of at least " +
                      std::to_string(lo) + ", got " + v.dump());
  }
  return x;
}

std::string text(const nlohmann::json& obj, const char* key, const std::string& where,
                 const std::string& path) {
  const auto& v = field(obj, key, where, path);
  if (!v.is_string()) {
    throw FormatError(where + ": field '" + path + key + "' must be a string, got " + v.dump());
  }
  return v.get<std::string>();
}

double head_mean(const nlohmann::json& layer, const char* key, const std::string& where,
                 const std::string& path) {
  const auto& v = field(layer, key, where, path);
  if (!v.is_array() || v.empty()) {
    throw FormatError(where + ": field '" + path + key + "' must be a list of per-head numbers");
  }
  double s = 0;
  for (const auto& x : v) {
    if (!x.is_number()) throw FormatError(where + ": field '" + path + key + "' holds " + x.dump());
    s += x.get<double>();
  }
  return s / double(v.size());
}
}  // namespace

EvalResults read_eval_results(const std::string& path) {
  return parse_eval_results(read_file(path), path);
}

EvalResults parse_eval_results(const std::string& json_text, const std::string& path) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(path + ": not valid JSON (" + e.what() + ")");
  }
  if (text(root, "format", path, "") != "attnscope-eval") {
    throw FormatError(path + ": 'format' must be \"attnscope-eval\" (a file of attnscope-cli eval)");
  }
  const int64_t version = integer(root, "format_version", path, "", 1);
  if (version > kReadsVersion) {
    throw FormatError(path + ": format_version " + std::to_string(version) +
                      " is newer than this build reads (" + std::to_string(kReadsVersion) +
                      "); update AttnScope");
  }
  EvalResults r;
  r.path = path;
  r.text = text(root, "text", path, "");
  r.tail = integer(root, "tail", path, "", 1);
  r.windows = integer(root, "windows", path, "", 1);
  for (const auto& L : field(root, "lengths", path, "")) {
    int64_t length = 0;
    if (!whole_number(L, 1, &length)) {
      throw FormatError(path + ": field 'lengths' holds " + L.dump() +
                        " (lengths are whole numbers of at least 1)");
    }
    r.lengths.push_back(length);
  }
  const auto& cks = field(root, "checkpoints", path, "");
  if (!cks.is_array()) throw FormatError(path + ": field 'checkpoints' must be a list");
  for (size_t c = 0; c < cks.size(); ++c) {
    const std::string cp = "checkpoints[" + std::to_string(c) + "].";
    const auto& ck = cks[c];
    EvalCurve curve;
    curve.name = text(ck, "name", path, cp);
    curve.variant = text(ck, "variant", path, cp);
    curve.position = text(ck, "position", path, cp);
    curve.train_len = integer(ck, "train_len", path, cp, 1);
    const auto& results = field(ck, "results", path, cp);
    for (size_t i = 0; i < results.size(); ++i) {
      const std::string rp = cp + "results[" + std::to_string(i) + "].";
      const auto& x = results[i];
      EvalPoint p;
      p.length = integer(x, "length", path, rp, 1);
      p.windows = integer(x, "windows", path, rp, 1);
      p.ppl_tail = number(x, "ppl_tail", path, rp);
      p.ppl_window = number(x, "ppl_window", path, rp);
      p.ppl_tail_sd = number(field(x, "tail_ppl", path, rp), "sd", path, rp + "tail_ppl.");
      p.ppl_window_sd = number(field(x, "window_ppl", path, rp), "sd", path, rp + "window_ppl.");
      const auto& layers = field(x, "layers", path, rp);
      for (size_t l = 0; l < layers.size(); ++l) {
        const std::string lp = rp + "layers[" + std::to_string(l) + "].";
        p.entropy.push_back(head_mean(layers[l], "entropy", path, lp));
        p.distance.push_back(head_mean(layers[l], "distance", path, lp));
        p.sink.push_back(head_mean(layers[l], "sink", path, lp));
        p.local.push_back(head_mean(layers[l], "local", path, lp));
        p.negative.push_back(head_mean(layers[l], "negative", path, lp));
        p.residual.push_back(number(layers[l], "residual", path, lp));
        p.cosine.push_back(number(layers[l], "cosine", path, lp));
      }
      curve.points.push_back(std::move(p));
    }
    r.curves.push_back(std::move(curve));
  }
  return r;
}

}  // namespace attn
