// Reference kernels for Trilu, OneHot, NonZero, TopK, CumSum, EyeLike, ReverseSequence,
// Compress and Unique (Einsum lives in einsum_kernel.cpp).
#include "ops/tensor_misc_kernels.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/op_schema.h"
#include "ops/reduction_util.h"

namespace kiln::ops::tensor_misc {

namespace {

Status require_inputs(const KernelContext& ctx, size_t count, const char* op) {
  for (size_t i = 0; i < count; ++i)
    if (ctx.input(i) == nullptr)
      return err(Code::kInvalidArgument, op, " needs ", count, " inputs; input ", i, " is missing");
  return Status::Ok();
}

// A one-element int32/int64 tensor (k, axis, K) as int64.
Result<int64_t> read_single_int(const Tensor& t, const std::string& what) {
  if (t.numel() != 1)
    return err(Code::kInvalidArgument, what, " must hold exactly one value, got shape ",
               shape_string(t.shape()));
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> v, read_int_values(t, what));
  return v[0];
}

// Total orders used for sorting: NaN sorts after every number and equals itself (as in NumPy),
// so sorting never sees an inconsistent comparator.
template <typename C>
bool total_less(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}
template <typename C>
bool total_equal(C a, C b) {
  return !total_less(a, b) && !total_less(b, a);
}

}  // namespace

Status trilu(KernelContext& ctx) {
  const char* op = "Trilu";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 1, op));
  const Tensor& x = *ctx.input(0);
  if (x.rank() < 2)
    return err(Code::kInvalidArgument, op, " needs an input of rank >= 2, got shape ",
               shape_string(x.shape()));
  int64_t k = 0;
  if (const Tensor* kt = ctx.input(1)) {
    KILN_ASSIGN_OR_RETURN(k, read_single_int(*kt, "Trilu k"));
  }
  const bool upper = ctx.attr_int("upper", 1) != 0;
  const auto& shape = x.shape();
  const int64_t rows = shape[shape.size() - 2], cols = shape.back();
  const int64_t batch = dims_product(shape, 0, shape.size() - 2);
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), shape));
  return dispatch_copyable(x.dtype(), op, [&]<typename T>() -> Status {
    const T* in = elements<T>(x);
    T* out = elements<T>(*y);  // zero-initialised: only kept elements are written
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          // Compare j - i with k without overflowing for extreme k.
          const bool keep = upper ? j - i >= k : j - i <= k;
          const int64_t at = (b * rows + i) * cols + j;
          if (keep) out[at] = in[at];
        }
    return Status::Ok();
  });
}

namespace {

// Reads an index tensor of any numeric type as int64 (floats truncate toward zero; NaN and
// out-of-range values saturate, which every caller then treats as out of range).
Result<std::vector<int64_t>> read_indices_any(const Tensor& t, const char* what) {
  std::vector<int64_t> out(static_cast<size_t>(t.numel()));
  Status s = dispatch_numeric(t.dtype(), what, [&]<typename T>() -> Status {
    const T* p = t.data_as<T>();
    for (size_t i = 0; i < out.size(); ++i) {
      if constexpr (is_float_v<T>) {
        const double v = to_double(p[i]);
        out[i] = std::isnan(v) ? INT64_MIN : from_double<int64_t>(std::trunc(v));
      } else if constexpr (std::is_same_v<T, bool>) {
        out[i] = p[i] ? 1 : 0;
      } else if constexpr (std::is_unsigned_v<T>) {
        out[i] = p[i] > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(p[i]);
      } else {
        out[i] = static_cast<int64_t>(p[i]);
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace

Status one_hot(KernelContext& ctx) {
  const char* op = "OneHot";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 3, op));
  const Tensor& indices = *ctx.input(0);
  const Tensor& values = *ctx.input(2);
  if (values.numel() != 2)
    return err(Code::kInvalidArgument, op, " values must hold [off_value, on_value], got shape ",
               shape_string(values.shape()));
  KILN_ASSIGN_OR_RETURN(const double depth_value, read_scalar(*ctx.input(1), "OneHot depth"));
  if (!(depth_value >= 1))
    return err(Code::kInvalidArgument, op, " depth ", depth_value, " must be at least 1");
  const int64_t depth = from_double<int64_t>(std::trunc(depth_value));
  const int64_t rank = static_cast<int64_t>(indices.rank());
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(ctx.attr_int("axis", -1), rank + 1, op));
  std::vector<int64_t> out_shape = indices.shape();
  out_shape.insert(out_shape.begin() + axis, depth);
  KILN_RETURN_IF_ERROR(checked_output_numel(out_shape, op).status());
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> idx,
                        read_indices_any(indices, "OneHot indices"));
  const int64_t outer = dims_product(indices.shape(), 0, static_cast<size_t>(axis));
  const int64_t inner = dims_product(indices.shape(), static_cast<size_t>(axis), indices.rank());
  // Revision 9 leaves negative indices off; 11 counts them from the end.
  const bool wrap_negative = ctx.since() >= 11;
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, values.dtype(), out_shape));
  return dispatch_copyable(values.dtype(), op, [&]<typename T>() -> Status {
    const T off = elements<T>(values)[0], on = elements<T>(values)[1];
    T* out = elements<T>(*y);
    std::fill(out, out + y->numel(), off);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t v = idx[static_cast<size_t>(o * inner + i)];
        if (v < 0 && wrap_negative && v >= -depth) v += depth;
        if (v >= 0 && v < depth) out[(o * depth + v) * inner + i] = on;
      }
    return Status::Ok();
  });
}

