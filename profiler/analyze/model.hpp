// Model FLOPs per token and per step from a model spec (examples/models/*.json) under a named
// convention, echoing every input:
//   palm       6·N + 12·L·H·Q·T per token (N = all parameters, embeddings included, as the
//              Llama-3-8B ≈ 61 GFLOP/token at 8k figure counts them; MoE: active parameters)
//   torchtitan 6·N + 12·L·H·Dh·T per token (N without the embedding table; MoE: active experts)
//   megatron   every GEMM ×3 (fwd + bwd): QKV, attention scores and values (halved when causal),
//              output projection, MLP or active experts + router, logits
// Forward-only (inference) specs use a third of the training FLOPs (palm/torchtitan) or ×1
// (megatron). Activation recomputation adds a forward pass to hardware FLOPs, never model FLOPs.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace goodput::analyze {

struct ModelSpec {
  std::string name;
  std::string convention = "palm";  // palm | torchtitan | megatron
  int layers = 0;
  std::int64_t hidden = 0;
  int heads = 0;
  int kv_heads = 0;           // 0 -> heads
  std::int64_t head_dim = 0;  // 0 -> hidden / heads
  std::int64_t ffn = 0;
  std::string ffn_kind = "gelu";  // gelu (2 matrices) | swiglu (3 matrices)
  std::int64_t vocab = 0;
  bool tied_embeddings = false;
  std::int64_t seq_len = 0;
  std::int64_t tokens_per_step_per_gpu = 0;  // or global_batch × seq_len / (dp × mp)
  std::int64_t global_batch = 0;
  int data_parallel = 0;
  int model_parallel = 1;  // GPUs sharing one replica: tensor x pipeline x context parallel
  bool causal = true;
  int moe_experts = 0, moe_top_k = 0;
  std::string recompute = "none";  // none | selective | full
  bool training = true;
  std::string dtype = "bf16";  // data type whose peak MFU is measured against
};

// InputError naming the file and the field on missing or bad values.
ModelSpec load_model_spec(const std::string& path);
ModelSpec parse_model_spec(const nlohmann::json& j, const std::string& origin);

struct ModelFlops {
  std::string convention;
  double params_total = 0;   // every parameter, embeddings included (MoE: all experts)
  double params_active = 0;  // per token (MoE: top-k experts), embeddings included
  double params_non_embedding = 0;
  double flops_per_token = 0;           // model FLOPs (training: fwd + bwd)
  double hardware_flops_per_token = 0;  // plus recomputation
  double tokens_per_step = 0;           // per GPU
  double flops_per_step = 0;            // per GPU
  std::string formula;                  // the convention's formula in words
};

ModelFlops model_flops(const ModelSpec& m);
nlohmann::json to_json(const ModelSpec& m);
nlohmann::json to_json(const ModelFlops& f);

}  // namespace goodput::analyze
