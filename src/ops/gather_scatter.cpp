// Indexed reads and writes: Gather, GatherElements, GatherND, ScatterElements, ScatterND, and the
// deprecated Scatter.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// Scatter reductions: 16 adds add/mul, 18 max/min.
void add_reduction(OpSchema& s) {
  if (s.since() >= 18) {
    s.attr_enum("reduction", "none", {"none", "add", "mul", "max", "min"});
  } else if (s.since() >= 16) {
    s.attr_enum("reduction", "none", {"none", "add", "mul"});
  }
}

// Negative indices count from the end (ONNX from 11; accepted in every revision, as ONNX Runtime
// does). Returns false when `i` is outside [-n, n).
inline bool wrap_index(int64_t& i, int64_t n) {
  if (i < -n || i >= n) return false;
  if (i < 0) i += n;
  return true;
}

Status index_error(std::string_view op, int64_t index, int64_t axis, int64_t n) {
  return err(Code::kIndexOutOfRange, op, " index ", index, " is out of range for axis ", axis,
             " of size ", n, " (valid: ", -n, "..", n - 1, ")");
}

Status gather_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Gather", "data"));
  KILN_ASSIGN_OR_RETURN(const Tensor* ind, required_input(ctx, 1, "Gather", "indices"));
  const int64_t rank = static_cast<int64_t>(x->rank());
  if (rank == 0)
    return err(Code::kInvalidArgument, "Gather data must have rank >= 1, got a scalar");
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(ctx.attr_int("axis"), rank, "Gather"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> idx, read_int_values(*ind, "Gather indices"));
  const size_t ax = static_cast<size_t>(axis);
  const int64_t n = x->shape()[ax];
  for (int64_t& i : idx)
    if (!wrap_index(i, n)) return index_error("Gather", i, axis, n);
  std::vector<int64_t> out_shape(x->shape().begin(), x->shape().begin() + axis);
  out_shape.insert(out_shape.end(), ind->shape().begin(), ind->shape().end());
  out_shape.insert(out_shape.end(), x->shape().begin() + axis + 1, x->shape().end());
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, "Gather"));
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < ax; ++d) outer *= x->shape()[d];
  for (size_t d = ax + 1; d < x->rank(); ++d) inner *= x->shape()[d];
  return dispatch_move(x->dtype(), "Gather", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, x->dtype(), out_shape));
    T* dst = elems<T>(*out);
    for (int64_t o = 0; o < outer; ++o) {
      const T* row = elems<T>(*x) + o * n * inner;
      for (int64_t i : idx) dst = std::copy(row + i * inner, row + (i + 1) * inner, dst);
    }
    return Status::Ok();
  });
}

// GatherElements/ScatterElements: indices (and updates) have data's rank and fit inside data on
// every axis but `axis`. For each index element, calls fn(position in indices, offset in data
// of the element it addresses) after bounds-checking the index.
template <typename F>
Status for_each_element_index(const Tensor& x, const Tensor& ind, int64_t axis, std::string_view op,
                              F&& fn) {
  if (ind.rank() != x.rank())
    return err(Code::kIncompatibleShapes, op, " indices ", shape_str(ind.shape()),
               " must have the rank of data ", shape_str(x.shape()));
  for (size_t d = 0; d < x.rank(); ++d)
    if (static_cast<int64_t>(d) != axis && ind.shape()[d] > x.shape()[d])
      return err(Code::kIncompatibleShapes, op, " indices ", shape_str(ind.shape()),
                 " exceed data ", shape_str(x.shape()), " on axis ", d);
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> idx,
                        read_int_values(ind, std::string(op) + " indices"));
  if (idx.empty()) return Status::Ok();
  const size_t rank = x.rank(), ax = static_cast<size_t>(axis);
  const std::vector<int64_t> xs = strides_of(x.shape());
  const int64_t n = x.shape()[ax];
  std::vector<int64_t> coord(rank, 0);
  int64_t base = 0;  // data offset of `coord` without the axis term
  for (size_t k = 0; k < idx.size(); ++k) {
    int64_t i = idx[k];
    if (!wrap_index(i, n)) return index_error(op, i, axis, n);
    fn(k, base + i * xs[ax]);
    for (size_t d = rank; d-- > 0;) {
      if (d != ax) base += xs[d];
      if (++coord[d] < ind.shape()[d]) break;
      if (d != ax) base -= xs[d] * ind.shape()[d];
      coord[d] = 0;
    }
  }
  return Status::Ok();
}

