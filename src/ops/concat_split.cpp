// Concat and Split along one axis. The sequence forms (ConcatFromSequence, SplitToSequence) are
// not here: kiln has no sequence ops.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// Split-18: the part sizes come either from the `split` input or from num_outputs equal parts.
// Leaving both out is accepted (ONNX Runtime splits into as many parts as there are outputs).
void check_split18(const ir::Node& node, const OpSchema&, std::vector<Status>& problems) {
  const ir::Attribute* num_outputs = node.attr("num_outputs");
  if (num_outputs == nullptr) return;
  if (node.input(1) != nullptr) {
    problems.push_back(err(Code::kAttributeValueUnsupported,
                           "attribute 'num_outputs' = ", num_outputs->i,
                           " together with the 'split' input (allowed: one or the other)"));
  }
  if (num_outputs->i < 1) {
    problems.push_back(err(Code::kAttributeValueUnsupported,
                           "attribute 'num_outputs' = ", num_outputs->i, " (allowed: >= 1)"));
  }
}

Status concat_kernel(KernelContext& ctx) {
  std::vector<const Tensor*> xs;
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.input(i) != nullptr) xs.push_back(ctx.input(i));
  if (xs.empty()) return err(Code::kInvalidArgument, "Concat has no inputs");
  const Tensor& first = *xs[0];
  const int64_t rank = static_cast<int64_t>(first.rank());
  if (rank == 0) return err(Code::kInvalidArgument, "Concat cannot join scalars (rank 0)");
  // Concat-1's axis is optional and defaults to 1 (ONNX's 3-to-4 converter fills that in); from
  // 4 on it is required.
  if (ctx.since() >= 4 && !ctx.has_attr("axis"))
    return err(Code::kInvalidArgument, "Concat-", ctx.since(), " needs attribute 'axis'");
  KILN_ASSIGN_OR_RETURN(const int64_t axis,
                        normalize_axis(ctx.attr_int("axis", 1), rank, "Concat"));
  const size_t ax = static_cast<size_t>(axis);
  std::vector<int64_t> out_shape = first.shape();
  out_shape[ax] = 0;
  for (const Tensor* x : xs) {
    if (x->dtype() != first.dtype())
      return err(Code::kInvalidArgument, "Concat inputs mix ", data_type_name(first.dtype()),
                 " and ", data_type_name(x->dtype()));
    bool same = x->rank() == first.rank();
    for (size_t d = 0; same && d < x->rank(); ++d)
      same = d == ax || x->shape()[d] == first.shape()[d];
    if (!same)
      return err(Code::kIncompatibleShapes, "Concat on axis ", axis, " cannot join ",
                 shape_str(first.shape()), " and ", shape_str(x->shape()),
                 ": all other dimensions must match");
    out_shape[ax] += x->shape()[ax];
  }
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, "Concat"));
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < ax; ++d) outer *= out_shape[d];
  for (size_t d = ax + 1; d < out_shape.size(); ++d) inner *= out_shape[d];
  return dispatch_move(first.dtype(), "Concat", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, first.dtype(), out_shape));
    T* dst = elems<T>(*out);
    for (int64_t o = 0; o < outer; ++o) {
      for (const Tensor* x : xs) {
        const int64_t block = x->shape()[ax] * inner;
        const T* src = elems<T>(*x) + o * block;
        dst = std::copy(src, src + block, dst);
      }
    }
    return Status::Ok();
  });
}

