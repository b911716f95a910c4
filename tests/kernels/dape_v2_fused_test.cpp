// SPDX-License-Identifier: MIT
// The fused DAPE V2 kernel against its float64 reference (relative error ||out - ref|| / ||ref||
// under 1e-2 in bfloat16 and 2e-3 in float16, every output element written), the reference
// against the core's chunked DAPE V2, the module's dispatch, and the unsupported cases; the
// kernel's pooled views against the float64 maps pooled by the core's ViewCollector.
// Labelled gpu; each test skips itself where no GPU is usable.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/attention/attention.h"
#include "core/attention/dape_v2.h"
#include "core/attention/pe_alibi.h"
#include "core/kernels/dape_v2_fused.h"
#include "core/model/map_view.h"
#include "tests/support/reference_attention.h"
#include "tests/support/tolerances.h"

namespace attn {
namespace {

double relative_error(const torch::Tensor& a, const torch::Tensor& ref) {
  auto x = a.detach().to(torch::kCPU, torch::kFloat64);
  auto r = ref.detach().to(torch::kCPU, torch::kFloat64);
  return ((x - r).norm() / r.norm()).item<double>();
}

double bound(torch::Dtype dtype) { return dtype == torch::kBFloat16 ? 1e-2 : 2e-3; }

/// A one-layer DAPE V2 attention of d_model, n_head and position encoding pe (seeded).
std::shared_ptr<DapeV2Impl> dape_layer(int64_t d_model, int64_t n_head, const std::string& pe,
                                       uint64_t seed) {
  ModelConfig c;
  c.d_model = d_model;
  c.n_head = n_head;
  c.n_layer = 1;
  c.train_len = 64;
  c.attention.variant = "dape_v2";
  c.position.kind = pe;
  torch::manual_seed(seed);
  return std::dynamic_pointer_cast<DapeV2Impl>(make_attention(c, 0, "test"));
}

/// Random DAPE V2 parameters with PyTorch's default scale (U(+-1/sqrt(fan_in))) and the bias
/// table of `pe` ("nope", "alibi" or "kerple") for n keys.
DapeV2FusedParams random_params(int64_t H, int64_t D, const std::string& pe, int64_t n,
                                int64_t head_dim, const torch::Device& device) {
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const bool has_bias = pe != "nope";
  const int64_t c_in = has_bias ? 2 * H : H;
  auto uniform = [&](std::vector<int64_t> shape, double fan_in) {
    return (torch::rand(shape, f32) * 2 - 1) / std::sqrt(fan_in);
  };
  DapeV2FusedParams p;
  p.conv1_weight = uniform({D, c_in, 1, 3}, 3.0 * c_in);
  p.conv1_bias = uniform({D}, 3.0 * c_in);
  p.conv2_weight = uniform({H, D, 1, 3}, 3.0 * D);
  p.conv2_bias = uniform({H}, 3.0 * D);
  p.scale = 1.0 / std::sqrt(double(head_dim));
  auto d = torch::arange(n, f32).unsqueeze(0);  // (1, n)
  if (pe == "alibi") {
    auto slopes = torch::tensor(alibi_slopes(H), torch::kFloat64).to(f32).unsqueeze(1);
    p.bias_by_distance = -slopes * d;
  } else if (pe == "kerple") {
    auto pp = (torch::rand({H, 1}, f32) * 2).clamp_min(0.01);
    auto aa = torch::rand({H, 1}, f32).clamp_min(0.01);
    p.bias_by_distance = -pp * torch::log1p(aa * d);
  }
  return p;
}

struct Shape {
  int64_t B, H, N, head_dim, D;
  std::string pe;
};

std::string describe(const Shape& s, torch::Dtype dtype) {
  std::ostringstream os;
  os << "B=" << s.B << " H=" << s.H << " N=" << s.N << " head_dim=" << s.head_dim
     << " D=" << s.D << " pe=" << s.pe << " dtype=" << dtype;
  return os.str();
}

struct Inputs {
  torch::Tensor q, k, v;
  DapeV2FusedParams p;
};

/// Random q, k, v of shape s in dtype on the GPU and random parameters (seeded).
Inputs random_inputs(const Shape& s, torch::Dtype dtype, uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Device dev(torch::kCUDA);
  auto opts = torch::TensorOptions().dtype(dtype).device(dev);
  Inputs in;
  in.q = torch::randn({s.B, s.H, s.N, s.head_dim}, opts) * 1.5;
  in.k = torch::randn({s.B, s.H, s.N, s.head_dim}, opts);
  in.v = torch::randn({s.B, s.H, s.N, s.head_dim}, opts);
  in.p = random_params(s.H, s.D, s.pe, s.N, s.head_dim, dev);
  return in;
}

/// Runs the kernel on a NaN-filled output and compares with the float64 reference.
void check(const Shape& s, torch::Dtype dtype, uint64_t seed) {
  SCOPED_TRACE(describe(s, dtype));
  const auto [q, k, v, p] = random_inputs(s, dtype, seed);
  auto out = torch::full({s.B, s.H, s.N, s.head_dim}, std::numeric_limits<double>::quiet_NaN(),
                         q.options());
  ASSERT_TRUE(dape_v2_fused_supported(q, k, v, p))
      << dape_v2_fused_unsupported_reason(q, k, v, p);
  dape_v2_fused_out(out, q, k, v, p);
  torch::cuda::synchronize();
  const auto unwritten = out.isnan().sum().item<int64_t>();
  ASSERT_EQ(unwritten, 0) << unwritten << " of " << out.numel() << " outputs NaN (unwritten)";
  const auto ref = dape_v2_fused_ref(q, k, v, p);
  const double err = relative_error(out, ref);
  EXPECT_LT(err, bound(dtype));
}

class Fused : public ::testing::TestWithParam<torch::Dtype> {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no usable CUDA device";
  }
};

TEST_P(Fused, EveryHeadCountAndHeadDimMatchesTheReference) {
  const std::vector<int64_t> lengths = {1, 17, 33, 100, 257};
  const std::vector<std::string> pes = {"nope", "alibi", "kerple"};
  uint64_t seed = 1;
  for (int64_t H : {1, 2, 3, 5, 8, 9, 10, 12, 16}) {  // 9 to 12: the kernel's spread head slots
    for (int64_t hd : {16, 32, 64, 128}) {
      for (size_t n = 0; n < lengths.size(); ++n) {
        check({1, H, lengths[n], hd, 32, pes[(n + H) % pes.size()]}, GetParam(), seed++);
      }
    }
  }
}

TEST_P(Fused, OddLengthsBatchesAndNarrowWidthsMatchTheReference) {
  uint64_t seed = 100;
  for (int64_t n : {1, 2, 3, 15, 16, 31, 32, 34, 47, 49, 65, 127, 129}) {
    for (const std::string pe : {"nope", "alibi", "kerple"}) {
      check({2, 4, n, 64, 32, pe}, GetParam(), seed++);
    }
  }
  check({3, 12, 77, 64, 7, "kerple"}, GetParam(), seed++);
  check({2, 6, 200, 32, 1, "alibi"}, GetParam(), seed++);
  check({1, 16, 129, 128, 32, "alibi"}, GetParam(), seed++);
  check({2, 8, 203, 16, 32, "kerple"}, GetParam(), seed++);  // the bundled models' head_dim
}

// The kernel has no atomics on its outputs and a fixed order of sums, so a race between its
// warps (the halo slots' named barriers, which compute-sanitizer's racecheck cannot follow:
// core/kernels/NOTES.md, v22) would show as runs that differ. Many tiles a row block, and
// blocks of every tile count, each shape run 40 times.
TEST_P(Fused, RepeatedRunsAreBitwiseEqual) {
  for (const Shape& s : {Shape{1, 12, 2000, 64, 32, "kerple"}, Shape{2, 8, 1100, 32, 32, "alibi"},
                         Shape{1, 16, 700, 128, 32, "nope"}}) {
    SCOPED_TRACE(describe(s, GetParam()));
    const auto [q, k, v, p] = random_inputs(s, GetParam(), 600);
    const auto first = dape_v2_fused(q, k, v, p);
    int differing = 0;
    for (int run = 1; run < 40; ++run) differing += !torch::equal(dape_v2_fused(q, k, v, p), first);
    EXPECT_EQ(differing, 0) << differing << " of 39 repeated runs differ from the first";
  }
}

TEST_P(Fused, LongSequencesMatchTheReference) {
  check({1, 4, 1000, 64, 32, "alibi"}, GetParam(), 500);
  check({1, 3, 1537, 64, 32, "kerple"}, GetParam(), 501);
}

INSTANTIATE_TEST_SUITE_P(HalfDtypes, Fused, ::testing::Values(torch::kBFloat16, torch::kHalf),
                         [](const auto& info) {
                           return std::string(info.param == torch::kBFloat16 ? "bfloat16"
                                                                             : "float16");
                         });

TEST(FusedReference, EqualsTheCoreChunkedDapeV2InFloat64) {
  // The reference re-states the core's math over the whole square; the core runs it in query
  // chunks whose last floor(k/2) rows see zero padding. They must agree to rounding.
  for (const std::string pe : {"nope", "rope", "alibi", "kerple"}) {
    SCOPED_TRACE(pe);
    ModelConfig c;
    c.d_model = 64;
    c.n_head = 2;
    c.n_layer = 1;
    c.train_len = 16;
    c.attention.variant = "dape_v2";
    c.position.kind = pe;
    torch::manual_seed(3);
    auto attn = std::dynamic_pointer_cast<DapeV2Impl>(make_attention(c, 0, "test"));
    ASSERT_TRUE(attn);
    attn->to(torch::kFloat64);
    torch::NoGradGuard g;
    const int64_t N = 37, H = 2, hd = 32;
    auto x = torch::randn({1, N, 64}, torch::kFloat64);
    AttentionInputs in;
    in.chunk_rows = 5;
    const auto want = attn->forward(x, in);
    const auto& enc = attn->position_encoding();
    enc->prepare();
    auto q = enc->rotate(test::project_heads(*attn, "q_proj", x, H));
    auto k = enc->rotate(test::project_heads(*attn, "k_proj", x, H));
    auto v = test::project_heads(*attn, "v_proj", x, H);
    DapeV2FusedParams p{attn->conv1->weight, attn->conv1->bias, attn->conv2->weight,
                        attn->conv2->bias, {}, 1.0 / std::sqrt(double(hd))};
    if (enc->has_bias()) p.bias_by_distance = enc->bias(N - 1, N, N).select(1, 0).flip({-1});
    auto o = dape_v2_fused_ref(q, k, v, p).transpose(1, 2).reshape({1, N, 64});
    EXPECT_TRUE(test::all_close(test::project(*attn, "o_proj", o), want, test::kFloat64));
  }
}

class FusedModule : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no usable CUDA device";
  }
};

