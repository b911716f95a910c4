// SPDX-License-Identifier: MIT
// Hugging Face tokenizer.json for byte-level BPE: strict loading (every problem is reported with
// the file and the field) and atomic saving in a layout that tokenizers.Tokenizer.from_file
// reads (model BPE, ByteLevel pre-tokenizer and decoder).
#include <nlohmann/json.hpp>

#include "core/tokenizer/bpe_tokenizer.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace attn {
namespace bpe_json_detail {

using Json = nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw TokenizerError(where + what);
}

void check_pre_tokenizer(const Json& root, const std::string& where) {
  const auto it = root.find("pre_tokenizer");
  const std::string expected =
      R"(; expected {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})";
  if (it == root.end() || it->is_null()) fail(where, "field 'pre_tokenizer' is missing" + expected);
  if (!it->is_object() || it->value("type", Json()) != "ByteLevel") {
    fail(where, "pre_tokenizer is " + it->dump() + ", which is not supported" + expected);
  }
  const Json prefix = it->value("add_prefix_space", Json(false));
  if (prefix != Json(false)) {
    fail(where,
         "pre_tokenizer.add_prefix_space = " + prefix.dump() + " is not supported" + expected);
  }
  const Json regex = it->value("use_regex", Json(true));
  if (regex != Json(true)) {
    fail(where, "pre_tokenizer.use_regex = " + regex.dump() + " is not supported" + expected);
  }
  const auto norm = root.find("normalizer");
  if (norm != root.end() && !norm->is_null()) {
    fail(where, "normalizer " + norm->dump() + " is not supported; expected null");
  }
}

void check_model_options(const Json& model, const std::string& where) {
  if (!model.contains("type")) {
    // Hugging Face accepts an untagged model; vocab + merges make it a BPE.
  } else if (model["type"] != "BPE") {
    fail(where, "model.type is " + model["type"].dump() + "; only \"BPE\" is supported");
  }
  const Json dropout = model.value("dropout", Json());
  if (!dropout.is_null() && !(dropout.is_number() && dropout.get<double>() == 0.0)) {
    fail(where, "model.dropout = " + dropout.dump() + " is not supported; expected null");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Json v = model.value(key, Json());
    if (!v.is_null() && v != "") {
      fail(where, std::string("model.") + key + " = " + v.dump() +
                      " is not supported by byte-level BPE; expected \"\" or null");
    }
  }
  if (model.value("ignore_merges", Json(false)) != false) {
    fail(where, "model.ignore_merges = true is not supported; expected false");
  }
}

std::vector<std::pair<std::string, int64_t>> read_vocab(const Json& model,
                                                        const std::string& where) {
  const auto it = model.find("vocab");
  if (it == model.end()) fail(where, "field 'model.vocab' is missing");
  if (!it->is_object()) {
    fail(where, "model.vocab must be a JSON object mapping token strings to ids, not " +
                    std::string(it->type_name()));
  }
  std::vector<std::pair<std::string, int64_t>> vocab;
  vocab.reserve(it->size());
  for (const auto& [token, id] : it->items()) {
    if (!id.is_number_integer()) {
      fail(where, "model.vocab['" + token + "'] is " + id.dump() + "; ids must be integers 0..n-1");
    }
    vocab.emplace_back(token, id.get<int64_t>());
  }
  return vocab;
}

std::vector<BpeTokenizer::Merge> read_merges(const Json& model, const std::string& where) {
  const auto it = model.find("merges");
  if (it == model.end()) fail(where, "field 'model.merges' is missing (use [] for no merges)");
  if (!it->is_array()) fail(where, "model.merges must be a JSON array");
  std::vector<BpeTokenizer::Merge> merges;
  merges.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& m = (*it)[i];
    const std::string field = "model.merges[" + std::to_string(i) + "]";
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const std::size_t space = s.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == s.size() ||
          s.find(' ', space + 1) != std::string::npos) {
        fail(where, field + " is " + m.dump() + "; expected two tokens separated by one space");
      }
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      fail(where, field + " is " + m.dump() + R"(; expected "a b" or ["a", "b"])");
    }
  }
  return merges;
}

