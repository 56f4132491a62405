// Assorted tensor ops: Trilu, OneHot, NonZero, TopK, CumSum, Einsum, EyeLike, ReverseSequence,
// Compress and Unique.
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "ops/op_schema.h"
#include "ops/tensor_misc_kernels.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// ints and float16/32/64: ONNX's numeric list before bfloat16 joined it.
std::vector<DataType> numeric_no_bf16() {
  std::vector<DataType> types = type_sets::ints();
  types.insert(types.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  return types;
}
// ONNX's "every tensor type" list before opset 13, for the ops that only move elements.
std::vector<DataType> tensor_types_v1() {
  return type_sets::with(numeric_no_bf16(), {D::kString, D::kBool, D::kComplex64, D::kComplex128});
}

// EyeLike's dtype has no default (it falls back to the input's type), so its value set is
// checked here rather than declared.
void check_eye_like(const ir::Node& node, const OpSchema& schema, std::vector<Status>& problems) {
  const ir::Attribute* dtype = node.attr("dtype");
  const TypeConstraint* allowed = schema.find_types("T2");
  if (dtype == nullptr || allowed == nullptr) return;
  std::string names;
  for (DataType t : allowed->types) {
    if (static_cast<int64_t>(t) == dtype->i) return;
    names += str(names.empty() ? "" : ", ", static_cast<int>(t), " (", data_type_name(t), ")");
  }
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'dtype' = ", dtype->i,
                         " (allowed: ", names, ")"));
}

// indices' shape with `depth` inserted at axis.
Status one_hot_infer(InferContext& ctx) {
  const Dims& idx = ctx.input_shape(0);
  if (!idx.rank_known()) {
    ctx.set_output_shape(0, idx);
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(idx.rank()) + 1;
  KILN_ASSIGN_OR_RETURN(const int64_t axis, infer_axis(ctx.attr_int("axis", -1), rank, "OneHot"));
  Dim depth = Dim::unknown();
  if (const Tensor* t = ctx.input_constant(1); t != nullptr && t->numel() == 1 && t->data()) {
    double v = 0;
    switch (t->dtype()) {
      case DataType::kFloat32:
        v = t->data_as<float>()[0];
        break;
      case DataType::kFloat64:
        v = t->data_as<double>()[0];
        break;
      case DataType::kInt32:
        v = t->data_as<int32_t>()[0];
        break;
      case DataType::kInt64:
        v = static_cast<double>(t->data_as<int64_t>()[0]);
        break;
      default:
        v = -1;
        break;
    }
    if (v >= 1 && v < 1e15) depth = Dim::fixed(static_cast<int64_t>(v));
  }
  std::vector<Dim> out = idx.dims();
  out.insert(out.begin() + axis, depth);
  ctx.set_output(0, ctx.input_dtype(2), Dims(std::move(out)));
  return Status::Ok();
}

// [rank of X, number of non-zeros (data-dependent)].
Status non_zero_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  ctx.set_output_shape(
      0, Dims({x.rank_known() ? Dim::fixed(static_cast<int64_t>(x.rank())) : Dim::unknown(),
               Dim::unknown()}));
  return Status::Ok();
}

// Values and Indices: X with the axis dim replaced by k.
Status top_k_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  Dim k = Dim::unknown();
  if (ctx.since() < 10) {
    k = Dim::fixed(ctx.attr_int("k", 0));
  } else if (std::optional<DimValues> v = ctx.input_values(1); v && v->size() == 1) {
    k = (*v)[0].dim();
  }
  Dims out = x;
  if (x.rank_known()) {
    KILN_ASSIGN_OR_RETURN(const int64_t axis, infer_axis(ctx.attr_int("axis", -1),
                                                         static_cast<int64_t>(x.rank()), "TopK"));
    if (k.is_static() && x[axis].is_static() && (k.value < 0 || k.value > x[axis].value))
      return err(Code::kInvalidArgument, "TopK k = ", k.value, " is outside [0, ", x[axis].value,
                 "] for axis ", axis, " of X ", x.to_string());
    std::vector<Dim> dims = x.dims();
    dims[axis] = k;
    out = Dims(std::move(dims));
  }
  ctx.set_output(0, ctx.input_dtype(0), out);
  ctx.set_output(1, DataType::kInt64, out);
  return Status::Ok();
}

