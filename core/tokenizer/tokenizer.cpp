// SPDX-License-Identifier: MIT
// The Tokenizer base-class helpers (encode, decode, display labels), strict UTF-8 validation
// with byte offsets, and the 256-symbol byte tokenizer used by byte-level models.
#include "core/tokenizer/tokenizer.h"

#include <cstdio>

#include "core/util/error.h"

namespace attn {
namespace tokenizer_detail {

std::string hex_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(b));
  return buf;
}

/// Length of the valid UTF-8 sequence starting at `pos`, or 0 with `why` set when invalid.
/// Rejects stray continuation bytes, overlong forms, surrogates, values above U+10FFFF and
/// sequences cut short by the end of the text or by a byte that is not a continuation byte.
std::size_t utf8_sequence_length(std::string_view s, std::size_t pos, std::string* why) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // below: overlong
    if (b0 == 0xED) hi = 0x9F;  // above: UTF-16 surrogates U+D800..U+DFFF
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // below: overlong
    if (b0 == 0xF4) hi = 0x8F;  // above: beyond U+10FFFF
  } else {
    if (why) {
      *why = b0 <= 0xBF   ? "continuation byte " + hex_byte(b0) + " without a lead byte"
             : b0 <= 0xC1 ? "overlong 2-byte sequence (lead byte " + hex_byte(b0) + ")"
                          : "lead byte " + hex_byte(b0) + " would encode a value above U+10FFFF";
    }
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    if (pos + k >= s.size()) {
      if (why) *why = "truncated " + std::to_string(len) + "-byte sequence at end of text";
      return 0;
    }
    const auto b = static_cast<unsigned char>(s[pos + k]);
    const unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) {
      if (why) {
        if (b < 0x80 || b > 0xBF) {
          *why = "truncated " + std::to_string(len) + "-byte sequence (byte " + hex_byte(b) +
                 " is not a continuation byte)";
        } else if (b0 == 0xED) {
          *why = "UTF-16 surrogate code point encoded in UTF-8";
        } else if (b0 == 0xF4) {
          *why = "code point above U+10FFFF";
        } else {
          *why = "overlong " + std::to_string(len) + "-byte sequence";
        }
      }
      return 0;
    }
  }
  return len;
}

/// Label for one complete, valid UTF-8 sequence, or "" if it should be shown as hex bytes.
std::string visible_char(std::string_view seq) {
  if (seq.size() == 1) {
    const auto c = static_cast<unsigned char>(seq[0]);
    if (c == ' ') return "\u2423";   // ␣
    if (c == '\n') return "\u21B5";  // ↵
    if (c == '\t') return "\u21E5";  // ⇥
    if (c < 0x20 || c == 0x7F) return "";
    return std::string(seq);
  }
  // C1 control characters U+0080..U+009F are encoded as C2 80..C2 9F.
  if (seq.size() == 2 && static_cast<unsigned char>(seq[0]) == 0xC2 &&
      static_cast<unsigned char>(seq[1]) <= 0x9F) {
    return "";
  }
  return std::string(seq);
}

class ByteTokenizer final : public Tokenizer {
 public:
  std::string kind() const override { return "byte"; }
  int64_t vocab_size() const override { return 256; }

  std::vector<Token> encode_with_offsets(std::string_view text) const override {
    check_utf8(text);
    std::vector<Token> out(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto pos = static_cast<int64_t>(i);
      out[i] = Token{static_cast<unsigned char>(text[i]), pos, pos + 1};
    }
    return out;
  }

  std::string token_bytes(int64_t id) const override {
    if (id < 0 || id > 255) {
      throw TokenizerError("byte tokenizer: token id " + std::to_string(id) +
                           " is outside the vocabulary (valid ids are 0..255)");
    }
    return std::string(1, static_cast<char>(id));
  }
};

}  // namespace tokenizer_detail

std::vector<int64_t> Tokenizer::encode(std::string_view text) const {
  const std::vector<Token> tokens = encode_with_offsets(text);
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const Token& t : tokens) ids.push_back(t.id);
  return ids;
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) out += token_bytes(id);
  return out;
}

std::string Tokenizer::display(int64_t id) const {
  const std::string bytes = token_bytes(id);
  std::string out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t len = tokenizer_detail::utf8_sequence_length(bytes, pos, nullptr);
    const std::string label =
        len == 0 ? std::string()
                 : tokenizer_detail::visible_char(std::string_view(bytes).substr(pos, len));
    if (label.empty()) {
      // Invalid, incomplete or control: show its bytes in hex (one byte if invalid).
      const std::size_t n = len == 0 ? 1 : len;
      for (std::size_t k = pos; k < pos + n; ++k) {
        out += "<" + tokenizer_detail::hex_byte(static_cast<unsigned char>(bytes[k])) + ">";
      }
      pos += n;
      continue;
    }
    out += label;
    pos += len;
  }
  return out;
}

void check_utf8(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    std::string why;
    const std::size_t len = tokenizer_detail::utf8_sequence_length(text, pos, &why);
    if (len == 0) {
      throw TokenizerError("invalid UTF-8 at byte offset " + std::to_string(pos) + ": " + why +
                           "; the text must be valid UTF-8 (re-save it as UTF-8)");
    }
    pos += len;
  }
}

std::unique_ptr<Tokenizer> make_byte_tokenizer() {
  return std::make_unique<tokenizer_detail::ByteTokenizer>();
}

}  // namespace attn
