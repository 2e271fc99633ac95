#include "collectives/nccl_choice.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>

namespace goodput::collectives {
namespace {

// Consumes `word` at the front of `s`.
bool eat(std::string_view& s, std::string_view word) {
  if (s.substr(0, word.size()) != word) return false;
  s.remove_prefix(word.size());
  return true;
}

// The next run of characters up to a space (or the end).
std::string_view token(std::string_view& s) {
  const auto end = s.find_first_of(" \t\r\n");
  const std::string_view t = s.substr(0, end);
  s.remove_prefix(t.size());
  return t;
}

std::string folded(std::string_view s) {  // upper case without '_'
  std::string out;
  for (const char ch : s)
    if (ch != '_') out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

std::string this_host() {
  char h[256] = {};
  gethostname(h, sizeof h - 1);
  return h;
}

}  // namespace

std::optional<NcclTuningLine> parse_nccl_tuning_line(std::string_view line) {
  constexpr std::string_view kInfo = "NCCL INFO ";
  const auto at = line.find(kInfo);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view s = line.substr(at + kInfo.size());
  NcclTuningLine out;
  const auto colon = s.find(':');
  if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
  for (const char ch : s.substr(0, colon))
    if (!std::isalpha(static_cast<unsigned char>(ch))) return std::nullopt;
  out.func = std::string(s.substr(0, colon));
  s.remove_prefix(colon + 1);
  if (!eat(s, " ")) return std::nullopt;
  const std::string_view bytes = token(s);
  if (bytes.empty() || bytes.size() > 19) return std::nullopt;
  for (const char ch : bytes) {
    if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
    out.bytes = out.bytes * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  if (!eat(s, " Bytes -> Algo ")) return std::nullopt;
  const std::string_view algo = token(s);
  if (!eat(s, " proto ")) return std::nullopt;
  const std::string_view proto = token(s);
  // Older NCCL printed numeric ids ("Algo 1 proto 2 time ..."), whose meaning changed between
  // releases: not a name, not a choice we can report.
  if (algo.empty() || proto.empty() || std::isdigit(static_cast<unsigned char>(algo[0])) ||
      std::isdigit(static_cast<unsigned char>(proto[0])))
    return std::nullopt;
  out.algorithm = canonical_nccl_algorithm(algo);
  out.protocol = canonical_nccl_protocol(proto);
  return out;
}

std::vector<NcclTuningLine> parse_nccl_tuning_lines(std::string_view text) {
  std::vector<NcclTuningLine> out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    if (auto l = parse_nccl_tuning_line(text.substr(0, nl))) out.push_back(std::move(*l));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::string canonical_nccl_algorithm(std::string_view name) {
  static const std::map<std::string, std::string> names = {{"TREE", "Tree"},
                                                           {"RING", "Ring"},
                                                           {"COLLNETDIRECT", "CollNetDirect"},
                                                           {"COLLNETCHAIN", "CollNetChain"},
                                                           {"NVLS", "NVLS"},
                                                           {"NVLSTREE", "NVLSTree"},
                                                           {"PAT", "PAT"}};
  const auto it = names.find(folded(name));
  return it == names.end() ? std::string(name) : it->second;
}

std::string canonical_nccl_protocol(std::string_view name) {
  static const std::map<std::string, std::string> names = {
      {"LL", "LL"}, {"LL128", "LL128"}, {"SIMPLE", "Simple"}};
  const auto it = names.find(folded(name));
  return it == names.end() ? std::string(name) : it->second;
}

const char* nccl_func_name(Coll c) {
  switch (c) {
    case Coll::kAllReduce:
      return "AllReduce";
    case Coll::kAllGather:
      return "AllGather";
    case Coll::kReduceScatter:
      return "ReduceScatter";
    case Coll::kBroadcast:
      return "Broadcast";
    case Coll::kReduce:
      return "Reduce";
    case Coll::kAllToAll:
    case Coll::kSendRecv:
      return nullptr;
  }
  return nullptr;
}

nlohmann::json to_json(const NcclChoice& c) {
  const auto or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
  };
  nlohmann::json j = {{"algorithm", or_null(c.algorithm)},
                      {"protocol", or_null(c.protocol)},
                      {"calls", c.calls},
                      {"reason", c.known() ? nlohmann::json(nullptr) : nlohmann::json(c.reason)}};
  if (c.seen.size() > 1) {
    j["seen"] = nlohmann::json::array();
    for (const auto& s : c.seen)
      j["seen"].push_back(
          {{"algorithm", s.algorithm}, {"protocol", s.protocol}, {"calls", s.calls}});
  }
  return j;
}

NcclChoice nccl_choice_for_case(const std::vector<NcclTuningLine>& lines, Coll c,
                                std::uint64_t bytes, int nranks, const std::string& unavailable) {
  NcclChoice out;
  const char* func = nccl_func_name(c);
  if (!func) {
    out.reason =
        "alltoall and sendrecv run as ncclSend/ncclRecv, for which NCCL reports no "
        "algorithm";
    return out;
  }
  if (nranks <= 1) {
    out.reason = "one rank: NCCL copies the data locally and chooses no algorithm";
    return out;
  }
  if (!unavailable.empty()) {
    out.reason = unavailable;
    return out;
  }
  for (const auto& l : lines) {
    if (l.func != func || l.bytes != bytes) continue;
    ++out.calls;
    auto it = std::find_if(out.seen.begin(), out.seen.end(), [&](const NcclChoice::Seen& s) {
      return s.algorithm == l.algorithm && s.protocol == l.protocol;
    });
    if (it == out.seen.end()) it = out.seen.insert(out.seen.end(), {l.algorithm, l.protocol, 0});
    ++it->calls;
  }
  if (out.seen.empty()) {
    out.reason = std::string("NCCL wrote no tuning line for ") + func + " of " +
                 std::to_string(bytes) + " bytes";
    return out;
  }
  const NcclChoice::Seen* most = &out.seen.front();
  for (const auto& s : out.seen)
    if (s.calls > most->calls) most = &s;
  out.algorithm = most->algorithm;
  out.protocol = most->protocol;
  out.reason.clear();
  return out;
}

std::string expand_nccl_debug_file(std::string_view pattern, std::string_view host, int pid) {
  std::string h(host.substr(0, host.find('.')));
  for (char& ch : h)
    if (ch == '%' || ch == '/') ch = '-';
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      out += pattern[i];
      continue;
    }
    const char f = pattern[++i];
    if (f == '%')
      out += '%';
    else if (f == 'h')
      out += h;
    else if (f == 'p')
      out += std::to_string(pid);
    else
      out += std::string("%") + f;
  }
  return out;
}

NcclDebugCapture start_nccl_debug_capture(bool enable, const std::string& tmp_root) {
  NcclDebugCapture c;
  const char* level = std::getenv("NCCL_DEBUG");
  if (level && *level) {
    // The user's own settings stay as they are; their file is read when there is one.
    c.mode = "user";
    const char* file = std::getenv("NCCL_DEBUG_FILE");
    if (file && *file) {
      c.path = expand_nccl_debug_file(file, this_host(), static_cast<int>(getpid()));
    } else {
      c.unavailable =
          "NCCL_DEBUG is set without NCCL_DEBUG_FILE: NCCL prints to stdout, which goodput does "
          "not read";
    }
    return c;
  }
  c.mode = "off";
  if (!enable) {
    c.unavailable = "NCCL's algorithm log is off (--nccl-log turns it on)";
    return c;
  }
  std::string root = tmp_root;
  if (root.empty()) {
    const char* t = std::getenv("TMPDIR");
    root = t && *t ? t : "/tmp";
  }
  std::string dir = root + "/goodput-nccl-XXXXXX";
  if (!mkdtemp(dir.data())) {
    c.unavailable = "could not make a private directory for NCCL's debug output under " + root +
                    ": " + std::strerror(errno);
    return c;
  }
  c.mode = "goodput";
  c.private_dir = dir;
  c.path = dir + "/nccl-debug.log";
  std::string escaped;  // NCCL expands '%' in the name
  for (const char ch : c.path) escaped += ch == '%' ? std::string("%%") : std::string(1, ch);
  setenv("NCCL_DEBUG", "INFO", 1);
  setenv("NCCL_DEBUG_SUBSYS", "TUNING", 1);
  setenv("NCCL_DEBUG_FILE", escaped.c_str(), 1);
  return c;
}

nlohmann::json to_json(const NcclDebugCapture& c) {
  return {
      {"mode", c.mode},
      {"file", c.path.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.path)},
      {"note", c.unavailable.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.unavailable)}};
}