Status eye_like_infer(InferContext& ctx) {
  DataType dtype = ctx.input_dtype(0);
  if (ctx.has_attr("dtype"))
    if (const DataTypeInfo* info = data_type_info(static_cast<int32_t>(ctx.attr_int("dtype", 0))))
      dtype = info->type;
  ctx.set_output(0, dtype, ctx.input_shape(0));
  return Status::Ok();
}

// Data-dependent along the selected axis (or flattened without one).
Status compress_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  if (!ctx.has_attr("axis") || !x.rank_known()) {
    ctx.set_output_shape(0, unknown_dims(1));
    return Status::Ok();
  }
  KILN_ASSIGN_OR_RETURN(const int64_t axis, infer_axis(ctx.attr_int("axis", 0),
                                                       static_cast<int64_t>(x.rank()), "Compress"));
  std::vector<Dim> dims = x.dims();
  dims[axis] = Dim::unknown();
  ctx.set_output_shape(0, Dims(std::move(dims)));
  return Status::Ok();
}

Status unique_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  Dims y = unknown_dims(1);
  if (ctx.has_attr("axis") && x.rank_known()) {
    KILN_ASSIGN_OR_RETURN(const int64_t axis, infer_axis(ctx.attr_int("axis", 0),
                                                         static_cast<int64_t>(x.rank()), "Unique"));
    std::vector<Dim> dims = x.dims();
    dims[axis] = Dim::unknown();
    y = Dims(std::move(dims));
  }
  ctx.set_output(0, ctx.input_dtype(0), y);
  for (size_t i = 1; i < ctx.num_outputs(); ++i)
    ctx.set_output(i, DataType::kInt64, unknown_dims(1));
  return Status::Ok();
}

}  // namespace

