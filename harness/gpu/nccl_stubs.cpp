// NCCL's entry points as goodput calls them, each resolved in the library on its first call
// (harness/gpu/libraries.hpp). The signatures are nccl.h's own, so the compiler checks them; a
// function used without a stub here is a link error, not a silent direct dependency.
#include <nccl.h>

#include "harness/gpu/libraries.hpp"

#define GOODPUT_STR2(x) #x
#define GOODPUT_STR(x) GOODPUT_STR2(x)

namespace goodput::gpu {

LazyLibrary& nccl_library() {
  static LazyLibrary lib("NCCL", {"libnccl.so." GOODPUT_STR(NCCL_MAJOR),
                                  GOODPUT_NCCL_LIBRARY_DIR "/libnccl.so." GOODPUT_STR(NCCL_MAJOR)});
  return lib;
}

}  // namespace goodput::gpu

#define GOODPUT_NCCL(ret, name, params, args)                                          \
  extern "C" ret name params {                                                         \
    static const auto fn =                                                             \
        reinterpret_cast<decltype(&name)>(goodput::gpu::nccl_library().symbol(#name)); \
    return fn args;                                                                    \
  }

GOODPUT_NCCL(ncclResult_t, ncclGetVersion, (int* version), (version))
GOODPUT_NCCL(const char*, ncclGetErrorString, (ncclResult_t r), (r))
GOODPUT_NCCL(const char*, ncclGetLastError, (ncclComm_t comm), (comm))
GOODPUT_NCCL(ncclResult_t, ncclGetUniqueId, (ncclUniqueId * id), (id))
GOODPUT_NCCL(ncclResult_t, ncclCommInitAll, (ncclComm_t * comms, int ndev, const int* devlist),
             (comms, ndev, devlist))
GOODPUT_NCCL(ncclResult_t, ncclCommInitRank,
             (ncclComm_t * comm, int nranks, ncclUniqueId id, int rank), (comm, nranks, id, rank))
GOODPUT_NCCL(ncclResult_t, ncclCommAbort, (ncclComm_t comm), (comm))
GOODPUT_NCCL(ncclResult_t, ncclCommDestroy, (ncclComm_t comm), (comm))
GOODPUT_NCCL(ncclResult_t, ncclCommGetAsyncError, (ncclComm_t comm, ncclResult_t* error),
             (comm, error))
GOODPUT_NCCL(ncclResult_t, ncclGroupStart, (), ())
GOODPUT_NCCL(ncclResult_t, ncclGroupEnd, (), ())
GOODPUT_NCCL(ncclResult_t, ncclAllReduce,
             (const void* send, void* recv, size_t count, ncclDataType_t type, ncclRedOp_t op,
              ncclComm_t comm, cudaStream_t stream),
             (send, recv, count, type, op, comm, stream))
GOODPUT_NCCL(ncclResult_t, ncclAllGather,
             (const void* send, void* recv, size_t count, ncclDataType_t type, ncclComm_t comm,
              cudaStream_t stream),
             (send, recv, count, type, comm, stream))
GOODPUT_NCCL(ncclResult_t, ncclReduceScatter,
             (const void* send, void* recv, size_t count, ncclDataType_t type, ncclRedOp_t op,
              ncclComm_t comm, cudaStream_t stream),
             (send, recv, count, type, op, comm, stream))
GOODPUT_NCCL(ncclResult_t, ncclBroadcast,
             (const void* send, void* recv, size_t count, ncclDataType_t type, int root,
              ncclComm_t comm, cudaStream_t stream),
             (send, recv, count, type, root, comm, stream))
GOODPUT_NCCL(ncclResult_t, ncclReduce,
             (const void* send, void* recv, size_t count, ncclDataType_t type, ncclRedOp_t op,
              int root, ncclComm_t comm, cudaStream_t stream),
             (send, recv, count, type, op, root, comm, stream))
GOODPUT_NCCL(ncclResult_t, ncclSend,
             (const void* send, size_t count, ncclDataType_t type, int peer, ncclComm_t comm,
              cudaStream_t stream),
             (send, count, type, peer, comm, stream))
GOODPUT_NCCL(ncclResult_t, ncclRecv,
             (void* recv, size_t count, ncclDataType_t type, int peer, ncclComm_t comm,
              cudaStream_t stream),
             (recv, count, type, peer, comm, stream))
