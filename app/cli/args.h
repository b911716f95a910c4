// SPDX-License-Identifier: MIT
// A small command-line parser for attnscope-cli: --flag VALUE, --flag=VALUE and boolean
// switches, with UsageError (exit code 2) for unknown or malformed options.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/util/error.h"

namespace attn::cli {

/// A usage error: the CLI prints it with the command's usage and exits with code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

class Args {
 public:
  /// Parses argv[first..]; `valued` options take a value, `switches` do not. Repeated valued
  /// options accumulate. Throws UsageError for anything else.
  Args(int argc, char** argv, int first, std::set<std::string> valued,
       std::set<std::string> switches);
  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> all(const std::string& name) const;
  std::string required(const std::string& name) const;
  int64_t get_int(const std::string& name, int64_t fallback, int64_t min_value) const;
  /// Comma-separated values ("raw,probs"); empty when the option is absent.
  std::vector<std::string> get_list(const std::string& name) const;
  /// Comma-separated integers ("0,2,3").
  std::vector<int64_t> get_int_list(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::set<std::string> switches_set_;
  std::vector<std::string> positional_;
};

/// This program's own path (from /proc/self/exe). Throws attn::Error when it cannot be read.
std::string self_exe_path();

/// Reads a text file for --text (".gz" decompressed; UTF-8 checked later by the tokenizer).
std::string read_text_file(const std::string& path);

}  // namespace attn::cli
