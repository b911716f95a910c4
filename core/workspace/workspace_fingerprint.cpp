// SPDX-License-Identifier: MIT
// Checkpoint fingerprints for workspace files: FNV-1a 64 over, for config.json, model.safetensors
// and tokenizer.json in that order (each where present), the file name, its size as 8
// little-endian bytes and its content. Not cryptographic: it only has to notice that a checkpoint
// was retrained or replaced. Files are streamed in chunks, since model files reach gigabytes.
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/util/error.h"
#include "core/workspace/workspace.h"

namespace attn {

namespace {

namespace fs = std::filesystem;

constexpr size_t kChunkBytes = size_t{1} << 20;

class Fnv1a64 {
 public:
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      hash_ ^= p[i];
      hash_ *= 0x100000001b3ULL;
    }
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

void add_file(Fnv1a64& h, const fs::path& file, const std::string& dir) {
  const std::string where = "checkpoint " + dir + ": " + file.filename().string();
  std::error_code ec;
  const uint64_t size = fs::file_size(file, ec);
  if (ec) throw CheckpointError(where + " cannot be read (" + ec.message() + ")");
  const std::string name = file.filename().string();
  h.add(name.data(), name.size());
  unsigned char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(size >> (8 * i));
  h.add(le, sizeof le);

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!f) throw CheckpointError(where + " cannot be opened (missing or not readable)");
  std::vector<char> buf(kChunkBytes);
  uint64_t total = 0;
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
    h.add(buf.data(), n);
    total += n;
  }
  if (std::ferror(f.get())) throw CheckpointError(where + ": reading failed");
  if (total != size) {
    throw CheckpointError(where + " changed while it was read (" + std::to_string(size) +
                          " bytes expected, " + std::to_string(total) + " read); try again");
  }
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

}  // namespace

std::string checkpoint_fingerprint(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw CheckpointError("checkpoint " + dir + ": not a folder (missing or not readable)");
  }
  const fs::path d(dir);
  if (!is_file(d / "config.json")) {
    throw CheckpointError("checkpoint " + dir +
                          ": config.json is missing (is it a checkpoint "
                          "folder written by attnscope-cli train?)");
  }
  Fnv1a64 h;
  add_file(h, d / "config.json", dir);
  for (const char* name : {"model.safetensors", "tokenizer.json"}) {
    if (is_file(d / name)) add_file(h, d / name, dir);
  }
  char out[32];
  std::snprintf(out, sizeof out, "fnv1a64:%016" PRIx64, h.value());
  return out;
}

CheckpointState check_checkpoint(const WorkspaceCheckpoint& checkpoint) {
  if (checkpoint.path.empty()) return CheckpointState::Missing;
  const fs::path config = fs::path(checkpoint.path) / "config.json";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(
      is_file(config) ? std::fopen(config.c_str(), "rb") : nullptr, &std::fclose);
  if (!f) return CheckpointState::Missing;
  f.reset();
  if (checkpoint.fingerprint.empty()) return CheckpointState::Ok;
  try {
    return checkpoint_fingerprint(checkpoint.path) == checkpoint.fingerprint
               ? CheckpointState::Ok
               : CheckpointState::Changed;
  } catch (const Error&) {
    return CheckpointState::Missing;  // a file vanished or became unreadable while hashed
  }
}

}  // namespace attn