TEST_P(FusedModule, DispatchesToTheKernelAndAgreesWithTheFloat64Module) {
  auto ref = dape_layer(256, 4, GetParam(), 5);
  ref->to(torch::kFloat64);
  auto x = torch::randn({2, 150, 256}, torch::kFloat64);
  torch::NoGradGuard g;
  const auto want = ref->forward(x, {});
  for (auto dtype : {torch::kBFloat16, torch::kHalf}) {
    SCOPED_TRACE(c10::toString(dtype));
    auto m = dape_layer(256, 4, GetParam(), 5);  // the same weights
    m->to(torch::kCUDA, dtype);
    auto xd = x.to(torch::kCUDA, dtype);
    ASSERT_TRUE(m->uses_fused_kernel(xd, {}));
    const double fused = relative_error(m->forward(xd, {}), want);
    const double eager = relative_error(m->ScoreAttentionImpl::forward(xd, {}), want);
    // The projections round in the same dtype on both paths: the fused path must be as close
    // to float64 as the eager one, and within the kernel's own bound plus the eager error.
    EXPECT_LT(fused, bound(dtype) + eager) << "eager error " << eager;
  }
}

INSTANTIATE_TEST_SUITE_P(DistanceBiases, FusedModule,
                         ::testing::Values("nope", "rope", "alibi", "kerple"),
                         [](const auto& info) { return info.param; });

