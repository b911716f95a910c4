// SPDX-License-Identifier: MIT
// Safetensors writer: validates the tensors, builds the JSON header (padded with spaces so the
// data starts at a multiple of 8), then streams header and tensor bytes to a temporary file
// beside the target, fsyncs and renames it, so files of many GB never sit in memory twice and a
// failed write never leaves a half-written file or clobbers the old one.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "core/io/safetensors.h"
#include "core/io/safetensors_detail.h"
#include "core/util/error.h"

namespace attn::st {

namespace st_detail {

using WriterJson = nlohmann::ordered_json;

/// A temporary file beside `path`; removed again unless commit() renamed it over `path`.
class WriterTempFile {
 public:
  explicit WriterTempFile(const std::string& path) : path_(path) {
    static std::atomic<unsigned> counter{0};
    tmp_path_ = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) fail(std::strerror(errno), " (check that the folder exists and is writable)");
  }
  WriterTempFile(const WriterTempFile&) = delete;
  WriterTempFile& operator=(const WriterTempFile&) = delete;
  ~WriterTempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_path_.c_str());
  }

  /// Writes all `size` bytes, retrying short writes.
  void put(const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = ::write(fd_, p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(n < 0 ? std::strerror(errno) : "write returned 0", "");
      p += n;
      size -= static_cast<std::size_t>(n);
    }
  }

  /// Flushes the file to disk and renames it over the target.
  void commit() {
    if (::fsync(fd_) != 0) fail(std::strerror(errno), "");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(std::strerror(errno), "");
    if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) fail(std::strerror(errno), "");
    committed_ = true;
    sync_folder();
  }

 private:
  [[noreturn]] void fail(const std::string& why, const std::string& hint) {
    throw FormatError("cannot write '" + path_ + "': " + why + hint);
  }

  /// Makes the rename durable; best effort, since the data itself is already on disk.
  void sync_folder() {
    const std::size_t slash = path_.rfind('/');
    const std::string folder = slash == std::string::npos ? "." : path_.substr(0, slash + 1);
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }

  std::string path_;
  std::string tmp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Checks one tensor's name, shape and size; returns its byte count.
uint64_t writer_check_tensor(const std::string& path, const TensorData& t,
                             std::set<std::string>* names) {
  const std::string where = "cannot write '" + path + "': tensor '" + t.name + "': ";
  if (t.name == "__metadata__") {
    throw FormatError(where + "\"__metadata__\" is reserved for metadata; rename the tensor");
  }
  if (!names->insert(t.name).second) {
    throw FormatError(where + "name appears twice; tensor names must be unique");
  }
  uint64_t nbytes = 0;
  if (!checked_nbytes(t.dtype, t.shape, &nbytes)) {
    throw FormatError(where + "shape " + shape_text(t.shape) + " of " + dtype_name(t.dtype) +
                      " has a negative dimension or more than 2^64 bytes");
  }
  if (nbytes != t.nbytes) {
    throw FormatError(where + std::to_string(t.nbytes) + " bytes given, but shape " +
                      shape_text(t.shape) + " of " + dtype_name(t.dtype) + " needs " +
                      std::to_string(nbytes));
  }
  if (nbytes > 0 && t.data == nullptr) {
    throw FormatError(where + "data is null but " + std::to_string(nbytes) + " bytes are needed");
  }
  return nbytes;
}

/// Dumps the header; a name or metadata string that is not UTF-8 is reported by name.
std::string writer_dump(const std::string& path, const WriterJson& header) {
  try {
    return header.dump();
  } catch (const WriterJson::type_error&) {
    for (const auto& item : header.items()) {
      try {
        WriterJson(item.key()).dump();
        item.value().dump();
      } catch (const WriterJson::type_error&) {
        throw FormatError("cannot write '" + path + "': '" + item.key() +
                          "' holds a string that is not valid UTF-8 (tensor names and "
                          "metadata must be UTF-8)");
      }
    }
    throw FormatError("cannot write '" + path + "': header is not valid UTF-8");
  }
}

/// The JSON header, padded with spaces so that 8 + its length is a multiple of 8.
std::string writer_header(const std::string& path, const std::vector<TensorData>& tensors,
                          const std::map<std::string, std::string>& metadata) {
  WriterJson header = WriterJson::object();
  if (!metadata.empty()) {
    WriterJson meta = WriterJson::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorData& t : tensors) {
    const uint64_t nbytes = writer_check_tensor(path, t, &names);
    WriterJson entry = WriterJson::object();
    entry["dtype"] = dtype_name(t.dtype);
    entry["shape"] = t.shape;
    entry["data_offsets"] = WriterJson::array({offset, offset + nbytes});
    header[t.name] = std::move(entry);
    offset += nbytes;
  }
  std::string text = writer_dump(path, header);
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace st_detail

void write(const std::string& path, const std::vector<TensorData>& tensors,
           const std::map<std::string, std::string>& metadata) {
  if (path.empty()) throw FormatError("cannot write a safetensors file to an empty path");
  const std::string header = st_detail::writer_header(path, tensors, metadata);
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i));
  st_detail::WriterTempFile file(path);
  file.put(length, sizeof length);
  file.put(header.data(), header.size());
  for (const TensorData& t : tensors) {
    if (t.nbytes > 0) file.put(t.data, t.nbytes);
  }
  file.commit();
}

}  // namespace attn::st
