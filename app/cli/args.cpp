// SPDX-License-Identifier: MIT
#include "app/cli/args.h"

#include <unistd.h>

#include "core/util/atomic_file.h"
#include "core/util/text_file.h"

namespace attn::cli {

Args::Args(int argc, char** argv, int first, std::set<std::string> valued,
           std::set<std::string> switches) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    const auto eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (switches.count(name)) {
      if (inline_value) throw UsageError("option --" + name + " takes no value");
      switches_set_.insert(name);
    } else if (valued.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argc) throw UsageError("option --" + name + " needs a value");
        value = argv[++i];
      }
      values_[name].push_back(value);
    } else {
      throw UsageError("unknown option --" + name);
    }
  }
}

bool Args::has(const std::string& name) const {
  return switches_set_.count(name) > 0 || values_.count(name) > 0;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::string Args::required(const std::string& name) const {
  if (!values_.count(name)) throw UsageError("missing required option --" + name);
  return get(name);
}

namespace {
int64_t cli_parse_int(const std::string& name, const std::string& text, int64_t min_value) {
  std::size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty()) {
    throw UsageError("option --" + name + " needs an integer, got \"" + text + "\"");
  }
  if (v < min_value) {
    throw UsageError("option --" + name + " must be at least " + std::to_string(min_value) +
                     ", got " + text);
  }
  return v;
}
}  // namespace

int64_t Args::get_int(const std::string& name, int64_t fallback, int64_t min_value) const {
  if (!values_.count(name)) return fallback;
  return cli_parse_int(name, get(name), min_value);
}

std::vector<std::string> Args::get_list(const std::string& name) const {
  std::vector<std::string> out;
  const std::string s = get(name);
  for (std::size_t pos = 0; !s.empty();) {
    const auto comma = s.find(',', pos);
    out.push_back(s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::vector<int64_t> Args::get_int_list(const std::string& name) const {
  std::vector<int64_t> out;
  for (const auto& part : get_list(name)) out.push_back(cli_parse_int(name, part, 0));
  return out;
}

std::string read_text_file(const std::string& path) { return read_text(path); }

std::string self_exe_path() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw Error("cannot find this program's path (/proc/self/exe)");
  return std::string(buf, size_t(n));
}

}  // namespace attn::cli
