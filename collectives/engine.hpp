// What drives the collectives on the GPUs of this process. The NCCL implementation lives in
// collectives/gpu; the sweep driver (runner.hpp) only sees this interface, so tests swap in a
// host engine and exercise the driver, the bootstrap and the result gathering without a GPU.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collectives/bootstrap.hpp"
#include "collectives/collective.hpp"
#include "collectives/links.hpp"
#include "collectives/nccl_choice.hpp"
#include "collectives/pattern.hpp"
#include "harness/core/device_info.hpp"
#include "harness/core/error.hpp"

namespace goodput::collectives {

// One rank: where it ran and on what.
struct RankIdentity {
  int rank = 0;
  std::string host;
  int pid = 0;
  int process = 0;  // bootstrap rank of the process driving it
  DeviceInfo device;
  LinkInfo links;
};
nlohmann::json to_json(const RankIdentity& r);
RankIdentity rank_identity_from_json(const nlohmann::json& j);

enum class TimingMode { kEvents, kBackToBack };
const char* to_string(TimingMode m);
TimingMode parse_timing_mode(const std::string& s);

struct CaseSpec {
  Coll coll = Coll::kAllReduce;
  DType dtype = DType::kFloat32;
  RedOp op = RedOp::kSum;
  int root = 0;
  bool in_place = false;
  std::size_t requested_bytes = 0;
  CollCounts counts;
  Pattern pattern;
  int warmup = 5;
  int iters = 20;  // samples
  int batch = 20;  // back-to-back mode: calls per sample
  TimingMode mode = TimingMode::kEvents;
  bool graph = false;  // capture the timed calls in a CUDA graph
  bool check = true;   // verify the output (outside the timed loop)
  double timeout_s = 0;
};
std::string case_label(const CaseSpec& s);  // "all_reduce fp32 sum out-of-place 1048576 B"

// A collective that did not finish within --timeout; the communicators were aborted.
struct CollectiveTimeout : RuntimeFailure {
  explicit CollectiveTimeout(const std::string& what) : RuntimeFailure(what) {}
};

// This process gave up on a case because another process of the run reported a failure
// (Bootstrap::peer_failed) while it waited; the communicators were aborted.
struct PeerFailed : RuntimeFailure {
  explicit PeerFailed(const std::string& what) : RuntimeFailure(what) {}
};

struct LocalMeasurement {
  std::vector<std::vector<double>> samples;  // [local rank][sample], seconds per call
  std::vector<std::uint64_t> wrong;          // [local rank] wrong output elements
  NcclChoice nccl;  // what NCCL reported it chose (known on the process driving rank 0)
};

class Engine {
 public:
  virtual ~Engine() = default;
  // Creates the communicators; the NCCL unique id travels through `boot`.
  virtual void init(Bootstrap& boot) = 0;
  virtual int nranks() const = 0;                             // every rank of the job
  virtual std::vector<RankIdentity> local_ranks() const = 0;  // ranks this process drives
  // Fills, checks and times one case. Throws CollectiveTimeout, PeerFailed, RuntimeFailure
  // (NCCL/CUDA error with NCCL's last error text), NoGpuError.
  virtual LocalMeasurement run_case(const CaseSpec& spec) = 0;
  virtual nlohmann::json details() const = 0;  // library versions, launch, NCCL algorithm hints
  // After a failure anywhere stopped the sweep: drop the communicators without waiting for any
  // peer (ncclCommAbort), so no process hangs in their teardown.
  virtual void stop() {}
};

}  // namespace goodput::collectives
