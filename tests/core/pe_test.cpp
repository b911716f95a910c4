// SPDX-License-Identifier: MIT
// Position encodings against hand-computed values (ALiBi slopes for 8 and 12 heads, Kerple's
// clamp and formula, FIRE on a small case), RoPE's relative property, and any-length use.
#include <cmath>

#include <gtest/gtest.h>

#include "core/attention/pe_alibi.h"
#include "core/attention/pe_fire.h"
#include "core/attention/pe_kerple.h"
#include "core/attention/pe_rope.h"
#include "core/util/error.h"
#include "tests/support/tolerances.h"

namespace attn {
namespace {

TEST(ALiBi, SlopesForEightHeadsArePowersOfTwo) {
  const auto s = alibi_slopes(8);
  ASSERT_EQ(s.size(), 8u);
  for (int h = 0; h < 8; ++h) EXPECT_DOUBLE_EQ(s[h], std::pow(2.0, -(h + 1)));
}

TEST(ALiBi, SlopesForTwelveHeadsInterleaveSixteen) {
  // dape.md §3.3: 2^-1 .. 2^-8, then 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5.
  const std::vector<double> expected = {0.5,     0.25,    0.125,   0.0625,   0.03125, 0.015625,
                                        0.0078125, 0.00390625, std::pow(2.0, -0.5),
                                        std::pow(2.0, -1.5), std::pow(2.0, -2.5),
                                        std::pow(2.0, -3.5)};
  const auto s = alibi_slopes(12);
  ASSERT_EQ(s.size(), expected.size());
  for (size_t h = 0; h < s.size(); ++h) EXPECT_NEAR(s[h], expected[h], 1e-15) << "head " << h;
}

TEST(ALiBi, BiasIsMinusSlopeTimesDistanceAndZeroAbove) {
  ALiBiImpl alibi(8);
  auto b = alibi.bias(2, 5, 5);  // rows 2..4, keys 0..4
  ASSERT_EQ(b.sizes(), (std::vector<int64_t>{8, 3, 5}));
  for (int h = 0; h < 8; ++h) {
    for (int r = 0; r < 3; ++r) {
      for (int j = 0; j < 5; ++j) {
        const int i = r + 2;
        const double want = j <= i ? -std::pow(2.0, -(h + 1)) * (i - j) : 0.0;
        EXPECT_NEAR(b[h][r][j].item<double>(), want, 1e-6);
      }
    }
  }
}

TEST(ALiBi, DistancesStayExactAtLongLengths) {
  ALiBiImpl alibi(8);
  auto b = alibi.bias(8191, 8192, 8192);  // the last row of an 8192-token input
  // Distance 8191 - 4097 = 4094 is not representable in fp16 (spacing 2 above 2048).
  EXPECT_FLOAT_EQ(b[0][0][4097].item<float>(), -0.5f * 4094.0f);
}

TEST(Kerple, ClampsParametersToOneHundredthBeforeUse) {
  KerpleImpl k(2);
  {
    torch::NoGradGuard g;
    k.p.copy_(torch::tensor({-1.0, 0.5}));
    k.a.copy_(torch::tensor({0.25, 0.0}));
  }
  auto b = k.bias(3, 4, 4);  // row i = 3
  // head 0: p -> 0.01, a = 0.25; head 1: p = 0.5, a -> 0.01.
  for (int j = 0; j < 4; ++j) {
    const double d = 3 - j;
    EXPECT_NEAR(b[0][0][j].item<double>(), -0.01 * std::log(1 + 0.25 * d), 1e-7);
    EXPECT_NEAR(b[1][0][j].item<double>(), -0.5 * std::log(1 + 0.01 * d), 1e-7);
  }
  k.prepare();
  EXPECT_FLOAT_EQ(k.p[0].item<float>(), 0.01f);
  EXPECT_FLOAT_EQ(k.a[1].item<float>(), 0.01f);
  EXPECT_FLOAT_EQ(k.p[1].item<float>(), 0.5f);
}

TEST(Kerple, InitialisationFollowsTheSpec) {
  torch::manual_seed(3);
  KerpleImpl k(64);
  EXPECT_GE(k.p.min().item<float>(), 0.0f);
  EXPECT_LE(k.p.max().item<float>(), 2.0f);
  EXPECT_GT(k.p.max().item<float>(), 1.0f);  // U(0, 2): some above 1 among 64 draws
  EXPECT_LE(k.a.max().item<float>(), 1.0f);
}

TEST(FIRE, SmallCaseMatchesHandComputation) {
  FIREImpl fire(2, 3, /*threshold=*/2.0, /*leaky=*/false);
  {
    torch::NoGradGuard g;
    fire.fc1->weight.copy_(torch::tensor({{1.0}, {-2.0}, {0.5}}));
    fire.fc1->bias.copy_(torch::tensor({0.0, 1.0, -0.25}));
    fire.fc2->weight.copy_(torch::tensor({{1.0, 1.0, 1.0}, {0.5, -1.0, 2.0}}));
    fire.fc2->bias.copy_(torch::tensor({0.1, -0.2}));
    fire.c.fill_(0.5);
    fire.L_multiplier.fill_(-1.5);  // L = |-1.5 * 2| = 3
  }
  auto b = fire.bias(0, 5, 5);  // (H, 5, 5)
  auto psi = [](double x) { return std::log(std::abs(0.5 * x) + 1.0); };
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j <= i; ++j) {
      const double x = psi(i - j) / (psi(std::max(double(i), 3.0)) + 1e-6);
      const double h1 = std::max(0.0, 1.0 * x), h2 = std::max(0.0, -2.0 * x + 1.0),
                   h3 = std::max(0.0, 0.5 * x - 0.25);
      EXPECT_NEAR(b[0][i][j].item<double>(), h1 + h2 + h3 + 0.1, 1e-6) << i << "," << j;
      EXPECT_NEAR(b[1][i][j].item<double>(), 0.5 * h1 - h2 + 2.0 * h3 - 0.2, 1e-6);
    }
  }
}