Status gather_elements_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "GatherElements", "data"));
  KILN_ASSIGN_OR_RETURN(const Tensor* ind, required_input(ctx, 1, "GatherElements", "indices"));
  const int64_t rank = static_cast<int64_t>(x->rank());
  if (rank == 0)
    return err(Code::kInvalidArgument, "GatherElements data must have rank >= 1, got a scalar");
  KILN_ASSIGN_OR_RETURN(const int64_t axis,
                        normalize_axis(ctx.attr_int("axis"), rank, "GatherElements"));
  return dispatch_move(x->dtype(), "GatherElements", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, x->dtype(), ind->shape()));
    T* dst = elems<T>(*out);
    const T* src = elems<T>(*x);
    return for_each_element_index(*x, *ind, axis, "GatherElements",
                                  [&](size_t k, int64_t off) { dst[k] = src[off]; });
  });
}

// GatherND/ScatterND: indices [..., k] address slices of data after `batch` leading dims that
// data and indices share. For each index tuple, calls fn(tuple number, data offset of the
// slice) after bounds-checking every coordinate.
template <typename F>
Status for_each_nd_index(const Tensor& x, const Tensor& ind, int64_t batch, std::string_view op,
                         F&& fn) {
  const int64_t r = static_cast<int64_t>(x.rank()), q = static_cast<int64_t>(ind.rank());
  if (q < 1) return err(Code::kInvalidArgument, op, " indices must have rank >= 1, got a scalar");
  const int64_t k = ind.shape().back();
  if (k < 1)
    return err(Code::kInvalidArgument, op, " indices ", shape_str(ind.shape()),
               " must end in a dimension >= 1 (the coordinates of one index)");
  if (k > r - batch)
    return err(Code::kIncompatibleShapes, op, " indices ", shape_str(ind.shape()), " address ", k,
               " dims but data ", shape_str(x.shape()), " has only ", r - batch, " after ", batch,
               " batch dims");
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> idx,
                        read_int_values(ind, std::string(op) + " indices"));
  const std::vector<int64_t> xs = strides_of(x.shape());
  const int64_t tuples = ind.numel() / k;
  int64_t batches = 1;
  for (int64_t d = 0; d < batch; ++d) batches *= x.shape()[static_cast<size_t>(d)];
  const int64_t per_batch = batches == 0 ? 0 : tuples / batches;
  const int64_t batch_size = batch == 0 ? x.numel() : xs[static_cast<size_t>(batch - 1)];
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = per_batch == 0 ? 0 : (t / per_batch) * batch_size;
    for (int64_t j = 0; j < k; ++j) {
      const size_t d = static_cast<size_t>(batch + j);
      int64_t i = idx[static_cast<size_t>(t * k + j)];
      if (!wrap_index(i, x.shape()[d])) return index_error(op, i, batch + j, x.shape()[d]);
      off += i * xs[d];
    }
    fn(t, off);
  }
  return Status::Ok();
}

Status gather_nd_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "GatherND", "data"));
  KILN_ASSIGN_OR_RETURN(const Tensor* ind, required_input(ctx, 1, "GatherND", "indices"));
  const int64_t b = ctx.since() >= 12 ? ctx.attr_int("batch_dims") : 0;
  const int64_t r = static_cast<int64_t>(x->rank()), q = static_cast<int64_t>(ind->rank());
  if (b < 0 || b >= std::min(r, q))
    return err(Code::kInvalidArgument, "GatherND batch_dims ", b, " must be in 0..",
               std::min(r, q) - 1, " for data ", shape_str(x->shape()), " and indices ",
               shape_str(ind->shape()));
  for (size_t d = 0; d < static_cast<size_t>(b); ++d)
    if (x->shape()[d] != ind->shape()[d])
      return err(Code::kIncompatibleShapes, "GatherND batch dims of data ", shape_str(x->shape()),
                 " and indices ", shape_str(ind->shape()), " differ on axis ", d);
  const int64_t k = ind->shape().back();
  std::vector<int64_t> out_shape(ind->shape().begin(), ind->shape().end() - 1);
  if (k <= r - b) out_shape.insert(out_shape.end(), x->shape().begin() + b + k, x->shape().end());
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, "GatherND"));
  int64_t slice = 1;
  for (size_t d = static_cast<size_t>(std::min(b + k, r)); d < x->rank(); ++d)
    slice *= x->shape()[d];
  return dispatch_move(x->dtype(), "GatherND", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, x->dtype(), out_shape));
    T* dst = elems<T>(*out);
    const T* src = elems<T>(*x);
    return for_each_nd_index(*x, *ind, b, "GatherND", [&](int64_t t, int64_t off) {
      std::copy(src + off, src + off + slice, dst + t * slice);
    });
  });
}

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Result<Reduction> reduction_of(const KernelContext& ctx, std::string_view op) {
  if (ctx.since() < 16) return Reduction::kNone;
  const std::string r = ctx.attr_string("reduction", "none");
  if (r == "none") return Reduction::kNone;
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  if (ctx.since() >= 18 && r == "max") return Reduction::kMax;
  if (ctx.since() >= 18 && r == "min") return Reduction::kMin;
  return err(Code::kInvalidArgument, op, "-", ctx.since(), " reduction '", r,
             "' is not supported (allowed: none, add, mul",
             ctx.since() >= 18 ? ", max, min)" : ")");
}

