#include "profiler/analyze/model.hpp"

#include <cmath>
#include <initializer_list>
#include <limits>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

namespace goodput::analyze {
namespace {

template <typename T>
T field(const nlohmann::json& j, const char* key, const std::string& origin, T fallback,
        bool required) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) throw InputError(origin + ": missing field \"" + key + "\"");
    return fallback;
  }
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(origin + ": field \"" + key + "\" has the wrong type (" + j[key].type_name() +
                     ")");
  }
}

// A misspelt optional key ("tie_embeddings", "kv_head") would leave its default in place and
// change the FLOPs without a word: every key must be one the spec knows. Keys starting with '_'
// are free for notes.
void known_keys_only(const nlohmann::json& j, std::initializer_list<const char*> known,
                     const std::string& origin) {
  for (const auto& [key, value] : j.items()) {
    if (key.starts_with('_')) continue;
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (ok) continue;
    std::string list;
    for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
    throw InputError(origin + ": unknown field \"" + key + "\" (known: " + list +
                     "; a key starting with '_' is a note)");
  }
}

// A count (layers, heads, sizes, batch): a whole JSON number from 1 to `max`. true, 32.5 or a
// number past the field's type would otherwise become 1, 32 or a wrapped value without a word.
template <typename T>
T count(const nlohmann::json& j, const char* key, const std::string& origin, T fallback,
        bool required, std::int64_t max = std::numeric_limits<T>::max()) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) throw InputError(origin + ": missing field \"" + key + "\"");
    return fallback;
  }
  const nlohmann::json& v = j[key];
  const std::string what = origin + ": field \"" + key + "\" ";
  if (!v.is_number())
    throw InputError(what + "has the wrong type (" + v.type_name() + "): a whole number");
  const double d = v.get<double>();
  if (v.is_number_float() && d != std::floor(d))
    throw InputError(what + "must be a whole number, not " + v.dump());
  if (d <= 0) throw InputError(what + "must be positive");
  if (d > static_cast<double>(max))
    throw InputError(what + "is too large (" + v.dump() + "; at most " + std::to_string(max) + ")");
  return v.is_number_float() ? static_cast<T>(d) : static_cast<T>(v.get<std::int64_t>());
}

// Sizes whose products (hidden x vocab x layers, global_batch x seq_len) stay exact in double
// and in int64.
constexpr std::int64_t kMaxSize = std::int64_t{1} << 40;

// Tokens one GPU's work covers per step: given, or a replica's share of the global batch
// (global_batch x seq_len / data_parallel) split over the GPUs of one replica (model_parallel:
// tensor x pipeline x context parallel, each doing that fraction of the replica's FLOPs). Both
// forms given must agree; a share that is not whole is an error, not a rounding.
std::int64_t tokens_per_gpu(const ModelSpec& m, const std::string& origin) {
  const bool batch_form = m.global_batch > 0 || m.data_parallel > 0;
  if (!batch_form) {
    if (m.tokens_per_step_per_gpu > 0) return m.tokens_per_step_per_gpu;
    throw InputError(origin +
                     ": give \"tokens_per_step_per_gpu\", or \"global_batch\" (sequences) and "
                     "\"data_parallel\"");
  }
  if (m.global_batch <= 0 || m.data_parallel <= 0)
    throw InputError(origin + ": \"global_batch\" and \"data_parallel\" go together");
  const std::int64_t tokens = m.global_batch * m.seq_len;  // both at most 2^40: no overflow
  const std::int64_t gpus = std::int64_t{m.data_parallel} * m.model_parallel;
  if (tokens % gpus != 0)
    throw InputError(origin + ": global_batch x seq_len (" + std::to_string(tokens) +
                     " tokens) is not a multiple of data_parallel x model_parallel (" +
                     std::to_string(gpus) + " GPUs)");
  const std::int64_t per_gpu = tokens / gpus;
  if (m.tokens_per_step_per_gpu > 0 && m.tokens_per_step_per_gpu != per_gpu)
    throw InputError(
        origin + ": \"tokens_per_step_per_gpu\" (" + std::to_string(m.tokens_per_step_per_gpu) +
        ") disagrees with global_batch x " + "seq_len / (data_parallel x model_parallel) (" +
        std::to_string(per_gpu) + ")");
  return per_gpu;
}

}  // namespace

