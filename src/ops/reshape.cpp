// Shape-only rearrangements that keep the element order: Reshape, Flatten, Squeeze, Unsqueeze.
#include <algorithm>
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

// Target dims: 0 copies the input dim (unless allowzero), -1 is solved from the element count,
// cancelling equal symbols on both sides ([B, S, 768] -> [B, S, 12, -1] gives 64).
Status reshape_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  std::optional<DimValues> target = ctx.input_values(1);
  if (!target) {
    const Dims& s = ctx.input_shape(1);
    ctx.set_output_shape(0, s.rank_known() && s.rank() == 1 && s[0].is_static()
                                ? unknown_dims(s[0].value)
                                : Dims::unknown_rank());
    return Status::Ok();
  }
  const bool allowzero = ctx.attr_int("allowzero", 0) == 1;
  std::vector<Dim> out;
  int64_t infer_at = -1;
  for (size_t k = 0; k < target->size(); ++k) {
    const IntValue& t = (*target)[k];
    if (t.value && *t.value == -1) {
      if (infer_at >= 0)
        return err(Code::kInvalidArgument, "Reshape target ", dims_from_values(*target).to_string(),
                   " has more than one -1");
      infer_at = static_cast<int64_t>(k);
      out.push_back(Dim::unknown());
    } else if (t.value && *t.value == 0 && !allowzero) {
      if (!in.rank_known()) {
        out.push_back(Dim::unknown());
      } else if (k >= in.rank()) {
        return err(Code::kIncompatibleShapes, "Reshape target ",
                   dims_from_values(*target).to_string(), " copies dim ", k, " (0) but data ",
                   in.to_string(), " has rank ", in.rank());
      } else {
        out.push_back(in[k]);
      }
    } else if (t.value && *t.value < -1) {
      return err(Code::kInvalidArgument, "Reshape target has the invalid size ", *t.value);
    } else {
      out.push_back(t.dim());
    }
  }
  if (in.rank_known()) {
    // Cancel what both sides share, then compare (or solve for -1) with what is left.
    std::vector<Dim> rest_in = in.dims(), rest_out;
    for (size_t k = 0; k < out.size(); ++k) {
      if (static_cast<int64_t>(k) == infer_at) continue;
      auto it = std::find_if(rest_in.begin(), rest_in.end(), [&](const Dim& d) {
        return d.is_symbolic() && out[k].is_symbolic() && d.symbol == out[k].symbol;
      });
      if (it != rest_in.end())
        rest_in.erase(it);
      else
        rest_out.push_back(out[k]);
    }
    auto product = [](const std::vector<Dim>& dims) {
      Dim p = Dim::fixed(1);
      for (const Dim& d : dims) p = dim_mul(p, d);
      return p;
    };
    const Dim pin = product(rest_in), pout = product(rest_out);
    if (infer_at >= 0) {
      if (pin.is_static() && pout.is_static()) {
        if (pout.value == 0 || pin.value % pout.value != 0)
          return err(Code::kIncompatibleShapes, "Reshape cannot infer -1 in target ",
                     dims_from_values(*target).to_string(), " for data ", in.to_string(), " (",
                     pin.value, " elements do not divide by ", pout.value, ")");
        out[infer_at] = Dim::fixed(pin.value / pout.value);
      } else if (pout.is_static() && pout.value == 1) {
        out[infer_at] = pin;  // a lone symbol, or unknown
      }
    } else if (pin.is_static() && pout.is_static() && pin.value != pout.value) {
      return err(Code::kIncompatibleShapes, "Reshape target ", Dims(out).to_string(), " has ",
                 pout.value, " elements where data ", in.to_string(), " has ", pin.value);
    }
  }
  ctx.set_output_shape(0, Dims(out));
  if (std::optional<DimValues> v = ctx.input_values(0); v && out.size() <= 1)
    ctx.set_output_values(0, *v);
  return Status::Ok();
}

