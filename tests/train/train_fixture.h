// SPDX-License-Identifier: MIT
// A run folder and a tiny training config (byte tokenizer, 2 layers, d_model 32, train_len 16)
// over a small synthetic corpus written into the folder.
#pragma once

#include <filesystem>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/train/train_config.h"
#include "core/util/atomic_file.h"
#include "tests/support/remove_tree.h"

namespace attn::test {

class TrainFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (std::filesystem::temp_directory_path() /
             ("attn_train_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    remove_tree(root_);
    std::filesystem::create_directories(root_);
    // A small language: sentences built from a fixed vocabulary in a fixed pattern, so a
    // model can learn far more than the unigram statistics.
    const char* words[] = {"the cat", "a dog", "my bird", "one fox", "that owl", "his cow"};
    const char* verbs[] = {"sees", "likes", "chases", "hears"};
    std::string train, valid;
    for (int i = 0; i < 900; ++i) {
      const std::string s = std::string(words[i % 6]) + " " + verbs[(i / 6) % 4] + " " +
                            words[(i * 5 + 1) % 6] + ".\n";
      (i % 10 == 9 ? valid : train) += s;
    }
    write_file_atomic(path("train.txt"), train);
    write_file_atomic(path("valid.txt"), valid);
  }
  void TearDown() override { remove_tree(root_); }

  std::string path(const std::string& f) const { return root_ + "/" + f; }

  /// The config as JSON, relative paths from the folder (the config file lives there).
  nlohmann::json config_json(int64_t steps = 24) const {
    return {{"model", {{"vocab_size", 256}, {"d_model", 32}, {"n_layer", 2}, {"n_head", 4},
                       {"mlp_ratio", 2}, {"train_len", 16}}},
            {"attention", {{"variant", "dot"}}},
            {"position", {{"kind", "alibi"}}},
            {"tokenizer", {{"kind", "byte"}}},
            {"data", {{"train", "train.txt"}, {"validation", "valid.txt"}}},
            {"train", {{"steps", steps}, {"batch_size", 8}, {"lr", 3e-3}, {"min_lr", 3e-4},
                       {"warmup_steps", 4}, {"eval_interval", 8}, {"eval_windows", 16},
                       {"checkpoint_interval", 8}, {"log_interval", 2}, {"seed", 5}}}};
  }
  TrainConfig config(const nlohmann::json& j) const {
    return train_config_from_json(j, path("run.json"));
  }

  std::string root_;
};

}  // namespace attn::test
