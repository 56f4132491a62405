// Helpers for the data-movement reference kernels (reshape, transpose, concat/split, slice,
// gather/scatter, expand/tile, pad, depth/space, shape ops). These ops never look at element
// values, so they run on storage of the right width instead of one template per DataType: one
// instantiation serves float32, int32 and uint32 alike, and string tensors go through the same
// code with std::string elements.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.h"
#include "kiln/tensor.h"
#include "ops/kernel.h"
#include "ops/kernel_util.h"

namespace kiln::ops {

// 16-byte elements (complex128).
struct Bytes16 {
  uint64_t lo, hi;
};

// Calls fn.template operator()<T>() with T an element of the same width as `dtype`'s: uint8_t,
// uint16_t, uint32_t, uint64_t, Bytes16, or std::string for string tensors. Sub-byte types
// (int4, uint4, float4) cannot be moved element by element → TypeUnsupported naming `op`.
template <typename F>
Status dispatch_move(DataType dtype, std::string_view op, F&& fn) {
  if (dtype == DataType::kString) return fn.template operator()<std::string>();
  switch (data_type_info(dtype).bits) {
    case 8:
      return fn.template operator()<uint8_t>();
    case 16:
      return fn.template operator()<uint16_t>();
    case 32:
      return fn.template operator()<uint32_t>();
    case 64:
      return fn.template operator()<uint64_t>();
    case 128:
      return fn.template operator()<Bytes16>();
    default:
      return err(Code::kTypeUnsupported, op, " has no reference kernel for ", data_type_name(dtype),
                 " (elements narrower than a byte)");
  }
}

// Element pointers for dispatch_move's T; string tensors expose their std::string array.
template <typename T>
const T* elems(const Tensor& t) {
  return static_cast<const T*>(t.data());
}
template <typename T>
T* elems(Tensor& t) {
  return static_cast<T*>(t.data());
}

inline std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// The largest output a reference kernel will allocate: an absurd Reshape/Expand/Tile/Range
// target fails with a code instead of trying to allocate terabytes.
inline constexpr int64_t kMaxOutputElements = int64_t{1} << 33;

// Validates a computed output shape: no negative dims, element count within the limit.
inline Status check_output_shape(const std::vector<int64_t>& shape, std::string_view op) {
  for (int64_t d : shape)
    if (d < 0)
      return err(Code::kInvalidArgument, op, " output shape ", shape_str(shape),
                 " has a negative dimension");
  const auto n = checked_numel(shape);
  if (!n || *n > kMaxOutputElements)
    return err(Code::kInvalidArgument, op, " output shape ", shape_str(shape), " has ",
               n ? std::to_string(*n) : std::string("more than 2^63"),
               " elements, above the reference kernels' limit of 2^33");
  return Status::Ok();
}

// Output i = `in`'s elements in order under a new shape of the same element count. Tensor has
// no way to re-shape a view that shares storage, so the bytes are copied (memcpy; string
// elements one by one); a shape-preserving call hands out a view of owned storage instead.
inline Status set_output_reshaped(KernelContext& ctx, size_t i, const Tensor& in,
                                  std::vector<int64_t> shape) {
  if (shape == in.shape() && in.owns_data()) {
    ctx.set_output(i, in.view());
    return Status::Ok();
  }
  KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(i, in.dtype(), std::move(shape)));
  if (in.dtype() == DataType::kString) {
    std::copy(in.string_data().begin(), in.string_data().end(), out->mutable_string_data().begin());
  } else if (in.nbytes() > 0) {
    std::memcpy(out->data(), in.data(), in.nbytes());
  }
  return Status::Ok();
}

