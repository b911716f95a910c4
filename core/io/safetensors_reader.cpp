// SPDX-License-Identifier: MIT
// Safetensors reader: loads a whole file, checks the header length against the limits and the
// file size, has safetensors_header.cpp validate the JSON header, rejects overlapping tensors,
// and only then hands out data, so a damaged file ends in a FormatError naming the field.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/io/safetensors.h"
#include "core/io/safetensors_detail.h"
#include "core/util/error.h"

namespace attn::st {

namespace st_detail {

/// Rejects two tensors whose non-empty byte ranges intersect, naming both.
void reader_check_overlaps(const std::string& label, const std::vector<TensorInfo>& tensors) {
  std::vector<const TensorInfo*> order;
  for (const TensorInfo& t : tensors) {
    if (t.end > t.begin) order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  const TensorInfo* reach = nullptr;  // the range seen so far that ends last
  for (const TensorInfo* t : order) {
    if (reach != nullptr && t->begin < reach->end) {
      throw FormatError(label + ": tensors '" + reach->name + "' [" +
                        std::to_string(reach->begin) + ", " + std::to_string(reach->end) +
                        ") and '" + t->name + "' [" + std::to_string(t->begin) + ", " +
                        std::to_string(t->end) + ") overlap in the data section");
    }
    if (reach == nullptr || t->end > reach->end) reach = t;
  }
}

/// Header length from the first 8 bytes, checked against the limit and the file size.
uint64_t reader_header_length(const std::vector<uint8_t>& bytes, const std::string& label,
                              const Limits& limits) {
  if (bytes.size() < 8) {
    throw FormatError(label + ": file has " + std::to_string(bytes.size()) +
                      " bytes, fewer than the 8-byte header length every safetensors file "
                      "starts with");
  }
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | bytes[i];
  if (length > limits.max_header_bytes) {
    throw FormatError(label + ": header length " + std::to_string(length) +
                      " is over the limit of " + std::to_string(limits.max_header_bytes) +
                      " bytes (Limits::max_header_bytes)");
  }
  if (length > bytes.size() - 8) {
    throw FormatError(label + ": header length " + std::to_string(length) +
                      " is beyond the end of the file (" + std::to_string(bytes.size() - 8) +
                      " bytes follow the length field); the file may be truncated");
  }
  return length;
}

}  // namespace st_detail

Reader Reader::parse(std::vector<uint8_t> bytes, const std::string& label,
                     const Limits& limits) {
  if (bytes.size() > limits.max_file_bytes) {
    throw FormatError(label + ": file has " + std::to_string(bytes.size()) +
                      " bytes, over the limit of " + std::to_string(limits.max_file_bytes) +
                      " (Limits::max_file_bytes)");
  }
  const uint64_t header_bytes = st_detail::reader_header_length(bytes, label, limits);
  Reader reader;
  reader.path_ = label;
  reader.data_start_ = 8 + header_bytes;
  st_detail::HeaderContents contents =
      st_detail::parse_header(bytes.data() + 8, bytes.data() + reader.data_start_, label, limits,
                              bytes.size() - reader.data_start_);
  st_detail::reader_check_overlaps(label, contents.tensors);
  std::sort(contents.tensors.begin(), contents.tensors.end(),
            [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });
  reader.metadata_ = std::move(contents.metadata);
  reader.tensors_ = std::move(contents.tensors);
  reader.bytes_ = std::move(bytes);
  return reader;
}

Reader Reader::open(const std::string& path, const Limits& limits) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw FormatError(path + ": cannot open: " + std::strerror(errno) +
                      " (check the path and its permissions)");
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw FormatError(path + ": not a regular file; expected a .safetensors file");
  }
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size > limits.max_file_bytes) {
    ::close(fd);
    throw FormatError(path + ": file has " + std::to_string(size) + " bytes, over the limit of " +
                      std::to_string(limits.max_file_bytes) + " (Limits::max_file_bytes)");
  }
  std::vector<uint8_t> bytes(size);
  uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, bytes.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::strerror(errno) : "file shrank while being read";
      ::close(fd);
      throw FormatError(path + ": cannot read: " + why);
    }
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return parse(std::move(bytes), path, limits);
}

}  // namespace attn::st
