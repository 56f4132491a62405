// Shape-only rearrangements that keep the element order: Reshape, Flatten, Squeeze, Unsqueeze.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// Resolves Reshape's target: 0 copies the input dim (unless allowzero), one -1 takes the rest.
Result<std::vector<int64_t>> reshape_target(const std::vector<int64_t>& in_shape, int64_t numel,
                                            std::vector<int64_t> target, bool allowzero) {
  int64_t infer = -1;
  int64_t known = 1;
  bool has_zero = false;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t& d = target[i];
    if (d == -1) {
      if (infer >= 0)
        return err(Code::kInvalidArgument, "Reshape target ", shape_str(target),
                   " has more than one -1");
      infer = static_cast<int64_t>(i);
      continue;
    }
    if (d < -1)
      return err(Code::kInvalidArgument, "Reshape target ", shape_str(target),
                 " has the negative dimension ", d, " (only -1 is allowed)");
    if (d == 0 && !allowzero) {
      if (i >= in_shape.size())
        return err(Code::kIncompatibleShapes, "Reshape target ", shape_str(target),
                   " copies dimension ", i, " with a 0 but the input ", shape_str(in_shape),
                   " has rank ", in_shape.size());
      d = in_shape[i];
    }
    if (d == 0) has_zero = true;
    if (d != 0 && known > kMaxOutputElements / d)
      return err(Code::kIncompatibleShapes, "Reshape target ", shape_str(target),
                 " has far more elements than the input ", shape_str(in_shape));
    known *= d;
  }
  if (infer >= 0) {
    if (has_zero && allowzero)
      return err(Code::kInvalidArgument, "Reshape target ", shape_str(target),
                 " has both 0 and -1 with allowzero=1, so -1 is ambiguous");
    if (known == 0 || numel % known != 0)
      return err(Code::kIncompatibleShapes, "Reshape cannot infer -1 in ", shape_str(target),
                 ": input ", shape_str(in_shape), " has ", numel, " elements");
    target[static_cast<size_t>(infer)] = numel / known;
    known = numel;
  }
  if (known != numel)
    return err(Code::kIncompatibleShapes, "Reshape cannot turn input ", shape_str(in_shape), " (",
               numel, " elements) into ", shape_str(target), " (", known, " elements)");
  return target;
}

Status reshape_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Reshape", "data"));
  std::vector<int64_t> target;
  if (ctx.since() < 5) {
    // Reshape-1 takes the shape as an attribute, optional in its schema but needed to reshape.
    if (!ctx.has_attr("shape"))
      return err(Code::kInvalidArgument, "Reshape-", ctx.since(), " needs attribute 'shape'");
    target = ctx.attr_ints("shape");
  } else {
    KILN_ASSIGN_OR_RETURN(const Tensor* s, required_input(ctx, 1, "Reshape", "shape"));
    if (s->rank() != 1)
      return err(Code::kInvalidArgument, "Reshape shape input must be 1-D, got shape ",
                 shape_str(s->shape()));
    KILN_ASSIGN_OR_RETURN(target, read_int_values(*s, "Reshape shape"));
  }
  const bool allowzero = ctx.since() >= 14 && ctx.attr_int("allowzero") != 0;
  KILN_ASSIGN_OR_RETURN(target,
                        reshape_target(x->shape(), x->numel(), std::move(target), allowzero));
  return set_output_reshaped(ctx, 0, *x, std::move(target));
}

// Negative axes are accepted in every revision, as ONNX Runtime does.
Status flatten_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Flatten", "input"));
  const int64_t rank = static_cast<int64_t>(x->rank());
  int64_t axis = ctx.attr_int("axis", 1);
  if (axis < -rank || axis > rank)
    return err(Code::kInvalidArgument, "Flatten axis ", axis, " is out of range for rank ", rank,
               " (valid: ", -rank, "..", rank, ")");
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? outer : inner) *= x->shape()[static_cast<size_t>(i)];
  return set_output_reshaped(ctx, 0, *x, {outer, inner});
}

// Squeeze/Unsqueeze axes: the attribute before 13, the (optional) input from 13.
Result<std::optional<std::vector<int64_t>>> axes_of(const KernelContext& ctx, std::string_view op) {
  if (ctx.since() < 13) {
    if (!ctx.has_attr("axes")) return std::optional<std::vector<int64_t>>{};
    return std::optional<std::vector<int64_t>>{ctx.attr_ints("axes")};
  }
  const Tensor* a = ctx.input(1);
  if (a == nullptr) return std::optional<std::vector<int64_t>>{};
  if (a->rank() > 1)
    return err(Code::kInvalidArgument, op, " axes input must be 1-D, got shape ",
               shape_str(a->shape()));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> v, read_int_values(*a, std::string(op) + " axes"));
  return std::optional<std::vector<int64_t>>{std::move(v)};
}

