// SPDX-License-Identifier: MIT
// The results reader: a file made from evaluate_length's JSON reads back with the same numbers;
// a newer version, a missing field, a wrong type and a count out of range are errors that name
// them.
#include <filesystem>
#include <limits>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/eval/eval_results.h"
#include "core/eval/extrapolation.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "tests/support/fixtures.h"

namespace attn {
namespace {

class EvalResultsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("attn_results_" + std::to_string(::getpid()) + ".json")).string();
    torch::manual_seed(2);
    TransformerLM model(test::tiny_config("kerple"));
    const auto tokens = torch::randint(0, 200, {120}, torch::kInt64);
    EvalOptions o;
    o.windows = 2;
    result_ = evaluate_length(model, tokens, 32, o, torch::kCPU);
    root_ = {{"format", "attnscope-eval"}, {"format_version", kEvalFormatVersion},
             {"text", "toy"}, {"windows", 2}, {"tail", 256}, {"local_window", 16},
             {"lengths", {32}}, {"device", "cpu"},
             {"checkpoints", {{{"name", "k"}, {"dir", "x"}, {"variant", "dot"},
                               {"position", "kerple"}, {"train_len", 16}, {"tokens", 120},
                               {"results", {length_result_json(result_)}}}}}};
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string error_for(const nlohmann::json& j) {
    write_file_atomic(path_, j.dump());
    try {
      read_eval_results(path_);
    } catch (const FormatError& e) {
      return e.what();
    }
    return "";
  }
  std::string path_;
  LengthResult result_;
  nlohmann::json root_;
};

TEST_F(EvalResultsFile, ReadsBackWhatEvaluationWrote) {
  write_file_atomic(path_, root_.dump());
  const auto r = read_eval_results(path_);
  ASSERT_EQ(r.curves.size(), 1u);
  const auto& p = r.curves[0].points.at(0);
  EXPECT_EQ(p.length, 32);
  EXPECT_DOUBLE_EQ(p.ppl_tail, result_.ppl_tail);
  ASSERT_EQ(p.entropy.size(), 2u);
  double mean = 0;
  for (double x : result_.layers[1].entropy) mean += x / 4.0;
  EXPECT_NEAR(p.entropy[1], mean, 1e-12);
  EXPECT_DOUBLE_EQ(p.cosine[0], result_.layers[0].cosine);
}

TEST_F(EvalResultsFile, ErrorsNameVersionAndField) {
  auto j = root_;
  j["format_version"] = kEvalFormatVersion + 1;
  EXPECT_NE(error_for(j).find("newer than this build"), std::string::npos) << error_for(j);
  j = root_;
  j["checkpoints"][0]["results"][0].erase("ppl_tail");
  EXPECT_NE(error_for(j).find("checkpoints[0].results[0].ppl_tail"), std::string::npos)
      << error_for(j);
  j = root_;
  j["checkpoints"][0]["name"] = 3;
  EXPECT_NE(error_for(j).find("checkpoints[0].name"), std::string::npos);
  j = root_;
  j["format"] = "attnscope-trace";
  EXPECT_NE(error_for(j).find("attnscope-eval"), std::string::npos);
}

// Counts and lengths are whole numbers: a huge, fractional or negative one (a fuzzer found
// 2.2e78 as `tail`, which no integer holds) is an error that names the field, not a cast.
TEST_F(EvalResultsFile, CountsOutOfRangeAreErrorsNamingTheField) {
  auto j = root_;
  j["tail"] = 2.2e78;
  EXPECT_NE(error_for(j).find("'tail' must be a whole number of at least 1"), std::string::npos)
      << error_for(j);
  j = root_;
  j["windows"] = -3;
  EXPECT_NE(error_for(j).find("'windows'"), std::string::npos) << error_for(j);
  j = root_;
  j["format_version"] = 1e300;
  EXPECT_NE(error_for(j).find("'format_version'"), std::string::npos) << error_for(j);
  j = root_;
  j["checkpoints"][0]["results"][0]["length"] = 1.5;
  EXPECT_NE(error_for(j).find("checkpoints[0].results[0].length"), std::string::npos)
      << error_for(j);
  j = root_;
  j["checkpoints"][0]["train_len"] = std::numeric_limits<uint64_t>::max();
  EXPECT_NE(error_for(j).find("checkpoints[0].train_len"), std::string::npos) << error_for(j);
  j = root_;
  j["lengths"] = {32, -1};
  EXPECT_NE(error_for(j).find("'lengths' holds -1"), std::string::npos) << error_for(j);
  j = root_;
  j["tail"] = 256.0;  // a whole number written as a float still reads
  EXPECT_EQ(error_for(j), "");
}

}  // namespace
}  // namespace attn
