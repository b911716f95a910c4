// SPDX-License-Identifier: MIT
// Error types of the attention core. Library code throws these on bad input and never exits;
// boundaries (CLI main, worker threads) catch them. Messages say what failed, where, and what
// would be right.
#pragma once

#include <stdexcept>
#include <string>

namespace attn {

/// Base of every error the core throws on bad input or environment.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A configuration value (config.json field, CLI option, model option) is invalid.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A checkpoint directory or one of its files is missing, unreadable or inconsistent.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

/// A tokenizer file is invalid, or a text cannot be tokenized.
class TokenizerError : public Error {
 public:
  using Error::Error;
};

/// A safetensors file is malformed (header, dtype, shape, offsets) or cannot be written.
class FormatError : public Error {
 public:
  using Error::Error;
};

/// Something went wrong on the GPU (no device, out of memory, launch failure).
class CudaError : public Error {
 public:
  using Error::Error;
};

/// A long computation was cancelled by its caller.
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled") {}
};

}  // namespace attn
