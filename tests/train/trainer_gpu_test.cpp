// SPDX-License-Identifier: MIT
// Training on CUDA with bf16 autocast (skipped without a GPU): autocast does what it says, a
// run learns, and its checkpoint gives the same validation perplexity on the CPU.
#include "core/model/checkpoint.h"
#include "core/train/trainer.h"
#include "core/util/autocast.h"
#include "tests/train/train_fixture.h"

namespace attn {
namespace {

using test::TrainFolder;

bool have_cuda() { return torch::cuda::is_available(); }

TEST(TrainerGpu, AutocastGuardCastsMatmulsOnCudaOnly) {
  {
    AutocastGuard cpu(torch::kCPU, true);
    EXPECT_FALSE(cpu.active());
    const auto a = torch::randn({4, 4});
    EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kFloat32);
  }
  if (!have_cuda()) GTEST_SKIP() << "no CUDA device";
  const auto a = torch::randn({4, 4}, torch::kCUDA);
  {
    AutocastGuard on(torch::kCUDA, true);
    EXPECT_TRUE(on.active());
    EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kBFloat16);
    EXPECT_EQ(torch::softmax(torch::matmul(a, a), -1).scalar_type(), torch::kFloat32);
  }
  EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kFloat32);  // restored
}

class TrainerGpuRun : public TrainFolder {};

TEST_F(TrainerGpuRun, Bf16RunLearnsAndItsCheckpointAgreesOnTheCpu) {
  if (!have_cuda()) GTEST_SKIP() << "no CUDA device";
  auto j = config_json(300);
  j["position"]["kind"] = "kerple";
  j["attention"] = {{"variant", "dape_v2"}};
  j["train"]["log_interval"] = 10;
  j["train"]["checkpoint_interval"] = 100;
  const auto c = config(j);
  Trainer t(c, path("run"), torch::kCUDA, false);
  const auto r = t.run();
  ASSERT_TRUE(r.complete);
  EXPECT_LT(r.val_ppl, 0.5 * r.unigram_ppl);
  const auto ck = load_checkpoint(path("run"));  // float32 weights, on the CPU
  auto model = ck.model;
  const auto data = load_train_data(c);
  const auto cpu = evaluate_nll(model, data->validation, 16, 0, 8, torch::kCPU);
  EXPECT_NEAR(cpu.perplexity(), r.val_ppl, 1e-3 * r.val_ppl);
}

}  // namespace
}  // namespace attn