TEST(RoPE, ScoresDependOnlyOnRelativePosition) {
  torch::manual_seed(0);
  RoPEImpl rope(8, 10000.0);
  auto q1 = torch::randn({1, 1, 1, 8}, torch::kFloat64);
  auto k1 = torch::randn({1, 1, 1, 8}, torch::kFloat64);
  const int64_t n = 300;
  auto q = q1.expand({1, 1, n, 8}).clone();
  auto k = k1.expand({1, 1, n, 8}).clone();
  q = rope.rotate(q);
  k = rope.rotate(k);
  auto s = torch::matmul(q, k.transpose(-2, -1))[0][0];  // (n, n)
  // <R(m) q, R(n) k> = f(m - n): compare (m, n) with (m + 250, n + 250).
  for (int64_t m : {0, 7, 40}) {
    for (int64_t d : {0, 3, 11}) {
      if (m - d < 0) continue;
      EXPECT_NEAR(s[m][m - d].item<double>(), s[m + 250][m + 250 - d].item<double>(), 1e-10);
    }
  }
  // Position 0 is not rotated; norms are kept.
  EXPECT_TRUE(test::all_close(q[0][0][0], q1[0][0][0], test::kFloat64));
  EXPECT_TRUE(test::all_close(q.norm(2, -1), q1.norm(2, -1).expand({1, 1, n}), test::kFloat64));
}

TEST(RoPE, RotatesHalvesAsInGptNeoX) {
  RoPEImpl rope(4, 10000.0);
  auto q = torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kFloat64).view({1, 1, 1, 4});
  q = torch::cat({q, q}, 2);  // positions 0 and 1
  auto k = q.clone();
  q = rope.rotate(q);
  k = rope.rotate(k);
  // Position 1: angles (1, 1e-2) for pairs (x0, x2) and (x1, x3).
  const double c0 = std::cos(1.0), s0 = std::sin(1.0), c1 = std::cos(0.01), s1 = std::sin(0.01);
  auto want = torch::tensor({1 * c0 - 3 * s0, 2 * c1 - 4 * s1, 3 * c0 + 1 * s0, 4 * c1 + 2 * s1},
                            torch::kFloat64);
  EXPECT_TRUE(test::all_close(q[0][0][1], want, test::kFloat64));
}

TEST(RoPE, OddHeadDimensionIsAConfigError) {
  EXPECT_THROW(RoPEImpl(5, 10000.0), ConfigError);
}

}  // namespace
}  // namespace attn
