// SPDX-License-Identifier: MIT
// The difference of two checkpoints' maps of one head on the same text: A - B cell by cell, the
// per-row divergence KL(A_i || B_i) of attention rows, and summary numbers (mean absolute
// difference over the causal cells, the rows that differ most). When the two tokenizers cut the
// text differently, B is aligned to A's tokens by text position (each A token takes the B token
// that holds its first byte; B's row is renormalised over the aligned keys for the divergence).
// Plain data in, plain data out: testable against a hand-written reference.
#pragma once

#include <QtCore/QString>
#include <vector>

#include "core/api/session.h"

namespace attn::ui {

struct MapDifference {
  bool valid = false;
  QString problem;              // why there is no difference (when !valid)
  bool aligned = false;         // tokenizers differ: B aligned to A by text position
  int n = 0;                    // A's tokens
  std::vector<float> values;    // n x n, A - B; NaN above the diagonal
  std::vector<double> rowKl;    // n, KL(A_i || B_i) (nats); empty unless both are weights
  double meanAbs = 0.0;         // mean |A - B| over causal cells
  std::vector<int> topRows;     // up to 5 rows, most different first (by KL, else by mean |d|)
};

/// `a` and `b`: one stage of one layer (exact maps, step 1, covering the whole text) with the
/// tokens of their traces. `weights`: the stage is attention weights (rows sum to one), so the
/// per-row KL divergence is computed.
MapDifference mapDifference(const attn::StageMap& a, const std::vector<attn::TokenInfo>& tokensA,
                            const attn::StageMap& b, const std::vector<attn::TokenInfo>& tokensB,
                            int head, bool weights);

/// For each token of `a`, the index of the token of `b` that holds its first byte (the last one
/// starting at or before it).
std::vector<int> alignTokens(const std::vector<attn::TokenInfo>& a,
                             const std::vector<attn::TokenInfo>& b);

}  // namespace attn::ui
