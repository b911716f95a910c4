// SPDX-License-Identifier: MIT
// Tests of the tokenizer layer: UTF-8 validation, the byte tokenizer, GPT-2 pre-tokenization,
// byte-level BPE (round trips, display labels, tokenizer.json errors), the BPE trainer, and the
// golden test: GPT-2's vocabulary must give exactly the ids of the gpt-3-encoder npm package.
#include "core/tokenizer/tokenizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/bpe_trainer.h"
#include "core/tokenizer/pretokenizer.h"
#include "core/tokenizer/unicode_tables.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace attn {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kDataDir = ATTN_TEST_DATA_DIR;

std::string golden_text() { return read_file(kDataDir + "/golden_text.txt"); }
Json golden_json() { return Json::parse(read_file(kDataDir + "/golden_ids.json")); }

/// GPT-2's tokenizer, loaded once (parsing 2 MB of JSON is not free).
const BpeTokenizer& gpt2() {
  static const BpeTokenizer tok = BpeTokenizer::load(kDataDir + "/gpt2/tokenizer.json");
  return tok;
}

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out;
  for (const ByteSpan& s : pretokenize_gpt2(text)) {
    out.emplace_back(text.substr(s.begin, s.end - s.begin));
  }
  return out;
}

/// A fresh temporary folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("attn_tok_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

/// Offset of the first invalid byte reported by check_utf8, or -1 if the text is valid.
long long utf8_error_offset(std::string_view text) {
  try {
    check_utf8(text);
    return -1;
  } catch (const TokenizerError& e) {
    const std::string msg = e.what();
    const std::string key = "byte offset ";
    const auto at = msg.find(key);
    EXPECT_NE(at, std::string::npos) << msg;
    return std::stoll(msg.substr(at + key.size()));
  }
}

// ---------------------------------------------------------------- UTF-8 and byte tokenizer

TEST(Utf8, AcceptsValidText) {
  EXPECT_NO_THROW(check_utf8(""));
  EXPECT_NO_THROW(check_utf8("plain ASCII\n\t"));
  EXPECT_NO_THROW(
      check_utf8("\xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBF"));
  EXPECT_NO_THROW(check_utf8("\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF \xF0\x9F\xA4\x96"));
  EXPECT_NO_THROW(check_utf8(std::string("nul\0inside", 10)));
}

TEST(Utf8, ReportsOffsetOfFirstInvalidSequence) {
  EXPECT_EQ(utf8_error_offset("ab\x80"), 2);              // stray continuation byte
  EXPECT_EQ(utf8_error_offset("a\xC0\xAF"), 1);           // overlong '/'
  EXPECT_EQ(utf8_error_offset("abc\xC1\xBF"), 3);         // overlong
  EXPECT_EQ(utf8_error_offset("x\xE0\x80\xAF"), 1);       // overlong 3-byte
  EXPECT_EQ(utf8_error_offset("xy\xF0\x80\x80\xAF"), 2);  // overlong 4-byte
  EXPECT_EQ(utf8_error_offset("ok \xED\xA0\x80"), 3);     // surrogate U+D800
  EXPECT_EQ(utf8_error_offset("\xED\xBF\xBF"), 0);        // surrogate U+DFFF
  EXPECT_EQ(utf8_error_offset("12\xF4\x90\x80\x80"), 2);  // U+110000
  EXPECT_EQ(utf8_error_offset("\xF5\x80\x80\x80"), 0);    // lead byte beyond U+10FFFF
  EXPECT_EQ(utf8_error_offset("\xFF"), 0);
  EXPECT_EQ(utf8_error_offset("end \xE2\x82"), 4);          // truncated at end of text
  EXPECT_EQ(utf8_error_offset("\xC3\xA9\xE2\x82\x41"), 2);  // truncated by ASCII
  EXPECT_EQ(utf8_error_offset("\xF0\x9F\xA4"), 0);          // 4-byte cut short
}

TEST(Utf8, MessageSaysWhatIsWrong) {
  try {
    check_utf8("ok \xED\xA0\x80");
    FAIL() << "no exception";
  } catch (const TokenizerError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("surrogate"), std::string::npos) << msg;
    EXPECT_NE(msg.find("valid UTF-8"), std::string::npos) << msg;
  }
}

