// The NCCL check macro, defined once: throws RuntimeFailure with file, line, the call, NCCL's
// error string and ncclGetLastError's text (the detail NCCL logs for the failing communicator).
#pragma once
#include <nccl.h>

#include <string>

#include "harness/core/error.hpp"

namespace goodput::collectives {

[[noreturn]] inline void throw_nccl_error(ncclResult_t r, ncclComm_t comm, const char* expr,
                                          const char* file, int line) {
  const char* last = ncclGetLastError(comm);
  throw RuntimeFailure(std::string(file) + ":" + std::to_string(line) + ": " + expr +
                       " failed: " + ncclGetErrorString(r) +
                       (last && *last ? std::string(": ") + last : std::string()));
}

}  // namespace goodput::collectives

#define GOODPUT_NCCL_CHECK(expr, comm)                                                          \
  do {                                                                                          \
    const ncclResult_t goodput_nr_ = (expr);                                                    \
    if (goodput_nr_ != ncclSuccess && goodput_nr_ != ncclInProgress)                            \
      ::goodput::collectives::throw_nccl_error(goodput_nr_, (comm), #expr, __FILE__, __LINE__); \
  } while (0)
