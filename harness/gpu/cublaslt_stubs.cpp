// cuBLASLt's entry points as goodput calls them, each resolved in the library on its first call
// (harness/gpu/libraries.hpp). The signatures are cublasLt.h's own, so the compiler checks them;
// a function used without a stub here is a link error, not a silent direct dependency.
#include <cublasLt.h>

#include "harness/gpu/libraries.hpp"

#define GOODPUT_STR2(x) #x
#define GOODPUT_STR(x) GOODPUT_STR2(x)

namespace goodput::gpu {

LazyLibrary& cublaslt_library() {
  static LazyLibrary lib(
      "cuBLASLt", {"libcublasLt.so." GOODPUT_STR(CUBLAS_VER_MAJOR),
                   GOODPUT_CUDA_LIBRARY_DIR "/libcublasLt.so." GOODPUT_STR(CUBLAS_VER_MAJOR)});
  return lib;
}

}  // namespace goodput::gpu

#define GOODPUT_CUBLASLT(ret, name, params, args)                                          \
  extern "C" ret name params {                                                             \
    static const auto fn =                                                                 \
        reinterpret_cast<decltype(&name)>(goodput::gpu::cublaslt_library().symbol(#name)); \
    return fn args;                                                                        \
  }

GOODPUT_CUBLASLT(size_t, cublasLtGetVersion, (void), ())
GOODPUT_CUBLASLT(const char*, cublasLtGetStatusName, (cublasStatus_t s), (s))
GOODPUT_CUBLASLT(const char*, cublasLtGetStatusString, (cublasStatus_t s), (s))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtCreate, (cublasLtHandle_t * h), (h))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtDestroy, (cublasLtHandle_t h), (h))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatmulDescCreate,
                 (cublasLtMatmulDesc_t * d, cublasComputeType_t compute, cudaDataType_t scale),
                 (d, compute, scale))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatmulDescDestroy, (cublasLtMatmulDesc_t d), (d))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatmulDescSetAttribute,
                 (cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr, const void* buf,
                  size_t size),
                 (d, attr, buf, size))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatrixLayoutCreate,
                 (cublasLtMatrixLayout_t * l, cudaDataType type, uint64_t rows, uint64_t cols,
                  int64_t ld),
                 (l, type, rows, cols, ld))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatrixLayoutDestroy, (cublasLtMatrixLayout_t l), (l))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatmulPreferenceCreate, (cublasLtMatmulPreference_t * p),
                 (p))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatmulPreferenceDestroy, (cublasLtMatmulPreference_t p),
                 (p))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatmulPreferenceSetAttribute,
                 (cublasLtMatmulPreference_t p, cublasLtMatmulPreferenceAttributes_t attr,
                  const void* buf, size_t size),
                 (p, attr, buf, size))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatmulAlgoGetHeuristic,
                 (cublasLtHandle_t h, cublasLtMatmulDesc_t op, cublasLtMatrixLayout_t a,
                  cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                  cublasLtMatmulPreference_t pref, int requested,
                  cublasLtMatmulHeuristicResult_t results[], int* returned),
                 (h, op, a, b, c, d, pref, requested, results, returned))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatmulAlgoCheck,
                 (cublasLtHandle_t h, cublasLtMatmulDesc_t op, cublasLtMatrixLayout_t a,
                  cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                  const cublasLtMatmulAlgo_t* algo, cublasLtMatmulHeuristicResult_t* result),
                 (h, op, a, b, c, d, algo, result))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatmulAlgoConfigGetAttribute,
                 (const cublasLtMatmulAlgo_t* algo, cublasLtMatmulAlgoConfigAttributes_t attr,
                  void* buf, size_t size, size_t* written),
                 (algo, attr, buf, size, written))
GOODPUT_CUBLASLT(cublasStatus_t, cublasLtMatmul,
                 (cublasLtHandle_t h, cublasLtMatmulDesc_t op, const void* alpha, const void* a,
                  cublasLtMatrixLayout_t a_desc, const void* b, cublasLtMatrixLayout_t b_desc,
                  const void* beta, const void* c, cublasLtMatrixLayout_t c_desc, void* d,
                  cublasLtMatrixLayout_t d_desc, const cublasLtMatmulAlgo_t* algo, void* workspace,
                  size_t workspace_bytes, cudaStream_t stream),
                 (h, op, alpha, a, a_desc, b, b_desc, beta, c, c_desc, d, d_desc, algo, workspace,
                  workspace_bytes, stream))
