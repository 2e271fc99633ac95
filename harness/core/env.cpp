#include "harness/core/env.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>
#include <string_view>

extern char** environ;

namespace goodput {
namespace {

constexpr std::array<std::string_view, 10> kExact = {"CUDA_VISIBLE_DEVICES",
                                                     "CUDA_DEVICE_ORDER",
                                                     "OMP_NUM_THREADS",
                                                     "WORLD_SIZE",
                                                     "RANK",
                                                     "LOCAL_RANK",
                                                     "LOCAL_WORLD_SIZE",
                                                     "PYTORCH_CUDA_ALLOC_CONF",
                                                     "TORCH_NCCL_ASYNC_ERROR_HANDLING",
                                                     "NVIDIA_TF32_OVERRIDE"};
constexpr std::array<std::string_view, 12> kPrefixes = {
    "NCCL_", "CUBLAS",           "CUDA_MODULE_", "CUDA_LAUNCH_", "CUDA_DEVICE_MAX_", "CUDNN_",
    "NVTE_", "OMPI_COMM_WORLD_", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID",    "GOODPUT_"};

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

}  // namespace

bool env_name_allowed(const std::string& name) {
  if (std::find(kExact.begin(), kExact.end(), name) != kExact.end()) return true;
  return std::any_of(kPrefixes.begin(), kPrefixes.end(),
                     [&](std::string_view p) { return name.rfind(p, 0) == 0; });
}

bool looks_like_credential(const std::string& name, const std::string& value) {
  static const std::regex secret_name(
      "(TOKEN|SECRET|PASSW|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL|AUTH|COOKIE|SESSION)");
  if (std::regex_search(upper(name), secret_name)) return true;
  // Well-known token shapes: GitHub, Hugging Face, OpenAI-style, AWS, Slack, JWT, bearer headers.
  static const std::regex secret_value(
      "(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_|hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{16,}|"
      "AKIA[0-9A-Z]{16}|xox[abpr]-|eyJ[A-Za-z0-9_-]{10,}\\.|[Bb]earer\\s|://[^/\\s:]+:[^@/\\s]+@)");
  if (std::regex_search(value, secret_value)) return true;
  // A long unbroken run of mixed letters and digits looks like a key, not a setting.
  static const std::regex opaque("[A-Za-z0-9+/=_]{32,}");
  std::smatch m;
  if (std::regex_search(value, m, opaque)) {
    const std::string run = m.str();
    const bool digits = std::any_of(run.begin(), run.end(), ::isdigit);
    const bool letters = std::any_of(run.begin(), run.end(), ::isalpha);
    if (digits && letters) return true;
  }
  return false;
}

std::map<std::string, std::string> filter_environment(
    const std::vector<std::pair<std::string, std::string>>& vars) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : vars) {
    if (!env_name_allowed(name)) continue;
    out[name] = looks_like_credential(name, value) ? kRedacted : value;
  }
  return out;
}

std::map<std::string, std::string> recorded_environment() {
  std::vector<std::pair<std::string, std::string>> vars;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    vars.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return filter_environment(vars);
}

}  // namespace goodput
