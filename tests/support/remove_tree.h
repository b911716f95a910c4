// SPDX-License-Identifier: MIT
// Recursive removal for tests that link LibTorch. PyTorch 2.x's libtorch.so exports its own
// std::filesystem::remove_all, which the dynamic linker binds first and which crashed (null call)
// on the GPU machine with PyTorch 2.11; nftw(3) avoids it.
#pragma once

#include <ftw.h>
#include <cstdio>
#include <string>

namespace attn::test {

inline int remove_tree_entry(const char* path, const struct stat*, int, struct FTW*) {
  return std::remove(path);
}

/// Removes a file or a folder with everything in it; a missing path is not an error.
inline void remove_tree(const std::string& path) {
  ::nftw(path.c_str(), remove_tree_entry, 16, FTW_DEPTH | FTW_PHYS);
}

}  // namespace attn::test
