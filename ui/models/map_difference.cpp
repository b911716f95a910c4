// SPDX-License-Identifier: MIT
#include "ui/models/map_difference.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace attn::ui {
namespace {

bool sameTokens(const std::vector<attn::TokenInfo>& a, const std::vector<attn::TokenInfo>& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](const attn::TokenInfo& x,
                                                       const attn::TokenInfo& y) {
           return x.begin == y.begin && x.end == y.end;
         });
}

bool isExactWhole(const attn::StageMap& m) {
  return m.step == 1 && m.q0 == 0 && m.k0 == 0 && m.rows == m.n && m.cols == m.n;
}

}  // namespace

std::vector<int> alignTokens(const std::vector<attn::TokenInfo>& a,
                             const std::vector<attn::TokenInfo>& b) {
  std::vector<int> out;
  out.reserve(a.size());
  std::size_t k = 0;
  for (const auto& t : a) {
    while (k + 1 < b.size() && b[k + 1].begin <= t.begin) ++k;
    out.push_back(static_cast<int>(k));
  }
  return out;
}

MapDifference mapDifference(const attn::StageMap& a, const std::vector<attn::TokenInfo>& tokensA,
                            const attn::StageMap& b, const std::vector<attn::TokenInfo>& tokensB,
                            int head, bool weights) {
  MapDifference d;
  if (!isExactWhole(a) || !isExactWhole(b)) {
    d.problem = QStringLiteral("the maps are pooled (long input): the difference needs one cell "
                               "per token pair; use a text of at most 1024 tokens");
    return d;
  }
  if (head < 0 || head >= a.n_head || head >= b.n_head) {
    d.problem = QStringLiteral("head %1 is not in both models (%2 and %3 heads)")
                    .arg(head)
                    .arg(a.n_head)
                    .arg(b.n_head);
    return d;
  }
  if (static_cast<int64_t>(tokensA.size()) != a.n || static_cast<int64_t>(tokensB.size()) != b.n ||
      a.n == 0) {
    d.problem = QStringLiteral("the maps and their tokens disagree");
    return d;
  }
  d.aligned = !sameTokens(tokensA, tokensB);
  std::vector<int> map(static_cast<std::size_t>(a.n));
  if (d.aligned) {
    map = alignTokens(tokensA, tokensB);
  } else {
    std::iota(map.begin(), map.end(), 0);
  }
  const int n = static_cast<int>(a.n);
  d.n = n;
  d.values.assign(static_cast<std::size_t>(n) * n, NAN);
  std::vector<double> rowAbs(static_cast<std::size_t>(n), 0.0);
  double sumAbs = 0.0;
  long cells = 0;
  if (weights) d.rowKl.assign(static_cast<std::size_t>(n), 0.0);
  for (int i = 0; i < n; ++i) {
    double qSum = 0.0;
    for (int j = 0; j <= i; ++j) qSum += b.at(head, map[i], map[j]);
    double kl = 0.0;
    for (int j = 0; j <= i; ++j) {
      const double va = a.at(head, i, j), vb = b.at(head, map[i], map[j]);
      const double diff = va - vb;
      d.values[static_cast<std::size_t>(i) * n + j] = static_cast<float>(diff);
      rowAbs[static_cast<std::size_t>(i)] += std::abs(diff);
      sumAbs += std::abs(diff);
      ++cells;
      if (weights && va > 0.0) {
        // B's row renormalised over A's keys (a no-op when the tokens are the same).
        const double q = qSum > 0.0 ? vb / qSum : 0.0;
        kl += va * (std::log(va) - std::log(std::max(q, 1e-30)));
      }
    }
    rowAbs[static_cast<std::size_t>(i)] /= static_cast<double>(i + 1);
    if (weights) d.rowKl[static_cast<std::size_t>(i)] = kl;
  }
  d.meanAbs = cells > 0 ? sumAbs / static_cast<double>(cells) : 0.0;
  const std::vector<double>& score = weights ? d.rowKl : rowAbs;
  std::vector<int> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  const int top = std::min(5, n);
  std::partial_sort(rows.begin(), rows.begin() + top, rows.end(), [&score](int x, int y) {
    return score[static_cast<std::size_t>(x)] > score[static_cast<std::size_t>(y)];
  });
  d.topRows.assign(rows.begin(), rows.begin() + top);
  d.valid = true;
  return d;
}

}  // namespace attn::ui