Status non_zero(KernelContext& ctx) {
  const char* op = "NonZero";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 1, op));
  const Tensor& x = *ctx.input(0);
  std::vector<int64_t> hits;
  KILN_RETURN_IF_ERROR(dispatch_numeric(x.dtype(), op, [&]<typename T>() -> Status {
    const T* p = x.data_as<T>();
    for (int64_t i = 0; i < x.numel(); ++i)
      if (static_cast<compute_t<T>>(p[i]) != compute_t<T>{0}) hits.push_back(i);
    return Status::Ok();
  }));
  // A scalar is treated as shape [1], as NumPy and ONNX Runtime do.
  const std::vector<int64_t> shape = x.rank() == 0 ? std::vector<int64_t>{1} : x.shape();
  const int64_t rank = static_cast<int64_t>(shape.size()),
                count = static_cast<int64_t>(hits.size());
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, DataType::kInt64, {rank, count}));
  int64_t* out = y->data_as<int64_t>();
  for (int64_t h = 0; h < count; ++h) {
    int64_t rest = hits[static_cast<size_t>(h)];
    for (int64_t d = rank; d-- > 0;) {
      out[d * count + h] = rest % shape[static_cast<size_t>(d)];
      rest /= shape[static_cast<size_t>(d)];
    }
  }
  return Status::Ok();
}

Status top_k(KernelContext& ctx) {
  const char* op = "TopK";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, ctx.since() >= 10 ? 2 : 1, op));
  const Tensor& x = *ctx.input(0);
  const int64_t rank = static_cast<int64_t>(x.rank());
  if (rank == 0)
    return err(Code::kInvalidArgument, op, " needs an input of rank >= 1, got a scalar");
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(ctx.attr_int("axis", -1), rank, op));
  int64_t k = 0;
  if (ctx.since() >= 10) {
    KILN_ASSIGN_OR_RETURN(k, read_single_int(*ctx.input(1), "TopK K"));
  } else {
    if (!ctx.has_attr("k")) return err(Code::kInvalidArgument, op, " needs the k attribute");
    k = ctx.attr_int("k");
  }
  const auto& shape = x.shape();
  const size_t ax = static_cast<size_t>(axis);
  const int64_t n = shape[ax];
  if (k < 0 || k > n)
    return err(Code::kInvalidArgument, op, " k = ", k, " is outside 0..", n, " (the size of axis ",
               axis, " of input ", shape_string(shape), ")");
  const bool largest = ctx.since() < 11 || ctx.attr_int("largest", 1) != 0;
  // sorted=0 allows any order; the sorted order is one of them and keeps results reproducible.
  std::vector<int64_t> out_shape = shape;
  out_shape[ax] = k;
  KILN_ASSIGN_OR_RETURN(Tensor * values, ctx.allocate_output(0, x.dtype(), out_shape));
  KILN_ASSIGN_OR_RETURN(Tensor * indices, ctx.allocate_output(1, DataType::kInt64, out_shape));
  const int64_t outer = dims_product(shape, 0, ax),
                inner = dims_product(shape, ax + 1, shape.size());
  return dispatch_numeric(x.dtype(), op, [&]<typename T>() -> Status {
    using C = compute_t<T>;
    const T* in = x.data_as<T>();
    T* vout = values->data_as<T>();
    int64_t* iout = indices->data_as<int64_t>();
    std::vector<std::pair<C, int64_t>> slice(static_cast<size_t>(n));
    // Equal values keep their input order: the lower index comes first.
    auto before = [largest](const std::pair<C, int64_t>& a, const std::pair<C, int64_t>& b) {
      if (total_equal(a.first, b.first)) return a.second < b.second;
      return largest ? total_less(b.first, a.first) : total_less(a.first, b.first);
    };
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        for (int64_t j = 0; j < n; ++j)
          slice[static_cast<size_t>(j)] = {static_cast<C>(in[(o * n + j) * inner + i]), j};
        std::partial_sort(slice.begin(), slice.begin() + k, slice.end(), before);
        for (int64_t j = 0; j < k; ++j) {
          const int64_t at = slice[static_cast<size_t>(j)].second;
          vout[(o * k + j) * inner + i] = in[(o * n + at) * inner + i];
          iout[(o * k + j) * inner + i] = at;
        }
      }
    return Status::Ok();
  });
}