// Copies the strided window in[base + sum_i idx[i] * step[i]] for idx over out_shape into
// contiguous `out`. Steps may be negative or 0 (broadcast). The innermost axis is a tight loop.
template <typename T>
void strided_copy(const T* in, int64_t base, const std::vector<int64_t>& out_shape,
                  const std::vector<int64_t>& step, T* out) {
  const size_t rank = out_shape.size();
  int64_t total = 1;
  for (int64_t d : out_shape) total *= d;
  if (total == 0) return;
  if (rank == 0) {
    out[0] = in[base];
    return;
  }
  const int64_t inner = out_shape[rank - 1], inner_step = step[rank - 1];
  std::vector<int64_t> idx(rank, 0);
  int64_t src = base;
  for (int64_t done = 0; done < total; done += inner) {
    for (int64_t j = 0; j < inner; ++j) *out++ = in[src + j * inner_step];
    // Advance the odometer over the outer axes.
    for (size_t a = rank - 1; a-- > 0;) {
      src += step[a];
      if (++idx[a] < out_shape[a]) break;
      src -= step[a] * out_shape[a];
      idx[a] = 0;
    }
  }
}

// out = in with its axes permuted: out.shape[i] = in_shape[perm[i]]. `in_shape` may differ from
// the tensor's own shape (same element count) so DepthToSpace/SpaceToDepth can permute a
// reshaped view.
template <typename T>
void permute_copy(const T* in, const std::vector<int64_t>& in_shape,
                  const std::vector<int64_t>& perm, T* out) {
  const std::vector<int64_t> in_strides = strides_of(in_shape);
  std::vector<int64_t> out_shape(in_shape.size()), step(in_shape.size());
  for (size_t i = 0; i < in_shape.size(); ++i) {
    out_shape[i] = in_shape[static_cast<size_t>(perm[i])];
    step[i] = in_strides[static_cast<size_t>(perm[i])];
  }
  strided_copy(in, 0, out_shape, step, out);
}

// Input steps that read `in_shape` broadcast (NumPy-style, aligned right) to `out_shape`: the
// input stride on matching axes, 0 on broadcast ones. For strided_copy.
inline std::vector<int64_t> broadcast_steps(const std::vector<int64_t>& in_shape,
                                            const std::vector<int64_t>& out_shape) {
  const std::vector<int64_t> in_strides = strides_of(in_shape);
  std::vector<int64_t> step(out_shape.size(), 0);
  const size_t offset = out_shape.size() - in_shape.size();
  for (size_t i = 0; i < in_shape.size(); ++i)
    step[offset + i] = in_shape[i] == 1 ? 0 : in_strides[i];
  return step;
}

// Axis values from an attribute or an int tensor input, normalised into [0, rank); duplicates
// are InvalidArgument.
inline Result<std::vector<int64_t>> normalize_axes(std::vector<int64_t> axes, int64_t rank,
                                                   std::string_view op) {
  const std::vector<int64_t> given = axes;
  std::vector<bool> seen(static_cast<size_t>(std::max<int64_t>(rank, 0)), false);
  for (int64_t& a : axes) {
    if (a < -rank || a >= rank)
      return err(Code::kInvalidArgument, op, " axis ", a, " is out of range for rank ", rank,
                 " (valid: ", -rank, "..", rank - 1, ")");
    if (a < 0) a += rank;
    if (seen[static_cast<size_t>(a)])
      return err(Code::kInvalidArgument, op, " axes ", shape_str(given), " name axis ", a,
                 " twice");
    seen[static_cast<size_t>(a)] = true;
  }
  return axes;
}

// Input i's tensor, or InvalidArgument when a required input is missing.
inline Result<const Tensor*> required_input(const KernelContext& ctx, size_t i, std::string_view op,
                                            std::string_view name) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr) return err(Code::kInvalidArgument, op, " input '", name, "' is missing");
  return t;
}

// Output i's tensor, or KernelFailed when the node does not have that output.
inline Status require_output(const KernelContext& ctx, size_t i, std::string_view op) {
  if (!ctx.wants_output(i)) return err(Code::kKernelFailed, op, " node has no output ", i);
  return Status::Ok();
}

}  // namespace kiln::ops
