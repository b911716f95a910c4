// SPDX-License-Identifier: MIT
#include "core/attention/dape_v2.h"

#include <algorithm>
#include <cmath>

#include "core/attention/registry.h"
#include "core/util/error.h"
#ifdef ATTN_WITH_CUDA_KERNELS
#include "core/kernels/dape_v2_fused.h"
#endif

namespace attn {

DapeV2Impl::DapeV2Impl(const ModelConfig& config, PositionEncoding pe, int64_t kernel,
                       int64_t width, bool tril)
    : ScoreAttentionImpl(config, pe), kernel_(kernel), width_(width), tril_(tril) {
  const int64_t H = config.n_head, c_in = pe->has_bias() ? 2 * H : H;
  using torch::nn::Conv2dOptions;
  // PyTorch's default initialisation, as in the official code (dape.md §2.3).
  conv1 = register_module("conv1", torch::nn::Conv2d(Conv2dOptions(c_in, width, {1, kernel})
                                                         .padding({0, kernel / 2})));
  conv2 = register_module("conv2", torch::nn::Conv2d(Conv2dOptions(width, H, {1, kernel})
                                                         .padding({0, kernel / 2})));
}

torch::Tensor dape_conv(const torch::Tensor& X, const torch::nn::Conv2d& conv1,
                        const torch::nn::Conv2d& conv2, int64_t kernel) {
  // Weights follow the work dtype (float32 for half-precision models).
  const auto dt = X.scalar_type();
  const std::vector<int64_t> stride{1, 1}, pad{0, kernel / 2};
  auto h = torch::conv2d(X, conv1->weight.to(dt), conv1->bias.to(dt), stride, pad);  // (B, D, R, K)
  h = torch::leaky_relu(h, 0.01);
  return torch::conv2d(h, conv2->weight.to(dt), conv2->bias.to(dt), stride, pad);    // (B, H, R, K)
}

torch::Tensor DapeV2Impl::logits(const Chunk& c) {
  auto X = scores_and_bias(c);  // (B, 2H, R, K), or (B, H, R, K) without a bias
  // tril before the convolution keeps future scores out of every kept logit.
  if (tril_) X = X.masked_fill(c.mask, 0.0);
  // The hidden layer is not masked: at keys just past a chunk's last row it holds conv1's bias
  // and its neighbours, which the second convolution reads. So extend the chunk's keys by
  // floor(k/2) zero columns (the tril'd future, inside the sequence only) to match the whole
  // sequence exactly, then keep the chunk's K columns.
  const int64_t K = X.size(-1), halo = std::min(kernel_ / 2, c.n - K);
  if (halo > 0) X = torch::constant_pad_nd(X, {0, halo}, 0.0);  // (B, C_in, R, K + halo)
  auto F = dape_conv(X, conv1, conv2, kernel_).narrow(-1, 0, K);  // (B, H, R, K)
  c.record("conv", F);
  return c.P.defined() ? c.S + c.P + F : c.S + F;
}

bool DapeV2Impl::uses_fused_kernel(const torch::Tensor& x, const AttentionInputs& in) const {
  return fused_kernel_applies(x) && !(in.sink && in.sink->wants(in.layer));
}

bool DapeV2Impl::fused_kernel_applies(const torch::Tensor& x) const {
#ifdef ATTN_WITH_CUDA_KERNELS
  const auto dt = x.scalar_type();
  if (!x.is_cuda() || (dt != torch::kBFloat16 && dt != torch::kHalf)) return false;
  if (torch::GradMode::is_enabled()) return false;         // the kernel has no backward
  if (!tril_ || kernel_ != 3 || width_ > 32 || n_head_ > 16) return false;
  if (head_dim_ != 16 && head_dim_ != 32 && head_dim_ != 64 && head_dim_ != 128) return false;
  // The kernel reads the bias as a function of the distance i - j (FIRE's also depends on i).
  const auto pe = position_encoding()->name();
  return pe == "nope" || pe == "rope" || pe == "alibi" || pe == "kerple";
#else
  return false;
#endif
}

torch::Tensor DapeV2Impl::forward(const torch::Tensor& x, const AttentionInputs& in) {
#ifdef ATTN_WITH_CUDA_KERNELS
  // A sink on this layer: fused only when all it wants is pooled views the kernel can make.
  const bool traced = in.sink && in.sink->wants(in.layer);
  const auto requests = traced ? in.sink->pooled_requests(in.layer) : std::vector<PooledRequest>{};
  if (fused_kernel_applies(x) && (!traced || !requests.empty())) {
    if (in.cancel && in.cancel->load()) throw Cancelled();
    const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
    const auto& pe = position_encoding();
    // Projected once: the fallback below (views the kernel cannot make) attends on them too.
    const Projections proj = project(x);
    const torch::Tensor &q = proj.q, &k = proj.k, &v = proj.v;
    DapeV2FusedParams p;
    p.conv1_weight = conv1->weight;
    p.conv1_bias = conv1->bias;
    p.conv2_weight = conv2->weight;
    p.conv2_bias = conv2->bias;
    p.scale = 1.0 / std::sqrt(double(head_dim_));
    if (pe->has_bias()) {
      // The last row's bias, (H, 1, N) over keys 0..N-1, reversed: column d is distance d.
      p.bias_by_distance = pe->bias(N - 1, N, N).select(1, 0).flip({-1}).to(torch::kFloat32);
    }
    std::vector<DapeV2FusedView> views;
    for (const auto& r : requests) {
      DapeV2FusedView w;
      w.stage = r.stage;
      w.q0 = r.q0, w.q1 = r.q1, w.k0 = r.k0, w.k1 = r.k1, w.step = r.step;
      w.mean = r.mean;
      views.push_back(w);
    }
    const bool viewable = std::all_of(views.begin(), views.end(), [&](const DapeV2FusedView& w) {
      return dape_v2_fused_view_unsupported_reason(q, k, p, w).empty();
    });
    if (viewable && dape_v2_fused_supported(q, k, v, p)) {
      auto out = torch::empty(q.sizes(), q.options());              // (B, H, N, head_dim)
      // The forward also leaves each row's softmax statistics for the probs views.
      torch::Tensor stats;
      if (!views.empty()) {
        stats = torch::empty({B, n_head_, N, 2}, q.options().dtype(torch::kFloat32));
      }
      dape_v2_fused_out(out, q, k, v, p, stats);
      for (size_t i = 0; i < views.size(); ++i) {
        if (in.cancel && in.cancel->load()) throw Cancelled();
        in.sink->on_pooled(in.layer, requests[i], dape_v2_fused_view(q, k, p, views[i], stats));
      }
      return o_proj->forward(out.transpose(1, 2).reshape({B, N, C}));
    }
    return attend(x, proj, in);
  }
#endif
  return ScoreAttentionImpl::forward(x, in);
}

VariantInfo dape_v2_info() {
  return {"dape_v2",
          "DAPE V2 / CDAPE: 1xk convolution over the score map across heads, logits = S + P + "
          "Conv(LeakyReLU(Conv(tril([S;P])))) (Zheng et al., arXiv 2410.04798)",
          {{"kernel", 3, "k of the 1xk kernels (odd: 1, 3, 5, 7)"},
           {"width", 32, "D, the hidden channels between the two convolutions"},
           {"tril", true, "zero future scores before the convolution; false only to reproduce "
                          "the paper's information-leak experiment"}},
          [](const ModelConfig& c, int64_t, const std::string& where) -> Attention {
            const auto& p = c.attention.params;
            const int64_t k = cfg::get_int(p, "kernel", "attention", 3, 1, where);
            if (k % 2 == 0) {
              throw ConfigError(where + ": 'attention.kernel' must be odd (1, 3, 5, 7) so the "
                                "padding floor(k/2) is symmetric; got " + std::to_string(k));
            }
            const int64_t width = cfg::get_int(p, "width", "attention", 32, 1, where);
            const bool tril = cfg::get_bool(p, "tril", "attention", true, where);
            return std::make_shared<DapeV2Impl>(c, make_position_encoding(c, where), k, width,
                                                tril);
          }};
}

}  // namespace attn