Status cum_sum(KernelContext& ctx) {
  const char* op = "CumSum";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 2, op));
  const Tensor& x = *ctx.input(0);
  const int64_t rank = static_cast<int64_t>(x.rank());
  if (rank == 0)
    return err(Code::kInvalidArgument, op, " needs an input of rank >= 1, got a scalar");
  KILN_ASSIGN_OR_RETURN(const int64_t axis_value, read_single_int(*ctx.input(1), "CumSum axis"));
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(axis_value, rank, op));
  const bool exclusive = ctx.attr_int("exclusive") != 0, reverse = ctx.attr_int("reverse") != 0;
  const auto& shape = x.shape();
  const size_t ax = static_cast<size_t>(axis);
  const int64_t outer = dims_product(shape, 0, ax), n = shape[ax],
                inner = dims_product(shape, ax + 1, shape.size());
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), shape));
  return dispatch_numeric(x.dtype(), op, [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      return err(Code::kTypeUnsupported, op, " has no reference kernel for bool");
    } else {
      // Floats accumulate in double; integers in uint64, wrapping like the narrow type.
      using Acc = wrap_acc_t<T>;
      using S = std::conditional_t<std::is_signed_v<T> || is_float_v<T>, int64_t, uint64_t>;
      auto widen = [](T v) -> Acc {
        if constexpr (is_float_v<T>)
          return to_double(v);
        else
          return static_cast<uint64_t>(static_cast<S>(v));
      };
      auto narrow = [](Acc a) -> T {
        if constexpr (is_float_v<T>)
          return from_double<T>(a);
        else
          return static_cast<T>(a);
      };
      const T* in = x.data_as<T>();
      T* out = y->data_as<T>();
      std::vector<Acc> acc(static_cast<size_t>(inner));
      for (int64_t o = 0; o < outer; ++o) {
        std::fill(acc.begin(), acc.end(), Acc{0});
        for (int64_t step = 0; step < n; ++step) {
          const int64_t j = reverse ? n - 1 - step : step;
          const int64_t base = (o * n + j) * inner;
          for (int64_t i = 0; i < inner; ++i) {
            const Acc v = widen(in[base + i]);
            if (!exclusive) acc[static_cast<size_t>(i)] += v;
            out[base + i] = narrow(acc[static_cast<size_t>(i)]);
            if (exclusive) acc[static_cast<size_t>(i)] += v;
          }
        }
      }
      return Status::Ok();
    }
  });
}

Status eye_like(KernelContext& ctx) {
  const char* op = "EyeLike";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 1, op));
  const Tensor& x = *ctx.input(0);
  if (x.rank() != 2)
    return err(Code::kInvalidArgument, op, " needs a 2-D input, got shape ",
               shape_string(x.shape()));
  DataType dtype = x.dtype();
  if (ctx.has_attr("dtype")) {
    const int64_t code = ctx.attr_int("dtype");
    const DataTypeInfo* info =
        code > 0 && code <= kMaxDataType ? data_type_info(static_cast<int32_t>(code)) : nullptr;
    if (info == nullptr)
      return err(Code::kInvalidArgument, op, " dtype ", code, " is not an ONNX data type");
    dtype = info->type;
  }
  const int64_t k = ctx.attr_int("k");
  const int64_t rows = x.shape()[0], cols = x.shape()[1];
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, dtype, x.shape()));
  return dispatch_numeric(dtype, op, [&]<typename T>() -> Status {
    T* out = y->data_as<T>();
    // Diagonal k: (i, i + k); only rows whose column lands inside the matrix.
    for (int64_t i = 0; i < rows; ++i) {
      if (k >= cols - i || k < -i) continue;
      out[i * cols + i + k] = from_double<T>(1.0);
    }
    return Status::Ok();
  });
}

