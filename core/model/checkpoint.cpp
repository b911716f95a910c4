// SPDX-License-Identifier: MIT
#include "core/model/checkpoint.h"

#include <cstring>
#include <filesystem>

#include "core/tokenizer/bpe_tokenizer.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace attn {

namespace fs = std::filesystem;

namespace {
std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

torch::Dtype torch_dtype_of(st::DType d) {
  switch (d) {
    case st::DType::F32: return torch::kFloat32;
    case st::DType::F16: return torch::kFloat16;
    case st::DType::BF16: return torch::kBFloat16;
    default: return torch::kFloat64;  // never used: callers check first
  }
}

st::DType st_dtype_of(torch::Dtype d) {
  if (d == torch::kFloat16) return st::DType::F16;
  if (d == torch::kBFloat16) return st::DType::BF16;
  return st::DType::F32;
}
}  // namespace

nlohmann::json read_checkpoint_config(const std::string& dir, ModelConfig* config) {
  const std::string path = (fs::path(dir) / "config.json").string();
  if (!fs::is_directory(dir)) {
    throw CheckpointError("checkpoint '" + dir + "' is not a directory (a checkpoint is a "
                          "directory with config.json and model.safetensors)");
  }
  if (!fs::exists(path)) throw CheckpointError(path + ": missing (every checkpoint has one)");
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!root.is_object()) throw ConfigError(path + ": the top level must be a JSON object");
  const auto format = cfg::get_string(root, "format", "", "", path);
  if (format != "attnscope-checkpoint") {
    throw ConfigError(path + ": field 'format' must be \"attnscope-checkpoint\", got \"" + format +
                      "\"");
  }
  const int64_t version = cfg::get_int(root, "format_version", "", 0, 1, path);
  if (version == 0) throw ConfigError(path + ": missing field 'format_version'");
  if (version > kCheckpointFormatVersion) {
    throw ConfigError(path + ": format_version " + std::to_string(version) +
                      " is newer than this build reads (" +
                      std::to_string(kCheckpointFormatVersion) + "); update AttnScope");
  }
  cfg::reject_unknown(root, {"format", "format_version", "model", "attention", "position",
                             "tokenizer", "provenance"},
                      "", path);
  if (config) *config = model_config_from_json(root, path);
  return root;
}

std::string checkpoint_tokenizer_kind(const nlohmann::json& root, const std::string& where) {
  if (!root.contains("tokenizer")) return "bpe";
  const auto& t = root.at("tokenizer");
  if (!t.is_object()) throw ConfigError(where + ": 'tokenizer' must be a JSON object");
  cfg::reject_unknown(t, {"kind"}, "tokenizer", where);
  return cfg::get_string(t, "kind", "tokenizer", "bpe", where);
}

std::shared_ptr<Tokenizer> load_checkpoint_tokenizer(const std::string& dir,
                                                     const std::string& kind) {
  if (kind == "byte") return make_byte_tokenizer();
  if (kind == "bpe") {
    const std::string path = (fs::path(dir) / "tokenizer.json").string();
    if (!fs::exists(path)) {
      throw CheckpointError(path + ": missing (config.json says tokenizer.kind is \"bpe\")");
    }
    return load_bpe_tokenizer(path);
  }
  throw ConfigError((fs::path(dir) / "config.json").string() + ": 'tokenizer.kind' must be "
                    "\"bpe\" or \"byte\", got \"" + kind + "\"");
}