// dst = reduce(dst, u), computed in compute_t<T> (float for 16-bit floats).
// Strings and 16-byte elements only ever take the kNone path (scatter_common).
template <typename T>
void reduce_into(T& dst, const T& u, Reduction red) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, Bytes16>) {
    dst = u;
  } else {
    using C = compute_t<T>;
    const C a = static_cast<C>(dst), b = static_cast<C>(u);
    switch (red) {
      case Reduction::kNone:
        dst = u;
        return;
      case Reduction::kAdd:
        dst = static_cast<T>(a + b);
        return;
      case Reduction::kMul:
        dst = static_cast<T>(a * b);
        return;
      case Reduction::kMax:
        dst = static_cast<T>(std::max(a, b));
        return;
      case Reduction::kMin:
        dst = static_cast<T>(std::min(a, b));
        return;
    }
  }
}

// Copies data into output 0, then runs `scatter.template operator()<T>(out, updates)` with T
// a move type (reduction none: any dtype, strings included) or the numeric storage type.
template <typename F>
Status scatter_common(KernelContext& ctx, std::string_view op, Reduction red, F&& scatter) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "data"));
  KILN_ASSIGN_OR_RETURN(const Tensor* upd, required_input(ctx, 2, op, "updates"));
  if (upd->dtype() != x->dtype())
    return err(Code::kInvalidArgument, op, " updates are ", data_type_name(upd->dtype()),
               " but data is ", data_type_name(x->dtype()));
  KILN_RETURN_IF_ERROR(dispatch_move(x->dtype(), op, [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, x->dtype(), x->shape()));
    std::copy(elems<T>(*x), elems<T>(*x) + x->numel(), elems<T>(*out));
    return Status::Ok();
  }));
  Tensor& out = ctx.outputs()[0];
  if (red == Reduction::kNone)
    return dispatch_move(x->dtype(), op, [&]<typename T>() -> Status {
      return scatter.template operator()<T>(out, *upd);
    });
  return dispatch_numeric(x->dtype(), op, [&]<typename T>() -> Status {
    return scatter.template operator()<T>(out, *upd);
  });
}

// ScatterElements, and the deprecated Scatter (ScatterElements-11 under its old name; `op`
// names whichever the node is in messages).
Status scatter_elements_common(KernelContext& ctx, std::string_view op) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "data"));
  KILN_ASSIGN_OR_RETURN(const Tensor* ind, required_input(ctx, 1, op, "indices"));
  KILN_ASSIGN_OR_RETURN(const Tensor* upd, required_input(ctx, 2, op, "updates"));
  const int64_t rank = static_cast<int64_t>(x->rank());
  if (rank == 0) return err(Code::kInvalidArgument, op, " data must have rank >= 1, got a scalar");
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(ctx.attr_int("axis"), rank, op));
  if (upd->shape() != ind->shape())
    return err(Code::kIncompatibleShapes, op, " updates ", shape_str(upd->shape()),
               " must have the shape of indices ", shape_str(ind->shape()));
  KILN_ASSIGN_OR_RETURN(const Reduction red, reduction_of(ctx, op));
  return scatter_common(ctx, op, red, [&]<typename T>(Tensor& out, const Tensor& u) -> Status {
    T* dst = elems<T>(out);
    const T* src = elems<T>(u);
    return for_each_element_index(
        *x, *ind, axis, op, [&](size_t k, int64_t off) { reduce_into(dst[off], src[k], red); });
  });
}

