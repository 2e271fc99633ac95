// The sweep driver: every collective x data type x size x placement through an Engine, times
// combined across ranks as nccl-tests does, results gathered to process 0.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collectives/engine.hpp"
#include "collectives/links.hpp"
#include "collectives/sweep.hpp"

namespace goodput::collectives {

// How one number per call is made of every rank's time (nccl-tests -a): avg is its default.
enum class RankTime { kAvg, kMin, kMax, kRank0 };
const char* to_string(RankTime r);
RankTime parse_rank_time(const std::string& s);

struct RunConfig {
  std::vector<Coll> colls = {Coll::kAllReduce};
  std::vector<DType> dtypes = {DType::kFloat32};
  RedOp op = RedOp::kSum;
  int root = 0;
  Sweep sweep;
  bool out_of_place = true;
  bool in_place = true;
  int warmup = 5;
  int iters = 20;
  int batch = 20;
  TimingMode mode = TimingMode::kEvents;
  bool graph = false;
  bool check = true;
  double timeout_s = 300;
  RankTime rank_time = RankTime::kAvg;
  std::uint64_t seed = 0x5eedc011ull;
};
// InputError for settings that cannot run on `nranks` ranks (root out of range, avg on an
// integer type, no placement, bad counts).
void validate(const RunConfig& c, int nranks);
nlohmann::json to_json(const RunConfig& c);

// Per call: every rank's time -> one sample (RankTime) and the slowest rank's.
struct CombinedSamples {
  std::vector<double> combined;       // seconds
  std::vector<double> max_rank;       // seconds
  std::vector<double> per_rank_mean;  // [global rank]
};
// samples[global rank][call]; every rank has the same number of calls.
CombinedSamples combine_ranks(const std::vector<std::vector<double>>& samples, RankTime how);

struct RunSummary {
  int results = 0;
  int skipped = 0;
  std::uint64_t wrong_elements = 0;
  int wrong_cases = 0;
};

// Thrown by run_sweep on every process once all of them agreed that a case failed somewhere:
// they stop at the same case, so none is left waiting for another. exit_code() is the first
// failure's; what() names each failed rank with its host.
struct SweepFailed : Error {
  SweepFailed(int exit_code, const std::string& what) : Error(exit_code, what) {}
};

// Runs the sweep. On process 0 every finished case goes to `sink` (a result entry in the results
// schema) and a line is printed when `print` is set. After each case the processes agree whether
// it finished everywhere: a case that threw on any process (an error, a timeout, an interrupt)
// is recorded on process 0 as a failed result naming the size and every failed rank and host
// (an interrupt alone records nothing), the engine is stopped and every process throws
// SweepFailed. Results that finished before stay with the sink.
RunSummary run_sweep(Engine& engine, Bootstrap& boot, const RunConfig& cfg, const LinkDb* links,
                     const std::function<void(const nlohmann::json&)>& sink, bool print);

// Every rank's identity, gathered to process 0 (empty elsewhere).
std::vector<RankIdentity> gather_identities(Engine& engine, Bootstrap& boot);

// Result entry of one case from the combined samples (exposed for tests).
nlohmann::json case_result(const CaseSpec& spec, int nranks, const CombinedSamples& s,
                           const std::vector<std::uint64_t>& wrong_per_rank, RankTime how,
                           const std::vector<RankIdentity>& ranks, const LinkDb* links,
                           const NcclChoice& nccl = {});

}  // namespace goodput::collectives
