// The single-process bootstrap, and the MPI entry points of a build without MPI.
#include <cstdlib>

#include "collectives/bootstrap.hpp"
#include "harness/core/error.hpp"

namespace goodput::collectives {
namespace {

class LocalBootstrap final : public Bootstrap {
 public:
  std::string kind() const override { return "local"; }
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void broadcast(std::vector<std::uint8_t>&, int) override {}
  std::vector<std::string> gather(const std::string& mine, int) override { return {mine}; }
  void allreduce(std::vector<double>&, ReduceKind) override {}
  void barrier() override {}
  void post_failure() override {}
  bool peer_failed() override { return false; }
  void settle_failures(const std::vector<int>&) override {}
  void abort(int) override {}
};

}  // namespace

std::unique_ptr<Bootstrap> make_local_bootstrap() {
  return std::make_unique<LocalBootstrap>();
}

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

#ifndef GOODPUT_WITH_MPI
bool mpi_built() {
  return false;
}
std::unique_ptr<Bootstrap> make_mpi_bootstrap() {
  throw InputError(
      "this goodput was built without MPI (install libopenmpi-dev and reconfigure); run one "
      "process for all local GPUs with --launch local");
}
#endif

}  // namespace goodput::collectives