Status scatter_elements_kernel(KernelContext& ctx) {
  return scatter_elements_common(ctx, "ScatterElements");
}

Status scatter_kernel(KernelContext& ctx) {
  return scatter_elements_common(ctx, "Scatter");
}

Status scatter_nd_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "ScatterND";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "data"));
  KILN_ASSIGN_OR_RETURN(const Tensor* ind, required_input(ctx, 1, op, "indices"));
  KILN_ASSIGN_OR_RETURN(const Tensor* upd, required_input(ctx, 2, op, "updates"));
  if (ind->rank() < 1)
    return err(Code::kInvalidArgument, op, " indices must have rank >= 1, got a scalar");
  const int64_t k = ind->shape().back();
  if (k > static_cast<int64_t>(x->rank()))
    return err(Code::kIncompatibleShapes, op, " indices ", shape_str(ind->shape()), " address ", k,
               " dims but data ", shape_str(x->shape()), " has rank ", x->rank());
  std::vector<int64_t> want(ind->shape().begin(), ind->shape().end() - 1);
  want.insert(want.end(), x->shape().begin() + k, x->shape().end());
  if (upd->shape() != want)
    return err(Code::kIncompatibleShapes, op, " updates ", shape_str(upd->shape()),
               " must have shape ", shape_str(want), " for data ", shape_str(x->shape()),
               " and indices ", shape_str(ind->shape()));
  int64_t slice = 1;
  for (size_t d = static_cast<size_t>(k); d < x->rank(); ++d) slice *= x->shape()[d];
  KILN_ASSIGN_OR_RETURN(const Reduction red, reduction_of(ctx, op));
  return scatter_common(ctx, op, red, [&]<typename T>(Tensor& out, const Tensor& u) -> Status {
    T* dst = elems<T>(out);
    const T* src = elems<T>(u);
    return for_each_nd_index(*x, *ind, 0, op, [&](int64_t t, int64_t off) {
      for (int64_t j = 0; j < slice; ++j) reduce_into(dst[off + j], src[t * slice + j], red);
    });
  });
}

// data[:axis] + indices + data[axis+1:]; picks from propagated shape values (x.shape[0]).
Status gather_infer(InferContext& ctx) {
  const Dims& data = ctx.input_shape(0);
  const Dims& idx = ctx.input_shape(1);
  if (!data.rank_known() || !idx.rank_known()) {
    ctx.set_output_shape(0, Dims::unknown_rank());
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(data.rank());
  if (rank == 0) return err(Code::kIncompatibleShapes, "Gather data must have rank >= 1");
  KILN_ASSIGN_OR_RETURN(const int64_t axis, infer_axis(ctx.attr_int("axis", 0), rank, "Gather"));
  std::vector<Dim> out(data.dims().begin(), data.dims().begin() + axis);
  out.insert(out.end(), idx.dims().begin(), idx.dims().end());
  out.insert(out.end(), data.dims().begin() + axis + 1, data.dims().end());
  ctx.set_output_shape(0, Dims(std::move(out)));
  std::optional<DimValues> v = ctx.input_values(0);
  std::optional<std::vector<int64_t>> picks = ctx.input_ints(1);
  if (v && picks && rank == 1 && idx.rank() <= 1) {
    DimValues picked;
    const int64_t n = static_cast<int64_t>(v->size());
    for (int64_t p : *picks) {
      if (p < -n || p >= n)
        return err(Code::kIndexOutOfRange, "Gather index ", p, " is out of range for a shape of ",
                   n, " dims");
      picked.push_back((*v)[p < 0 ? p + n : p]);
    }
    ctx.set_output_values(0, picked);
  }
  return Status::Ok();
}

Status gather_elements_infer(InferContext& ctx) {
  const Dims& data = ctx.input_shape(0);
  const Dims& idx = ctx.input_shape(1);
  if (data.rank_known() && idx.rank_known() && data.rank() != idx.rank())
    return err(Code::kIncompatibleShapes, ctx.node().op_type(), " data ", data.to_string(),
               " and indices ", idx.to_string(), " must have the same rank");
  ctx.set_output_shape(0, idx);
  return Status::Ok();
}

// indices[:-1] + data[batch_dims + indices[-1]:].
Status gather_nd_infer(InferContext& ctx) {
  const Dims& data = ctx.input_shape(0);
  const Dims& idx = ctx.input_shape(1);
  if (!data.rank_known() || !idx.rank_known() || idx.rank() == 0 ||
      !idx[idx.rank() - 1].is_static()) {
    ctx.set_output_shape(0, Dims::unknown_rank());
    return Status::Ok();
  }
  const int64_t b = ctx.attr_int("batch_dims", 0);
  const int64_t last = idx[idx.rank() - 1].value;
  const int64_t data_rank = static_cast<int64_t>(data.rank());
  if (b < 0 || b > data_rank || last > data_rank - b || b >= static_cast<int64_t>(idx.rank()))
    return err(Code::kIncompatibleShapes, "GatherND indices ", idx.to_string(), " (batch_dims ", b,
               ") index more dims than data ", data.to_string(), " has");
  std::vector<Dim> out(idx.dims().begin(), idx.dims().end() - 1);
  out.insert(out.end(), data.dims().begin() + b + last, data.dims().end());
  ctx.set_output_shape(0, Dims(std::move(out)));
  return Status::Ok();
}

}  // namespace