TEST(ByteTokenizer, RoundTripsAndReportsOffsets) {
  const auto tok = make_byte_tokenizer();
  EXPECT_EQ(tok->kind(), "byte");
  EXPECT_EQ(tok->vocab_size(), 256);
  const std::string text = "Grüße, 世界! 🤖\n\t";
  const std::vector<Token> tokens = tok->encode_with_offsets(text);
  ASSERT_EQ(tokens.size(), text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    EXPECT_EQ(tokens[i].id, static_cast<unsigned char>(text[i]));
    EXPECT_EQ(tokens[i].begin, static_cast<int64_t>(i));
    EXPECT_EQ(tokens[i].end, static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(tok->decode(tok->encode(text)), text);
  for (int b = 0; b < 256; ++b)
    EXPECT_EQ(tok->token_bytes(b), std::string(1, static_cast<char>(b)));
  EXPECT_THROW(tok->token_bytes(256), TokenizerError);
  EXPECT_THROW(tok->token_bytes(-1), TokenizerError);
  EXPECT_THROW(tok->encode("bad \xC0\xAF"), TokenizerError);
}

TEST(Display, ByteLabels) {
  const auto tok = make_byte_tokenizer();
  EXPECT_EQ(tok->display(' '), "\u2423");
  EXPECT_EQ(tok->display('\n'), "\u21B5");
  EXPECT_EQ(tok->display('\t'), "\u21E5");
  EXPECT_EQ(tok->display('a'), "a");
  EXPECT_EQ(tok->display(0), "<0x00>");
  EXPECT_EQ(tok->display('\r'), "<0x0D>");
  EXPECT_EQ(tok->display(0x7F), "<0x7F>");
  EXPECT_EQ(tok->display(0xC3), "<0xC3>");  // a lone lead byte is not complete UTF-8
  EXPECT_EQ(tok->display(0x80), "<0x80>");
}

TEST(Display, BpeLabels) {
  const BpeTokenizer& tok = gpt2();
  auto id_of = [&](const std::string& bytes) {
    return tok.token_to_id(bytes_to_bpe_symbols(bytes));
  };
  ASSERT_GE(id_of(" the"), 0);
  EXPECT_EQ(tok.display(id_of(" the")), "\u2423the");
  EXPECT_EQ(tok.display(id_of("\n\n")), "\u21B5\u21B5");
  EXPECT_EQ(tok.display(id_of("\xC3\xA9")), "\xC3\xA9");      // é
  EXPECT_EQ(tok.display(id_of("\xE2\x80")), "<0xE2><0x80>");  // first 2 bytes of a 3-byte char
  EXPECT_EQ(tok.display(50256), "<|endoftext|>");
  std::vector<std::string> tokens = gpt2_byte_symbols();
  tokens.push_back(bytes_to_bpe_symbols("\xC2\x85"));  // C1 control NEL, complete UTF-8
  tokens.push_back(bytes_to_bpe_symbols("a\r\n"));
  const BpeTokenizer small(tokens, {});
  EXPECT_EQ(small.display(256), "<0xC2><0x85>");
  EXPECT_EQ(small.display(257), "a<0x0D>\u21B5");
}

// ---------------------------------------------------------------- pre-tokenizer

TEST(Pretokenizer, WordsAndContractions) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(pieces("it's we'll they're I've I'm she'd don't"),
            (V{"it", "'s", " we", "'ll", " they", "'re", " I", "'ve", " I", "'m", " she", "'d",
               " don", "'t"}));
  EXPECT_EQ(pieces("IT'S"), (V{"IT", "'", "S"}));  // contractions are case-sensitive
  EXPECT_EQ(pieces("'sdf"), (V{"'s", "df"}));      // first alternative wins
  EXPECT_EQ(pieces("x''s"), (V{"x", "''", "s"}));  // punctuation run is greedy
  EXPECT_EQ(pieces("rock'n'roll"), (V{"rock", "'", "n", "'", "roll"}));
  EXPECT_EQ(pieces(" 'quoted'"), (V{" '", "quoted", "'"}));
}

TEST(Pretokenizer, DigitsAndPunctuation) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("abc123 4567x"), (V{"abc", "123", " 4567", "x"}));
  EXPECT_EQ(pieces("pi 3.14"), (V{"pi", " 3", ".", "14"}));
  EXPECT_EQ(pieces("a !!! ?"), (V{"a", " !!!", " ?"}));
  EXPECT_EQ(pieces("x86_64"), (V{"x", "86", "_", "64"}));
  EXPECT_EQ(pieces("\xC2\xBD\xC2\xB2"), (V{"\xC2\xBD\xC2\xB2"}));  // ½² are both \p{N}
}

