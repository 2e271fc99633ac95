// Exceptions that carry the process exit code. Library code throws; only main() exits.
#pragma once
#include <stdexcept>
#include <string>

namespace goodput {

// Documented exit codes (README "Exit codes").
enum ExitCode : int {
  kExitOk = 0,
  kExitCheckFailed = 1,   // a regression, a verification failure, wrong results
  kExitUsage = 2,         // bad command line or bad input file
  kExitNoGpu = 3,         // no usable GPU or driver
  kExitRuntime = 4,       // CUDA/cuBLAS/NCCL/CUPTI or system failure
  kExitInterrupted = 130  // SIGINT/SIGTERM; finished results were written
};

class Error : public std::runtime_error {
 public:
  Error(int exit_code, const std::string& what) : std::runtime_error(what), code_(exit_code) {}
  int exit_code() const { return code_; }

 private:
  int code_;
};

// Bad command line or bad input (file, position and cause in the message).
struct InputError : Error {
  explicit InputError(const std::string& what) : Error(kExitUsage, what) {}
};
struct NoGpuError : Error {
  explicit NoGpuError(const std::string& what) : Error(kExitNoGpu, what) {}
};
struct RuntimeFailure : Error {
  explicit RuntimeFailure(const std::string& what) : Error(kExitRuntime, what) {}
};
struct CheckFailed : Error {
  explicit CheckFailed(const std::string& what) : Error(kExitCheckFailed, what) {}
};

}  // namespace goodput