std::vector<AddedToken> read_added_tokens(const Json& root, const std::string& where) {
  std::vector<AddedToken> added;
  const auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return added;
  if (!it->is_array()) fail(where, "added_tokens must be a JSON array");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& t = (*it)[i];
    const std::string field = "added_tokens[" + std::to_string(i) + "]";
    if (!t.is_object()) fail(where, field + " must be an object with 'id' and 'content'");
    if (!t.contains("id") || !t["id"].is_number_integer()) {
      fail(where, field + ".id is missing or not an integer");
    }
    if (!t.contains("content") || !t["content"].is_string()) {
      fail(where, field + ".content is missing or not a string");
    }
    const Json special = t.value("special", Json(true));
    added.push_back(AddedToken{t["id"].get<int64_t>(), t["content"].get<std::string>(),
                               special.is_boolean() ? special.get<bool>() : true});
  }
  return added;
}

std::string quote_json(const std::string& s) { return Json(s).dump(); }

}  // namespace bpe_json_detail

BpeTokenizer BpeTokenizer::from_json(std::string_view json_text, const std::string& origin) {
  namespace d = bpe_json_detail;
  const std::string where = "'" + origin + "': ";
  d::Json root;
  try {
    root = d::Json::parse(json_text.begin(), json_text.end());
  } catch (const d::Json::parse_error& e) {
    d::fail(where, "invalid JSON at byte " + std::to_string(e.byte) + " (" + e.what() +
                       "); expected a Hugging Face tokenizer.json");
  } catch (const d::Json::exception& e) {  // e.g. a number too large for a double
    d::fail(where, std::string("unusable JSON (") + e.what() +
                       "); expected a Hugging Face tokenizer.json");
  }
  if (!root.is_object()) d::fail(where, "the top level must be a JSON object");
  const auto model = root.find("model");
  if (model == root.end()) d::fail(where, "field 'model' is missing; expected a BPE model");
  if (!model->is_object()) d::fail(where, "field 'model' must be a JSON object");
  try {
    d::check_model_options(*model, where);
    d::check_pre_tokenizer(root, where);
    return BpeTokenizer(d::read_vocab(*model, where), d::read_merges(*model, where),
                        d::read_added_tokens(root, where), where);
  } catch (const d::Json::exception& e) {
    d::fail(where, std::string("unexpected value: ") + e.what());
  }
}

BpeTokenizer BpeTokenizer::load(const std::string& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error& e) {
    throw TokenizerError(e.what());
  }
  return from_json(text, path);
}

std::string BpeTokenizer::to_json() const {
  namespace d = bpe_json_detail;
  std::string out = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n";
  out += "  \"added_tokens\": [";
  for (std::size_t i = 0; i < added_.size(); ++i) {
    const AddedToken& t = added_[i];
    nlohmann::ordered_json j = {
        {"id", t.id},      {"content", t.content},     {"single_word", false}, {"lstrip", false},
        {"rstrip", false}, {"normalized", !t.special}, {"special", t.special}};
    out += (i == 0 ? "\n    " : ",\n    ") + j.dump();
  }
  out += added_.empty() ? "],\n" : "\n  ],\n";
  out += "  \"normalizer\": null,\n";
  out +=
      "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
      "\"trim_offsets\": true, \"use_regex\": true},\n";
  out += "  \"post_processor\": null,\n";
  out +=
      "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
      "\"trim_offsets\": true, \"use_regex\": true},\n";
  out +=
      "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
      "    \"continuing_subword_prefix\": \"\",\n    \"end_of_word_suffix\": \"\",\n"
      "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"vocab\": {";
  bool first = true;
  for (std::size_t id = 0; id < token_strings_.size(); ++id) {
    if (added_only_[id]) continue;
    out += (first ? "\n      " : ",\n      ") + d::quote_json(token_strings_[id]) + ": " +
           std::to_string(id);
    first = false;
  }
  out += "\n    },\n    \"merges\": [";
  for (std::size_t i = 0; i < merges_.size(); ++i) {
    out += (i == 0 ? "\n      " : ",\n      ") +
           d::quote_json(merges_[i].first + " " + merges_[i].second);
  }
  out += merges_.empty() ? "]\n  }\n}\n" : "\n    ]\n  }\n}\n";
  return out;
}

void BpeTokenizer::save(const std::string& path) const { write_file_atomic(path, to_json()); }

std::unique_ptr<Tokenizer> load_bpe_tokenizer(const std::string& path) {
  return std::make_unique<BpeTokenizer>(BpeTokenizer::load(path));
}

}  // namespace attn