TEST(Pretokenizer, WhitespaceRuns) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("a   b"), (V{"a", "  ", " b"}));        // \s+(?!\S) leaves one space
  EXPECT_EQ(pieces("a\n\nb"), (V{"a", "\n", "\n", "b"}));  // last newline falls to \s+
  EXPECT_EQ(pieces("a  \n b"), (V{"a", "  \n", " b"}));
  EXPECT_EQ(pieces("a   "), (V{"a", "   "}));  // at the end: the whole run
  EXPECT_EQ(pieces("   a"), (V{"  ", " a"}));
  EXPECT_EQ(pieces("\t\tx"), (V{"\t", "\t", "x"}));
  EXPECT_EQ(pieces(" \tx"), (V{" ", "\t", "x"}));
  EXPECT_EQ(pieces("a \n"), (V{"a", " \n"}));
  EXPECT_EQ(pieces(" "), (V{" "}));
  EXPECT_EQ(pieces("a\u3000b"), (V{"a", "\u3000", "b"}));  // ideographic space
  EXPECT_TRUE(pieces("").empty());
}

TEST(Pretokenizer, NonAsciiLetters) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("café über Straße"), (V{"café", " über", " Straße"}));
  EXPECT_EQ(pieces("Привет мир"), (V{"Привет", " мир"}));
  EXPECT_EQ(pieces("日本語、テキスト"), (V{"日本語", "、", "テキスト"}));
  EXPECT_EQ(pieces("hi 🤖!"), (V{"hi", " 🤖!"}));
  EXPECT_EQ(pieces("cafe\xCC\x81s"), (V{"cafe", "\xCC\x81", "s"}));  // combining mark is "other"
  EXPECT_TRUE(unicode::is_letter(U'ß'));
  EXPECT_TRUE(unicode::is_letter(U'中'));
  EXPECT_TRUE(unicode::is_number(U'٣'));
  EXPECT_FALSE(unicode::is_letter(U'1'));
  EXPECT_TRUE(unicode::is_white_space(0x85));
  EXPECT_FALSE(unicode::is_white_space(0xFEFF));
  EXPECT_STRNE(unicode::tables_unicode_version(), "");
}

TEST(Pretokenizer, SpansCoverTextAndRejectBadUtf8) {
  const std::string text = golden_text();
  int64_t pos = 0;
  for (const ByteSpan& s : pretokenize_gpt2(text)) {
    EXPECT_EQ(s.begin, pos);
    EXPECT_GT(s.end, s.begin);
    pos = s.end;
  }
  EXPECT_EQ(pos, static_cast<int64_t>(text.size()));
  EXPECT_THROW(pretokenize_gpt2("ok\xF4\x90\x80\x80"), TokenizerError);
}

TEST(Pretokenizer, MatchesJavaScriptRegexOnGoldenText) {
  const std::vector<std::string> expected = golden_json().at("pieces");
  EXPECT_EQ(pieces(golden_text()), expected);
}

// ---------------------------------------------------------------- golden test (GPT-2)

TEST(Golden, Gpt2IdsMatchGpt3EncoderPackage) {
  const Json golden = golden_json();
  const std::string text = golden_text();
  ASSERT_EQ(golden.at("text_bytes").get<std::size_t>(), text.size());
  const std::vector<int64_t> expected = golden.at("ids");
  const BpeTokenizer& tok = gpt2();
  EXPECT_EQ(tok.kind(), "bpe");
  EXPECT_EQ(tok.vocab_size(), 50257);
  const std::vector<int64_t> ids = tok.encode(text);
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(tok.decode(ids), text);
  // Offsets tile the text and each covers exactly its token's bytes.
  int64_t pos = 0;
  for (const Token& t : tok.encode_with_offsets(text)) {
    EXPECT_EQ(t.begin, pos);
    EXPECT_EQ(text.substr(t.begin, t.end - t.begin), tok.token_bytes(t.id));
    pos = t.end;
  }
  EXPECT_EQ(pos, static_cast<int64_t>(text.size()));
}

