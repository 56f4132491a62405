// Reference kernels of the convolution, pooling, matrix-product, quantization and resize
// families, and the helpers they share: a cache-blocked naive GEMM and output-size checks.
//
// These kernels are the oracle, but whole CNNs and transformers run through them in CI, so the
// hot loops are templated on the element type and keep their innermost loop contiguous (the
// compiler vectorizes it); there is no per-element dispatch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/errors.h"
#include "ops/kernel.h"
#include "ops/kernel_util.h"

namespace kiln::ops {

// conv_kernels.cpp
Status conv_kernel(KernelContext& ctx);
Status conv_transpose_kernel(KernelContext& ctx);
Status conv_integer_kernel(KernelContext& ctx);
Status qlinear_conv_kernel(KernelContext& ctx);

// pool_kernels.cpp
Status max_pool_kernel(KernelContext& ctx);
Status average_pool_kernel(KernelContext& ctx);
Status lp_pool_kernel(KernelContext& ctx);
Status global_average_pool_kernel(KernelContext& ctx);
Status global_max_pool_kernel(KernelContext& ctx);
Status global_lp_pool_kernel(KernelContext& ctx);
Status max_unpool_kernel(KernelContext& ctx);

// matmul_kernels.cpp
Status matmul_kernel(KernelContext& ctx);
Status gemm_kernel(KernelContext& ctx);
Status matmul_integer_kernel(KernelContext& ctx);
Status qlinear_matmul_kernel(KernelContext& ctx);

// quantize_kernels.cpp
Status quantize_linear_kernel(KernelContext& ctx);
Status dequantize_linear_kernel(KernelContext& ctx);
Status dynamic_quantize_linear_kernel(KernelContext& ctx);

// resize_kernels.cpp (Resize-10 and Upsample share the opset-10 semantics)
Status resize_kernel(KernelContext& ctx);
Status upsample_kernel(KernelContext& ctx);

// ---- shared helpers --------------------------------------------------------------------------

// Sliding-window geometry over the spatial dims (Conv, ConvTranspose, pools). pad_begin and
// pad_end split ONNX's [x1_begin, x2_begin, ..., x1_end, x2_end, ...] pads.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pad_begin, pad_end;
  int64_t dilated(size_t d) const { return (kernel[d] - 1) * dilations[d] + 1; }
};

// Reads strides, dilations (1 unless `has_dilations`) and pads for kernel.size() spatial dims
// with ONNX's defaults; InvalidArgument on wrong lengths or non-positive strides/dilations or
// negative pads. (conv_kernels.cpp)
Result<Window> read_window(const NodeAttrs& ctx, std::string_view op, std::vector<int64_t> kernel,
                           bool has_dilations);

// Output spatial sizes of a sliding window over `in` (floor, or ceil when `ceil_mode`, where
// the last window must still start inside the input or its leading padding). Resolves auto_pad
// SAME_UPPER / SAME_LOWER (output = ceil(in / stride)) and VALID into w's pads.
Result<std::vector<int64_t>> window_output_sizes(const NodeAttrs& ctx, std::string_view op,
                                                 const std::vector<int64_t>& in, Window& w,
                                                 bool ceil_mode);

// window_output_sizes over possibly symbolic dims, for shape inference: static sizes give
// static results; a symbol survives a size-preserving window (stride 1, pads = extent - 1);
// anything else is unknown. (conv_kernels.cpp)
Result<std::vector<Dim>> infer_window_dims(const NodeAttrs& ctx, std::string_view op,
                                           const std::vector<Dim>& in, std::vector<int64_t> kernel,
                                           bool has_dilations, bool ceil_mode);

// Positions q in [0, count) with q * stride + offset inside [0, limit): the half-open [lo, hi).
inline void valid_range(int64_t offset, int64_t stride, int64_t limit, int64_t count, int64_t& lo,
                        int64_t& hi) {
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = limit - offset <= 0 ? 0 : (limit - offset + stride - 1) / stride;
  lo = std::min(lo, count);
  hi = std::clamp(hi, lo, count);
}

// Outputs above this many elements are refused before allocating: a corrupt shape or attribute
// must fail with a code instead of exhausting memory.
inline constexpr int64_t kMaxOutputElements = int64_t{1} << 33;

// Element count of an output shape; InvalidArgument when it is negative, overflows or exceeds
// kMaxOutputElements.
inline Result<int64_t> output_numel(const std::vector<int64_t>& shape, std::string_view op) {
  const std::optional<int64_t> n = checked_numel(shape);
  if (!n || *n > kMaxOutputElements)
    return err(Code::kInvalidArgument, op, " output shape ", Dims::of(shape).to_string(),
               " is negative or exceeds the ", kMaxOutputElements, "-element limit for one tensor");
  return *n;
}

// The type a GEMM accumulates in. Integers accumulate in their unsigned counterpart so overflow
// wraps (as two's complement hardware and ONNX Runtime do) instead of being undefined behaviour.
template <typename T, bool = std::is_integral_v<T>>
struct gemm_acc {
  using type = compute_t<T>;
};
template <typename T>
struct gemm_acc<T, true> {
  using type = std::make_unsigned_t<T>;
};
template <typename T>
using gemm_acc_t = typename gemm_acc<T>::type;

