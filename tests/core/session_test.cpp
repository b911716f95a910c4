// SPDX-License-Identifier: MIT
// The Session facade on the bundled DAPE V2 checkpoint: out of memory (injected) is answered by
// redoing the pass in smaller chunks, with the same maps and a note saying so, and by a clear
// error when even small chunks fail; evaluation over lengths skips the lengths a text is too
// short for and names them.
#include <gtest/gtest.h>

#include <cstdlib>

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

}  // namespace
}  // namespace attn
