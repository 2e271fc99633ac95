// How the processes of one run find each other: a single process (every visible GPU driven by
// one process), or MPI (one process per GPU across nodes, launched by mpirun or srun). It carries
// the NCCL unique id from rank 0 to everyone and gathers results to rank 0; it never touches a
// GPU, so the MPI path is tested on the CPU.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace goodput::collectives {

enum class ReduceKind { kSum, kMin, kMax };

class Bootstrap {
 public:
  virtual ~Bootstrap() = default;
  virtual std::string kind() const = 0;  // "local" or "mpi"
  virtual int rank() const = 0;          // this process
  virtual int size() const = 0;          // processes
  // Root's bytes to everyone (resized on the others).
  virtual void broadcast(std::vector<std::uint8_t>& bytes, int root) = 0;
  // Every process's string, in process order, on root; empty elsewhere.
  virtual std::vector<std::string> gather(const std::string& mine, int root) = 0;
  // Element-wise reduction over processes; every process gets the result.
  virtual void allreduce(std::vector<double>& values, ReduceKind kind) = 0;
  virtual void barrier() = 0;
  // Failure notices, so that a process waiting in a collective learns that another one gave up
  // instead of waiting for its watchdog: post_failure() tells every other process (without
  // blocking), peer_failed() polls for such a notice. Once all processes know which ones failed,
  // settle_failures(those) receives the notices still in flight and completes this one's sends.
  virtual void post_failure() = 0;
  virtual bool peer_failed() = 0;
  virtual void settle_failures(const std::vector<int>& failed_processes) = 0;
  // Ends every process of the job (after a failure only this process saw).
  virtual void abort(int exit_code) = 0;
};

std::unique_ptr<Bootstrap> make_local_bootstrap();

// True when this goodput was built with MPI.
bool mpi_built();
// True when the process looks launched by mpirun/srun (OMPI_COMM_WORLD_SIZE, PMI_SIZE, ...).
bool launched_by_mpi();
// Initialises MPI (once). InputError when this goodput was built without MPI.
std::unique_ptr<Bootstrap> make_mpi_bootstrap();

}  // namespace goodput::collectives
