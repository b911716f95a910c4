// SPDX-License-Identifier: MIT
// Checkpoints: save/load round trips (F32 exact, F16 and BF16 close), and every bad checkpoint
// answered with an error that names the file and the tensor or field.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/model/checkpoint.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "tests/support/fixtures.h"
#include "tests/support/remove_tree.h"
#include "tests/support/tolerances.h"

namespace attn {
namespace {

namespace fs = std::filesystem;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("attn_ckpt_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    test::remove_tree(dir_.string());
    model_ = test::tiny_model("kerple", torch::kFloat32);
    save_checkpoint(dir_.string(), model_, *make_byte_tokenizer(), {{"trained", false}});
  }
  void TearDown() override { test::remove_tree(dir_.string()); }

  std::string path(const std::string& f) const { return (dir_ / f).string(); }

  nlohmann::json config() const { return nlohmann::json::parse(read_file(path("config.json"))); }
  void write_config(const nlohmann::json& j) { write_file_atomic(path("config.json"), j.dump()); }

  /// Rewrites model.safetensors from the model's parameters, edited by `edit`.
  void rewrite_weights(const std::function<void(std::vector<st::TensorData>&)>& edit) {
    std::vector<torch::Tensor> keep;
    std::vector<st::TensorData> tensors;
    for (const auto& item : model_->named_parameters()) {
      keep.push_back(item.value().detach().contiguous());
      tensors.push_back({item.key(), st::DType::F32, keep.back().sizes().vec(),
                         keep.back().data_ptr(), size_t(keep.back().numel()) * 4});
    }
    edit(tensors);
    st::write(path("model.safetensors"), tensors);
  }

  template <typename E>
  void expect_load_error(const std::vector<std::string>& needles) {
    try {
      load_checkpoint(dir_.string());
      ADD_FAILURE() << "loaded without error";
    } catch (const E& e) {
      for (const auto& n : needles) {
        EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "wrong exception type: " << e.what();
    }
  }

  fs::path dir_;
  TransformerLM model_{nullptr};
};

TEST_F(CheckpointTest, Float32RoundTripIsExact) {
  auto ck = load_checkpoint(dir_.string());
  auto ids = test::random_ids(12);
  torch::NoGradGuard g;
  EXPECT_TRUE(torch::equal(ck.model->forward(ids), model_->forward(ids)));
  EXPECT_EQ(ck.tokenizer->kind(), "byte");
  EXPECT_EQ(ck.provenance.at("trained"), false);
  EXPECT_EQ(ck.config.position.kind, "kerple");
}

TEST_F(CheckpointTest, HalfPrecisionRoundTripsAreClose) {
  for (auto dtype : {st::DType::F16, st::DType::BF16}) {
    save_checkpoint(dir_.string(), model_, *make_byte_tokenizer(), {}, dtype);
    auto ck = load_checkpoint(dir_.string());
    const auto reader = st::Reader::open(path("model.safetensors"));
    EXPECT_EQ(reader.find("tok_emb.weight")->dtype, dtype);
    torch::NoGradGuard g;
    const double tol = dtype == st::DType::F16 ? 1e-3 : 8e-3;
    for (const auto& item : model_->named_parameters()) {
      EXPECT_TRUE(test::all_close(ck.model->named_parameters()[item.key()], item.value(),
                                  {tol * 1e-2, tol}))
          << item.key();
    }
  }
}

TEST_F(CheckpointTest, MissingDirectoryOrConfig) {
  std::remove(path("config.json").c_str());
  expect_load_error<CheckpointError>({"config.json", "missing"});
  test::remove_tree(dir_.string());
  expect_load_error<CheckpointError>({dir_.string(), "not a directory"});
}

TEST_F(CheckpointTest, BadJson) {
  write_file_atomic(path("config.json"), "{\"format\": ");
  expect_load_error<ConfigError>({"config.json", "not valid JSON"});
}

TEST_F(CheckpointTest, UnknownVariantNamesTheFieldAndTheKnownOnes) {
  auto j = config();
  j["attention"]["variant"] = "mystery";
  write_config(j);
  expect_load_error<ConfigError>({"config.json", "attention.variant", "mystery", "dot"});
}

TEST_F(CheckpointTest, FormatVersionFromTheFuture) {
  auto j = config();
  j["format_version"] = 99;
  write_config(j);
  expect_load_error<ConfigError>({"config.json", "format_version 99", "newer"});
}

TEST_F(CheckpointTest, UnknownTopLevelField) {
  auto j = config();
  j["weights"] = "x";
  write_config(j);
  expect_load_error<ConfigError>({"config.json", "'weights'"});
}

TEST_F(CheckpointTest, MissingTensor) {
  rewrite_weights([](auto& t) { t.erase(t.begin() + 1); });
  expect_load_error<CheckpointError>({"model.safetensors", "missing"});
}

TEST_F(CheckpointTest, ExtraTensor) {
  static const float extra[2] = {1, 2};
  rewrite_weights([](auto& t) { t.push_back({"blocks.9.bonus", st::DType::F32, {2}, extra, 8}); });
  expect_load_error<CheckpointError>({"model.safetensors", "blocks.9.bonus", "unexpected"});
}

TEST_F(CheckpointTest, WrongShape) {
  rewrite_weights([](auto& t) {
    for (auto& x : t) {
      if (x.name == "ln_f.weight") x.shape = {2, 16};
    }
  });
  expect_load_error<CheckpointError>({"ln_f.weight", "[2, 16]", "[32]"});
}

TEST_F(CheckpointTest, WrongDtype) {
  rewrite_weights([](auto& t) {
    for (auto& x : t) {
      if (x.name == "ln_f.bias") x.dtype = st::DType::I32;
    }
  });
  expect_load_error<CheckpointError>({"ln_f.bias", "I32", "F32, F16 or BF16"});
}

TEST_F(CheckpointTest, ConfigAndTensorsDisagree) {
  auto j = config();
  j["model"]["d_model"] = 64;
  write_config(j);
  expect_load_error<CheckpointError>({"model.safetensors", "shape"});
}

TEST_F(CheckpointTest, TruncatedWeights) {
  const auto bytes = read_file(path("model.safetensors"));
  write_file_atomic(path("model.safetensors"), bytes.substr(0, bytes.size() - 100));
  expect_load_error<FormatError>({"model.safetensors"});
}

TEST_F(CheckpointTest, MissingBpeTokenizerFile) {
  auto j = config();
  j["tokenizer"]["kind"] = "bpe";
  write_config(j);
  expect_load_error<CheckpointError>({"tokenizer.json", "missing"});
}

TEST_F(CheckpointTest, UnknownTokenizerKind) {
  auto j = config();
  j["tokenizer"]["kind"] = "wordpiece";
  write_config(j);
  expect_load_error<ConfigError>({"tokenizer.kind", "wordpiece"});
}

TEST_F(CheckpointTest, VocabularySmallerThanTheTokenizer) {
  auto j = config();
  j["model"]["vocab_size"] = 100;  // the byte tokenizer has 256
  write_config(j);
  expect_load_error<CheckpointError>({"vocab_size", "256"});
}

}  // namespace
}  // namespace attn
