#include "backends/cuda/cudnn_conv.h"

#include "backends/cuda/cuda_check.h"
#include "core/errors.h"

namespace kiln::cuda {

Result<std::unique_ptr<CudnnConv>> CudnnConv::create(const ConvDesc& d, uint64_t workspace_limit) {
  auto fits = [](int64_t v) { return v > 0 && v < (int64_t{1} << 31); };
  if (!fits(d.n) || !fits(d.c) || !fits(d.h) || !fits(d.w) || !fits(d.k) || !fits(d.r) ||
      !fits(d.s) || !fits(d.stride_h) || !fits(d.stride_w) || !fits(d.dil_h) || !fits(d.dil_w) ||
      !fits(d.groups) || d.pad_h < 0 || d.pad_w < 0 || d.c % d.groups != 0 || d.k % d.groups != 0)
    return err(Code::kInvalidArgument, "convolution N", d.n, " C", d.c, " H", d.h, " W", d.w, " K",
               d.k, " R", d.r, " S", d.s, " group ", d.groups,
               ": sizes out of range or not divisible by the group count");
  if (d.math != MathMode::kFp32 && d.math != MathMode::kFp16)
    return err(Code::kInvalidArgument, "cuDNN convolution: float32 or float16 only");
  std::unique_ptr<CudnnConv> c(new CudnnConv());
  c->d_ = d;
  KILN_CUDA_CHECK(cudnnCreate(&c->handle_));
  const cudnnDataType_t t = d.math == MathMode::kFp16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
  auto i32 = [](int64_t v) { return static_cast<int>(v); };
  KILN_CUDA_CHECK(cudnnCreateTensorDescriptor(&c->x_));
  KILN_CUDA_CHECK(cudnnSetTensor4dDescriptor(c->x_, CUDNN_TENSOR_NHWC, t, i32(d.n), i32(d.c),
                                             i32(d.h), i32(d.w)));
  KILN_CUDA_CHECK(cudnnCreateFilterDescriptor(&c->w_));
  KILN_CUDA_CHECK(cudnnSetFilter4dDescriptor(c->w_, t, CUDNN_TENSOR_NHWC, i32(d.k),
                                             i32(d.c / d.groups), i32(d.r), i32(d.s)));
  KILN_CUDA_CHECK(cudnnCreateConvolutionDescriptor(&c->conv_));
  KILN_CUDA_CHECK(cudnnSetConvolution2dDescriptor(
      c->conv_, i32(d.pad_h), i32(d.pad_w), i32(d.stride_h), i32(d.stride_w), i32(d.dil_h),
      i32(d.dil_w), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  KILN_CUDA_CHECK(cudnnSetConvolutionGroupCount(c->conv_, i32(d.groups)));
  // Float32 stays float32 (no tf32 unless asked for: a later flag); float16 uses tensor cores.
  KILN_CUDA_CHECK(cudnnSetConvolutionMathType(
      c->conv_, d.math == MathMode::kFp16 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
  int on = 0, oc = 0, oh = 0, ow = 0;
  KILN_CUDA_CHECK(
      cudnnGetConvolution2dForwardOutputDim(c->conv_, c->x_, c->w_, &on, &oc, &oh, &ow));
  c->oh_ = oh;
  c->ow_ = ow;
  KILN_CUDA_CHECK(cudnnCreateTensorDescriptor(&c->y_));
  KILN_CUDA_CHECK(cudnnSetTensor4dDescriptor(c->y_, CUDNN_TENSOR_NHWC, t, on, oc, oh, ow));
  KILN_CUDA_CHECK(cudnnCreateTensorDescriptor(&c->b_));
  KILN_CUDA_CHECK(cudnnSetTensor4dDescriptor(c->b_, CUDNN_TENSOR_NHWC, t, 1, i32(d.k), 1, 1));
  KILN_CUDA_CHECK(cudnnCreateActivationDescriptor(&c->act_));
  KILN_CUDA_CHECK(cudnnSetActivationDescriptor(
      c->act_, d.relu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY, CUDNN_NOT_PROPAGATE_NAN,
      0.0));
  // The fused call computes an identity activation with IMPLICIT_PRECOMP_GEMM only.
  if (!d.relu) {
    size_t ws = 0;
    KILN_CUDA_CHECK(cudnnGetConvolutionForwardWorkspaceSize(
        c->handle_, c->x_, c->w_, c->conv_, c->y_, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
        &ws));
    if (ws <= workspace_limit)
      c->algos_.push_back({CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, ws});
  } else {
    int found = 0;
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
    KILN_CUDA_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(c->handle_, c->x_, c->w_, c->conv_,
                                                           c->y_, static_cast<int>(perf.size()),
                                                           &found, perf.data()));
    for (int i = 0; i < found; ++i)
      if (perf[static_cast<size_t>(i)].status == CUDNN_STATUS_SUCCESS &&
          perf[static_cast<size_t>(i)].memory <= workspace_limit)
        c->algos_.push_back(
            {perf[static_cast<size_t>(i)].algo, perf[static_cast<size_t>(i)].memory});
  }
  if (c->algos_.empty())
    return err(Code::kNoKernel, "cuDNN has no forward algorithm for this convolution within ",
               workspace_limit, " bytes of workspace");
  return c;
}

CudnnConv::~CudnnConv() {
  if (act_) cudnnDestroyActivationDescriptor(act_);
  if (b_) cudnnDestroyTensorDescriptor(b_);
  if (y_) cudnnDestroyTensorDescriptor(y_);
  if (conv_) cudnnDestroyConvolutionDescriptor(conv_);
  if (w_) cudnnDestroyFilterDescriptor(w_);
  if (x_) cudnnDestroyTensorDescriptor(x_);
  if (handle_) cudnnDestroy(handle_);
}

uint64_t CudnnConv::workspace_bytes(int algo) const {
  return algo >= 0 && algo < num_algos() ? algos_[static_cast<size_t>(algo)].workspace : 0;
}

Status CudnnConv::run(cudaStream_t stream, const void* x, const void* w, const void* bias,
                      const void* z, void* y, void* workspace, int algo) const {
  if (algo < 0 || algo >= num_algos())
    return err(Code::kInvalidArgument, "convolution algorithm ", algo, " of ", num_algos());
  if (d_.residual && z == nullptr)
    return err(Code::kInvalidArgument, "convolution with a residual run without z");
  KILN_CUDA_CHECK(cudnnSetStream(handle_, stream));
  const float one = 1.f, zero = 0.f;
  const Algo& a = algos_[static_cast<size_t>(algo)];
  // Without a residual, z is y itself with weight 0 (the call needs a z).
  return check(cudnnConvolutionBiasActivationForward(
                   handle_, &one, x_, x, w_, w, conv_, a.algo, workspace, a.workspace,
                   d_.residual ? &one : &zero, y_, d_.residual ? z : y, b_, bias, act_, y_, y),
               "cudnnConvolutionBiasActivationForward");
}

}  // namespace kiln::cuda
