// The GPU libraries goodput opens on first use (see harness/core/lazy_library.hpp): the calls
// into cuBLASLt and NCCL go through stubs (cublaslt_stubs.cpp, nccl_stubs.cpp) that resolve
// each function here once. No CUDA header: host code may ask whether they are available.
#pragma once
#include "harness/core/lazy_library.hpp"

namespace goodput::gpu {

LazyLibrary& cublaslt_library();
LazyLibrary& nccl_library();

}  // namespace goodput::gpu
