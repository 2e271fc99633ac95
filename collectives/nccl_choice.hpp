// The algorithm (Ring, Tree, NVLS, CollNet, PAT) and protocol (LL, LL128, Simple) NCCL chose for
// each collective call, read from NCCL's own INFO lines of its TUNING subsystem. Host-only: the
// GPU side points NCCL's debug output at a file before NCCL starts and hands its new text over
// after every case; the parsing, the per-case choice and the environment rules live here.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "collectives/collective.hpp"

namespace goodput::collectives {

// One line NCCL writes per collective call on rank 0, as NCCL 2.28 formats it: src/enqueue.cc
// INFO(NCCL_TUNING, "%s: %ld Bytes -> Algo %s proto %s channel{Lo..Hi}={%d..%d}") behind the
// "host:pid:tid [dev] NCCL INFO " prefix of src/debug.cc (ncclDebugLogV), names from
// src/collectives.cc (ncclFuncToString, ncclAlgoToString, ncclProtoToString).
struct NcclTuningLine {
  std::string func;         // NCCL's name: AllReduce, AllGather, ReduceScatter, Broadcast, Reduce
  std::uint64_t bytes = 0;  // the call's count x element size (per rank for gathers/scatters)
  std::string algorithm;    // as NCCL_ALGO spells it: Tree, Ring, CollNetDirect, ..., PAT
  std::string protocol;     // as NCCL_PROTO spells it: LL, LL128, Simple
};
std::optional<NcclTuningLine> parse_nccl_tuning_line(std::string_view line);
// Every tuning line of a chunk of NCCL's debug output; other lines are ignored.
std::vector<NcclTuningLine> parse_nccl_tuning_lines(std::string_view text);

// NCCL prints TREE, NVLS_TREE, COLLNET_DIRECT, SIMPLE; NCCL_ALGO/NCCL_PROTO and the README use
// Tree, NVLSTree, CollNetDirect, Simple. Unknown names are returned unchanged.
std::string canonical_nccl_algorithm(std::string_view name);
std::string canonical_nccl_protocol(std::string_view name);

// NCCL's name of a collective (AllReduce ...), nullptr for alltoall and sendrecv, which run as
// ncclSend/ncclRecv and get no algorithm.
const char* nccl_func_name(Coll c);

// What NCCL reported for one case: the pair it used most often over the case's calls, or why it
// is unknown.
struct NcclChoice {
  std::string algorithm;  // "" when unknown
  std::string protocol;   // "" when unknown
  int calls = 0;          // tuning lines that matched the case
  struct Seen {
    std::string algorithm, protocol;
    int calls = 0;
  };
  std::vector<Seen> seen;                              // every pair, when NCCL used more than one
  std::string reason = "not reported by this engine";  // why unknown ("" when known)
  bool known() const { return !algorithm.empty(); }
};
nlohmann::json to_json(const NcclChoice& c);

// The choice for one case from the tuning lines NCCL wrote while it ran. `bytes` is the count
// passed to NCCL times the element size; `unavailable` is why no lines could be read ("" when
// they could).
NcclChoice nccl_choice_for_case(const std::vector<NcclTuningLine>& lines, Coll c,
                                std::uint64_t bytes, int nranks, const std::string& unavailable);

// NCCL_DEBUG_FILE as NCCL expands it: %h = host name up to its first '.', with '%' and '/' made
// '-'; %p = pid; %% = '%'; anything else is kept.
std::string expand_nccl_debug_file(std::string_view pattern, std::string_view host, int pid);

// Where NCCL's debug output goes for this process, decided before NCCL starts.
struct NcclDebugCapture {
  std::string mode;         // "goodput": set by goodput; "user": the user's NCCL_DEBUG; "off"
  std::string path;         // the file to read; "" when there is none
  std::string unavailable;  // why no choice can be read ("" when path is set)
  std::string private_dir;  // goodput's own directory, removed by remove_private_files()
};
// When NCCL_DEBUG is unset (and `enable`), sets NCCL_DEBUG=INFO, NCCL_DEBUG_SUBSYS=TUNING and
// NCCL_DEBUG_FILE to a file in a new private directory under `tmp_root` (TMPDIR or /tmp when
// empty). When the user set NCCL_DEBUG, nothing is changed and their NCCL_DEBUG_FILE, if any, is
// read. Must run before NCCL's first log line (NCCL reads these once).
NcclDebugCapture start_nccl_debug_capture(bool enable, const std::string& tmp_root = "");
nlohmann::json to_json(const NcclDebugCapture& c);
void remove_private_files(const NcclDebugCapture& c);
// NCCL reads its debug settings once per process, so the capture is per process too: the first
// call starts it, later ones return the same; goodput's private file goes when the process ends.
const NcclDebugCapture& process_nccl_debug_capture(bool enable);

// Reads what NCCL appended to its debug file since the last call (whole lines only).
class NcclDebugReader {
 public:
  explicit NcclDebugReader(NcclDebugCapture capture) : capture_(std::move(capture)) {}
  // New text since the last call; "" with `unavailable()` saying why when the file cannot be read.
  std::string read_new();
  const std::string& unavailable() const { return unavailable_; }
  const NcclDebugCapture& capture() const { return capture_; }

 private:
  NcclDebugCapture capture_;
  std::uint64_t offset_ = 0;
  std::string unavailable_;
};

}  // namespace goodput::collectives