Status squeeze_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Squeeze", "data"));
  KILN_ASSIGN_OR_RETURN(auto axes, axes_of(ctx, "Squeeze"));
  const std::vector<int64_t>& in = x->shape();
  std::vector<bool> drop(in.size(), false);
  // Empty axes mean "all size-1 dims", as in ONNX Runtime.
  if (axes && !axes->empty()) {
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> norm,
                          normalize_axes(*axes, static_cast<int64_t>(in.size()), "Squeeze"));
    for (int64_t a : norm) {
      if (in[static_cast<size_t>(a)] != 1)
        return err(Code::kInvalidArgument, "Squeeze axis ", a, " of input ", shape_str(in),
                   " has size ", in[static_cast<size_t>(a)], ", not 1");
      drop[static_cast<size_t>(a)] = true;
    }
  } else {
    for (size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
  }
  std::vector<int64_t> out;
  for (size_t i = 0; i < in.size(); ++i)
    if (!drop[i]) out.push_back(in[i]);
  return set_output_reshaped(ctx, 0, *x, std::move(out));
}

Status unsqueeze_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Unsqueeze", "data"));
  KILN_ASSIGN_OR_RETURN(auto axes, axes_of(ctx, "Unsqueeze"));
  if (!axes)
    return err(Code::kInvalidArgument, "Unsqueeze needs axes (",
               ctx.since() < 13 ? "attribute" : "input", " 'axes' is missing)");
  const int64_t out_rank = static_cast<int64_t>(x->rank() + axes->size());
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> norm, normalize_axes(*axes, out_rank, "Unsqueeze"));
  std::vector<int64_t> out(static_cast<size_t>(out_rank), 0);
  for (int64_t a : norm) out[static_cast<size_t>(a)] = -1;  // marks an inserted 1
  size_t next = 0;
  for (int64_t& d : out) d = d == -1 ? 1 : x->shape()[next++];
  return set_output_reshaped(ctx, 0, *x, std::move(out));
}

}  // namespace

void register_reshape(OpRegistry& registry) {
  // Reshape-1 takes `shape` as an attribute (and consumed_inputs, an in-place hint without
  // effect), floats only; the dims mean what they mean in 5.
  registry.add(OpSchema("Reshape", 1)
                   .input("data", "T")
                   .output("reshaped", "T")
                   .types("T", {D::kFloat16, D::kFloat32, D::kFloat64})
                   .attr("consumed_inputs", ir::AttrType::kInts)
                   .attr("shape", ir::AttrType::kInts)
                   .fusion(FusionKind::kInjective)
                   .kernel(reshape_kernel));
  // Reshape-14 adds allowzero (a 0 in `shape` means an empty dimension instead of "copy").
  for (int64_t since : {5, 13, 14, 19, 21}) {
    OpSchema s("Reshape", since);
    s.input("data", "T")
        .input("shape", "I")
        .output("reshaped", "T")
        .types("T", type_sets::all_tensor_at(since))
        .types("I", {D::kInt64})
        .fusion(FusionKind::kInjective)
        .kernel(reshape_kernel);
    if (since >= 14) s.attr_int_enum("allowzero", 0, {0, 1});
    registry.add(std::move(s));
  }

  // Flatten-1 took floats only; 11 accepts a negative axis.
  for (int64_t since : {1, 9, 11, 13, 21}) {
    registry.add(OpSchema("Flatten", since)
                     .input("input", "T")
                     .output("output", "T")
                     .types("T", since == 1
                                     ? std::vector<DataType>{D::kFloat16, D::kFloat32, D::kFloat64}
                                     : type_sets::all_tensor_at(since))
                     .attr("axis", AttrType::kInt, int64_t{1})
                     .fusion(FusionKind::kInjective)
                     .kernel(flatten_kernel));
  }

  // Squeeze and Unsqueeze take axes as an attribute up to 11 (which accepts negative axes) and
  // as an input from 13. Squeeze's axes are optional (all size-1 dimensions), Unsqueeze's not.
  for (int64_t since : {1, 11, 13, 21}) {
    OpSchema squeeze("Squeeze", since);
    squeeze.input("data", "T");
    if (since >= 13) {
      squeeze.input("axes", "I", Arity::kOptional).types("I", {D::kInt64});
    } else {
      squeeze.attr("axes", AttrType::kInts);
    }
    squeeze.output("squeezed", "T")
        .types("T", type_sets::all_tensor_at(since))
        .fusion(FusionKind::kInjective)
        .kernel(squeeze_kernel);
    registry.add(std::move(squeeze));

    OpSchema unsqueeze("Unsqueeze", since);
    unsqueeze.input("data", "T");
    if (since >= 13) {
      unsqueeze.input("axes", "I").types("I", {D::kInt64});
    } else {
      unsqueeze.required_attr("axes", AttrType::kInts);
    }
    unsqueeze.output("expanded", "T")
        .types("T", type_sets::all_tensor_at(since))
        .fusion(FusionKind::kInjective)
        .kernel(unsqueeze_kernel);
    registry.add(std::move(unsqueeze));
  }
}

}  // namespace kiln::ops
