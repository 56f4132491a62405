// Helpers shared by the elementwise reference kernels (unary math, activations, binary, variadic,
// Where, Clip, Cast): input checks, integer arithmetic without undefined behaviour, value
// conversions with defined out-of-range results, and a broadcast walker that visits the output
// in contiguous runs so inner loops stay simple and fast.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/errors.h"
#include "kiln/tensor.h"
#include "ops/kernel.h"
#include "ops/kernel_util.h"

namespace kiln::ops::elementwise {

// The largest output a kernel allocates: bigger ones are a malformed or hostile model (a
// broadcast of [2^20,1] by [1,2^20]), refused before any memory is touched.
inline constexpr int64_t kMaxOutputElements = int64_t{1} << 33;

// Input i, or InvalidArgument when the node omits a required input.
inline Result<const Tensor*> required_input(const KernelContext& ctx, size_t i,
                                            std::string_view op) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr)
    return err(Code::kInvalidArgument, op, " needs input ", i, " but the node does not pass it");
  return t;
}

inline Status check_output_size(const std::vector<int64_t>& shape, std::string_view op) {
  const std::optional<int64_t> n = checked_numel(shape);
  if (!n || *n > kMaxOutputElements)
    return err(Code::kInvalidArgument, op, " output shape ", Dims::of(shape).to_string(),
               " has more than 2^33 elements; refusing to allocate it");
  return Status::Ok();
}

// Inputs sharing the type variable T must agree; a malformed graph can feed anything.
inline Status check_same_type(const Tensor& a, const Tensor& b, std::string_view op,
                              std::string_view a_name, std::string_view b_name) {
  if (a.dtype() == b.dtype()) return Status::Ok();
  return err(Code::kTypeUnsupported, op, " needs ", a_name, " and ", b_name, " of one type, got ",
             data_type_name(a.dtype()), " and ", data_type_name(b.dtype()));
}

template <typename T>
inline constexpr bool is_int_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// Unsigned type at least as wide as unsigned int: arithmetic in it wraps and never promotes
// to (overflowing) signed int, so signed results are the two's-complement wrap-around.
template <typename T>
using wide_unsigned_t =
    std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;

template <typename T>
T wrap_add(T a, T b) {
  using U = wide_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
}
template <typename T>
T wrap_sub(T a, T b) {
  using U = wide_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
}
template <typename T>
T wrap_mul(T a, T b) {
  using U = wide_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
}
template <typename T>
T wrap_neg(T a) {
  return wrap_sub(T{0}, a);
}

// Floating value to integer: truncation toward zero; NaN gives 0 and values beyond the target's
// range saturate. ONNX leaves out-of-range conversions undefined; saturation is what ARM does
// and is the only platform-independent answer (x86 yields INT_MIN patterns instead).
template <typename To>
To float_to_int(double d) {
  if (std::isnan(d)) return To{0};
  d = std::trunc(d);
  // The limits as double: exactly 2^bits-1 rounded up to 2^bits for 64-bit types, so `>=`
  // catches every value that would not fit.
  if (d <= static_cast<double>(std::numeric_limits<To>::lowest()))
    return std::numeric_limits<To>::lowest();
  if (d >= static_cast<double>(std::numeric_limits<To>::max()))
    return std::numeric_limits<To>::max();
  return static_cast<To>(d);
}

// Converts one value between any two numeric storage types (bool included), as ONNX Cast does:
// to bool is `!= 0` (NaN is true), from bool is 0/1, integer narrowing wraps, float to integer
// truncates (float_to_int), 16-bit floats go through float.
template <typename To, typename From>
To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    return static_cast<compute_t<From>>(v) != compute_t<From>{0};
  } else if constexpr (std::is_same_v<From, bool>) {
    return static_cast<To>(static_cast<compute_t<To>>(v ? 1 : 0));
  } else if constexpr (is_int_v<To> && is_float_v<From>) {
    return float_to_int<To>(static_cast<double>(static_cast<compute_t<From>>(v)));
  } else if constexpr (std::is_same_v<To, Half> || std::is_same_v<To, BFloat16>) {
    return To(static_cast<float>(static_cast<compute_t<From>>(v)));
  } else {
    return static_cast<To>(static_cast<compute_t<From>>(v));
  }
}

