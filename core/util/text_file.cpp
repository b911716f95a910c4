// SPDX-License-Identifier: MIT
#include "core/util/text_file.h"

#include <cstdio>

#include "core/util/atomic_file.h"
#include "core/util/error.h"

#ifdef ATTN_WITH_ZLIB
#include <zlib.h>
#endif

namespace attn {

namespace {
bool ends_with_gz(const std::string& path) {
  return path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
}

#ifdef ATTN_WITH_ZLIB
std::string read_gzip(const std::string& path) {
  std::FILE* probe = std::fopen(path.c_str(), "rb");
  if (!probe) throw Error("cannot open '" + path + "': no such file or not readable");
  unsigned char magic[2] = {0, 0};
  const size_t got = std::fread(magic, 1, 2, probe);
  std::fclose(probe);
  if (got != 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
    throw Error("'" + path + "' is not a gzip file (its name ends in .gz): give a gzip file or "
                "a plain text file without the .gz suffix");
  }
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error("cannot open '" + path + "'");
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int code = 0;
      const std::string msg = gzerror(f, &code);
      gzclose(f);
      throw Error("'" + path + "' is a damaged gzip file (" + msg + ")");
    }
    if (n == 0) break;
    out.append(buf, size_t(n));
  }
  // gzread returns 0 at a truncated end too; gzclose_r reports it as Z_BUF_ERROR.
  const int rc = gzclose_r(f);
  if (rc != Z_OK) {
    throw Error("'" + path + "' is a truncated or damaged gzip file (zlib code " +
                std::to_string(rc) + ")");
  }
  return out;
}
#endif
}  // namespace

bool gzip_supported() {
#ifdef ATTN_WITH_ZLIB
  return true;
#else
  return false;
#endif
}

std::string read_text(const std::string& path) {
  if (!ends_with_gz(path)) return read_file(path);
#ifdef ATTN_WITH_ZLIB
  return read_gzip(path);
#else
  throw Error("'" + path + "' is gzip-compressed but this build has no zlib: decompress it "
              "(gunzip -k) and give the .txt, or rebuild with zlib (zlib1g-dev)");
#endif
}

}  // namespace attn
