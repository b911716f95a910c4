// SPDX-License-Identifier: MIT
// Atomic file writes: the content goes to a temporary file in the same folder, is flushed to
// disk, and is renamed over the target, so a crash never leaves a half-written file behind.
#pragma once

#include <string>
#include <string_view>

namespace attn {

/// Writes `content` to `path` atomically. Throws attn::Error naming the path on failure.
void write_file_atomic(const std::string& path, std::string_view content);

/// Whether a file name is an atomic write's temporary: "<file>.tmp.<pid>" (write_file_atomic)
/// or "<file>.tmp.<pid>.<n>" (the safetensors writer). A process killed mid-write leaves one.
bool is_write_temporary(const std::string& name);

/// Reads a whole file. Throws attn::Error naming the path when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace attn
