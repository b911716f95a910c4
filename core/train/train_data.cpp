// SPDX-License-Identifier: MIT
#include "core/train/train_data.h"

#include <cmath>

#include "core/tokenizer/bpe_tokenizer.h"
#include "core/util/error.h"
#include "core/util/text_file.h"

namespace attn {

namespace {
torch::Tensor tokenize_file(const Tokenizer& tok, const std::string& path, int64_t min_tokens) {
  const std::string text = read_text(path);
  std::vector<int64_t> ids;
  try {
    ids = tok.encode(text);
  } catch (const TokenizerError& e) {
    throw ConfigError(path + ": " + e.what());
  }
  if (int64_t(ids.size()) < min_tokens) {
    throw ConfigError(path + ": " + std::to_string(ids.size()) + " tokens, fewer than one "
                      "window of model.train_len + 1 = " + std::to_string(min_tokens));
  }
  return torch::tensor(ids, torch::kInt64);
}
}  // namespace

std::string train_data_key(const TrainConfig& c) {
  return c.tokenizer_kind + "|" + c.tokenizer_file + "|" + c.train_file + "|" +
         c.validation_file;
}

std::shared_ptr<const TrainData> load_train_data(const TrainConfig& c) {
  auto d = std::make_shared<TrainData>();
  d->tokenizer = c.tokenizer_kind == "byte" ? std::shared_ptr<Tokenizer>(make_byte_tokenizer())
                                            : std::shared_ptr<Tokenizer>(load_bpe_tokenizer(
                                                  c.tokenizer_file));
  if (d->tokenizer->vocab_size() > c.model.vocab_size) {
    throw ConfigError(c.path + ": 'model.vocab_size' (" + std::to_string(c.model.vocab_size) +
                      ") is smaller than the tokenizer's " +
                      std::to_string(d->tokenizer->vocab_size()) + " tokens");
  }
  d->train = tokenize_file(*d->tokenizer, c.train_file, c.model.train_len + 2);
  d->validation = tokenize_file(*d->tokenizer, c.validation_file, c.model.train_len + 1);
  return d;
}

std::vector<int64_t> window_starts(int64_t n_tokens, int64_t len, int64_t max_windows) {
  const int64_t total = len > 0 && n_tokens > len ? (n_tokens - 1) / len : 0;
  const int64_t k = max_windows <= 0 ? total : std::min(total, max_windows);
  std::vector<int64_t> out;
  out.reserve(size_t(k));
  for (int64_t j = 0; j < k; ++j) out.push_back((j * total / k) * len);
  return out;
}

double NllResult::perplexity() const { return std::exp(nll); }

NllResult evaluate_nll(TransformerLM& model, const torch::Tensor& tokens, int64_t len,
                       int64_t max_windows, int64_t batch, const torch::Device& device,
                       const std::atomic<bool>* cancel) {
  torch::NoGradGuard no_grad;
  model->eval();
  const auto starts = window_starts(tokens.size(0), len, max_windows);
  NllResult r;
  double sum = 0;
  for (size_t i = 0; i < starts.size(); i += size_t(batch)) {
    if (cancel && cancel->load()) throw Cancelled();
    const size_t n = std::min(starts.size() - i, size_t(batch));
    std::vector<torch::Tensor> rows;
    for (size_t j = 0; j < n; ++j) rows.push_back(tokens.narrow(0, starts[i + j], len + 1));
    const auto w = torch::stack(rows).to(device);  // (n, len + 1)
    ForwardOptions opts;
    opts.cancel = cancel;
    const auto logits = model->forward(w.narrow(1, 0, len), opts).to(torch::kFloat32);
    const auto loss = torch::nn::functional::cross_entropy(
        logits.reshape({-1, logits.size(-1)}), w.narrow(1, 1, len).reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    sum += loss.item<double>();
    r.tokens += int64_t(n) * len;
  }
  r.windows = int64_t(starts.size());
  r.nll = r.tokens ? sum / double(r.tokens) : 0.0;
  return r;
}

NllResult unigram_nll(const torch::Tensor& train, const torch::Tensor& tokens, int64_t vocab,
                      int64_t len, int64_t max_windows) {
  auto counts = torch::bincount(train, {}, vocab).to(torch::kFloat64) + 1.0;  // add-one
  const auto logp = (counts / counts.sum()).log();
  NllResult r;
  double sum = 0;
  for (int64_t s : window_starts(tokens.size(0), len, max_windows)) {
    sum -= logp.index_select(0, tokens.narrow(0, s + 1, len)).sum().item<double>();
    r.tokens += len;
    ++r.windows;
  }
  r.nll = r.tokens ? sum / double(r.tokens) : 0.0;
  return r;
}

}  // namespace attn