void remove_private_files(const NcclDebugCapture& c) {
  if (c.private_dir.empty()) return;
  // NCCL keeps its handle on the file until the process ends; unlinking it is fine.
  (void)std::remove(c.path.c_str());
  (void)rmdir(c.private_dir.c_str());
}

const NcclDebugCapture& process_nccl_debug_capture(bool enable) {
  struct Owned {
    NcclDebugCapture capture;
    ~Owned() { remove_private_files(capture); }
  };
  static const Owned owned{start_nccl_debug_capture(enable)};
  return owned.capture;
}

std::string NcclDebugReader::read_new() {
  if (capture_.path.empty()) {
    unavailable_ = capture_.unavailable;
    return "";
  }
  std::ifstream in(capture_.path, std::ios::binary);
  if (!in) {
    unavailable_ = "cannot read NCCL's debug file " + capture_.path +
                   (capture_.mode == "user" ? " (NCCL_DEBUG_FILE)" : "");
    return "";
  }
  unavailable_.clear();
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  if (size < offset_) offset_ = 0;  // the file was started anew
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string text(static_cast<std::size_t>(size - offset_), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  const auto last = text.rfind('\n');
  if (last == std::string::npos) return "";  // no whole line yet
  text.resize(last + 1);
  offset_ += text.size();
  return text;
}

}  // namespace goodput::collectives
