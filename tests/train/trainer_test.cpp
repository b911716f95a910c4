// SPDX-License-Identifier: MIT
// Whole runs on the CPU: the model learns, a cancelled run resumes to exactly the weights of an
// uninterrupted one, the run folder is guarded, and validation and the unigram baseline match
// plain references.
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"
#include "core/train/trainer.h"
#include "core/util/error.h"
#include "tests/support/fixtures.h"
#include "tests/support/tolerances.h"
#include "tests/train/train_fixture.h"

namespace attn {
namespace {

using test::TrainFolder;

std::vector<nlohmann::json> read_log(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::map<std::string, torch::Tensor> read_state(const std::string& path) {
  const auto r = st::Reader::open(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& info : r.tensors()) {
    auto t = torch::empty(info.shape, torch::kFloat32);
    std::memcpy(t.data_ptr(), r.data(info), info.end - info.begin);
    out[info.name] = t;
  }
  return out;
}

class TrainerTest : public TrainFolder {};

TEST_F(TrainerTest, LearnsFarBeyondTheUnigramModel) {
  auto j = config_json(300);
  j["train"]["log_interval"] = 10;
  j["train"]["eval_interval"] = 100;
  j["train"]["checkpoint_interval"] = 100;
  Trainer t(config(j), path("run"), torch::kCPU, false);
  const auto r = t.run();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.step, 300);
  // The toy language is nearly deterministic; unigram statistics cannot see that.
  EXPECT_LT(r.val_ppl, 0.5 * r.unigram_ppl) << r.val_ppl << " vs unigram " << r.unigram_ppl;
  const auto log = read_log(path("run/train_log.jsonl"));
  int train_records = 0;
  for (const auto& rec : log) {
    if (rec.contains("loss")) {
      ++train_records;
      EXPECT_EQ(rec.at("q_grad_norm").size(), 2u);  // one per layer
      EXPECT_TRUE(std::isfinite(rec.at("grad_norm").get<double>()));
    }
  }
  EXPECT_EQ(train_records, 30);  // every log_interval (10) steps
  EXPECT_TRUE(log.back().value("final", false));
  // The folder is a checkpoint the viewer opens, marked trained.
  const auto ck = load_checkpoint(path("run"));
  EXPECT_TRUE(ck.provenance.at("trained").get<bool>());
  EXPECT_EQ(ck.provenance.at("step").get<int64_t>(), 300);
}

TEST_F(TrainerTest, CancelledRunResumesToTheSameWeights) {
  const auto j = config_json(24);
  {
    Trainer straight(config(j), path("a"), torch::kCPU, false);
    ASSERT_TRUE(straight.run().complete);
  }
  std::atomic<bool> cancel{false};
  {
    Trainer first(config(j), path("b"), torch::kCPU, false);
    // Stop after step 11: not a checkpoint or log step, so the stop itself must save.
    const auto r = first.run(&cancel, [&](const TrainProgress& p) {
      if (p.step == 11) cancel = true;
    });
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.step, 11);
  }
  // A crash while appending left half a line: resume drops it.
  {
    std::ofstream log(path("b/train_log.jsonl"), std::ios::app);
    log << "{\"step\": 12, \"loss\": 1.";
  }
  // And a kill while writing left a temporary file beside the whole old one.
  write_file_atomic(path("b/train_state.safetensors.tmp.999.0"), "half a fi");
  cancel = false;
  Trainer second(config(j), path("b"), torch::kCPU, true);
  EXPECT_EQ(second.start_step(), 11);
  EXPECT_FALSE(std::filesystem::exists(path("b/train_state.safetensors.tmp.999.0")));
  ASSERT_TRUE(second.run(&cancel).complete);

  const auto a = read_state(path("a/train_state.safetensors"));
  const auto b = read_state(path("b/train_state.safetensors"));
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(test::all_close(b.at(name), t, {1e-6, 1e-5})) << name;
  }
  // The logs agree step for step (the resumed one wrote 12 after the restart).
  const auto la = read_log(path("a/train_log.jsonl")), lb = read_log(path("b/train_log.jsonl"));
  std::map<int64_t, double> val_a, val_b;
  for (const auto& r : la) if (r.contains("val_ppl")) val_a[r["step"]] = r["val_ppl"];
  for (const auto& r : lb) if (r.contains("val_ppl")) val_b[r["step"]] = r["val_ppl"];
  ASSERT_EQ(val_a.size(), val_b.size());
  for (const auto& [s, v] : val_a) EXPECT_NEAR(val_b[s], v, 1e-4 * v) << "step " << s;
}