namespace {
void load_weights(TransformerLM& model, const std::string& path) {
  if (!fs::exists(path)) throw CheckpointError(path + ": missing (every checkpoint has one)");
  const auto reader = st::Reader::open(path);
  torch::NoGradGuard no_grad;
  const auto params = model->named_parameters(true);
  for (const auto& item : params) {
    const auto* info = reader.find(item.key());
    if (!info) {
      throw CheckpointError(path + ": tensor '" + item.key() + "' is missing (config.json "
                            "implies shape " + shape_str(item.value().sizes().vec()) + ")");
    }
    if (info->dtype != st::DType::F32 && info->dtype != st::DType::F16 &&
        info->dtype != st::DType::BF16) {
      throw CheckpointError(path + ": tensor '" + item.key() + "' has dtype " +
                            st::dtype_name(info->dtype) + "; weights must be F32, F16 or BF16");
    }
    if (info->shape != item.value().sizes().vec()) {
      throw CheckpointError(path + ": tensor '" + item.key() + "' has shape " +
                            shape_str(info->shape) + ", config.json implies " +
                            shape_str(item.value().sizes().vec()));
    }
    auto t = torch::empty(info->shape, torch::TensorOptions().dtype(torch_dtype_of(info->dtype)));
    std::memcpy(t.data_ptr(), reader.data(*info), info->end - info->begin);
    item.value().copy_(t.to(torch::kFloat32));
  }
  for (const auto& info : reader.tensors()) {
    if (!params.contains(info.name)) {
      throw CheckpointError(path + ": unexpected tensor '" + info.name + "' (not part of the "
                            "model that config.json describes)");
    }
  }
}
}  // namespace

Checkpoint load_checkpoint(const std::string& dir) {
  Checkpoint ck;
  ck.dir = dir;
  const auto root = read_checkpoint_config(dir, &ck.config);
  const std::string cfg_path = (fs::path(dir) / "config.json").string();
  const std::string kind = checkpoint_tokenizer_kind(root, cfg_path);
  if (root.contains("provenance")) ck.provenance = root.at("provenance");
  ck.tokenizer = load_checkpoint_tokenizer(dir, kind);
  if (ck.tokenizer->vocab_size() > ck.config.vocab_size) {
    throw CheckpointError(cfg_path + ": 'model.vocab_size' is " +
                          std::to_string(ck.config.vocab_size) + " but the tokenizer has " +
                          std::to_string(ck.tokenizer->vocab_size()) + " tokens");
  }
  ck.model = TransformerLM(ck.config, cfg_path);
  load_weights(ck.model, (fs::path(dir) / "model.safetensors").string());
  ck.model->eval();
  return ck;
}

void save_checkpoint(const std::string& dir, TransformerLM& model, const Tokenizer& tokenizer,
                     const nlohmann::json& provenance, st::DType dtype) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw CheckpointError("cannot create checkpoint folder '" + dir + "': " + ec.message());
  nlohmann::json root;
  root["format"] = "attnscope-checkpoint";
  root["format_version"] = kCheckpointFormatVersion;
  model_config_to_json(model->config(), root);
  root["tokenizer"] = {{"kind", tokenizer.kind()}};
  root["provenance"] = provenance;
  if (tokenizer.kind() == "bpe") {
    const auto* bpe = dynamic_cast<const BpeTokenizer*>(&tokenizer);
    if (!bpe) throw Error("save_checkpoint: a \"bpe\" tokenizer must be a BpeTokenizer");
    bpe->save((fs::path(dir) / "tokenizer.json").string());
  }
  const auto tdtype = torch_dtype_of(dtype == st::DType::F16 || dtype == st::DType::BF16
                                         ? dtype : st::DType::F32);
  std::vector<torch::Tensor> keep;
  std::vector<st::TensorData> tensors;
  for (const auto& item : model->named_parameters(true)) {
    if (tdtype == torch::kFloat16) {
      const double peak = item.value().detach().abs().max().item<double>();
      if (!(peak <= 65504.0)) {
        throw CheckpointError("cannot save '" + item.key() + "' as F16: its largest magnitude " +
                              std::to_string(peak) + " is beyond F16's 65504; use BF16 or F32");
      }
    }
    keep.push_back(item.value().detach().to(torch::kCPU, tdtype).contiguous());
    const auto& t = keep.back();
    tensors.push_back({item.key(), st_dtype_of(tdtype), t.sizes().vec(), t.data_ptr(),
                       size_t(t.numel()) * t.element_size()});
  }
  st::write((fs::path(dir) / "model.safetensors").string(), tensors,
            {{"format", "attnscope-weights"}, {"format_version", "1"}});
  write_file_atomic((fs::path(dir) / "config.json").string(), root.dump(2) + "\n");
}

}  // namespace attn
