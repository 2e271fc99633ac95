// The MPI bootstrap, built as its own module (libgoodput_mpi.so) when CMake finds MPI: goodput
// opens it only for `--launch mpi`, so no other subcommand loads Open MPI (bootstrap_local.cpp).
#include <mpi.h>

#include "collectives/bootstrap.hpp"
#include "harness/core/error.hpp"

namespace goodput::collectives {
namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw RuntimeFailure(std::string(what) + " failed: " + msg);
}

class MpiBootstrap final : public Bootstrap {
 public:
  MpiBootstrap() {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
      int provided = 0;
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
      owns_ = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  }
  ~MpiBootstrap() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owns_ && !finalized) MPI_Finalize();
  }
  std::string kind() const override { return "mpi"; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void broadcast(std::vector<std::uint8_t>& bytes, int root) override {
    unsigned long long n = bytes.size();
    check(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD), "MPI_Bcast");
    bytes.resize(n);
    check(MPI_Bcast(bytes.data(), static_cast<int>(n), MPI_BYTE, root, MPI_COMM_WORLD),
          "MPI_Bcast");
  }

  std::vector<std::string> gather(const std::string& mine, int root) override {
    int len = static_cast<int>(mine.size());
    std::vector<int> lens(rank_ == root ? size_ : 0);
    check(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, root, MPI_COMM_WORLD),
          "MPI_Gather");
    std::vector<int> displs(lens.size());
    int total = 0;
    for (std::size_t i = 0; i < lens.size(); ++i) {
      displs[i] = total;
      total += lens[i];
    }
    std::string all(static_cast<std::size_t>(total), '\0');
    check(MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(), MPI_CHAR,
                      root, MPI_COMM_WORLD),
          "MPI_Gatherv");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < lens.size(); ++i)
      out.push_back(
          all.substr(static_cast<std::size_t>(displs[i]), static_cast<std::size_t>(lens[i])));
    return out;
  }

  void allreduce(std::vector<double>& values, ReduceKind kind) override {
    const MPI_Op op = kind == ReduceKind::kSum   ? MPI_SUM
                      : kind == ReduceKind::kMin ? MPI_MIN
                                                 : MPI_MAX;
    check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE,
                        op, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }

  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

  // Notices are one-byte point-to-point messages on their own tag: they never match a
  // collective, and a small message is sent eagerly, so posting does not wait for the receiver.
  void post_failure() override {
    if (!notices_.empty()) return;
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      notices_.emplace_back();
      check(MPI_Isend(&kNotice, 1, MPI_BYTE, r, kFailureTag, MPI_COMM_WORLD, &notices_.back()),
            "MPI_Isend");
    }
  }

  bool peer_failed() override {
    int flag = 0;
    check(MPI_Iprobe(MPI_ANY_SOURCE, kFailureTag, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE),
          "MPI_Iprobe");
    return flag != 0;
  }

  void settle_failures(const std::vector<int>& failed_processes) override {
    for (const int p : failed_processes) {
      if (p == rank_) continue;
      char byte = 0;
      check(MPI_Recv(&byte, 1, MPI_BYTE, p, kFailureTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
            "MPI_Recv");
    }
    if (!notices_.empty())
      check(MPI_Waitall(static_cast<int>(notices_.size()), notices_.data(), MPI_STATUSES_IGNORE),
            "MPI_Waitall");
    notices_.clear();
  }

  void abort(int exit_code) override { MPI_Abort(MPI_COMM_WORLD, exit_code); }

 private:
  static constexpr int kFailureTag = 0x6f0d;
  static constexpr char kNotice = 1;
  int rank_ = 0, size_ = 1;
  bool owns_ = false;
  std::vector<MPI_Request> notices_;  // this process's posted notices, until settled
};

}  // namespace
}  // namespace goodput::collectives

// The module's one entry point: initialises MPI (once); the caller owns the result.
extern "C" __attribute__((visibility("default"))) goodput::collectives::Bootstrap*
goodput_mpi_bootstrap_create() {
  return new goodput::collectives::MpiBootstrap();
}
