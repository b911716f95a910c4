// SPDX-License-Identifier: MIT
#include "core/attention/score_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

torch::Tensor masked_softmax(const torch::Tensor& logits, const torch::Tensor& mask) {
  return torch::softmax(logits.masked_fill(mask, -std::numeric_limits<double>::infinity()), -1);
}

torch::Tensor scores_and_bias(const Chunk& c) {
  return c.P.defined() ? torch::cat({c.S, c.P.unsqueeze(0).expand_as(c.S)}, 1) : c.S;
}

torch::Tensor Chunk::extra_rows(const std::string& name) const {
  return extra.at(name).narrow(2, row_begin, q.size(2));
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
  if (has_logits_stage()) s.push_back("logits");
  s.push_back("probs");
  return s;
}

torch::Tensor ScoreAttentionImpl::logits(const Chunk& c) {
  return c.P.defined() ? c.S + c.P : c.S;
}

torch::Tensor ScoreAttentionImpl::weights(const Chunk& c, const torch::Tensor& logits) {
  return masked_softmax(logits.to(c.work_dtype), c.mask);
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
  return attend(x, project(x), in);
}

Projections ScoreAttentionImpl::project(const torch::Tensor& x) {
  const int64_t B = x.size(0), N = x.size(1);
  auto heads = [&](const torch::Tensor& t) {
    return t.view({B, N, n_head_, head_dim_}).transpose(1, 2);  // (B, H, N, head_dim)
  };
  Projections p;
  p.q = heads(q_proj->forward(x));
  p.k = heads(k_proj->forward(x));
  p.v = heads(v_proj->forward(x));
  pe_->prepare();
  p.extra = extra_tokens(x, p.q, p.k);
  for (auto& item : p.extra) item.second = pe_->rotate(item.second);
  p.q = pe_->rotate(p.q);
  p.k = pe_->rotate(p.k);
  return p;
}

torch::Tensor ScoreAttentionImpl::attend(const torch::Tensor& x, const Projections& p,
                                         const AttentionInputs& in) {
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
  const torch::Tensor& q = p.q;
  const torch::Tensor& k = p.k;
  const torch::Tensor& v = p.v;
  StageSink* sink = (in.sink && in.sink->wants(in.layer)) ? in.sink : nullptr;
  if (sink) sink->on_qk(in.layer, q, k);
  const auto names = stages();
  const std::set<std::string> offered(names.begin(), names.end());

  const double scale = 1.0 / std::sqrt(double(head_dim_));
  const int64_t rows = pick_chunk_rows(in, B, N, x.device());
  auto out = torch::empty_like(q);  // (B, H, N, head_dim)
  Chunk c;
  c.n = N;
  c.tracing = sink != nullptr;
  c.extra = p.extra;
  // Scores, bias, logits and softmax in float32 (float64 for a float64 model): half-precision
  // biases lose whole units at long distances (dape.md §8 #8).
  c.work_dtype = (q.scalar_type() == torch::kFloat64) ? torch::kFloat64 : torch::kFloat32;
  c.record = [&](const std::string& stage, const torch::Tensor& t) {
    if (sink && offered.count(stage) && sink->wants_stage(stage)) {
      sink->on_stage(in.layer, stage, zero_future(t, c.row_begin), c.row_begin);
    }
  };
  for (int64_t r0 = 0; r0 < N; r0 += rows) {
    if (in.cancel && in.cancel->load()) throw Cancelled();
    const int64_t r1 = std::min(N, r0 + rows), R = r1 - r0, K = r1;
    c.row_begin = r0;
    c.q = q.narrow(2, r0, R);                                             // (B, H, R, head_dim)
    c.k = k.narrow(2, 0, K);                                              // (B, H, K, head_dim)
    c.S = (torch::matmul(c.q, c.k.transpose(-2, -1)) * scale).to(c.work_dtype);  // (B, H, R, K)
    c.P = pe_->has_bias() ? pe_->bias(r0, r1, K).to(c.work_dtype) : torch::Tensor();  // (H, R, K)
    c.mask = future_mask(r0, R, K, x.device());                          // (R, K)
    c.record("raw", c.S);
    if (c.P.defined()) c.record("bias", c.P.unsqueeze(0).expand_as(c.S));
    auto lg = logits(c);
    c.record("logits", lg);
    auto probs = weights(c, lg);                                          // (B, H, R, K)
    c.record("probs", probs);
    out.narrow(2, r0, R).copy_(torch::matmul(probs.to(v.scalar_type()), v.narrow(2, 0, K)));
  }
  auto merged = out.transpose(1, 2).reshape({B, N, C});                   // (B, N, C)
  return o_proj->forward(merged);
}

}  // namespace attn