class RecordAll : public StageSink {
 public:
  bool wants(int64_t) const override { return true; }
  void on_stage(int64_t, const std::string&, const torch::Tensor&, int64_t) override {}
};

TEST(FusedDispatch, TheReferencePathRunsWhereTheKernelDoesNotApply) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no usable CUDA device";
  ModelConfig c;
  c.d_model = 128;
  c.n_head = 2;
  c.n_layer = 1;
  c.train_len = 64;
  c.attention.variant = "dape_v2";
  c.position.kind = "alibi";
  auto m = std::dynamic_pointer_cast<DapeV2Impl>(make_attention(c, 0, "test"));
  m->to(torch::kCUDA, torch::kBFloat16);
  auto x = torch::randn({1, 9, 128}, torch::TensorOptions().device(torch::kCUDA).dtype(
                                                     torch::kBFloat16));
  {
    torch::NoGradGuard g;
    EXPECT_TRUE(m->uses_fused_kernel(x, {}));
    RecordAll sink;
    AttentionInputs traced;
    traced.sink = &sink;
    EXPECT_FALSE(m->uses_fused_kernel(x, traced)) << "stage maps need the reference path";
    EXPECT_FALSE(m->uses_fused_kernel(x.to(torch::kFloat32), {}));
    EXPECT_FALSE(m->uses_fused_kernel(x.cpu(), {}));
    c.position.kind = "fire";
    auto fire = std::dynamic_pointer_cast<DapeV2Impl>(make_attention(c, 0, "test"));
    EXPECT_FALSE(fire->uses_fused_kernel(x, {}));
    c.position.kind = "alibi";
    c.attention.params = {{"kernel", 5}};
    auto k5 = std::dynamic_pointer_cast<DapeV2Impl>(make_attention(c, 0, "test"));
    EXPECT_FALSE(k5->uses_fused_kernel(x, {}));
  }
  EXPECT_FALSE(m->uses_fused_kernel(x, {})) << "training needs gradients";
}

