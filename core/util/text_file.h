// SPDX-License-Identifier: MIT
// Reading texts and corpora: plain files, or gzip files (name ending in ".gz") when the build
// has zlib (ATTN_WITH_ZLIB; Debian's zlib1g-dev). No LibTorch.
#pragma once

#include <string>

namespace attn {

/// The whole file as bytes; ".gz" files are decompressed. Throws attn::Error naming the path
/// (missing, unreadable, corrupt gzip, or gzip in a build without zlib).
std::string read_text(const std::string& path);

/// Whether this build reads ".gz" files.
bool gzip_supported();

}  // namespace attn