Status reverse_sequence(KernelContext& ctx) {
  const char* op = "ReverseSequence";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 2, op));
  const Tensor& x = *ctx.input(0);
  if (x.rank() < 2)
    return err(Code::kInvalidArgument, op, " needs an input of rank >= 2, got shape ",
               shape_string(x.shape()));
  const int64_t batch_axis = ctx.attr_int("batch_axis", 1),
                time_axis = ctx.attr_int("time_axis", 0);
  if (!((batch_axis == 0 && time_axis == 1) || (batch_axis == 1 && time_axis == 0)))
    return err(Code::kInvalidArgument, op, " batch_axis ", batch_axis, " and time_axis ", time_axis,
               " must be 0 and 1 in some order");
  const auto& shape = x.shape();
  const int64_t batch = shape[static_cast<size_t>(batch_axis)];
  const int64_t time = shape[static_cast<size_t>(time_axis)];
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> lens,
                        read_int_values(*ctx.input(1), "ReverseSequence sequence_lens"));
  if (ctx.input(1)->rank() != 1 || static_cast<int64_t>(lens.size()) != batch)
    return err(Code::kIncompatibleShapes, op, " sequence_lens has shape ",
               shape_string(ctx.input(1)->shape()), " but the batch axis of input ",
               shape_string(shape), " needs [", batch, "]");
  for (size_t b = 0; b < lens.size(); ++b)
    if (lens[b] < 0 || lens[b] > time)
      return err(Code::kIndexOutOfRange, op, " sequence_lens[", b, "] = ", lens[b],
                 " is outside 0..", time, " (the time axis size)");
  const std::vector<int64_t> strides = strides_of(shape);
  const int64_t batch_stride = strides[static_cast<size_t>(batch_axis)];
  const int64_t time_stride = strides[static_cast<size_t>(time_axis)];
  const int64_t block = dims_product(shape, 2, shape.size());
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), shape));
  return dispatch_copyable(x.dtype(), op, [&]<typename T>() -> Status {
    const T* in = elements<T>(x);
    T* out = elements<T>(*y);
    std::copy(in, in + x.numel(), out);
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t len = lens[static_cast<size_t>(b)];
      for (int64_t t = 0; t < len; ++t) {
        const T* src = in + b * batch_stride + (len - 1 - t) * time_stride;
        std::copy(src, src + block, out + b * batch_stride + t * time_stride);
      }
    }
    return Status::Ok();
  });
}

Status compress(KernelContext& ctx) {
  const char* op = "Compress";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 2, op));
  const Tensor& x = *ctx.input(0);
  const Tensor& cond = *ctx.input(1);
  if (cond.dtype() != DataType::kBool)
    return err(Code::kTypeUnsupported, op, " condition must be bool, not ",
               data_type_name(cond.dtype()));
  if (cond.rank() != 1)
    return err(Code::kInvalidArgument, op, " condition must be 1-D, got shape ",
               shape_string(cond.shape()));
  // Without axis the input is flattened.
  std::vector<int64_t> shape = x.shape();
  int64_t axis = 0;
  if (ctx.has_attr("axis")) {
    KILN_ASSIGN_OR_RETURN(axis,
                          normalize_axis(ctx.attr_int("axis"), static_cast<int64_t>(x.rank()), op));
    if (x.rank() == 0)
      return err(Code::kInvalidArgument, op, " axis needs an input of rank >= 1, got a scalar");
  } else {
    shape = {x.numel()};
  }
  const size_t ax = static_cast<size_t>(axis);
  const int64_t n = shape[ax];
  const bool* c = cond.data_as<bool>();
  // A condition longer than the axis is fine while its extra entries are false (NumPy).
  std::vector<int64_t> selected;
  for (int64_t i = 0; i < cond.numel(); ++i) {
    if (!c[i]) continue;
    if (i >= n)
      return err(Code::kIndexOutOfRange, op, " condition selects index ", i, " but axis ", axis,
                 " of input ", shape_string(x.shape()), " has size ", n);
    selected.push_back(i);
  }
  const int64_t outer = dims_product(shape, 0, ax),
                inner = dims_product(shape, ax + 1, shape.size());
  std::vector<int64_t> out_shape = shape;
  out_shape[ax] = static_cast<int64_t>(selected.size());
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), out_shape));
  return dispatch_copyable(x.dtype(), op, [&]<typename T>() -> Status {
    const T* in = elements<T>(x);
    T* out = elements<T>(*y);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j : selected) {
        const T* src = in + (o * n + j) * inner;
        out = std::copy(src, src + inner, out);
      }
    return Status::Ok();
  });
}