TEST(FusedDispatch, UnsupportedArgumentsAreNamed) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no usable CUDA device";
  const torch::Device dev(torch::kCUDA);
  auto make = [&](int64_t H, int64_t hd, torch::Dtype dt) {
    return torch::randn({1, H, 8, hd}, torch::TensorOptions().device(dev).dtype(dt));
  };
  auto reason = [&](int64_t H, int64_t hd, torch::Dtype dt, const DapeV2FusedParams& p) {
    auto t = make(H, hd, dt);
    return dape_v2_fused_unsupported_reason(t, t, t, p);
  };
  EXPECT_EQ(reason(4, 64, torch::kBFloat16, random_params(4, 32, "alibi", 8, 64, dev)), "");
  EXPECT_NE(reason(17, 64, torch::kBFloat16, random_params(17, 32, "alibi", 8, 64, dev))
                .find("n_head 17"), std::string::npos);
  EXPECT_NE(reason(4, 80, torch::kHalf, random_params(4, 32, "alibi", 8, 80, dev))
                .find("head_dim 80"), std::string::npos);
  EXPECT_NE(reason(4, 64, torch::kFloat32, random_params(4, 32, "alibi", 8, 64, dev))
                .find("dtype"), std::string::npos);
  EXPECT_NE(reason(4, 64, torch::kHalf, random_params(4, 33, "alibi", 8, 64, dev))
                .find("width 33"), std::string::npos);
  auto p5 = random_params(4, 32, "nope", 8, 64, dev);
  p5.conv1_weight = torch::randn({32, 4, 1, 5}, p5.conv1_weight.options());
  EXPECT_NE(reason(4, 64, torch::kHalf, p5).find("kernel size 5"), std::string::npos);
  auto t = make(4, 64, torch::kFloat32);
  EXPECT_THROW(dape_v2_fused(t, t, t, p5), c10::Error);
}


/// The float64 reference's map of `stage` pooled by the core's ViewCollector: (H, rows, cols).
torch::Tensor collector_view(const torch::Tensor& q, const torch::Tensor& k,
                             const DapeV2FusedParams& p, const DapeV2FusedView& w) {
  const int64_t N = q.size(2);
  auto logits = dape_v2_fused_ref_logits(q, k, p);  // (1, H, N, N), -inf in the future
  auto map = w.stage == "probs" ? torch::softmax(logits, -1) : logits;
  auto future = torch::ones({N, N}, torch::kBool).triu(1).to(map.device());
  map = map.masked_fill(future, 0.0);  // the sink's contract: the future is zero
  ViewSpec spec;
  spec.stages = {w.stage};
  spec.window = MapWindow{w.q0, w.q1, w.k0, w.k1, w.step};
  spec.pool = w.mean ? PoolMode::Mean : PoolMode::Extreme;
  ViewCollector collector({spec});
  collector.on_stage(0, w.stage, map, 0);
  return collector.view(0, w.stage);
}

