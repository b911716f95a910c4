// SPDX-License-Identifier: MIT
// The Session facade on the bundled DAPE V2 checkpoint: out of memory (injected) is answered by
// redoing the pass in smaller chunks, with the same maps and a note saying so, and by a clear
// error when even small chunks fail; evaluation over lengths skips the lengths a text is too
// short for and names them; the precision choice (float32 by default, unknown names and half
// types on a CPU asked for refused, half types falling back to float32 with CUDA's fallback).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "core/api/session.h"
#include "core/util/error.h"

namespace attn {
namespace {

const char* kText =
    "Attention lets every token look back at the tokens before it. For each query, the model "
    "scores every earlier key, turns the scores into weights with a softmax, and mixes the "
    "values by those weights. A map of the weights shows what each token looked at.";

struct OomLimit {
  explicit OomLimit(const char* value) { setenv("ATTN_TEST_OOM_ABOVE", value, 1); }
  ~OomLimit() { unsetenv("ATTN_TEST_OOM_ABOVE"); }
};

TraceRequest request() {
  TraceRequest r;
  r.text = kText;
  r.maps.push_back(MapRequest{1, {"raw", "probs"}});
  return r;
}

TEST(Session, OutOfMemoryIsAnsweredWithSmallerChunks) {
  auto session = Session::open(ATTN_TEST_CHECKPOINT, "cpu");
  const LayerTrace plain = session->trace(request());
  ASSERT_TRUE(plain.notes.empty());
  const int64_t n = int64_t(plain.tokens.size());
  ASSERT_GT(n, 40);
  LayerTrace retried;
  {
    // Chunks of more than 8 heads x 10 rows x n keys fail.
    OomLimit limit(std::to_string(8 * 10 * n).c_str());
    retried = session->trace(request());
  }
  ASSERT_FALSE(retried.notes.empty());
  EXPECT_NE(retried.notes.front().find("ran out of memory"), std::string::npos);
  ASSERT_EQ(retried.maps.size(), plain.maps.size());
  for (size_t i = 0; i < plain.maps.size(); ++i) {
    ASSERT_EQ(retried.maps[i].values.size(), plain.maps[i].values.size());
    for (size_t k = 0; k < plain.maps[i].values.size(); ++k) {
      const float a = plain.maps[i].values[k], b = retried.maps[i].values[k];
      if (std::isnan(a)) {
        ASSERT_TRUE(std::isnan(b));
      } else {
        ASSERT_NEAR(a, b, 1e-5 * (1 + std::abs(a))) << plain.maps[i].stage << " cell " << k;
      }
    }
  }
}

TEST(Session, OutOfMemoryEvenInSmallChunksSaysWhatToDo) {
  auto session = Session::open(ATTN_TEST_CHECKPOINT, "cpu");
  OomLimit limit("10");
  try {
    session->trace(request());
    FAIL() << "the trace did not fail";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("out of memory"), std::string::npos) << what;
    EXPECT_NE(what.find("CPU"), std::string::npos) << what;
  }
}

TEST(Session, EvaluationSkipsLengthsTheTextIsTooShortFor) {
  auto session = Session::open(ATTN_TEST_CHECKPOINT, "cpu");
  LengthRequest r;
  r.text = kText;
  r.lengths = {8, 16, 5000};
  r.tail = 4;
  const LengthReport report = session->evaluate(r);
  ASSERT_EQ(report.points.size(), 2u);
  EXPECT_EQ(report.skipped, std::vector<int64_t>{5000});
  EXPECT_EQ(report.train_len, 128);
  EXPECT_EQ(report.name, "kerple-dape-v2");
  for (const auto& p : report.points) {
    EXPECT_GT(p.ppl_tail, 1.0);
    EXPECT_LT(p.ppl_tail, 5000.0);  // far below the 2,048-token vocabulary's uniform guess
    ASSERT_EQ(p.entropy.size(), 4u);
    ASSERT_EQ(p.entropy[0].size(), 8u);
    EXPECT_LE(p.entropy[0][0], std::log(double(p.length)) + 1e-9);  // at most uniform
  }
  r.lengths = {5000};
  EXPECT_THROW(session->evaluate(r), Error);
}

/// The message of the ConfigError that opening with `device` and `precision` throws ("" when
/// it opens, or throws anything else).
std::string open_error(const std::string& device, const std::string& precision) {
  try {
    Session::open(ATTN_TEST_CHECKPOINT, device, precision);
  } catch (const ConfigError& e) {
    return e.what();
  } catch (...) {
  }
  return "";
}

TEST(SessionPrecision, Float32IsTheDefaultAndChangesNothing) {
  auto plain = Session::open(ATTN_TEST_CHECKPOINT, "cpu");
  auto named = Session::open(ATTN_TEST_CHECKPOINT, "cpu", "float32");
  EXPECT_EQ(plain->summary().precision, "float32");
  EXPECT_EQ(named->summary().precision, "float32");
  EXPECT_TRUE(plain->warnings().empty());
  const LayerTrace a = plain->trace(request()), b = named->trace(request());
  ASSERT_EQ(a.maps.size(), b.maps.size());
  for (size_t i = 0; i < a.maps.size(); ++i) {
    ASSERT_EQ(a.maps[i].values.size(), b.maps[i].values.size());
    for (size_t k = 0; k < a.maps[i].values.size(); ++k) {
      const float x = a.maps[i].values[k], y = b.maps[i].values[k];
      ASSERT_TRUE((std::isnan(x) && std::isnan(y)) || x == y) << a.maps[i].stage << " cell " << k;
    }
  }
  EXPECT_TRUE(a.notes.empty());  // no fused kernel on the CPU
}

TEST(SessionPrecision, UnknownNamesAreRefusedNamingTheValueAndTheChoices) {
  for (const char* bad : {"half", "fp16", "Float32", "float64"}) {
    const std::string what = open_error("cpu", bad);
    ASSERT_FALSE(what.empty()) << bad << " was accepted";
    EXPECT_NE(what.find(std::string("\"") + bad + "\""), std::string::npos) << what;
    for (const char* name : {"float32", "bfloat16", "float16"}) {
      EXPECT_NE(what.find(name), std::string::npos) << what;
    }
  }
  // Refused before the device is looked at: also where CUDA falls back.
  EXPECT_NE(open_error("cuda", "half").find("\"half\""), std::string::npos);
}

TEST(SessionPrecision, HalfTypesOnACpuAskedForAreRefused) {
  for (const char* half : {"bfloat16", "float16"}) {
    const std::string what = open_error("cpu", half);
    EXPECT_NE(what.find(half), std::string::npos) << what;
    EXPECT_NE(what.find("CUDA only"), std::string::npos) << what;
    EXPECT_NE(what.find("float32"), std::string::npos) << what;
  }
}

TEST(SessionPrecision, HalfTypesFallBackToFloat32WhereCudaFallsBackToTheCpu) {
  auto session = Session::open(ATTN_TEST_CHECKPOINT, "cuda", "bfloat16");
  const auto& s = session->summary();
  const auto& w = session->warnings();
  auto noted = [&w](const std::string& word) {
    return std::any_of(w.begin(), w.end(),
                       [&](const std::string& m) { return m.find(word) != std::string::npos; });
  };
  if (s.device == "cpu") {
    EXPECT_EQ(s.precision, "float32");
    EXPECT_TRUE(noted("CUDA was asked for")) << "the device fallback is noted";
    EXPECT_TRUE(noted("bfloat16")) << "the precision fallback names the precision";
    // And it runs, with maps as in a float32 session.
    const LayerTrace t = session->trace(request());
    EXPECT_FALSE(t.maps.empty());
  } else {
    EXPECT_EQ(s.precision, "bfloat16");
    EXPECT_FALSE(noted("bfloat16"));
  }
}

}  // namespace
}  // namespace attn
