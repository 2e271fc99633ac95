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

namespace {

// A URL's "user:password@": the password is group 2.
const std::regex& url_password() {
  static const std::regex re(R"((://[^/\s:@]+:)([^@/\s]+)@)");
  return re;
}

// Well-known token shapes (GitHub, Hugging Face, OpenAI-style, AWS, Slack, JWT, bearer headers),
// or a long unbroken run of mixed letters and digits, which looks like a key, not a setting.
bool secret_shape(const std::string& value) {
  static const std::regex secret_value(
      "(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_|hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{16,}|"
      "AKIA[0-9A-Z]{16}|xox[abpr]-|eyJ[A-Za-z0-9_-]{10,}\\.|[Bb]earer\\s)");
  if (std::regex_search(value, secret_value)) return true;
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

// "--dbPassword", "HF_TOKEN", "trainer.api-key" -> {"db", "password"}, {"hf", "token"}, ...
std::vector<std::string> name_words(const std::string& name) {
  std::vector<std::string> words;
  std::string cur;
  char prev = 0;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u)) {
      if (!cur.empty()) words.push_back(cur);
      cur.clear();
    } else {
      if (std::isupper(u) && std::islower(static_cast<unsigned char>(prev)) && !cur.empty()) {
        words.push_back(cur);
        cur.clear();
      }
      cur += static_cast<char>(std::tolower(u));
    }
    prev = c;
  }
  if (!cur.empty()) words.push_back(cur);
  return words;
}

// A "token" word that names a token of a model, not a credential: --pad-token-id, --eos-token,
// --token-budget.
bool model_token(const std::vector<std::string>& words, std::size_t i) {
  static const std::array<std::string_view, 9> kinds = {"pad", "eos",  "bos",     "unk",  "sep",
                                                        "cls", "mask", "special", "start"};
  static const std::array<std::string_view, 7> measures = {"id",  "ids",    "count", "len",
                                                           "max", "budget", "limit"};
  auto in = [](const auto& set, const std::string& w) {
    return std::find(set.begin(), set.end(), w) != set.end();
  };
  return (i > 0 && in(kinds, words[i - 1])) || (i + 1 < words.size() && in(measures, words[i + 1]));
}

bool identifier(const std::string& s) {
  static const std::regex re("[A-Za-z_][A-Za-z0-9_.-]*");
  return std::regex_match(s, re);
}

std::string strip_dashes(const std::string& s) {
  return s.substr(std::min(s.find_first_not_of('-'), s.size()));
}

// A value with its URL passwords replaced, or kRedacted whole when it looks like a token.
std::string redact_value(const std::string& value) {
  if (secret_shape(value)) return kRedacted;
  return std::regex_replace(value, url_password(), std::string("$1") + kRedacted + "@");
}

}  // namespace

bool looks_like_credential(const std::string& name, const std::string& value) {
  static const std::regex secret_name(
      "(TOKEN|SECRET|PASSW|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL|AUTH|COOKIE|SESSION)");
  if (std::regex_search(upper(name), secret_name)) return true;
  return secret_shape(value) || std::regex_search(value, url_password());
}

bool credential_name(const std::string& name) {
  const auto words = name_words(name);
  std::string joined;
  for (const auto& w : words) joined += w;
  for (std::string_view key : {"apikey", "accesskey", "privatekey"})
    if (joined.find(key) != std::string::npos) return true;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto& w = words[i];
    for (std::string_view part : {"password", "passwd", "passphrase", "secret", "credential"})
      if (w.find(part) != std::string::npos) return true;
    if (w == "auth" || w == "authorization") return true;
    if (w.ends_with("token") && !model_token(words, i)) return true;
  }
  return false;
}

std::vector<std::string> redact_argv(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  bool redact_next = false;
  for (const auto& a : argv) {
    const bool flag = a.size() > 1 && a[0] == '-';
    // A switch such as --use-auth-token takes no value: a flag after it is not one.
    if (redact_next && !flag) {
      out.emplace_back(kRedacted);
      redact_next = false;
      continue;
    }
    redact_next = false;
    const auto eq = a.find('=');
    if (eq != std::string::npos && eq > 0) {
      const std::string name = a.substr(0, eq);
      if (flag || identifier(name)) {
        const bool secret = credential_name(strip_dashes(name));
        out.push_back(name + "=" + (secret ? kRedacted : redact_value(a.substr(eq + 1))));
        continue;
      }
    }
    if (flag && eq == std::string::npos && credential_name(strip_dashes(a))) {
      out.push_back(a);
      redact_next = true;
      continue;
    }
    out.push_back(redact_value(a));
  }
  return out;
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