Status unique(KernelContext& ctx) {
  const char* op = "Unique";
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 1, op));
  const Tensor& x = *ctx.input(0);
  // Without axis the input is flattened and every element is an item; with one, every slice
  // along the axis is (compared lexicographically in row-major order).
  std::vector<int64_t> shape = {x.numel()};
  int64_t axis = 0;
  if (ctx.has_attr("axis")) {
    if (x.rank() == 0)
      return err(Code::kInvalidArgument, op, " axis needs an input of rank >= 1, got a scalar");
    KILN_ASSIGN_OR_RETURN(axis,
                          normalize_axis(ctx.attr_int("axis"), static_cast<int64_t>(x.rank()), op));
    shape = x.shape();
  }
  const size_t ax = static_cast<size_t>(axis);
  const int64_t outer = dims_product(shape, 0, ax), n = shape[ax],
                inner = dims_product(shape, ax + 1, shape.size());
  const bool sorted = ctx.attr_int("sorted", 1) != 0;
  return dispatch_numeric(x.dtype(), op, [&]<typename T>() -> Status {
    using C = compute_t<T>;
    const T* in = x.data_as<T>();
    auto at = [&](int64_t o, int64_t item, int64_t i) {
      return static_cast<C>(in[(o * n + item) * inner + i]);
    };
    // -1, 0, 1 comparison of two items.
    auto compare = [&](int64_t a, int64_t b) {
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const C va = at(o, a, i), vb = at(o, b, i);
          if (total_less(va, vb)) return -1;
          if (total_less(vb, va)) return 1;
        }
      return 0;
    };
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
    // Groups of equal items in sorted order; stable sorting puts each first occurrence first.
    std::vector<int64_t> first, counts, group_of(static_cast<size_t>(n));
    for (size_t s = 0; s < order.size(); ++s) {
      if (s == 0 || compare(order[s - 1], order[s]) != 0) {
        first.push_back(order[s]);
        counts.push_back(0);
      }
      ++counts.back();
      group_of[static_cast<size_t>(order[s])] = static_cast<int64_t>(first.size()) - 1;
    }
    const int64_t u = static_cast<int64_t>(first.size());
    // rank[g]: position of group g in the output.
    std::vector<int64_t> rank(static_cast<size_t>(u));
    std::iota(rank.begin(), rank.end(), 0);
    if (!sorted) {
      std::vector<int64_t> by_first(static_cast<size_t>(u));
      std::iota(by_first.begin(), by_first.end(), 0);
      std::sort(by_first.begin(), by_first.end(),
                [&](int64_t a, int64_t b) { return first[a] < first[b]; });
      for (int64_t p = 0; p < u; ++p) rank[static_cast<size_t>(by_first[p])] = p;
    }
    std::vector<int64_t> y_shape = shape;
    y_shape[ax] = u;
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), y_shape));
    T* yout = y->data_as<T>();
    std::vector<int64_t> first_out(static_cast<size_t>(u)), counts_out(static_cast<size_t>(u));
    for (int64_t g = 0; g < u; ++g) {
      const int64_t p = rank[static_cast<size_t>(g)];
      first_out[static_cast<size_t>(p)] = first[static_cast<size_t>(g)];
      counts_out[static_cast<size_t>(p)] = counts[static_cast<size_t>(g)];
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i)
          yout[(o * u + p) * inner + i] = in[(o * n + first[static_cast<size_t>(g)]) * inner + i];
    }
    auto write = [&](size_t slot, const std::vector<int64_t>& v) -> Status {
      if (!ctx.wants_output(slot)) return Status::Ok();
      KILN_ASSIGN_OR_RETURN(Tensor * t, ctx.allocate_output(slot, DataType::kInt64,
                                                            {static_cast<int64_t>(v.size())}));
      std::copy(v.begin(), v.end(), t->data_as<int64_t>());
      return Status::Ok();
    };
    std::vector<int64_t> inverse(static_cast<size_t>(n));
    for (int64_t item = 0; item < n; ++item)
      inverse[static_cast<size_t>(item)] =
          rank[static_cast<size_t>(group_of[static_cast<size_t>(item)])];
    KILN_RETURN_IF_ERROR(write(1, first_out));
    KILN_RETURN_IF_ERROR(write(2, inverse));
    return write(3, counts_out);
  });
}

}  // namespace kiln::ops::tensor_misc
