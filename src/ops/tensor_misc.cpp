// Assorted tensor ops: Trilu, OneHot, NonZero, TopK, CumSum, Einsum, EyeLike, ReverseSequence,
// Compress and Unique.
#include <initializer_list>
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
                   .kernel(tensor_misc::trilu));

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
                     .kernel(tensor_misc::one_hot));
  }

  // NonZero compares with zero: numbers and bool only. Its output shape depends on the values.
  registry.add(OpSchema("NonZero", 9)
                   .input("X", "T")
                   .output("Y", "I")
                   .types("T", type_sets::with(numeric_no_bf16(), {D::kBool}))
                   .types("I", {D::kInt64})
                   .fusion(FusionKind::kOpaque)
                   .kernel(tensor_misc::non_zero));
  registry.add(OpSchema("NonZero", 13)
                   .input("X", "T")
                   .output("Y", "I")
                   .types("T", type_sets::with(type_sets::numeric(), {D::kBool}))
                   .types("I", {D::kInt64})
                   .fusion(FusionKind::kOpaque)
                   .kernel(tensor_misc::non_zero));

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
                   .kernel(tensor_misc::top_k));
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
    s.kernel(tensor_misc::top_k);
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
                     .kernel(tensor_misc::cum_sum));
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
                   .kernel(tensor_misc::eye_like));

  registry.add(OpSchema("ReverseSequence", 10)
                   .input("input", "T")
                   .input("sequence_lens", "I")
                   .output("Y", "T")
                   .types("T", tensor_types_v1())
                   .types("I", {D::kInt64})
                   .attr("batch_axis", AttrType::kInt, int64_t{1})
                   .attr("time_axis", AttrType::kInt, int64_t{0})
                   .fusion(FusionKind::kInjective)
                   .kernel(tensor_misc::reverse_sequence));

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
                     .kernel(tensor_misc::compress));
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
                   .kernel(tensor_misc::unique));
}

}  // namespace kiln::ops