void register_gather_scatter(OpRegistry& registry) {
  // 11 accepts negative axes and indices.
  for (int64_t since : {1, 11, 13}) {
    registry.add(OpSchema("Gather", since)
                     .input("data", "T")
                     .input("indices", "Tind")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("Tind", type_sets::index())
                     .attr("axis", AttrType::kInt, int64_t{0})
                     .fusion(FusionKind::kInjective)
                     .kernel(gather_kernel)
                     .infer(gather_infer));
  }
  for (int64_t since : {11, 13}) {
    registry.add(OpSchema("GatherElements", since)
                     .input("data", "T")
                     .input("indices", "Tind")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("Tind", type_sets::index())
                     .attr("axis", AttrType::kInt, int64_t{0})
                     .fusion(FusionKind::kInjective)
                     .kernel(gather_elements_kernel)
                     .infer(gather_elements_infer));
  }
  // GatherND-12 adds batch_dims.
  for (int64_t since : {11, 12, 13}) {
    OpSchema s("GatherND", since);
    s.input("data", "T")
        .input("indices", "I")
        .output("output", "T")
        .types("T", type_sets::all_tensor_at(since))
        .types("I", {D::kInt64})
        .fusion(FusionKind::kInjective)
        .kernel(gather_nd_kernel)
        .infer(gather_nd_infer);
    if (since >= 12) s.attr("batch_dims", AttrType::kInt, int64_t{0});
    registry.add(std::move(s));
  }

  // Scatters write at data-dependent positions, so they do not fuse as injective maps.
  for (int64_t since : {11, 13, 16, 18}) {
    OpSchema elements("ScatterElements", since);
    elements.input("data", "T")
        .input("indices", "Tind")
        .input("updates", "T")
        .output("output", "T")
        .types("T", type_sets::all_tensor_at(since))
        .types("Tind", type_sets::index())
        .attr("axis", AttrType::kInt, int64_t{0})
        .fusion(FusionKind::kOpaque)
        .kernel(scatter_elements_kernel)
        .infer(infer_same_as_input);
    add_reduction(elements);
    registry.add(std::move(elements));

    OpSchema nd("ScatterND", since);
    nd.input("data", "T")
        .input("indices", "I")
        .input("updates", "T")
        .output("output", "T")
        .types("T", type_sets::all_tensor_at(since))
        .types("I", {D::kInt64})
        .fusion(FusionKind::kOpaque)
        .kernel(scatter_nd_kernel)
        .infer(infer_same_as_input);
    add_reduction(nd);
    registry.add(std::move(nd));
  }

  // Scatter-9 is ScatterElements without negative indices, Scatter-11 is ScatterElements-11
  // under the name ONNX deprecated at 11. Negative indices are accepted in both, as for Gather.
  for (int64_t since : {9, 11}) {
    registry.add(OpSchema("Scatter", since)
                     .input("data", "T")
                     .input("indices", "Tind")
                     .input("updates", "T")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("Tind", type_sets::index())
                     .attr("axis", AttrType::kInt, int64_t{0})
                     .fusion(FusionKind::kOpaque)
                     .kernel(scatter_kernel));
  }
}

}  // namespace kiln::ops
