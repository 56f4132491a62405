#include "backends/cuda/device_memory.h"

#include <cuda_runtime.h>

#include "core/errors.h"

namespace kiln::cuda {

Result<DeviceMemory> DeviceMemory::allocate(uint64_t bytes, std::string_view what) {
  DeviceMemory m;
  if (bytes == 0) return m;
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    (void)cudaGetLastError();
    return err(e == cudaErrorMemoryAllocation ? Code::kDeviceOutOfMemory : Code::kCudaFailed,
               "cudaMalloc of ", bytes, " bytes for ", what, " failed: ", cudaGetErrorName(e), " (",
               free_b, " of ", total_b, " bytes free on the device)")
        .with_fix(
            "Shrink what needs the memory: smaller max shapes in the optimization profile, "
            "a smaller --workspace, or fewer execution contexts; or free the GPU of other "
            "processes.");
  }
  m.p_ = p;
  m.bytes_ = bytes;
  return m;
}

DeviceMemory& DeviceMemory::operator=(DeviceMemory&& o) noexcept {
  if (this != &o) {
    if (p_ != nullptr) cudaFree(p_);
    p_ = o.p_;
    bytes_ = o.bytes_;
    o.p_ = nullptr;
  }
  return *this;
}

DeviceMemory::~DeviceMemory() {
  if (p_ != nullptr) cudaFree(p_);
}

}  // namespace kiln::cuda
