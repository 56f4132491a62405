// CUDA, cuBLASLt and cuDNN return codes as kiln Statuses: every call is checked, and a failure
// names the call, the library's error name and its message (EXECUTION_FAILED K7002, or
// OUT_OF_MEMORY K6002 for the allocation failures).
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string_view>

#include "kiln/status.h"

namespace kiln::cuda {

Status check(cudaError_t e, std::string_view what);
Status check(cublasStatus_t s, std::string_view what);
Status check(cudnnStatus_t s, std::string_view what);

}  // namespace kiln::cuda

#define KILN_CUDA_CHECK(call) KILN_RETURN_IF_ERROR(::kiln::cuda::check((call), #call))
