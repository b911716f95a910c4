// SPDX-License-Identifier: MIT
// GPT-2's splitting regex implemented as a small hand-written matcher over UTF-8 code points.
// Each alternative of the regex is tried in order at the current position, as a backtracking
// regex engine would, so the pieces are identical to those of Python's `regex` or JavaScript.
#include "core/tokenizer/pretokenizer.h"

#include <array>
#include <cstddef>

#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/unicode_tables.h"

namespace attn {
namespace pretokenizer_detail {

enum class CharClass : unsigned char { kLetter, kNumber, kSpace, kOther };

CharClass classify(char32_t cp) {
  if (unicode::is_letter(cp)) return CharClass::kLetter;
  if (unicode::is_number(cp)) return CharClass::kNumber;
  if (unicode::is_white_space(cp)) return CharClass::kSpace;
  return CharClass::kOther;
}

std::array<CharClass, 128> make_ascii_classes() {
  std::array<CharClass, 128> table{};
  for (char32_t cp = 0; cp < 128; ++cp) table[cp] = classify(cp);
  return table;
}

/// Class of the code point at `pos` of valid UTF-8 text; sets `len` to its byte length.
CharClass class_at(std::string_view s, std::size_t pos, std::size_t* len) {
  static const std::array<CharClass, 128> ascii = make_ascii_classes();
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    *len = 1;
    return ascii[b0];
  }
  auto cont = [&](std::size_t k) { return static_cast<char32_t>(s[pos + k]) & 0x3F; };
  char32_t cp = 0;
  if (b0 < 0xE0) {
    *len = 2;
    cp = (static_cast<char32_t>(b0 & 0x1F) << 6) | cont(1);
  } else if (b0 < 0xF0) {
    *len = 3;
    cp = (static_cast<char32_t>(b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2);
  } else {
    *len = 4;
    cp = (static_cast<char32_t>(b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
  }
  return classify(cp);
}

/// 's 't 'm 'd (2 bytes) or 're 've 'll (3 bytes) at `pos`, else 0. Case-sensitive, as in GPT-2.
std::size_t contraction_length(std::string_view s, std::size_t pos) {
  if (pos + 1 >= s.size()) return 0;
  const char a = s[pos + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= s.size()) return 0;
  const char b = s[pos + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

/// End of the run of code points of class `cls` starting at `pos`.
std::size_t run_end(std::string_view s, std::size_t pos, CharClass cls) {
  std::size_t len = 0;
  while (pos < s.size() && class_at(s, pos, &len) == cls) pos += len;
  return pos;
}

/// End of the regex match starting at `pos` (< s.size()).
std::size_t match_end(std::string_view s, std::size_t pos) {
  if (s[pos] == '\'') {
    const std::size_t k = contraction_length(s, pos);
    if (k != 0) return pos + k;
  }
  std::size_t len = 0;
  const CharClass cls = class_at(s, pos, &len);
  if (s[pos] == ' ' && pos + 1 < s.size()) {
    // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+" with the optional space taken.
    std::size_t next_len = 0;
    const CharClass next = class_at(s, pos + 1, &next_len);
    if (next != CharClass::kSpace) return run_end(s, pos + 1, next);
  }
  if (cls != CharClass::kSpace) return run_end(s, pos, cls);
  // A whitespace run. "\s+(?!\S)" backtracks to leave the run's last code point for the next
  // piece when a non-space follows; a single whitespace code point there falls to "\s+".
  std::size_t last_start = pos;
  std::size_t end = pos;
  while (end < s.size() && class_at(s, end, &len) == CharClass::kSpace) {
    last_start = end;
    end += len;
  }
  if (end == s.size() || last_start == pos) return end;
  return last_start;
}

}  // namespace pretokenizer_detail

void for_each_gpt2_pretoken(std::string_view text,
                            const std::function<void(int64_t begin, int64_t end)>& on_span) {
  check_utf8(text);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = pretokenizer_detail::match_end(text, pos);
    on_span(static_cast<int64_t>(pos), static_cast<int64_t>(end));
    pos = end;
  }
}

std::vector<ByteSpan> pretokenize_gpt2(std::string_view text) {
  std::vector<ByteSpan> spans;
  spans.reserve(text.size() / 3 + 1);
  for_each_gpt2_pretoken(text, [&](int64_t b, int64_t e) { spans.push_back(ByteSpan{b, e}); });
  return spans;
}

}  // namespace attn
