// Model-spec FLOP conventions against hand computation and published figures.
#include <gtest/gtest.h>

#include "harness/core/error.hpp"
#include "profiler/analyze/model.hpp"
#include "tests/analyze/test_util.hpp"

namespace goodput::analyze {
namespace {

nlohmann::json tiny() {
  return {{"layers", 2},
          {"hidden", 4},
          {"heads", 2},
          {"ffn", 8},
          {"vocab", 10},
          {"seq_len", 16},
          {"tokens_per_step_per_gpu", 32},
          {"ffn_kind", "gelu"}};
}

// The error a spec gives, or "" when it is accepted.
std::string msg(const nlohmann::json& j) {
  try {
    parse_model_spec(j, "spec.json");
  } catch (const InputError& e) {
    return std::string(e.what());
  }
  return std::string();
}

TEST(ModelFlops, TinyModelByHand) {
  // attention h·H·Q + 2·h·kv·Q + H·Q·h = 16 + 32 + 16 = 64, MLP 2·h·f = 64, norms 2h = 8 per
  // layer; embedding 40, untied head 40, final norm 4: N = 2·136 + 84 = 356.
  auto j = tiny();
  auto f = model_flops(parse_model_spec(j, "tiny"));
  EXPECT_DOUBLE_EQ(f.params_active, 356);
  EXPECT_DOUBLE_EQ(f.flops_per_token, 6 * 356 + 12 * 2 * 2 * 2 * 16);  // palm
  EXPECT_DOUBLE_EQ(f.flops_per_step, 32 * f.flops_per_token);
  j["convention"] = "torchtitan";
  EXPECT_DOUBLE_EQ(model_flops(parse_model_spec(j, "tiny")).flops_per_token,
                   6 * (356 - 40) + 12 * 2 * 2 * 2 * 16);
  j["convention"] = "megatron";
  // Per layer fwd: QKV 2·4·12 = 96, scores+values 2·2·16·4 / 2 = 128, proj 32, MLP 128;
  // logits 2·4·10 = 80; ×3.
  EXPECT_DOUBLE_EQ(model_flops(parse_model_spec(j, "tiny")).flops_per_token, 3 * (2 * 384 + 80));
  j["training"] = false;
  EXPECT_DOUBLE_EQ(model_flops(parse_model_spec(j, "tiny")).flops_per_token, 2 * 384 + 80);
  j["training"] = true;
  j["recompute"] = "full";
  const auto r = model_flops(parse_model_spec(j, "tiny"));
  EXPECT_DOUBLE_EQ(r.hardware_flops_per_token - r.flops_per_token, 2 * 384);
}

TEST(ModelFlops, MoeCountsActiveExperts) {
  auto j = tiny();
  j["moe"] = {{"experts", 4}, {"top_k", 2}};
  const auto f = model_flops(parse_model_spec(j, "moe"));
  EXPECT_DOUBLE_EQ(f.params_total, 2 * (64 + 4 * 64 + 16 + 8) + 84);
  EXPECT_DOUBLE_EQ(f.params_active, 2 * (64 + 2 * 64 + 16 + 8) + 84);
}

TEST(ModelFlops, Llama3_8BPalmIs61GflopPerToken) {
  const std::string path = std::string(GOODPUT_SOURCE_DIR) + "/examples/models/llama3-8b.json";
  const auto f = model_flops(load_model_spec(path));
  EXPECT_NEAR(f.params_total, 8.03e9, 0.01e9);  // published: 8.03 B parameters
  EXPECT_NEAR(f.flops_per_token, 61e9, 0.01 * 61e9);
  EXPECT_EQ(f.convention, "palm");
}

TEST(ModelFlops, ExampleSpecsLoad) {
  for (const char* name :
       {"gpt2-124m", "llama3-8b", "llama3-70b", "mixtral-8x7b", "synthetic-gpt-small"}) {
    const auto f = model_flops(
        load_model_spec(std::string(GOODPUT_SOURCE_DIR) + "/examples/models/" + name + ".json"));
    EXPECT_GT(f.flops_per_step, 0) << name;
  }
  // GPT-2 124M: 124 M parameters with the 50304-token padded vocabulary, tied embeddings.
  const auto g = model_flops(
      load_model_spec(std::string(GOODPUT_SOURCE_DIR) + "/examples/models/gpt2-124m.json"));
  EXPECT_NEAR(g.params_total, 124e6, 0.01 * 124e6);
  EXPECT_DOUBLE_EQ(g.tokens_per_step, 512.0 * 1024 / 8);
}

TEST(ModelSpec, BadInputNamesFieldAndFile) {
  auto j = tiny();
  j.erase("layers");
  EXPECT_NE(msg(j).find("spec.json: missing field \"layers\""), std::string::npos);
  j = tiny();
  j["hidden"] = "big";
  EXPECT_NE(msg(j).find("\"hidden\" has the wrong type"), std::string::npos);
  j = tiny();
  j["convention"] = "chinchilla";
  EXPECT_NE(msg(j).find("convention"), std::string::npos);
  j = tiny();
  j.erase("tokens_per_step_per_gpu");
  EXPECT_NE(msg(j).find("global_batch"), std::string::npos);
  j = tiny();
  j["moe"] = {{"experts", 2}, {"top_k", 4}};
  EXPECT_NE(msg(j).find("top_k"), std::string::npos);
  // A misspelt optional field would keep its default and change the FLOPs: an error instead.
  j = tiny();
  j["tie_embeddings"] = true;
  EXPECT_NE(msg(j).find("spec.json: unknown field \"tie_embeddings\" (known: name, "),
            std::string::npos)
      << msg(j);
  j = tiny();
  j["moe"] = {{"experts", 8}, {"topk", 2}};
  EXPECT_NE(msg(j).find("spec.json moe: unknown field \"topk\""), std::string::npos) << msg(j);
  j = tiny();
  j["moe"] = 8;
  EXPECT_NE(msg(j).find("\"moe\" must be an object"), std::string::npos) << msg(j);
  j = tiny();
  j["_source"] = "a note";
  EXPECT_EQ(msg(j), "");
}

// Counts are whole positive numbers in range: true, 32.5, -128 or 2^32 + 32 would otherwise
// become 1, 32, a negative head size or a wrapped 32 and give a FLOP count without a word.
TEST(ModelSpec, CountsAreWholePositiveAndInRange) {
  auto j = tiny();
  j["layers"] = true;
  EXPECT_NE(msg(j).find("\"layers\" has the wrong type (boolean)"), std::string::npos) << msg(j);
  j = tiny();
  j["layers"] = 2.5;
  EXPECT_NE(msg(j).find("\"layers\" must be a whole number, not 2.5"), std::string::npos);
  j = tiny();
  j["layers"] = 2.0;  // a whole number written with a point is a whole number
  EXPECT_EQ(msg(j), "");
  j = tiny();
  j["head_dim"] = -128;
  EXPECT_NE(msg(j).find("\"head_dim\" must be positive"), std::string::npos) << msg(j);
  j = tiny();
  j["layers"] = 4294967298LL;
  EXPECT_NE(msg(j).find("\"layers\" is too large"), std::string::npos) << msg(j);
  j = tiny();
  j["moe"] = {{"experts", 8}, {"top_k", 0}};
  EXPECT_NE(msg(j).find("\"top_k\" must be positive"), std::string::npos) << msg(j);
}

TEST(ModelSpec, KvHeadsDivideHeads) {
  auto j = tiny();
  j["heads"] = 4;
  j["kv_heads"] = 8;
  EXPECT_THROW(parse_model_spec(j, "spec.json"), InputError);
  j["kv_heads"] = 3;
  EXPECT_THROW(parse_model_spec(j, "spec.json"), InputError);
  j["kv_heads"] = 2;
  EXPECT_EQ(parse_model_spec(j, "spec.json").kv_heads, 2);
}

// Tokens per GPU from the batch: a replica's share (global_batch x seq_len / data_parallel)
// split over the model_parallel GPUs of one replica; never rounded, and never two answers.
TEST(ModelSpec, TokensPerGpuFromTheBatch) {
  auto j = tiny();  // seq_len 16
  j.erase("tokens_per_step_per_gpu");
  j["global_batch"] = 64;
  j["data_parallel"] = 4;
  EXPECT_EQ(parse_model_spec(j, "spec.json").tokens_per_step_per_gpu, 64 * 16 / 4);
  j["model_parallel"] = 8;  // e.g. tensor parallel 8: each GPU does an eighth of its replica's
  EXPECT_EQ(parse_model_spec(j, "spec.json").tokens_per_step_per_gpu, 64 * 16 / 32);
  j["tokens_per_step_per_gpu"] = 32;
  EXPECT_EQ(parse_model_spec(j, "spec.json").tokens_per_step_per_gpu, 32);
  j["tokens_per_step_per_gpu"] = 256;  // disagrees with 64 x 16 / 32 = 32
  EXPECT_THROW(parse_model_spec(j, "spec.json"), InputError);
  j.erase("tokens_per_step_per_gpu");
  j.erase("model_parallel");
  j["data_parallel"] = 3;  // 1024 tokens over 3 GPUs is not whole
  EXPECT_THROW(parse_model_spec(j, "spec.json"), InputError);
  j.erase("global_batch");  // data_parallel alone
  EXPECT_THROW(parse_model_spec(j, "spec.json"), InputError);
}

}  // namespace
}  // namespace goodput::analyze
