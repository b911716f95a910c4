// SPDX-License-Identifier: MIT
#include "core/attention/score_attention.h"

#include <algorithm>
#include <cmath>

#include "core/util/error.h"

namespace attn {

torch::Tensor future_mask(int64_t row_begin, int64_t R, int64_t K, const torch::Device& device) {
  auto opts = torch::TensorOptions().dtype(torch::kInt64).device(device);
  auto i = torch::arange(row_begin, row_begin + R, opts).unsqueeze(1);  // (R, 1)
  auto j = torch::arange(K, opts).unsqueeze(0);                         // (1, K)
  return j > i;                                                         // (R, K)
}

torch::Tensor zero_future(const torch::Tensor& rows, int64_t row_begin) {
  auto mask = future_mask(row_begin, rows.size(-2), rows.size(-1), rows.device());
  return rows.masked_fill(mask, 0.0);
}

ScoreAttentionImpl::ScoreAttentionImpl(const ModelConfig& config, PositionEncoding pe)
    : n_head_(config.n_head), head_dim_(config.head_dim()), pe_(std::move(pe)) {
  const int64_t C = config.d_model;
  q_proj = register_module("q_proj", torch::nn::Linear(C, C));
  k_proj = register_module("k_proj", torch::nn::Linear(C, C));
  v_proj = register_module("v_proj", torch::nn::Linear(C, C));
  o_proj = register_module("o_proj", torch::nn::Linear(C, C));
  register_module("pe", pe_);
}

std::vector<std::string> ScoreAttentionImpl::stages() const {
  std::vector<std::string> s{"raw"};
  if (pe_->has_bias()) s.push_back("bias");
  for (const auto& e : extra_stages()) s.push_back(e);
  s.push_back("logits");
  s.push_back("probs");
  return s;
}

int64_t ScoreAttentionImpl::pick_chunk_rows(const AttentionInputs& in, int64_t B, int64_t N,
                                            const torch::Device& device) const {
  if (in.chunk_rows > 0) return std::min(in.chunk_rows, N);
  // A few tensors of (B, channels, R, N) are alive at once; keep each under the budget.
  const int64_t channels = std::max({n_head_, work_channels(), pe_->work_channels()});
  const int64_t per_row = std::max<int64_t>(1, B * channels * N);
  const int64_t budget = in.max_chunk_elements > 0 ? in.max_chunk_elements : chunk_budget(device);
  return std::clamp<int64_t>(budget / per_row, 1, N);
}

torch::Tensor ScoreAttentionImpl::forward(const torch::Tensor& x, const AttentionInputs& in) {
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
  auto heads = [&](const torch::Tensor& t) {
    return t.view({B, N, n_head_, head_dim_}).transpose(1, 2);  // (B, H, N, head_dim)
  };
  auto q = heads(q_proj->forward(x));
  auto k = heads(k_proj->forward(x));
  auto v = heads(v_proj->forward(x));
  pe_->prepare();
  pe_->rotate(q, k);
  StageSink* sink = (in.sink && in.sink->wants(in.layer)) ? in.sink : nullptr;
  if (sink) sink->on_qk(in.layer, q, k);

  const double scale = 1.0 / std::sqrt(double(head_dim_));
  // Scores, bias, logits and softmax in float32 (float64 for a float64 model): half-precision
  // biases lose whole units at long distances (dape.md §8 #8).
  const auto work_dtype =
      (q.scalar_type() == torch::kFloat64) ? torch::kFloat64 : torch::kFloat32;
  const int64_t rows = pick_chunk_rows(in, B, N, x.device());
  auto out = torch::empty_like(q);  // (B, H, N, head_dim)
  for (int64_t r0 = 0; r0 < N; r0 += rows) {
    if (in.cancel && in.cancel->load()) throw Cancelled();
    const int64_t r1 = std::min(N, r0 + rows), R = r1 - r0, K = r1;
    int64_t row_begin = r0;
    StageRecorder record = [&](const std::string& stage, const torch::Tensor& t) {
      if (sink) sink->on_stage(in.layer, stage, zero_future(t, row_begin), row_begin);
    };
    auto qc = q.narrow(2, r0, R);                                   // (B, H, R, head_dim)
    auto kc = k.narrow(2, 0, K);                                    // (B, H, K, head_dim)
    auto S = (torch::matmul(qc, kc.transpose(-2, -1)) * scale).to(work_dtype);  // (B, H, R, K)
    torch::Tensor P;
    if (pe_->has_bias()) P = pe_->bias(r0, r1, K).to(work_dtype);  // (H, R, K)
    record("raw", S);
    if (P.defined()) record("bias", P.unsqueeze(0).expand_as(S));
    auto logits = process(S, P, r0, record);
    record("logits", logits);
    auto masked = logits.to(work_dtype).masked_fill(future_mask(r0, R, K, x.device()),
                                                       -std::numeric_limits<double>::infinity());
    auto probs = torch::softmax(masked, -1);                        // (B, H, R, K)
    record("probs", probs);
    out.narrow(2, r0, R).copy_(torch::matmul(probs.to(v.scalar_type()), v.narrow(2, 0, K)));
  }
  auto merged = out.transpose(1, 2).reshape({B, N, C});             // (B, N, C)
  return o_proj->forward(merged);
}

}  // namespace attn