/// Compares a kernel view with the reference view: the same empty (NaN) cells, and on the
/// others a relative error (norm of the difference over norm of the reference) under tol.
/// Extreme logits may pick the other sign where the largest positive and the
/// most negative entry of a cell tie within rounding: their magnitudes must agree everywhere,
/// the signs in 99% of the cells.
void expect_view_close(const torch::Tensor& got, const torch::Tensor& want,
                       const DapeV2FusedView& w, double tol) {
  auto g = got.to(torch::kCPU, torch::kFloat64), r = want.to(torch::kFloat64);
  ASSERT_EQ(g.sizes(), r.sizes());
  const auto empty = r.isnan();
  ASSERT_TRUE(torch::equal(g.isnan(), empty)) << "empty cells differ";
  auto gv = g.masked_select(empty.logical_not()), rv = r.masked_select(empty.logical_not());
  ASSERT_GT(rv.numel(), 0);
  if (w.stage == "logits" && !w.mean) {
    EXPECT_LT(relative_error(gv.abs(), rv.abs()), tol);
    const double same = (gv.sign() == rv.sign()).to(torch::kFloat64).mean().item<double>();
    EXPECT_GT(same, 0.99);
  } else {
    EXPECT_LT(relative_error(gv, rv), tol);
  }
}

class FusedView : public ::testing::TestWithParam<torch::Dtype> {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no usable CUDA device";
  }
};