// The part sizes along the axis: the split attribute/input, num_outputs (18), or as many
// parts as the node has outputs. Unequal parts without an explicit split are only defined
// from 18 (the last part is smaller); earlier revisions require equal parts.
Result<std::vector<int64_t>> split_sizes(const KernelContext& ctx, int64_t dim) {
  std::vector<int64_t> split;
  const size_t n_out = ctx.num_outputs();
  if (ctx.since() < 2 && ctx.input(1) != nullptr) {
    // Split-1 may pass the sizes as its second input (of the data's float type) instead.
    const Tensor& t = *ctx.input(1);
    if (t.rank() != 1)
      return err(Code::kInvalidArgument, "Split split input must be 1-D, got shape ",
                 shape_str(t.shape()));
    if (ctx.has_attr("split"))
      return err(Code::kInvalidArgument,
                 "Split-1 has both the 'split' input and the 'split' attribute; give one");
    KILN_ASSIGN_OR_RETURN(split, read_integral_values(t, "Split split"));
  } else if (ctx.since() < 13) {
    if (ctx.has_attr("split")) split = ctx.attr_ints("split");
  } else if (const Tensor* t = ctx.input(1); t != nullptr && t->numel() > 0) {
    if (t->rank() != 1)
      return err(Code::kInvalidArgument, "Split split input must be 1-D, got shape ",
                 shape_str(t->shape()));
    KILN_ASSIGN_OR_RETURN(split, read_int_values(*t, "Split split"));
  }
  if (!split.empty()) {
    if (split.size() != n_out)
      return err(Code::kInvalidArgument, "Split sizes ", shape_str(split), " name ", split.size(),
                 " parts but the node has ", n_out, " outputs");
    int64_t sum = 0;
    for (int64_t v : split) {
      if (v < 0)
        return err(Code::kInvalidArgument, "Split sizes ", shape_str(split),
                   " contain the negative size ", v);
      sum += std::min(v, dim + 1);  // clamped so absurd sizes cannot overflow the sum
    }
    if (sum != dim)
      return err(Code::kInvalidArgument, "Split sizes ", shape_str(split), " sum to ", sum,
                 " but the split axis has size ", dim);
    return split;
  }
  int64_t parts = static_cast<int64_t>(n_out);
  if (ctx.since() >= 18 && ctx.has_attr("num_outputs")) {
    parts = ctx.attr_int("num_outputs");
    if (parts < 1 || parts != static_cast<int64_t>(n_out))
      return err(Code::kInvalidArgument, "Split num_outputs = ", parts, " but the node has ", n_out,
                 " outputs");
  }
  if (parts < 1) return err(Code::kInvalidArgument, "Split node has no outputs");
  if (dim % parts == 0) return std::vector<int64_t>(static_cast<size_t>(parts), dim / parts);
  if (ctx.since() < 18)
    return err(Code::kInvalidArgument, "Split cannot cut an axis of size ", dim, " into ", parts,
               " equal parts (give 'split' sizes)");
  const int64_t chunk = dim / parts + 1;
  const int64_t last = dim - chunk * (parts - 1);
  if (last < 0)
    return err(Code::kInvalidArgument, "Split of an axis of size ", dim, " into ", parts,
               " parts of ", chunk, " leaves no room for the last part (", last, ")");
  split.assign(static_cast<size_t>(parts), chunk);
  split.back() = last;
  return split;
}

Status split_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Split", "input"));
  const int64_t rank = static_cast<int64_t>(x->rank());
  if (rank == 0) return err(Code::kInvalidArgument, "Split cannot split a scalar (rank 0)");
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(ctx.attr_int("axis"), rank, "Split"));
  const size_t ax = static_cast<size_t>(axis);
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> split, split_sizes(ctx, x->shape()[ax]));
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < ax; ++d) outer *= x->shape()[d];
  for (size_t d = ax + 1; d < x->rank(); ++d) inner *= x->shape()[d];
  const int64_t row = x->shape()[ax] * inner;
  return dispatch_move(x->dtype(), "Split", [&]<typename T>() -> Status {
    int64_t offset = 0;  // start of this part within one row
    for (size_t i = 0; i < split.size(); ++i) {
      std::vector<int64_t> shape = x->shape();
      shape[ax] = split[i];
      const int64_t block = split[i] * inner;
      if (ctx.wants_output(i)) {
        KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(i, x->dtype(), shape));
        T* dst = elems<T>(*out);
        for (int64_t o = 0; o < outer; ++o) {
          const T* src = elems<T>(*x) + o * row + offset;
          dst = std::copy(src, src + block, dst);
        }
      }
      offset += block;
    }
    return Status::Ok();
  });
}

Status concat_infer(InferContext& ctx) {
  std::optional<size_t> rank;
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i) && ctx.input_shape(i).rank_known()) rank = ctx.input_shape(i).rank();
  if (!rank) {
    ctx.set_output_shape(0, Dims::unknown_rank());
    return Status::Ok();
  }
  KILN_ASSIGN_OR_RETURN(const int64_t axis,
                        infer_axis(ctx.attr_int("axis", 0), static_cast<int64_t>(*rank), "Concat"));
  std::vector<Dim> out(*rank, Dim::unknown());
  Dim total = Dim::fixed(0);
  bool all_known = true;
  DimValues values;
  bool have_values = true;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    const Dims& s = ctx.input_shape(i);
    std::optional<DimValues> v = ctx.input_values(i);
    if (v)
      values.insert(values.end(), v->begin(), v->end());
    else
      have_values = false;
    if (!s.rank_known()) {
      all_known = false;
      continue;
    }
    if (s.rank() != *rank)
      return err(Code::kIncompatibleShapes, "Concat input ", i, " ", s.to_string(), " has rank ",
                 s.rank(), " where the others have rank ", *rank);
    for (size_t k = 0; k < *rank; ++k) {
      if (static_cast<int64_t>(k) == axis) continue;
      std::optional<Dim> u = unify_dim(out[k], s[k]);
      if (!u)
        return err(Code::kIncompatibleShapes, "Concat inputs differ in dimension ", k,
                   " (not the axis ", axis, "): ", out[k].to_string(), " vs ", s[k].to_string(),
                   " in input ", i, " ", s.to_string());
      out[k] = *u;
    }
    total = dim_add(total, s[axis]);
  }
  out[axis] = all_known ? total : Dim::unknown();
  ctx.set_output_shape(0, Dims(std::move(out)));
  if (have_values && *rank == 1) ctx.set_output_values(0, values);
  return Status::Ok();
}

