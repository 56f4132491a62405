// What kiln needs to know about a CUDA device and the libraries it runs with: the engine
// fingerprint (an engine records the SM and library major versions it was built for) and the
// messages of ENGINE_INCOMPATIBLE / DEVICE_UNAVAILABLE.
#pragma once

#include <cstdint>
#include <string>

#include "kiln/status.h"

namespace kiln::cuda {

struct DeviceInfo {
  int ordinal = 0;
  std::string name;                // "NVIDIA H200"
  int sm_major = 0, sm_minor = 0;  // compute capability
  int multiprocessors = 0;
  uint64_t total_bytes = 0, free_bytes = 0;
  int driver_version = 0;       // cudaDriverGetVersion: 13000 = CUDA 13.0
  int runtime_version = 0;      // cudaRuntimeGetVersion (the runtime kiln links)
  size_t cudnn_version = 0;     // cudnnGetVersion: 91400 = 9.14.0
  size_t cublaslt_version = 0;  // cublasLtGetVersion: 130100 = 13.1.0
  std::string sm() const;       // "sm_90"
  std::string summary() const;  // "NVIDIA H200 sm_90, 132 SMs, 139.8 GiB, driver 13.0, ..."
};

// The device `ordinal`; DEVICE_UNAVAILABLE (K4005) naming CUDA's reason when there is none (no
// GPU, no driver, a driver older than the runtime).
Result<DeviceInfo> query_device(int ordinal = 0);

// "9.14.0" from 91400 (cuDNN's, and cuBLASLt's 130100 as "13.1.0").
std::string cudnn_version_string(size_t v);
std::string cublaslt_version_string(size_t v);

}  // namespace kiln::cuda