TEST_P(FusedView, WindowsStepsPoolsAndStagesMatchTheReferencePooled) {
  const auto dtype = GetParam();
  const torch::Device dev(torch::kCUDA);
  struct Case {
    Shape s;
    int64_t q0, q1, k0, k1, step;
  };
  const std::vector<Case> cases = {
      {{1, 12, 640, 64, 32, "kerple"}, 0, 640, 0, 640, 16},     // whole map, aligned cells
      {{1, 12, 700, 64, 32, "alibi"}, 0, 700, 0, 700, 20},      // cells across blocks and tiles
      {{1, 5, 517, 32, 17, "nope"}, 37, 490, 5, 400, 17},       // an inner window, odd sizes
      {{1, 16, 300, 128, 32, "kerple"}, 100, 300, 0, 300, 33},  // H = 16, head_dim 128
      {{1, 3, 1100, 64, 32, "alibi"}, 0, 1100, 0, 1100, 64},    // many tiles a block
      {{1, 8, 90, 64, 32, "kerple"}, 0, 90, 50, 90, 16},        // keys past some rows' ends
      {{1, 12, 640, 64, 32, "kerple"}, 0, 640, 0, 640, 8},      // the smallest step
      {{1, 6, 333, 64, 32, "alibi"}, 11, 333, 3, 300, 9},       // cells across 8-row halves
      {{1, 8, 600, 16, 32, "kerple"}, 0, 600, 0, 600, 16},      // head_dim 16
      {{1, 10, 400, 64, 32, "alibi"}, 0, 400, 0, 400, 16},      // 10 heads in 12 spread slots
  };
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const auto& cs = cases[ci];
    const auto& s = cs.s;
    torch::manual_seed(40 + ci);
    auto opts = torch::TensorOptions().dtype(dtype).device(dev);
    auto q = torch::randn({s.B, s.H, s.N, s.head_dim}, opts) * 1.5;
    auto k = torch::randn({s.B, s.H, s.N, s.head_dim}, opts);
    auto p = random_params(s.H, s.D, s.pe, s.N, s.head_dim, dev);
    for (const std::string stage : {"probs", "logits"}) {
      for (bool mean : {false, true}) {
        DapeV2FusedView w;
        w.stage = stage;
        w.q0 = cs.q0, w.q1 = cs.q1, w.k0 = cs.k0, w.k1 = cs.k1, w.step = cs.step;
        w.mean = mean;
        SCOPED_TRACE(describe(s, dtype) + " window [" + std::to_string(w.q0) + ", " +
                     std::to_string(w.q1) + ") x [" + std::to_string(w.k0) + ", " +
                     std::to_string(w.k1) + ") step " + std::to_string(w.step) + " " + stage +
                     (mean ? " mean" : " extreme"));
        ASSERT_EQ(dape_v2_fused_view_unsupported_reason(q, k, p, w), "");
        const auto got = dape_v2_fused_view(q, k, p, w);
        torch::cuda::synchronize();
        ASSERT_EQ(got.size(0), s.H);
        expect_view_close(got, collector_view(q, k, p, w), w, bound(dtype));
        if (stage == "probs") {  // the forward's row statistics in place of the first pass
          auto stats = torch::empty({1, s.H, s.N, 2}, opts.dtype(torch::kFloat32));
          auto out = torch::empty({1, s.H, s.N, s.head_dim}, opts);
          dape_v2_fused_out(out, q, k, k, p, stats);
          EXPECT_LT(relative_error(dape_v2_fused_view(q, k, p, w, stats).nan_to_num(0.0),
                                   got.nan_to_num(0.0)),
                    1e-5);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(HalfDtypes, FusedView, ::testing::Values(torch::kBFloat16, torch::kHalf),
                         [](const auto& info) {
                           return std::string(info.param == torch::kBFloat16 ? "bfloat16"
                                                                             : "float16");
                         });

TEST(FusedView, UnsupportedViewsAreNamed) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no usable CUDA device";
  const torch::Device dev(torch::kCUDA);
  auto opts = torch::TensorOptions().device(dev).dtype(torch::kBFloat16);
  auto q = torch::randn({1, 4, 64, 64}, opts);
  auto p = random_params(4, 32, "alibi", 64, 64, dev);
  DapeV2FusedView w;
  w.q1 = 64, w.k1 = 64, w.step = 16;
  EXPECT_EQ(dape_v2_fused_view_unsupported_reason(q, q, p, w), "");
  auto small = w;
  small.step = 7;
  EXPECT_NE(dape_v2_fused_view_unsupported_reason(q, q, p, small).find("step 7"),
            std::string::npos);
  auto raw = w;
  raw.stage = "raw";
  EXPECT_NE(dape_v2_fused_view_unsupported_reason(q, q, p, raw).find("stage \"raw\""),
            std::string::npos);
  auto outside = w;
  outside.k1 = 65;
  EXPECT_NE(dape_v2_fused_view_unsupported_reason(q, q, p, outside).find("window"),
            std::string::npos);
  auto two = torch::randn({2, 4, 64, 64}, opts);
  EXPECT_NE(dape_v2_fused_view_unsupported_reason(two, two, p, w).find("batch 2"),
            std::string::npos);
  EXPECT_THROW(dape_v2_fused_view(q, q, p, small), c10::Error);
}

TEST(FusedView, ATracedLayerServesPooledViewsFusedAndOthersByTheReference) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no usable CUDA device";
  auto m = dape_layer(256, 4, "alibi", 9);
  m->to(torch::kCUDA, torch::kBFloat16);
  const int64_t N = 400;
  auto x = torch::randn({1, N, 256}, torch::TensorOptions().device(torch::kCUDA).dtype(
                                         torch::kBFloat16));
  torch::NoGradGuard g;
  const auto plain = m->forward(x, {});
  auto spec_of = [&](int64_t grid, std::set<std::string> stages) {
    ViewSpec s;
    s.stages = std::move(stages);
    s.window = make_window(N, 0, -1, 0, -1, grid);
    return s;
  };
  // An overview (cells of 8 or more tokens) of probs and logits: served by the kernel, the
  // layer's output is the fused kernel's.
  ViewCollector fused({spec_of(50, {"probs", "logits"})});
  AttentionInputs in;
  in.sink = &fused;
  const auto out = m->forward(x, in);
  EXPECT_TRUE(torch::equal(out, plain)) << "the layer ran fused";
  // The same views from the reference path's rows (a sink that also wants an exact profile,
  // which the kernel does not make, sends the whole layer there).
  ViewCollector eager({spec_of(50, {"probs", "logits"}), spec_of(0, {"probs"})});
  in.sink = &eager;
  const auto out_eager = m->forward(x, in);
  EXPECT_FALSE(torch::equal(out_eager, plain)) << "the reference path's rounding differs";
  for (const std::string stage : {"probs", "logits"}) {
    SCOPED_TRACE(stage);
    DapeV2FusedView w;
    w.stage = stage;
    const auto& win = fused.specs()[0].window;
    w.q0 = win.q0, w.q1 = win.q1, w.k0 = win.k0, w.k1 = win.k1, w.step = win.step;
    EXPECT_EQ(win.step, 8);
    EXPECT_TRUE(fused.came_pooled(0, stage));
    EXPECT_FALSE(eager.came_pooled(0, stage));
    // Both paths take the same bfloat16 q and k; each is within the kernel's bound of float64
    // (the eager path rounds its own way), so they agree within twice that.
    expect_view_close(fused.view(0, stage), eager.view(0, stage), w, 2 * bound(torch::kBFloat16));
  }
}

}  // namespace
}  // namespace attn