// Visits the broadcast of N inputs to `out_shape` in contiguous runs of the output:
//   fn(out_offset, in_offsets, in_steps, length)
// where input k's element for output out_offset + j is in_offsets[k] + j * in_steps[k] (steps
// are 0 for an input broadcast along the run, 1 otherwise). Adjacent dims that every input
// either spans fully or broadcasts are merged first, so runs are as long as the layouts allow
// ([N,C,H,W] * [C,1,1] runs over H*W). The shapes must already broadcast to out_shape.
template <size_t N, typename Fn>
void for_each_run(const std::array<const std::vector<int64_t>*, N>& in_shapes,
                  const std::vector<int64_t>& out_shape, Fn&& fn) {
  int64_t total = 1;
  for (int64_t d : out_shape) total *= d;
  if (total == 0) return;

  std::vector<int64_t> dims;  // merged output dims, size-1 dims dropped
  std::array<std::vector<int64_t>, N> in_dims;
  std::array<bool, N> last_bcast{};
  const size_t rank = out_shape.size();
  for (size_t i = 0; i < rank; ++i) {
    const int64_t d = out_shape[i];
    if (d == 1) continue;
    std::array<bool, N> bcast{};
    for (size_t k = 0; k < N; ++k) {
      const std::vector<int64_t>& s = *in_shapes[k];
      const size_t lead = rank - s.size();
      bcast[k] = i < lead || s[i - lead] == 1;
    }
    if (!dims.empty() && bcast == last_bcast) {
      dims.back() *= d;
      for (size_t k = 0; k < N; ++k)
        if (!bcast[k]) in_dims[k].back() *= d;
    } else {
      dims.push_back(d);
      for (size_t k = 0; k < N; ++k) in_dims[k].push_back(bcast[k] ? 1 : d);
      last_bcast = bcast;
    }
  }

  std::array<int64_t, N> offsets{}, steps{};
  if (dims.empty()) {  // a single element
    fn(int64_t{0}, offsets, steps, int64_t{1});
    return;
  }
  const int64_t run = dims.back();
  for (size_t k = 0; k < N; ++k) steps[k] = last_bcast[k] ? 0 : 1;
  std::vector<BroadcastIndexer> indexers;
  indexers.reserve(N);
  for (size_t k = 0; k < N; ++k) indexers.emplace_back(in_dims[k], dims);
  for (int64_t out = 0; out < total; out += run) {
    for (size_t k = 0; k < N; ++k) offsets[k] = indexers[k](out);
    fn(out, offsets, steps, run);
  }
}

// An element as its compute type: 16-bit floats widen to float, anything else (strings
// included) is passed by reference without a copy.
template <typename T>
decltype(auto) load(const T& v) {
  if constexpr (std::is_same_v<compute_t<T>, T>) {
    return (v);
  } else {
    return static_cast<compute_t<T>>(v);
  }
}

// y[i] = f(x[i]) over same-shaped tensors; f takes and returns compute types.
template <typename In, typename Out, typename F>
void map_unary(const Tensor& x, Tensor& y, F&& f) {
  const In* px = x.data_as<In>();
  Out* py = y.data_as<Out>();
  const int64_t n = x.numel();
  for (int64_t i = 0; i < n; ++i) py[i] = static_cast<Out>(f(load(px[i])));
}

// c = f(a, b) over the broadcast of a and b (c already has the broadcast shape); f takes compute
// types and returns the compute type of C.
template <typename A, typename B, typename C, typename F>
void map_binary(const Tensor& a, const Tensor& b, Tensor& c, F&& f) {
  const A* pa = a.data_as<A>();
  const B* pb = b.data_as<B>();
  C* pc = c.data_as<C>();
  auto apply = [&](int64_t ia, int64_t ib) {
    return static_cast<C>(f(load(pa[ia]), load(pb[ib])));
  };
  if (a.shape() == b.shape()) {  // the common case: one flat loop
    const int64_t n = c.numel();
    for (int64_t i = 0; i < n; ++i) pc[i] = apply(i, i);
    return;
  }
  for_each_run<2>({&a.shape(), &b.shape()}, c.shape(),
                  [&](int64_t o, const std::array<int64_t, 2>& off,
                      const std::array<int64_t, 2>& step, int64_t len) {
                    for (int64_t j = 0; j < len; ++j)
                      pc[o + j] = apply(off[0] + j * step[0], off[1] + j * step[1]);
                  });
}

// Broadcast output shape of a and b, checked against the size limit.
inline Result<std::vector<int64_t>> binary_output_shape(const Tensor& a, const Tensor& b,
                                                        std::string_view op) {
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, broadcast_shapes({a.shape(), b.shape()}, op));
  KILN_RETURN_IF_ERROR(check_output_size(shape, op));
  return shape;
}

}  // namespace kiln::ops::elementwise