Status split_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  const size_t n = ctx.num_outputs();
  if (!in.rank_known()) {
    for (size_t i = 0; i < n; ++i) ctx.set_output_shape(i, in);
    return Status::Ok();
  }
  KILN_ASSIGN_OR_RETURN(const int64_t axis, infer_axis(ctx.attr_int("axis", 0),
                                                       static_cast<int64_t>(in.rank()), "Split"));
  std::optional<std::vector<int64_t>> parts;
  if (ctx.since() < 13) {
    if (ctx.has_attr("split")) parts = ctx.attr_ints("split");
  } else if (ctx.has_input(1)) {
    parts = ctx.input_ints(1);
    if (!parts) {
      for (size_t i = 0; i < n; ++i) ctx.set_output_shape(i, unknown_dims(in.rank()));
      return Status::Ok();
    }
  }
  const Dim& total = in[axis];
  std::vector<Dim> sizes;
  if (parts) {
    if (parts->size() != n)
      return err(Code::kInvalidArgument, "Split has ", parts->size(), " part sizes for ", n,
                 " outputs");
    int64_t sum = 0;
    for (int64_t p : *parts) {
      if (p < 0) return err(Code::kInvalidArgument, "Split part size ", p, " is negative");
      if (__builtin_add_overflow(sum, p, &sum))
        return err(Code::kInvalidArgument, "Split part sizes overflow");
      sizes.push_back(Dim::fixed(p));
    }
    if (total.is_static() && sum != total.value)
      return err(Code::kIncompatibleShapes, "Split part sizes add up to ", sum, " but axis ", axis,
                 " of ", in.to_string(), " has ", total.value);
  } else if (total.is_static()) {
    // Equal parts; with num_outputs (18) the last may be smaller.
    if (n == 0) return Status::Ok();  // no outputs: the arity check reports the node
    const int64_t count = static_cast<int64_t>(n);
    const int64_t each = total.value / count + (total.value % count != 0 ? 1 : 0);
    if (ctx.since() < 18 && total.value % count != 0)
      return err(Code::kIncompatibleShapes, "Split axis ", axis, " of ", in.to_string(), " (",
                 total.value, ") does not divide into ", n, " equal parts");
    int64_t left = total.value;
    for (size_t i = 0; i < n; ++i) {
      sizes.push_back(Dim::fixed(std::min(each, left)));
      left -= std::min(each, left);
    }
  } else {
    sizes.assign(n, Dim::unknown());
  }
  for (size_t i = 0; i < n; ++i) {
    std::vector<Dim> dims = in.dims();
    dims[axis] = sizes[i];
    ctx.set_output_shape(i, Dims(std::move(dims)));
  }
  return Status::Ok();
}

}  // namespace

void register_concat_split(OpRegistry& registry) {
  // 11 accepts a negative axis.
  for (int64_t since : {4, 11, 13}) {
    registry.add(OpSchema("Concat", since)
                     .input("inputs", "T", Arity::kVariadic, 1)
                     .output("concat_result", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .required_attr("axis", AttrType::kInt)
                     .fusion(FusionKind::kInjective)
                     .kernel(concat_kernel)
                     .infer(concat_infer));
  }

  // Concat-1 takes floats only and has an optional axis (default 1, see concat_kernel).
  registry.add(OpSchema("Concat", 1)
                   .input("inputs", "T", Arity::kVariadic, 1)
                   .output("concat_result", "T")
                   .types("T", {D::kFloat16, D::kFloat32, D::kFloat64})
                   .attr("axis", AttrType::kInt)
                   .fusion(FusionKind::kInjective)
                   .kernel(concat_kernel));

  // Split-1 (floats only) takes the sizes as an attribute or as an optional second input and
  // gives axis no default; kiln uses 0, the default Split-2 wrote down.
  registry.add(OpSchema("Split", 1)
                   .input("input", "T")
                   .input("split", "T", Arity::kOptional)
                   .output("outputs...", "T", Arity::kVariadic, 1)
                   .types("T", {D::kFloat16, D::kFloat32, D::kFloat64})
                   .attr("axis", AttrType::kInt)
                   .attr("split", AttrType::kInts)
                   .fusion(FusionKind::kInjective)
                   .kernel(split_kernel));

  // Split: the part sizes are an attribute up to 11 (which accepts a negative axis) and an
  // optional input from 13; 18 adds num_outputs (equal parts, the last one smaller if uneven).
  for (int64_t since : {2, 11, 13, 18}) {
    OpSchema s("Split", since);
    s.input("input", "T");
    if (since >= 13) {
      s.input("split", "I", Arity::kOptional).types("I", {D::kInt64});
    } else {
      s.attr("split", AttrType::kInts);
    }
    s.output("outputs", "T", Arity::kVariadic, 1)
        .types("T", type_sets::all_tensor_at(since))
        .attr("axis", AttrType::kInt, int64_t{0})
        .fusion(FusionKind::kInjective)
        .kernel(split_kernel)
        .infer(split_infer);
    if (since >= 18) s.attr("num_outputs", AttrType::kInt).check(check_split18);
    registry.add(std::move(s));
  }
}

}  // namespace kiln::ops
