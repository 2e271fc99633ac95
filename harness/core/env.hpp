// What of the process environment may be recorded in results and traces: an allow-list of
// variables that shape results, with credential-looking values redacted. Public profiler traces
// have leaked access tokens through recorded environments; we never write the whole environment.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace goodput {

// True for names on the allow-list (CUDA_VISIBLE_DEVICES, NCCL_*, CUBLAS*, ...).
bool env_name_allowed(const std::string& name);
// True when the name or the value looks like a secret (token, key, password, ...).
bool looks_like_credential(const std::string& name, const std::string& value);
// True when a flag or key=value name (dashes stripped) names a credential: its words hold
// password, passwd, passphrase, secret, credential, api key, access key, private key, auth, or a
// token (not "tokens", and not a token kind such as --pad-token-id or --token-budget).
bool credential_name(const std::string& name);
// A command line as every record keeps it (results' meta.argv, traces): the value of a
// credential-named "--name=value", "NAME=value" or "--name value" is replaced by kRedacted, as is
// a token-shaped argument, and a URL keeps its user but not its password.
std::vector<std::string> redact_argv(const std::vector<std::string>& argv);
// Filter name=value pairs: keep allow-listed ones, redact credential-looking values.
std::map<std::string, std::string> filter_environment(
    const std::vector<std::pair<std::string, std::string>>& vars);
// The current process environment, filtered.
std::map<std::string, std::string> recorded_environment();

inline constexpr const char* kRedacted = "<redacted>";

}  // namespace goodput