void register_tensor_misc(OpRegistry& registry) {
  // Trilu writes zeros, so it needs numbers (or bool); opaque types are left out.
  registry.add(OpSchema("Trilu", 14)
                   .input("input", "T")
                   .input("k", "I", Arity::kOptional)
                   .output("output", "T")
                   .types("T", type_sets::with(type_sets::numeric(), {D::kBool}))
                   .types("I", {D::kInt64})
                   .attr_int_enum("upper", 1, {0, 1})
                   .fusion(FusionKind::kInjective)
                   .kernel(tensor_misc::trilu)
                   .infer(infer_same_as_input));

  // OneHot-11 accepts negative indices and axis. values only get copied, so T3 keeps every type.
  for (int64_t since : {9, 11}) {
    registry.add(OpSchema("OneHot", since)
                     .input("indices", "T1")
                     .input("depth", "T2")
                     .input("values", "T3")
                     .output("output", "T3")
                     .types("T1", numeric_no_bf16())
                     .types("T2", numeric_no_bf16())
                     .types("T3", tensor_types_v1())
                     .attr("axis", AttrType::kInt, int64_t{-1})
                     .fusion(FusionKind::kOpaque)
                     .kernel(tensor_misc::one_hot)
                     .infer(one_hot_infer));
  }

  // NonZero compares with zero: numbers and bool only. Its output shape depends on the values.
  registry.add(OpSchema("NonZero", 9)
                   .input("X", "T")
                   .output("Y", "I")
                   .types("T", type_sets::with(numeric_no_bf16(), {D::kBool}))
                   .types("I", {D::kInt64})
                   .fusion(FusionKind::kOpaque)
                   .kernel(tensor_misc::non_zero)
                   .infer(non_zero_infer));
  registry.add(OpSchema("NonZero", 13)
                   .input("X", "T")
                   .output("Y", "I")
                   .types("T", type_sets::with(type_sets::numeric(), {D::kBool}))
                   .types("I", {D::kInt64})
                   .fusion(FusionKind::kOpaque)
                   .kernel(tensor_misc::non_zero)
                   .infer(non_zero_infer));

  // TopK: k is an attribute in 1 and an input from 10; 11 adds integers, largest and sorted.
  registry.add(OpSchema("TopK", 1)
                   .input("X", "T")
                   .output("Values", "T")
                   .output("Indices", "I")
                   .types("T", type_sets::ieee_floats())
                   .types("I", {D::kInt64})
                   .attr("axis", AttrType::kInt, int64_t{-1})
                   .required_attr("k", AttrType::kInt)
                   .fusion(FusionKind::kOpaque)
                   .kernel(tensor_misc::top_k)
                   .infer(top_k_infer));
  for (int64_t since : {10, 11}) {
    OpSchema s("TopK", since);
    s.input("X", "T")
        .input("K", "I")
        .output("Values", "T")
        .output("Indices", "I")
        .types("T", since == 10 ? type_sets::ieee_floats() : numeric_no_bf16())
        .types("I", {D::kInt64})
        .attr("axis", AttrType::kInt, int64_t{-1})
        .fusion(FusionKind::kOpaque);
    if (since >= 11) s.attr_int_enum("largest", 1, {0, 1}).attr_int_enum("sorted", 1, {0, 1});
    s.kernel(tensor_misc::top_k).infer(top_k_infer);
    registry.add(std::move(s));
  }

  // CumSum-14 adds float16 and bfloat16.
  const std::vector<DataType> cumsum11 = {D::kUInt32, D::kUInt64,  D::kInt32,
                                          D::kInt64,  D::kFloat32, D::kFloat64};
  for (int64_t since : {11, 14}) {
    registry.add(OpSchema("CumSum", since)
                     .input("x", "T")
                     .input("axis", "T2")
                     .output("y", "T")
                     .types("T", since == 11
                                     ? cumsum11
                                     : type_sets::with(cumsum11, {D::kFloat16, D::kBFloat16}))
                     .types("T2", type_sets::index())
                     .attr_int_enum("exclusive", 0, {0, 1})
                     .attr_int_enum("reverse", 0, {0, 1})
                     .fusion(FusionKind::kOpaque)
                     .kernel(tensor_misc::cum_sum)
                     .infer(infer_same_as_input));
  }

  registry.add(OpSchema("Einsum", 12)
                   .input("Inputs", "T", Arity::kVariadic, 1)
                   .output("Output", "T")
                   .types("T", numeric_no_bf16())
                   .required_attr("equation", AttrType::kString)
                   .fusion(FusionKind::kOpaque)
                   .kernel(tensor_misc::einsum));

  const std::vector<DataType> eye_types = type_sets::with(numeric_no_bf16(), {D::kBool});
  registry.add(OpSchema("EyeLike", 9)
                   .input("input", "T1")
                   .output("output", "T2")
                   .types("T1", eye_types)
                   .types("T2", eye_types)
                   .attr("dtype", AttrType::kInt)
                   .attr("k", AttrType::kInt, int64_t{0})
                   .check(check_eye_like)
                   .fusion(FusionKind::kOpaque)
                   .kernel(tensor_misc::eye_like)
                   .infer(eye_like_infer));

  registry.add(OpSchema("ReverseSequence", 10)
                   .input("input", "T")
                   .input("sequence_lens", "I")
                   .output("Y", "T")
                   .types("T", tensor_types_v1())
                   .types("I", {D::kInt64})
                   .attr("batch_axis", AttrType::kInt, int64_t{1})
                   .attr("time_axis", AttrType::kInt, int64_t{0})
                   .fusion(FusionKind::kInjective)
                   .kernel(tensor_misc::reverse_sequence)
                   .infer(infer_same_as_input));

  // Compress-11 accepts a negative axis. The output shape depends on the condition values.
  for (int64_t since : {9, 11}) {
    registry.add(OpSchema("Compress", since)
                     .input("input", "T")
                     .input("condition", "T1")
                     .output("output", "T")
                     .types("T", tensor_types_v1())
                     .types("T1", {D::kBool})
                     .attr("axis", AttrType::kInt)
                     .fusion(FusionKind::kOpaque)
                     .kernel(tensor_misc::compress)
                     .infer(compress_infer));
  }

  // Unique sorts and compares, so it takes numbers and bool; its output shape depends on the
  // values, like NonZero.
  registry.add(OpSchema("Unique", 11)
                   .input("X", "T")
                   .output("Y", "T")
                   .output("indices", "I", Arity::kOptional)
                   .output("inverse_indices", "I", Arity::kOptional)
                   .output("counts", "I", Arity::kOptional)
                   .types("T", type_sets::with(numeric_no_bf16(), {D::kBool}))
                   .types("I", {D::kInt64})
                   .attr("axis", AttrType::kInt)
                   .attr_int_enum("sorted", 1, {0, 1})
                   .fusion(FusionKind::kOpaque)
                   .kernel(tensor_misc::unique)
                   .infer(unique_infer));
}

}  // namespace kiln::ops