TEST(Golden, KnownGpt2Ids) {
  const BpeTokenizer& tok = gpt2();
  EXPECT_EQ(tok.encode("Hello world"), (std::vector<int64_t>{15496, 995}));
  EXPECT_EQ(tok.token_to_id("<|endoftext|>"), 50256);
  EXPECT_EQ(tok.token_bytes(50256), "<|endoftext|>");
  EXPECT_EQ(tok.id_to_token(262), "\xC4\xA0the");  // "Ġthe"
  // Added tokens are not matched in text: the literal is spelled with ordinary tokens.
  EXPECT_GT(tok.encode("<|endoftext|>").size(), 1u);
  EXPECT_THROW(tok.token_bytes(50257), TokenizerError);
}

TEST(Golden, SaveAndReloadGivesSameIds) {
  TempDir dir;
  gpt2().save(dir.file("tokenizer.json"));
  const auto loaded = load_bpe_tokenizer(dir.file("tokenizer.json"));
  const std::string text = golden_text();
  EXPECT_EQ(loaded->encode(text), gpt2().encode(text));
  EXPECT_EQ(loaded->vocab_size(), gpt2().vocab_size());
}

TEST(Bpe, EncodeIsThreadSafe) {
  const std::string text = golden_text();
  const std::vector<int64_t> expected = gpt2().encode(text);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 5; ++k) mismatches += gpt2().encode(text) != expected ? 1 : 0;
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// ---------------------------------------------------------------- round trips

std::vector<std::string> round_trip_samples() {
  std::vector<std::string> samples = {"",
                                      " ",
                                      "\n",
                                      "a",
                                      "  leading",
                                      "trailing  ",
                                      "\t\t\n\r\n  \n",
                                      "Hello, world!",
                                      "it's 3.14159 — naïve café 🤖🤖🤖",
                                      "日本語のテキストと English mixed",
                                      "ÆØÅ æøå ß ẞ Ωμέγα Ж ж",
                                      std::string("nul\0byte", 8),
                                      "\xF4\x8F\xBF\xBF",
                                      std::string(300, 'a'),
                                      std::string(5000, ' ') + "x",
                                      "a\xCC\x81\xCC\x82\xCC\x83"};
  // Random valid UTF-8 from a fixed seed: ASCII, Latin, Greek, CJK, emoji, spaces.
  std::mt19937 rng(1234);
  const char32_t pools[][2] = {{0x20, 0x7E},    {0x09, 0x0D},     {0xA0, 0x24F},
                               {0x370, 0x3FF},  {0x4E00, 0x4FFF}, {0x1F600, 0x1F64F},
                               {0x2000, 0x200A}};
  for (int s = 0; s < 200; ++s) {
    std::string text;
    const int len = static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) {
      const auto& pool = pools[rng() % 7];
      const char32_t cp = pool[0] + rng() % (pool[1] - pool[0] + 1);
      if (cp < 0x80) {
        text += static_cast<char>(cp);
      } else if (cp < 0x800) {
        text += static_cast<char>(0xC0 | (cp >> 6));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        text += static_cast<char>(0xE0 | (cp >> 12));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        text += static_cast<char>(0xF0 | (cp >> 18));
        text += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      }
    }
    samples.push_back(text);
  }
  return samples;
}

TEST(RoundTrip, DecodeEncodeIsIdentityForGpt2) {
  for (const std::string& s : round_trip_samples()) {
    EXPECT_EQ(gpt2().decode(gpt2().encode(s)), s) << "text: " << s;
  }
}

TEST(RoundTrip, DecodeEncodeIsIdentityForTrainedBpe) {
  const BpeTokenizer tok = train_bpe(golden_text(), 600);
  for (const std::string& s : round_trip_samples()) {
    EXPECT_EQ(tok.decode(tok.encode(s)), s) << "text: " << s;
  }
  const std::string text = golden_text();
  EXPECT_EQ(tok.decode(tok.encode(text)), text);
  EXPECT_LT(tok.encode(text).size() * 10, text.size() * 6);  // the merges compress
}

// ---------------------------------------------------------------- in-memory BPE

/// The 256 byte symbols with id = byte value.
std::vector<std::string> byte_tokens() { return gpt2_byte_symbols(); }

