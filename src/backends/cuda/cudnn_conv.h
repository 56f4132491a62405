// 2-D convolution through cuDNN 9 with the bias, an optional residual and ReLU fused
// (cudnnConvolutionBiasActivationForward): y = act(conv(x, w) + z + bias), NHWC activations and
// KRSC (output-channel-major, channels-last) weights, float32 or float16 (float32 accumulation).
// The legacy convolution API (deprecated in cuDNN 9 in favour of the graph API, which is the
// way to the wider fusions issue 8 asks for) keeps this first version short.
#pragma once

#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "backends/cuda/lt_gemm.h"  // MathMode
#include "kiln/status.h"

namespace kiln::cuda {

struct ConvDesc {
  int64_t n = 1, c = 0, h = 0, w = 0;  // input
  int64_t k = 0, r = 0, s = 0;         // output channels, kernel height, width
  int64_t pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1, groups = 1;
  MathMode math = MathMode::kFp32;  // kFp32 (no tf32) or kFp16
  bool relu = false;
  bool residual = false;  // z (Y's shape) added before the activation
};

class CudnnConv {
 public:
  // Picks cuDNN's heuristic algorithms that fit `workspace_limit`.
  static Result<std::unique_ptr<CudnnConv>> create(const ConvDesc& d, uint64_t workspace_limit);
  ~CudnnConv();
  CudnnConv(const CudnnConv&) = delete;
  CudnnConv& operator=(const CudnnConv&) = delete;

  int64_t out_h() const { return oh_; }
  int64_t out_w() const { return ow_; }
  int num_algos() const { return static_cast<int>(algos_.size()); }
  uint64_t workspace_bytes(int algo = 0) const;
  // bias: k elements of the activation type; z: nullptr unless residual.
  Status run(cudaStream_t stream, const void* x, const void* w, const void* bias, const void* z,
             void* y, void* workspace, int algo = 0) const;

 private:
  CudnnConv() = default;
  ConvDesc d_;
  int64_t oh_ = 0, ow_ = 0;
  cudnnHandle_t handle_ = nullptr;
  cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr, b_ = nullptr;
  cudnnFilterDescriptor_t w_ = nullptr;
  cudnnConvolutionDescriptor_t conv_ = nullptr;
  cudnnActivationDescriptor_t act_ = nullptr;
  struct Algo {
    cudnnConvolutionFwdAlgo_t algo;
    size_t workspace;
  };
  std::vector<Algo> algos_;
};

}  // namespace kiln::cuda
