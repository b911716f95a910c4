// SPDX-License-Identifier: MIT
// Tolerances per dtype (atol + rtol * |ref|) and a comparison that reports the largest error and
// where it is, for tests that compare a path against a float64 reference.
#pragma once

#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace attn::test {

struct Tolerance {
  double atol;
  double rtol;
};

/// float32 against a float64 reference of the same math: rounding of a few reductions.
constexpr Tolerance kFloat32{1e-5, 1e-4};
/// float64 paths that should agree to rounding (e.g. chunked against unchunked).
constexpr Tolerance kFloat64{1e-12, 1e-10};
constexpr Tolerance kBFloat16{2e-2, 2e-2};
constexpr Tolerance kFloat16{2e-3, 2e-3};

/// Checks |actual - expected| <= atol + rtol * |expected| elementwise (in float64).
inline ::testing::AssertionResult all_close(const torch::Tensor& actual,
                                            const torch::Tensor& expected, Tolerance tol) {
  if (actual.sizes() != expected.sizes()) {
    std::ostringstream os;
    os << "shape " << actual.sizes() << " != expected " << expected.sizes();
    return ::testing::AssertionFailure() << os.str();
  }
  auto a = actual.detach().to(torch::kCPU, torch::kFloat64);
  auto e = expected.detach().to(torch::kCPU, torch::kFloat64);
  if (a.isnan().any().item<bool>()) return ::testing::AssertionFailure() << "NaN in actual";
  auto err = (a - e).abs();
  auto bound = tol.atol + tol.rtol * e.abs();
  auto bad = err > bound;
  if (!bad.any().item<bool>()) return ::testing::AssertionSuccess();
  const auto flat = err.flatten().argmax().item<int64_t>();
  std::ostringstream os;
  os << bad.sum().item<int64_t>() << " of " << a.numel() << " elements differ; max abs error "
     << err.max().item<double>() << " at flat index " << flat << " (actual "
     << a.flatten()[flat].item<double>() << ", expected " << e.flatten()[flat].item<double>()
     << "), tolerance atol " << tol.atol << " rtol " << tol.rtol;
  return ::testing::AssertionFailure() << os.str();
}

}  // namespace attn::test