TEST(Bpe, MergesByRankNotByPosition) {
  std::vector<std::string> tokens = byte_tokens();
  tokens.push_back("bc");   // 256
  tokens.push_back("ab");   // 257
  tokens.push_back("abc");  // 258
  // "bc" ranks before "ab", so "abc" becomes a + bc (no merge "a bc"), not ab + c.
  const BpeTokenizer tok(tokens, {{"b", "c"}, {"a", "b"}, {"ab", "c"}});
  EXPECT_EQ(tok.encode("abc"), (std::vector<int64_t>{'a', 256}));
  EXPECT_EQ(tok.encode("abab"), (std::vector<int64_t>{257, 257}));
  EXPECT_EQ(tok.encode("ab c"), (std::vector<int64_t>{257, ' ', 'c'}));  // id = byte value
}

TEST(Bpe, InMemoryErrors) {
  std::vector<std::string> tokens = byte_tokens();
  EXPECT_THROW(BpeTokenizer(tokens, {{"a", "zz"}}), TokenizerError);  // unknown part
  EXPECT_THROW(BpeTokenizer(tokens, {{"a", "b"}}), TokenizerError);   // "ab" not a token
  tokens.push_back("a");                                              // duplicate token
  EXPECT_THROW(BpeTokenizer(tokens, {}), TokenizerError);
  tokens.pop_back();
  EXPECT_THROW(BpeTokenizer(tokens, {}, {AddedToken{300, "<x>", true}}), TokenizerError);
  const BpeTokenizer ok(tokens, {}, {AddedToken{256, "<x>", true}});
  EXPECT_EQ(ok.vocab_size(), 257);
  EXPECT_EQ(ok.token_bytes(256), "<x>");
  EXPECT_EQ(ok.display(256), "<x>");
}

