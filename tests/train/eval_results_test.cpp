// SPDX-License-Identifier: MIT
// The results reader: a file made from evaluate_length's JSON reads back with the same numbers;
// a newer version, a missing field and a wrong type are errors that name them.
#include <filesystem>
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

}  // namespace
}  // namespace attn