Status flatten_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  if (!in.rank_known()) {
    ctx.set_output_shape(0, unknown_dims(2));
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(in.rank());
  int64_t axis = ctx.attr_int("axis", 1);
  if (axis < -rank || axis > rank)
    return err(Code::kIndexOutOfRange, "Flatten axis ", axis, " is out of range for rank ", rank,
               " (valid: ", -rank, "..", rank, ")");
  if (axis < 0) axis += rank;
  Dim outer = Dim::fixed(1), inner = Dim::fixed(1);
  for (int64_t k = 0; k < rank; ++k) {
    Dim& side = k < axis ? outer : inner;
    side = dim_mul(side, in[k]);
  }
  ctx.set_output_shape(0, Dims({outer, inner}));
  return Status::Ok();
}

// Axes of Squeeze/Unsqueeze: the attribute (< 13) or the input; nullopt when not known.
std::optional<std::vector<int64_t>> squeeze_axes(const InferContext& ctx) {
  if (ctx.since() < 13) return ctx.attr_ints("axes");
  if (!ctx.has_input(1)) return std::vector<int64_t>{};
  return ctx.input_ints(1);
}

Status squeeze_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  std::optional<std::vector<int64_t>> axes = squeeze_axes(ctx);
  if (!in.rank_known() || !axes) {
    ctx.set_output_shape(0, Dims::unknown_rank());
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(in.rank());
  std::vector<bool> drop(in.rank(), false);
  if (axes->empty()) {
    for (size_t k = 0; k < in.rank(); ++k) {
      if (!in[k].is_static()) {  // might be 1
        ctx.set_output_shape(0, Dims::unknown_rank());
        return Status::Ok();
      }
      drop[k] = in[k].value == 1;
    }
  }
  for (int64_t a : *axes) {
    KILN_ASSIGN_OR_RETURN(int64_t k, infer_axis(a, rank, "Squeeze"));
    if (in[k].is_static() && in[k].value != 1)
      return err(Code::kIncompatibleShapes, "Squeeze axis ", a, " of data ", in.to_string(),
                 " has size ", in[k].value, ", not 1");
    drop[k] = true;
  }
  std::vector<Dim> out;
  for (size_t k = 0; k < in.rank(); ++k)
    if (!drop[k]) out.push_back(in[k]);
  ctx.set_output_shape(0, Dims(std::move(out)));
  if (std::optional<DimValues> v = ctx.input_values(0)) ctx.set_output_values(0, *v);
  return Status::Ok();
}

Status unsqueeze_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  std::optional<std::vector<int64_t>> axes = squeeze_axes(ctx);
  if (!in.rank_known() || !axes) {
    ctx.set_output_shape(0, Dims::unknown_rank());
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(in.rank() + axes->size());
  std::vector<bool> added(static_cast<size_t>(rank), false);
  for (int64_t a : *axes) {
    KILN_ASSIGN_OR_RETURN(int64_t k, infer_axis(a, rank, "Unsqueeze"));
    if (added[k]) return err(Code::kInvalidArgument, "Unsqueeze axes repeat axis ", a);
    added[k] = true;
  }
  std::vector<Dim> out;
  size_t next = 0;
  for (int64_t k = 0; k < rank; ++k) out.push_back(added[k] ? Dim::fixed(1) : in[next++]);
  ctx.set_output_shape(0, Dims(std::move(out)));
  if (std::optional<DimValues> v = ctx.input_values(0)) ctx.set_output_values(0, *v);
  return Status::Ok();
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
        .kernel(reshape_kernel)
        .infer(reshape_infer);
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
                     .kernel(flatten_kernel)
                     .infer(flatten_infer));
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
        .kernel(squeeze_kernel)
        .infer(squeeze_infer);
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
        .kernel(unsqueeze_kernel)
        .infer(unsqueeze_infer);
    registry.add(std::move(unsqueeze));
  }
}

}  // namespace kiln::ops