TEST(Bpe, MissingByteSymbolIsReportedAtEncode) {
  const BpeTokenizer tok({"a", "b"}, {});
  EXPECT_EQ(tok.encode("ab"), (std::vector<int64_t>{0, 1}));
  try {
    tok.encode("abc");
    FAIL() << "no exception";
  } catch (const TokenizerError& e) {
    EXPECT_NE(std::string(e.what()).find("byte offset 2"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- tokenizer.json errors

/// A small valid tokenizer.json: the 256 byte symbols, "ab" and one merge.
Json small_tokenizer_json() {
  Json vocab = Json::object();
  const std::vector<std::string>& symbols = gpt2_byte_symbols();
  for (int b = 0; b < 256; ++b) vocab[symbols[b]] = b;
  vocab["ab"] = 256;
  return Json{{"version", "1.0"},
              {"added_tokens", Json::array()},
              {"normalizer", nullptr},
              {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
              {"decoder", {{"type", "ByteLevel"}}},
              {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"a b"}}}}};
}

/// Loads `text` as a file and returns the TokenizerError message ("" if it loaded).
std::string load_error(const TempDir& dir, const std::string& text) {
  const std::string path = dir.file("tokenizer.json");
  write_file_atomic(path, text);
  try {
    load_bpe_tokenizer(path);
    return "";
  } catch (const TokenizerError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << "message does not name the file: " << msg;
    return msg;
  }
}

TEST(TokenizerJson, SmallFileLoadsInBothMergeFormats) {
  TempDir dir;
  Json j = small_tokenizer_json();
  EXPECT_EQ(load_error(dir, j.dump()), "");
  const auto a = load_bpe_tokenizer(dir.file("tokenizer.json"));
  j["model"]["merges"] = Json::array({Json::array({"a", "b"})});
  EXPECT_EQ(load_error(dir, j.dump()), "");
  const auto b = load_bpe_tokenizer(dir.file("tokenizer.json"));
  EXPECT_EQ(a->encode("abc ab"), b->encode("abc ab"));
  EXPECT_EQ(a->encode("ab"), (std::vector<int64_t>{256}));
}

/// One broken variant of small_tokenizer_json(): the field at `pointer` is set to `value` (or
/// erased), and the error message must contain `field`.
struct BadCase {
  std::string pointer;
  Json value;
  std::string field;
  bool erase = false;
};

void expect_named_errors(const std::vector<BadCase>& cases) {
  TempDir dir;
  for (const BadCase& c : cases) {
    Json j = small_tokenizer_json();
    const Json::json_pointer ptr(c.pointer);
    if (c.erase) {
      j.at(ptr.parent_pointer()).erase(ptr.back());
    } else {
      j[ptr] = c.value;
    }
    const std::string msg = load_error(dir, j.dump());
    EXPECT_NE(msg, "") << c.pointer << " = " << c.value.dump() << ": loaded without error";
    EXPECT_NE(msg.find(c.field), std::string::npos) << c.pointer << ": " << msg;
  }
}

TEST(TokenizerJson, BadModelFieldsAreNamed) {
  expect_named_errors({
      {"/model", nullptr, "'model'", true},
      {"/model", 3, "'model'"},
      {"/model/type", "WordPiece", "model.type"},
      {"/model/vocab", nullptr, "model.vocab", true},
      {"/model/vocab", Json::array({"a"}), "model.vocab"},
      {"/model/vocab/ab", "x", "model.vocab['ab']"},
      {"/model/vocab/ab", 300, "model.vocab['ab']"},  // ids must be 0..n-1
      {"/model/vocab/ab", -1, "model.vocab['ab']"},
      {"/model/vocab/ab", 5, "also used"},  // id 5 twice
      {"/model/merges", nullptr, "model.merges", true},
      {"/model/merges", Json::object(), "model.merges"},
      {"/model/merges", {"a b", "ab zz"}, "model.merges[1]"},  // unknown token
      {"/model/merges", {"b c"}, "model.merges[0]"},           // "bc" is not a token
      {"/model/merges", {"ab"}, "model.merges[0]"},
      {"/model/merges", {"a b c"}, "model.merges[0]"},
      {"/model/merges", Json::array({Json::array({"a", "b", "c"})}), "model.merges[0]"},
      {"/model/merges", {7}, "model.merges[0]"},
      {"/model/dropout", 0.1, "model.dropout"},
      {"/model/end_of_word_suffix", "</w>", "model.end_of_word_suffix"},
  });
}

TEST(TokenizerJson, BadTopLevelFieldsAreNamed) {
  expect_named_errors({
      {"", Json::array(), "top level"},
      {"/pre_tokenizer", nullptr, "pre_tokenizer", true},
      {"/pre_tokenizer", {{"type", "Whitespace"}}, "pre_tokenizer"},
      {"/pre_tokenizer/add_prefix_space", true, "pre_tokenizer.add_prefix_space"},
      {"/normalizer", {{"type", "NFC"}}, "normalizer"},
      {"/added_tokens", Json::array({{{"id", 3}, {"content", "<s>"}}}), "added_tokens[0].id"},
      {"/added_tokens", Json::array({{{"id", 3}, {"content", "ab"}}}), "added_tokens[0].id"},
      {"/added_tokens", Json::array({{{"id", 257}}}), "added_tokens[0].content"},
  });
}

TEST(TokenizerJson, BadJsonNamesThePosition) {
  TempDir dir;
  const std::string msg = load_error(dir, "{\"model\": {\"vocab\": {\"a\": 0,, }}}");
  EXPECT_NE(msg.find("invalid JSON at byte 29"), std::string::npos) << msg;
  EXPECT_NE(load_error(dir, "").find("invalid JSON"), std::string::npos);
}

TEST(TokenizerJson, MissingFileIsATokenizerError) {
  EXPECT_THROW(load_bpe_tokenizer("/nonexistent/attn/tokenizer.json"), TokenizerError);
}

TEST(TokenizerJson, AddedTokensGetIds) {
  TempDir dir;
  Json j = small_tokenizer_json();
  j["added_tokens"] = {{{"id", 258}, {"content", "<pad>"}, {"special", true}},
                       {{"id", 257}, {"content", "<|endoftext|>"}, {"special", true}},
                       {{"id", 256}, {"content", "ab"}, {"special", false}}};
  ASSERT_EQ(load_error(dir, j.dump()), "");
  const BpeTokenizer tok = BpeTokenizer::load(dir.file("tokenizer.json"));
  EXPECT_EQ(tok.vocab_size(), 259);
  EXPECT_EQ(tok.token_to_id("<pad>"), 258);
  EXPECT_EQ(tok.token_bytes(257), "<|endoftext|>");
  tok.save(dir.file("again.json"));
  const BpeTokenizer again = BpeTokenizer::load(dir.file("again.json"));
  EXPECT_EQ(again.to_json(), tok.to_json());
  EXPECT_EQ(again.added_tokens().size(), 3u);
}

// ---------------------------------------------------------------- trainer

TEST(Trainer, ReachesVocabSizeAndIsDeterministic) {
  const std::string text = golden_text();
  const BpeTokenizer a = train_bpe(text, 500);
  const BpeTokenizer b = train_bpe(text, 500);
  EXPECT_EQ(a.vocab_size(), 500);
  EXPECT_EQ(a.merges(), b.merges());
  EXPECT_EQ(a.to_json(), b.to_json());
  EXPECT_EQ(a.encode(text), b.encode(text));
  for (int byte = 0; byte < 256; ++byte) {
    EXPECT_EQ(a.token_bytes(byte), std::string(1, static_cast<char>(byte)));
  }
}

TEST(Trainer, FirstMergeIsMostFrequentPairAndTiesAreLexicographic) {
  const BpeTokenizer t = train_bpe("ab ab ab cd", 257);
  ASSERT_EQ(t.merges().size(), 1u);
  EXPECT_EQ(t.merges()[0], (BpeTokenizer::Merge{"a", "b"}));
  BpeTrainOptions once;
  once.min_frequency = 1;
  const BpeTokenizer u = train_bpe("xy cd", 257, once);  // all pairs occur once
  ASSERT_EQ(u.merges().size(), 1u);
  EXPECT_EQ(u.merges()[0], (BpeTokenizer::Merge{"\xC4\xA0", "c"}));  // " " < "c" < "x"
}

TEST(Trainer, StopsWhenNoPairIsFrequentEnough) {
  const BpeTokenizer t = train_bpe("abcabc xyz", 1000);
  EXPECT_EQ(t.vocab_size(), 256 + 2);  // "ab" then "abc" occur twice; nothing else does
  EXPECT_EQ(t.encode("abc"), (std::vector<int64_t>{257}));
}

TEST(Trainer, SpecialTokensCountTowardsVocabSize) {
  BpeTrainOptions opts;
  opts.special_tokens = {"<|endoftext|>", "<pad>"};
  const BpeTokenizer t = train_bpe(golden_text(), 300, opts);
  EXPECT_EQ(t.vocab_size(), 300);
  EXPECT_EQ(t.token_to_id("<|endoftext|>"), 298);
  EXPECT_EQ(t.token_bytes(299), "<pad>");
  EXPECT_THROW(train_bpe("abc", 257, opts), TokenizerError);
}

TEST(Trainer, ProgressAndCancel) {
  BpeTrainOptions opts;
  int64_t last_done = 0, last_total = 0;
  opts.progress = [&](int64_t done, int64_t total) {
    last_done = done;
    last_total = total;
    return true;
  };
  train_bpe(golden_text(), 400, opts);
  EXPECT_EQ(last_done, 144);
  EXPECT_EQ(last_total, 144);
  opts.progress = [](int64_t done, int64_t) { return done < 10; };
  EXPECT_THROW(train_bpe(golden_text(), 400, opts), Cancelled);
  EXPECT_THROW(train_bpe("bad \xC0\xAF", 400), TokenizerError);
}

TEST(Trainer, SaveLoadRoundTripGivesIdenticalIds) {
  TempDir dir;
  BpeTrainOptions opts;
  opts.special_tokens = {"<|endoftext|>"};
  const BpeTokenizer trained = train_bpe(golden_text(), 600, opts);
  trained.save(dir.file("trained.json"));
  const auto loaded = load_bpe_tokenizer(dir.file("trained.json"));
  EXPECT_EQ(loaded->vocab_size(), 600);
  for (const std::string& s : round_trip_samples()) {
    EXPECT_EQ(loaded->encode(s), trained.encode(s)) << "text: " << s;
  }
  EXPECT_EQ(loaded->encode(golden_text()), trained.encode(golden_text()));
  // The saved file is valid JSON in Hugging Face's layout.
  const Json j = Json::parse(read_file(dir.file("trained.json")));
  EXPECT_EQ(j["model"]["type"], "BPE");
  EXPECT_EQ(j["pre_tokenizer"]["type"], "ByteLevel");
  EXPECT_EQ(j["pre_tokenizer"]["add_prefix_space"], false);
  EXPECT_EQ(j["decoder"]["type"], "ByteLevel");
  EXPECT_EQ(j["model"]["vocab"].size(), 599u);
  EXPECT_EQ(j["added_tokens"][0]["id"], 599);
}

}  // namespace
}  // namespace attn