TEST_F(TrainerTest, RunFolderIsGuarded) {
  const auto j = config_json(8);
  {
    // A run killed during its first save left a temporary and nothing to resume: a fresh start
    // removes it and keeps the user's other files.
    std::filesystem::create_directories(path("run"));
    std::ofstream(path("run/train_state.safetensors.tmp.314.1")) << "half";
    std::ofstream(path("run/notes.tmp.txt")) << "mine";
    Trainer t(config(j), path("run"), torch::kCPU, false);
    EXPECT_FALSE(std::filesystem::exists(path("run/train_state.safetensors.tmp.314.1")));
    EXPECT_TRUE(std::filesystem::exists(path("run/notes.tmp.txt")));
    t.run();
  }
  // Starting again over a run, resuming nothing, resuming with another config: clear errors.
  try {
    Trainer t(config(j), path("run"), torch::kCPU, false);
    FAIL() << "a second fresh start must be refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Trainer(config(j), path("empty"), torch::kCPU, true), ConfigError);
  auto changed = j;
  changed["train"]["lr"] = 1e-3;
  try {
    Trainer t(config(changed), path("run"), torch::kCPU, true);
    FAIL() << "resume with another config must be refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/train/lr"), std::string::npos) << e.what();
  }
  // Resuming a finished run reports it and changes nothing.
  const auto before = read_log(path("run/train_log.jsonl")).size();
  Trainer again(config(j), path("run"), torch::kCPU, true);
  EXPECT_TRUE(again.run().complete);
  EXPECT_EQ(read_log(path("run/train_log.jsonl")).size(), before);
}

TEST_F(TrainerTest, DataErrorsNameTheFile) {
  auto j = config_json();
  write_file_atomic(path("tiny.txt"), "too short");
  j["data"]["validation"] = "tiny.txt";
  try {
    Trainer t(config(j), path("run"), torch::kCPU, false);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("tiny.txt"), std::string::npos) << e.what();
  }
  j = config_json();
  j["model"]["vocab_size"] = 100;  // the byte tokenizer needs 256
  EXPECT_THROW(Trainer(config(j), path("run2"), torch::kCPU, false), ConfigError);
}

TEST(TrainEvaluation, ValidationNllMatchesAPlainFloat64Reference) {
  auto model = test::tiny_model("kerple", torch::kFloat32);
  torch::manual_seed(2);
  const auto tokens = torch::randint(0, 200, {16 * 5 + 3}, torch::kInt64);
  const auto r = evaluate_nll(model, tokens, 16, 0, 2, torch::kCPU);
  EXPECT_EQ(r.windows, 5);
  EXPECT_EQ(r.tokens, 80);
  // Reference: each window on its own, float64, log-softmax by hand.
  model->to(torch::kFloat64);
  double sum = 0;
  for (int64_t s : window_starts(tokens.size(0), 16, 0)) {
    torch::NoGradGuard ng;
    const auto w = tokens.narrow(0, s, 17).unsqueeze(0);
    const auto logits = model->forward(w.narrow(1, 0, 16))[0];  // (16, V)
    const auto logp = logits - logits.exp().sum(-1, true).log();
    const auto tgt = w[0].narrow(0, 1, 16);
    for (int64_t i = 0; i < 16; ++i) sum -= logp[i][tgt[i].item<int64_t>()].item<double>();
  }
  EXPECT_NEAR(r.nll, sum / 80.0, 1e-5);
}

TEST(TrainEvaluation, UnigramBaselineByHand) {
  const auto train = torch::tensor(std::vector<int64_t>{0, 0, 1}, torch::kInt64);
  const auto valid = torch::tensor(std::vector<int64_t>{0, 1, 2, 0, 1}, torch::kInt64);
  // Add-one counts over 3 tokens: (3, 2, 1) / 6. Windows of 2: targets (1, 2) and (0, 1).
  const auto r = unigram_nll(train, valid, 3, 2, 0);
  const double want = -(std::log(2.0 / 6) + std::log(1.0 / 6) + std::log(3.0 / 6) +
                        std::log(2.0 / 6)) / 4.0;
  EXPECT_NEAR(r.nll, want, 1e-12);
  EXPECT_EQ(r.tokens, 4);
}

}  // namespace
}  // namespace attn
