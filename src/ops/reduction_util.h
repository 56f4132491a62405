// Helpers shared by the reduction-style reference kernels (Reduce*, ArgMax/ArgMin, Softmax,
// the normalizations) and the assorted tensor ops of tensor_misc: double-precision value
// conversion, reduction plans over arbitrary axes, output-size guards and a dispatcher for ops
// that only move elements.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/errors.h"
#include "kiln/tensor.h"
#include "ops/kernel_util.h"

namespace kiln::ops {

// Outputs above this many elements are refused before allocating: a corrupt shape input must
// fail with a code, not exhaust memory.
inline constexpr int64_t kMaxKernelOutputElements = int64_t{1} << 33;

// Element count of `shape`, or InvalidArgument naming `op` when it overflows or exceeds
// kMaxKernelOutputElements.
Result<int64_t> checked_output_numel(const std::vector<int64_t>& shape, std::string_view op);

// Product of shape[begin, end).
int64_t dims_product(const std::vector<int64_t>& shape, size_t begin, size_t end);

template <typename T>
double to_double(T v) {
  return static_cast<double>(static_cast<compute_t<T>>(v));
}

// double → T. Integers saturate and NaN becomes 0: a C++ cast of an out-of-range double is
// undefined behaviour, and an oracle must never have that.
template <typename T>
T from_double(double v) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return T(static_cast<float>(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else if constexpr (std::is_same_v<T, bool>) {
    return v != 0.0;
  } else {
    if (std::isnan(v)) return T{0};
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest()))
      return std::numeric_limits<T>::lowest();
    // 2^63 and 2^64 are exactly representable; anything at or above saturates.
    if (v >= static_cast<double>(std::numeric_limits<T>::max()))
      return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

// Where a reduction accumulates: double for floats; for integers a 64-bit unsigned value so sums
// and products wrap (like the narrow type would) instead of overflowing into undefined
// behaviour. Converting back to T keeps the low bits, i.e. modular arithmetic.
template <typename T>
using wrap_acc_t = std::conditional_t<is_float_v<T>, double, uint64_t>;

// Input offsets of one reduction: output element o reads x[kept[o] + reduced[r]] for every r.
// Reducing over no axes (noop_with_empty_axes) gives one reduced offset, 0.
struct ReducePlan {
  std::vector<int64_t> out_shape;
  std::vector<int64_t> kept;
  std::vector<int64_t> reduced;
};

// `reduce[i]` marks the reduced dims of `shape`; keepdims leaves them as 1 in out_shape.
ReducePlan make_reduce_plan(const std::vector<int64_t>& shape, const std::vector<bool>& reduce,
                            bool keepdims);

// Normalizes `axes` against `rank` (negative counts from the end) into a mask; InvalidArgument
// naming `op` for an axis out of range or repeated.
Result<std::vector<bool>> axes_mask(const std::vector<int64_t>& axes, int64_t rank,
                                    std::string_view op);

// Reads a tensor of any float type into doubles (parameters such as scale, bias, mean).
Result<std::vector<double>> read_doubles(const Tensor& t, std::string_view what);

template <size_t N>
struct RawBytes {
  unsigned char b[N];
};

// For ops that only copy elements (OneHot values, ReverseSequence, Compress, EyeLike): calls
// fn.template operator()<T>() with T an unsigned integer (or RawBytes<16>) of the element's
// size, or std::string for strings. Complex types are copied like any other; packed 4-bit
// types cannot be addressed per element → TypeUnsupported.
template <typename F>
Status dispatch_copyable(DataType dtype, std::string_view op, F&& fn) {
  if (dtype == DataType::kString) return fn.template operator()<std::string>();
  const DataTypeInfo* info = data_type_info(static_cast<int32_t>(dtype));
  switch (info != nullptr && dtype != DataType::kUndefined ? info->bits : 0) {
    case 8:
      return fn.template operator()<uint8_t>();
    case 16:
      return fn.template operator()<uint16_t>();
    case 32:
      return fn.template operator()<uint32_t>();
    case 64:
      return fn.template operator()<uint64_t>();
    case 128:
      return fn.template operator()<RawBytes<16>>();
    default:
      return err(Code::kTypeUnsupported, op, " has no reference kernel for ",
                 data_type_name(dtype));
  }
}

// Typed element access that also works for string tensors.
template <typename T>
const T* elements(const Tensor& t) {
  return static_cast<const T*>(t.data());
}
template <typename T>
T* elements(Tensor& t) {
  return static_cast<T*>(t.data());
}

// "[2,3]" for messages.
std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace kiln::ops