ModelSpec parse_model_spec(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) throw InputError(origin + ": a model spec is a JSON object");
  known_keys_only(j, {"name",          "convention",      "layers",  "hidden",
                      "heads",         "kv_heads",        "ffn",     "ffn_kind",
                      "vocab",         "tied_embeddings", "seq_len", "tokens_per_step_per_gpu",
                      "global_batch",  "data_parallel",   "causal",  "moe",
                      "recompute",     "training",        "dtype",   "head_dim",
                      "model_parallel"},
                  origin);
  ModelSpec m;
  m.name = field<std::string>(j, "name", origin, "", false);
  m.convention = field<std::string>(j, "convention", origin, "palm", false);
  if (m.convention != "palm" && m.convention != "torchtitan" && m.convention != "megatron")
    throw InputError(origin + ": field \"convention\" must be palm, torchtitan or megatron");
  m.layers = count<int>(j, "layers", origin, 0, true);
  m.hidden = count<std::int64_t>(j, "hidden", origin, 0, true, kMaxSize);
  m.heads = count<int>(j, "heads", origin, 0, true);
  m.kv_heads = count<int>(j, "kv_heads", origin, m.heads, false);
  if (m.kv_heads > m.heads || m.heads % m.kv_heads != 0)
    throw InputError(origin + ": \"kv_heads\" (" + std::to_string(m.kv_heads) +
                     ") must divide \"heads\" (" + std::to_string(m.heads) +
                     "): each key/value head serves a whole group of query heads");
  m.ffn = count<std::int64_t>(j, "ffn", origin, 0, true, kMaxSize);
  m.ffn_kind = field<std::string>(j, "ffn_kind", origin, "gelu", false);
  if (m.ffn_kind != "gelu" && m.ffn_kind != "swiglu")
    throw InputError(origin + ": field \"ffn_kind\" must be gelu or swiglu");
  m.vocab = count<std::int64_t>(j, "vocab", origin, 0, true, kMaxSize);
  m.tied_embeddings = field<bool>(j, "tied_embeddings", origin, false, false);
  m.seq_len = count<std::int64_t>(j, "seq_len", origin, 0, true, kMaxSize);
  m.tokens_per_step_per_gpu =
      count<std::int64_t>(j, "tokens_per_step_per_gpu", origin, 0, false, kMaxSize);
  m.global_batch = count<std::int64_t>(j, "global_batch", origin, 0, false, kMaxSize);
  m.data_parallel = count<int>(j, "data_parallel", origin, 0, false);
  m.model_parallel = count<int>(j, "model_parallel", origin, 1, false);
  m.causal = field<bool>(j, "causal", origin, true, false);
  if (j.contains("moe") && !j["moe"].is_null()) {
    if (!j["moe"].is_object()) throw InputError(origin + ": field \"moe\" must be an object");
    known_keys_only(j["moe"], {"experts", "top_k"}, origin + " moe");
    m.moe_experts = count<int>(j["moe"], "experts", origin + " moe", 0, true);
    m.moe_top_k = count<int>(j["moe"], "top_k", origin + " moe", 0, true);
    if (m.moe_top_k > m.moe_experts) throw InputError(origin + ": moe needs 0 < top_k <= experts");
  }
  m.recompute = field<std::string>(j, "recompute", origin, "none", false);
  if (m.recompute != "none" && m.recompute != "selective" && m.recompute != "full")
    throw InputError(origin + ": field \"recompute\" must be none, selective or full");
  m.training = field<bool>(j, "training", origin, true, false);
  m.dtype = field<std::string>(j, "dtype", origin, "bf16", false);
  m.head_dim = count<std::int64_t>(j, "head_dim", origin, 0, false, kMaxSize);
  if (m.head_dim == 0) {
    if (m.hidden % m.heads != 0)
      throw InputError(origin + ": hidden is not a multiple of heads; give \"head_dim\"");
    m.head_dim = m.hidden / m.heads;
  }
  m.tokens_per_step_per_gpu = tokens_per_gpu(m, origin);
  return m;
}

ModelSpec load_model_spec(const std::string& path) {
  return parse_model_spec(read_json_file(path), path);
}

