// SPDX-License-Identifier: MIT
// Checkpoint directories: config.json (format version, architecture, variant, position
// encoding, tokenizer kind, provenance), model.safetensors (parameters by name; F32, F16 or
// BF16) and tokenizer.json for BPE. Every inconsistency is an error naming file and field.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/model/transformer.h"
#include "core/tokenizer/tokenizer.h"

namespace attn {

constexpr int kCheckpointFormatVersion = 1;

struct Checkpoint {
  std::string dir;
  ModelConfig config;
  nlohmann::json provenance = nlohmann::json::object();
  TransformerLM model{nullptr};  // float32, on the CPU
  std::shared_ptr<Tokenizer> tokenizer;
};

/// Reads and validates config.json alone (no tensors). Throws ConfigError/CheckpointError.
nlohmann::json read_checkpoint_config(const std::string& dir, ModelConfig* config);
/// Loads a whole checkpoint. Throws CheckpointError (or ConfigError, TokenizerError, FormatError)
/// naming the file and the tensor or field.
Checkpoint load_checkpoint(const std::string& dir);
/// Writes a checkpoint directory (created if needed), each file atomically.
void save_checkpoint(const std::string& dir, TransformerLM& model, const Tokenizer& tokenizer,
                     const nlohmann::json& provenance, st::DType dtype = st::DType::F32);
/// The tokenizer kind config.json names ("bpe" when the section is absent); throws ConfigError
/// for a malformed section.
std::string checkpoint_tokenizer_kind(const nlohmann::json& root, const std::string& where);
/// Makes a tokenizer of the kind named in config.json from the directory's files.
std::shared_ptr<Tokenizer> load_checkpoint_tokenizer(const std::string& dir,
                                                     const std::string& kind);

}  // namespace attn
