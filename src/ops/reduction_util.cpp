#include "ops/reduction_util.h"

namespace kiln::ops {

Result<int64_t> checked_output_numel(const std::vector<int64_t>& shape, std::string_view op) {
  std::optional<int64_t> n = checked_numel(shape);
  if (!n || *n > kMaxKernelOutputElements)
    return err(Code::kInvalidArgument, op, " output of shape ", shape_string(shape),
               " is too large (limit ", kMaxKernelOutputElements, " elements)");
  return *n;
}

int64_t dims_product(const std::vector<int64_t>& shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end && i < shape.size(); ++i) n *= shape[i];
  return n;
}

namespace {

// Offsets of every index combination over `dims` (row-major order) with the given strides.
std::vector<int64_t> offsets_over(const std::vector<int64_t>& dims,
                                  const std::vector<int64_t>& strides) {
  int64_t count = 1;
  for (int64_t d : dims) count *= d;
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(count));
  if (count == 0) return out;
  std::vector<int64_t> idx(dims.size(), 0);
  int64_t offset = 0;
  for (int64_t n = 0; n < count; ++n) {
    out.push_back(offset);
    for (size_t i = dims.size(); i-- > 0;) {
      offset += strides[i];
      if (++idx[i] < dims[i]) break;
      offset -= strides[i] * dims[i];
      idx[i] = 0;
    }
  }
  return out;
}

}  // namespace

ReducePlan make_reduce_plan(const std::vector<int64_t>& shape, const std::vector<bool>& reduce,
                            bool keepdims) {
  const std::vector<int64_t> strides = strides_of(shape);
  std::vector<int64_t> kept_dims, kept_strides, red_dims, red_strides;
  ReducePlan plan;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (reduce[i]) {
      red_dims.push_back(shape[i]);
      red_strides.push_back(strides[i]);
      if (keepdims) plan.out_shape.push_back(1);
    } else {
      kept_dims.push_back(shape[i]);
      kept_strides.push_back(strides[i]);
      plan.out_shape.push_back(shape[i]);
    }
  }
  plan.kept = offsets_over(kept_dims, kept_strides);
  plan.reduced = offsets_over(red_dims, red_strides);
  return plan;
}

Result<std::vector<bool>> axes_mask(const std::vector<int64_t>& axes, int64_t rank,
                                    std::string_view op) {
  std::vector<bool> mask(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      return err(Code::kInvalidArgument, op, " axis ", a, " is out of range for rank ", rank,
                 " (valid: ", -rank, "..", rank - 1, ")");
    const int64_t n = a < 0 ? a + rank : a;
    if (mask[static_cast<size_t>(n)])
      return err(Code::kInvalidArgument, op, " axes repeat axis ", n, " (given as ", a, ")");
    mask[static_cast<size_t>(n)] = true;
  }
  return mask;
}

Result<std::vector<double>> read_doubles(const Tensor& t, std::string_view what) {
  std::vector<double> out(static_cast<size_t>(t.numel()));
  Status s = dispatch_float(t.dtype(), what, [&]<typename T>() -> Status {
    const T* p = t.data_as<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = to_double(p[i]);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  return Dims::of(shape).to_string();
}

}  // namespace kiln::ops