ModelFlops model_flops(const ModelSpec& m) {
  const double h = static_cast<double>(m.hidden), L = m.layers, H = m.heads, kv = m.kv_heads;
  const double Q = static_cast<double>(m.head_dim), T = static_cast<double>(m.seq_len);
  const double V = static_cast<double>(m.vocab), f = static_cast<double>(m.ffn);
  const double E = m.moe_experts, k = m.moe_top_k;
  const double attn = h * H * Q + 2 * h * kv * Q + H * Q * h;
  const double ffn_one = (m.ffn_kind == "swiglu" ? 3 : 2) * h * f;
  const double router = E > 0 ? h * E : 0;
  const double ffn_total = E > 0 ? E * ffn_one : ffn_one;
  const double ffn_active = E > 0 ? k * ffn_one : ffn_one;
  const double embed = V * h, head = m.tied_embeddings ? 0 : V * h;
  ModelFlops out;
  out.convention = m.convention;
  out.params_total = L * (attn + ffn_total + router + 2 * h) + embed + head + h;
  out.params_active = L * (attn + ffn_active + router + 2 * h) + embed + head + h;
  out.params_non_embedding = out.params_active - embed;
  const double attn_fwd_palm = 4 * L * H * Q * T;  // 12·L·H·Q·T / 3
  double fwd = 0, recompute_fwd = 0;
  if (m.convention == "palm" || m.convention == "torchtitan") {
    const double n = m.convention == "palm" ? out.params_active : out.params_non_embedding;
    fwd = 2 * n + attn_fwd_palm;
    recompute_fwd = m.recompute == "full" ? fwd : m.recompute == "selective" ? attn_fwd_palm : 0;
    out.formula = m.convention == "palm"
                      ? "6*N + 12*L*H*Q*T per token (N = all parameters, MoE active)"
                      : "6*N + 12*L*H*Dh*T per token (N without the embedding table, MoE active)";
  } else {
    const double causal = m.causal ? 0.5 : 1.0;
    const double scores = 2 * 2 * T * H * Q * causal;  // QK^T and (softmax)V
    const double per_layer =
        2 * h * (H * Q + 2 * kv * Q) + scores + 2 * H * Q * h + 2 * ffn_active + 2 * router;
    fwd = L * per_layer + 2 * h * V;
    recompute_fwd = m.recompute == "full"        ? L * per_layer
                    : m.recompute == "selective" ? L * scores
                                                 : 0;
    out.formula =
        "3 x (QKV + attention scores/values (causal halves) + projection + MLP/active experts + "
        "router + logits) GEMM FLOPs per token";
  }
  const double passes = m.training ? 3 : 1;
  out.flops_per_token = passes * fwd;
  out.hardware_flops_per_token = out.flops_per_token + (m.training ? recompute_fwd : 0);
  out.tokens_per_step = static_cast<double>(m.tokens_per_step_per_gpu);
  out.flops_per_step = out.flops_per_token * out.tokens_per_step;
  return out;
}

nlohmann::json to_json(const ModelSpec& m) {
  nlohmann::json j = {{"name", m.name},
                      {"convention", m.convention},
                      {"layers", m.layers},
                      {"hidden", m.hidden},
                      {"heads", m.heads},
                      {"kv_heads", m.kv_heads},
                      {"head_dim", m.head_dim},
                      {"ffn", m.ffn},
                      {"ffn_kind", m.ffn_kind},
                      {"vocab", m.vocab},
                      {"tied_embeddings", m.tied_embeddings},
                      {"seq_len", m.seq_len},
                      {"tokens_per_step_per_gpu", m.tokens_per_step_per_gpu},
                      {"causal", m.causal},
                      {"recompute", m.recompute},
                      {"training", m.training},
                      {"dtype", m.dtype}};
  if (m.global_batch > 0) j["global_batch"] = m.global_batch;
  if (m.data_parallel > 0) j["data_parallel"] = m.data_parallel;
  if (m.model_parallel > 1) j["model_parallel"] = m.model_parallel;
  if (m.moe_experts > 0) j["moe"] = {{"experts", m.moe_experts}, {"top_k", m.moe_top_k}};
  return j;
}

nlohmann::json to_json(const ModelFlops& f) {
  return {{"convention", f.convention},
          {"formula", f.formula},
          {"params_total", f.params_total},
          {"params_active", f.params_active},
          {"params_non_embedding", f.params_non_embedding},
          {"flops_per_token", f.flops_per_token},
          {"hardware_flops_per_token", f.hardware_flops_per_token},
          {"tokens_per_step_per_gpu", f.tokens_per_step},
          {"flops_per_step_per_gpu", f.flops_per_step}};
}

}  // namespace goodput::analyze
