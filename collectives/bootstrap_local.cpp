// The single-process bootstrap, and the loader of the MPI one (a module opened on demand).
#include <dlfcn.h>

#include <cstdlib>

#include "collectives/bootstrap.hpp"
#include "harness/core/data_dir.hpp"
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

namespace {

std::string mpi_module() {
#ifdef GOODPUT_MPI_BUILD_PATH
  const std::string build_path = GOODPUT_MPI_BUILD_PATH;
#else
  const std::string build_path;
#endif
  return companion_library("libgoodput_mpi.so", "GOODPUT_MPI_LIB", build_path);
}

}  // namespace

bool mpi_built() {
  return !mpi_module().empty();
}

std::unique_ptr<Bootstrap> make_mpi_bootstrap() {
  const std::string path = mpi_module();
  if (path.empty())
    throw InputError(
        "this goodput has no MPI bootstrap (libgoodput_mpi.so: install libopenmpi-dev and "
        "reconfigure, or set GOODPUT_MPI_LIB); run one process for all local GPUs with --launch "
        "local");
  // RTLD_GLOBAL: Open MPI's own components, opened later, resolve symbols of libmpi. The
  // module stays loaded: MPI cannot be unloaded and re-initialised.
  void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!module) {
    const char* why = dlerror();
    throw RuntimeFailure("the MPI bootstrap could not be loaded: " + std::string(why ? why : path));
  }
  using Create = Bootstrap* (*)();
  const auto create = reinterpret_cast<Create>(dlsym(module, "goodput_mpi_bootstrap_create"));
  if (!create) throw RuntimeFailure(path + " lacks goodput_mpi_bootstrap_create");
  return std::unique_ptr<Bootstrap>(create());
}

}  // namespace goodput::collectives
