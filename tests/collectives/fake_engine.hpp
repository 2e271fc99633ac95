// A host engine for tests: performs each collective on host buffers with the real data movement
// (independently of pattern.hpp's expected values), checks with the host reference, and reports
// deterministic times. Stands in for the NCCL engine in the driver and MPI bootstrap tests.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "collectives/engine.hpp"

namespace goodput::collectives::testing {

struct FakeOptions {
  int local_ranks = 1;            // local launch: ranks this process drives
  bool per_process = false;       // MPI launch: one rank per process, nranks = processes
  int corrupt_rank = -1;          // this rank's output gets one wrong element
  std::size_t fail_at_bytes = 0;  // a case of this size_bytes throws CollectiveTimeout
  // With fail_at_bytes: only the process driving this rank fails, with an NCCL-like error
  // (-1: every process, with a timeout). The others return at once, or, with peer_wait_s, wait
  // for the failing one's notice as a process blocked in a real collective would.
  int fail_rank = -1;
  double peer_wait_s = 0;
  // When set, rank 0's process reports this algorithm/protocol through NCCL's tuning lines.
  std::string tuning_algo, tuning_proto;
  double base_seconds = 1e-4;
};

class FakeEngine final : public Engine {
 public:
  explicit FakeEngine(FakeOptions o) : o_(o) {}
  void init(Bootstrap& boot) override;
  int nranks() const override { return nranks_; }
  std::vector<RankIdentity> local_ranks() const override { return ids_; }
  LocalMeasurement run_case(const CaseSpec& s) override;
  nlohmann::json details() const override { return {{"engine", "fake"}}; }
  void stop() override { stopped_ = true; }
  const std::vector<std::uint8_t>& unique_id() const { return id_; }
  int cases_run() const { return cases_; }
  bool stopped() const { return stopped_; }

 private:
  FakeOptions o_;
  Bootstrap* boot_ = nullptr;
  bool stopped_ = false;
  int nranks_ = 0;
  std::vector<RankIdentity> ids_;
  std::vector<std::uint8_t> id_;
  int cases_ = 0;
};

// Output of rank `me` for spec, computed by moving and reducing decoded input elements.
std::vector<std::uint8_t> simulate_output(const CaseSpec& s, int nranks, int me);

}  // namespace goodput::collectives::testing
