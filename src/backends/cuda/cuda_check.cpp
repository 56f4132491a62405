#include "backends/cuda/cuda_check.h"

#include "core/errors.h"

namespace kiln::cuda {

Status check(cudaError_t e, std::string_view what) {
  if (e == cudaSuccess) return Status::Ok();
  // Clear a non-sticky error so the next call does not report it again.
  (void)cudaGetLastError();
  const Code code = e == cudaErrorMemoryAllocation ? Code::kDeviceOutOfMemory : Code::kCudaFailed;
  return err(code, what, ": ", cudaGetErrorName(e), " (", cudaGetErrorString(e), ")");
}

namespace {

// cuBLAS's own cublasGetStatusName lives in libcublas, which kiln does not otherwise need.
const char* status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE (an unsupported parameter combination)";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH (the GPU lacks a feature this needs)";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED (the kernel failed to launch or run)";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    default:
      return "cuBLAS status";
  }
}

}  // namespace

Status check(cublasStatus_t s, std::string_view what) {
  if (s == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  const Code code = s == CUBLAS_STATUS_ALLOC_FAILED ? Code::kDeviceOutOfMemory : Code::kCudaFailed;
  return err(code, what, ": ", status_name(s), " [", static_cast<int>(s), "]");
}

Status check(cudnnStatus_t s, std::string_view what) {
  if (s == CUDNN_STATUS_SUCCESS) return Status::Ok();
  const Code code = s == CUDNN_STATUS_ALLOC_FAILED ? Code::kDeviceOutOfMemory : Code::kCudaFailed;
  return err(code, what, ": ", cudnnGetErrorString(s));
}

}  // namespace kiln::cuda
