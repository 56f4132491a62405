// The CUDA device: device memory (one cudaMalloc per arena), its fingerprint (SM and the major
// versions of cuDNN and cuBLASLt an engine was built with), and — for now — no tactics: the
// kernels exist (lt_gemm.h, cudnn_conv.h, tested on the GPU machine by tests/gpu), the layers
// that use them and the device-side executor are the next step of issue 8. Until then every
// layer of a `--device cuda` build is reported as NO_KERNEL, naming the node.
#include "backends/backend.h"
#include "backends/cuda/device_info.h"
#include "backends/cuda/device_memory.h"
#include "core/errors.h"
#include "engine/engine_file.h"

namespace kiln::backends {
namespace {

class CudaBuffer final : public Buffer {
 public:
  explicit CudaBuffer(cuda::DeviceMemory m) : m_(std::move(m)) {}
  void* data() override { return m_.get(); }  // a device pointer
  uint64_t size() const override { return m_.size(); }

 private:
  cuda::DeviceMemory m_;
};

class CudaDevice final : public Device {
 public:
  explicit CudaDevice(cuda::DeviceInfo info) : info_(std::move(info)) {
    fp_.device = "cuda";
    fp_.arch = info_.sm();
    fp_.cpu_name = info_.summary();
    // Engines need the same library generations (cuDNN 9 engines, cuBLASLt 13 algorithms).
    fp_.features = {str("cublasLt", info_.cublaslt_version / 10000),
                    str("cudnn", info_.cudnn_version / 10000)};
  }
  DeviceKind kind() const override { return DeviceKind::kCuda; }
  const engine::Fingerprint& fingerprint() const override { return fp_; }
  Result<std::unique_ptr<Buffer>> allocate(uint64_t bytes) override {
    KILN_ASSIGN_OR_RETURN(cuda::DeviceMemory m,
                          cuda::DeviceMemory::allocate(bytes, "an execution context's arena"));
    return std::unique_ptr<Buffer>(new CudaBuffer(std::move(m)));
  }
  std::unique_ptr<Queue> create_queue() override { return make_thread_queue(); }
  const std::vector<const Tactic*>& tactics() const override { return tactics_; }

 private:
  cuda::DeviceInfo info_;
  engine::Fingerprint fp_;
  std::vector<const Tactic*> tactics_;
};

}  // namespace

Result<Device*> cuda_device() {
  static const Result<cuda::DeviceInfo> info = cuda::query_device(0);
  if (!info.ok())
    return Status(info.status())
        .with_fix(
            "Run on a machine with an NVIDIA GPU and its driver, or build for the CPU (--device "
            "cpu).");
  static CudaDevice device(*info);
  return static_cast<Device*>(&device);
}

}  // namespace kiln::backends
