#include "backends/cuda/device_info.h"

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "core/errors.h"

namespace kiln::cuda {

std::string DeviceInfo::sm() const {
  return "sm_" + std::to_string(sm_major) + std::to_string(sm_minor);
}

std::string cudnn_version_string(size_t v) {
  return str(v / 10000, ".", (v % 10000) / 100, ".", v % 100);
}

std::string cublaslt_version_string(size_t v) {
  return str(v / 10000, ".", (v % 10000) / 100, ".", v % 100);
}

std::string DeviceInfo::summary() const {
  return str(name, " ", sm(), ", ", multiprocessors, " SMs, ",
             static_cast<double>(total_bytes) / double(1ull << 30), " GiB, driver ",
             driver_version / 1000, ".", (driver_version % 1000) / 10, ", runtime ",
             runtime_version / 1000, ".", (runtime_version % 1000) / 10, ", cuDNN ",
             cudnn_version_string(cudnn_version), ", cuBLASLt ",
             cublaslt_version_string(cublaslt_version));
}

Result<DeviceInfo> query_device(int ordinal) {
  DeviceInfo d;
  d.ordinal = ordinal;
  cudaDriverGetVersion(&d.driver_version);
  cudaRuntimeGetVersion(&d.runtime_version);
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return err(Code::kDeviceUnavailable, "no CUDA device: ", cudaGetErrorName(e), " (",
               cudaGetErrorString(e), "); ",
               d.driver_version == 0 ? std::string("no NVIDIA driver is installed")
                                     : str("the driver supports CUDA ", d.driver_version),
               ", kiln's CUDA runtime is ", d.runtime_version);
  }
  if (ordinal < 0 || ordinal >= count)
    return err(Code::kDeviceUnavailable, "CUDA device ", ordinal, " does not exist (", count,
               " device(s) present)");
  cudaDeviceProp p{};
  if (const cudaError_t pe = cudaGetDeviceProperties(&p, ordinal); pe != cudaSuccess)
    return err(Code::kDeviceUnavailable, "CUDA device ", ordinal, ": ", cudaGetErrorString(pe));
  d.name = p.name;
  d.sm_major = p.major;
  d.sm_minor = p.minor;
  d.multiprocessors = p.multiProcessorCount;
  d.total_bytes = p.totalGlobalMem;
  int previous = 0;
  cudaGetDevice(&previous);
  if (cudaSetDevice(ordinal) == cudaSuccess) {
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) d.free_bytes = free_b;
    cudaSetDevice(previous);
  }
  (void)cudaGetLastError();
  d.cudnn_version = cudnnGetVersion();
  d.cublaslt_version = cublasLtGetVersion();
  return d;
}

}  // namespace kiln::cuda