// c[m x n] += a[m x k] * b[k x n]; row-major with leading dimensions lda/ldb/ldc.
//
// Naive in spirit: every c element adds its k products in order p = 0, 1, ..., whichever path
// computes it, so results do not depend on the blocking. For speed the loops run inside depth
// and column blocks (the b panel stays in cache), and full 4-row x 16-column tiles of c are
// accumulated in a local array the compiler keeps in vector registers: each b row segment is
// loaded once for four rows of a, and c is read and written once per depth block. Leftover
// rows use the contiguous i-k-j loop, leftover columns a dot product.
template <typename Acc>
void gemm_accumulate(int64_t m, int64_t n, int64_t k, const Acc* a, int64_t lda, const Acc* b,
                     int64_t ldb, Acc* c, int64_t ldc) {
  constexpr int64_t kRows = 4, kCols = 16, kColBlock = 256, kDepthBlock = 256;
  for (int64_t p0 = 0; p0 < k; p0 += kDepthBlock) {
    const int64_t p1 = std::min(k, p0 + kDepthBlock);
    for (int64_t j0 = 0; j0 < n; j0 += kColBlock) {
      const int64_t j1 = std::min(n, j0 + kColBlock);
      int64_t i = 0;
      for (; i + kRows <= m; i += kRows) {
        int64_t j = j0;
        for (; j + kCols <= j1; j += kCols) {
          Acc tile[kRows][kCols];
          for (int64_t r = 0; r < kRows; ++r)
            for (int64_t t = 0; t < kCols; ++t) tile[r][t] = c[(i + r) * ldc + j + t];
          for (int64_t p = p0; p < p1; ++p) {
            const Acc* bp = b + p * ldb + j;
            for (int64_t r = 0; r < kRows; ++r) {
              const Acc av = a[(i + r) * lda + p];
              for (int64_t t = 0; t < kCols; ++t) tile[r][t] += av * bp[t];
            }
          }
          for (int64_t r = 0; r < kRows; ++r)
            for (int64_t t = 0; t < kCols; ++t) c[(i + r) * ldc + j + t] = tile[r][t];
        }
        for (; j < j1; ++j)
          for (int64_t r = 0; r < kRows; ++r) {
            Acc sum = c[(i + r) * ldc + j];
            for (int64_t p = p0; p < p1; ++p) sum += a[(i + r) * lda + p] * b[p * ldb + j];
            c[(i + r) * ldc + j] = sum;
          }
      }
      for (; i < m; ++i) {
        Acc* __restrict__ ci = c + i * ldc;
        for (int64_t p = p0; p < p1; ++p) {
          const Acc av = a[i * lda + p];
          const Acc* __restrict__ bp = b + p * ldb;
          for (int64_t j = j0; j < j1; ++j) ci[j] += av * bp[j];
        }
      }
    }
  }
}

// Reads a float-like scalar parameter (scale) of any float type as float.
inline float param_as_float(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat16:
      return t.data_as<Half>()[i];
    case DataType::kBFloat16:
      return t.data_as<BFloat16>()[i];
    case DataType::kFloat64:
      return static_cast<float>(t.data_as<double>()[i]);
    default:
      return t.data_as<float>()[i];
  }
}

// Reads an integer parameter (zero point) of any 8/16/32-bit integer type.
inline int32_t param_as_int(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kInt8:
      return t.data_as<int8_t>()[i];
    case DataType::kUInt8:
      return t.data_as<uint8_t>()[i];
    case DataType::kInt16:
      return t.data_as<int16_t>()[i];
    case DataType::kUInt16:
      return t.data_as<uint16_t>()[i];
    case DataType::kInt32:
      return t.data_as<int32_t>()[i];
    default:
      return 0;
  }
}

// A whole scale / zero-point tensor converted once, so inner loops index a plain vector.
inline std::vector<float> params_as_float(const Tensor* t) {
  std::vector<float> v(t ? static_cast<size_t>(t->numel()) : 0);
  for (size_t i = 0; i < v.size(); ++i) v[i] = param_as_float(*t, static_cast<int64_t>(i));
  return v;
}
// An absent zero point reads as the single value 0.
inline std::vector<int32_t> params_as_int(const Tensor* t) {
  if (t == nullptr) return {0};
  std::vector<int32_t> v(static_cast<size_t>(t->numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = param_as_int(*t, static_cast<int64_t>(i));
  return v;
}

// dispatch_numeric for the 8-bit quantized operand types; `what` names the operand.
template <typename F>
Status dispatch_int8(DataType dtype, std::string_view op, std::string_view what, F&& fn) {
  switch (dtype) {
    case DataType::kInt8:
      return fn.template operator()<int8_t>();
    case DataType::kUInt8:
      return fn.template operator()<uint8_t>();
    default:
      return err(Code::kTypeUnsupported, op, " ", what, " must be int8 or uint8, not ",
                 data_type_name(dtype));
  }
}

// Whether a float tensor type can hold scales, and an integer type zero points.
inline bool is_scale_type(DataType d) {
  return d == DataType::kFloat32 || d == DataType::kFloat16 || d == DataType::kBFloat16 ||
         d == DataType::kFloat64;
}
inline bool is_zero_point_type(DataType d) {
  return d == DataType::kInt8 || d == DataType::kUInt8 || d == DataType::kInt16 ||
         d == DataType::kUInt16 || d == DataType::kInt32;
}

// Quantized value range of an integer output type.
inline void quant_range(DataType d, double& lo, double& hi) {
  switch (d) {
    case DataType::kInt8:
      lo = -128, hi = 127;
      return;
    case DataType::kUInt8:
      lo = 0, hi = 255;
      return;
    case DataType::kInt16:
      lo = -32768, hi = 32767;
      return;
    case DataType::kUInt16:
      lo = 0, hi = 65535;
      return;
    default:
      lo = -2147483648.0, hi = 2147483647.0;
      return;
  }
}

}  // namespace kiln::ops
