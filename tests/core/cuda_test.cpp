// SPDX-License-Identifier: MIT
// CUDA against the CPU float64 reference: the model in float32, bfloat16 and float16, traces,
// long chunked inputs and the Session facade on "cuda". Skipped where no GPU is usable.
#include <gtest/gtest.h>

#include "core/model/trace.h"
#include "tests/support/fixtures.h"
#include "tests/support/tolerances.h"

namespace attn {
namespace {

double relative_error(const torch::Tensor& a, const torch::Tensor& ref) {
  auto x = a.detach().to(torch::kCPU, torch::kFloat64);
  auto r = ref.detach().to(torch::kCPU, torch::kFloat64);
  return ((x - r).norm() / r.norm()).item<double>();
}

class Cuda : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no usable CUDA device";
  }
};

TEST_P(Cuda, ModelAgreesWithTheCpuFloat64Reference) {
  auto ref = test::tiny_model(GetParam(), torch::kFloat64);
  auto ids = test::random_ids(257);
  torch::NoGradGuard g;
  const auto want = ref->forward(ids);
  struct Case { torch::Dtype dtype; double bound; };
  for (const auto& c : {Case{torch::kFloat32, 1e-5}, Case{torch::kBFloat16, 2e-2},
                        Case{torch::kFloat16, 4e-3}}) {
    auto m = test::tiny_model(GetParam(), torch::kFloat64);
    m->to(torch::kCUDA, c.dtype);
    ForwardOptions opts;
    opts.chunk_rows = 64;
    const double err = relative_error(m->forward(ids.to(torch::kCUDA), opts), want);
    EXPECT_LT(err, c.bound) << "dtype " << c.dtype;
  }
}

TEST_P(Cuda, TraceMatchesTheCpuTrace) {
  auto cpu = test::tiny_model(GetParam(), torch::kFloat32);
  auto gpu = test::tiny_model(GetParam(), torch::kFloat32);
  gpu->to(torch::kCUDA);
  auto ids = test::random_ids(65);
  MapCollector a({1}, {}, 65), b({1}, {}, 65);
  ForwardOptions oa, ob;
  oa.sink = &a;
  ob.sink = &b;
  ob.chunk_rows = 16;
  torch::NoGradGuard g;
  cpu->forward(ids, oa);
  gpu->forward(ids.to(torch::kCUDA), ob);
  for (const auto& [stage, t] : a.layers().at(1).stages) {
    EXPECT_TRUE(test::all_close(b.layers().at(1).stages.at(stage), t, {1e-4, 1e-3})) << stage;
  }
}

TEST_P(Cuda, LongInputsChunkedEqualUnchunked) {
  auto m = test::tiny_model(GetParam(), torch::kFloat32);
  m->to(torch::kCUDA);
  auto ids = test::random_ids(4096).to(torch::kCUDA);
  torch::NoGradGuard g;
  ForwardOptions small;
  small.chunk_rows = 512;
  ForwardOptions whole;
  whole.chunk_rows = 4096;
  EXPECT_LT(relative_error(m->forward(ids, small), m->forward(ids, whole)), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(AllPositionEncodings, Cuda, ::testing::ValuesIn(test::all_positions()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace attn
