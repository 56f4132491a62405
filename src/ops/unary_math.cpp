// Unary pointwise math and logic: Abs … Atanh, IsNaN, IsInf, Not, BitwiseNot.
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

// Most float ops gained bfloat16 only at opset 13; the older revisions stay without it.
std::vector<DataType> floats_no_bf16() {
  return {D::kFloat16, D::kFloat32, D::kFloat64};
}
std::vector<DataType> numeric_no_bf16() {
  auto v = type_sets::ints();
  v.insert(v.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  return v;
}
std::vector<DataType> neg_types(bool bf16) {
  std::vector<DataType> v = type_sets::signed_ints();
  v.insert(v.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  if (bf16) v.push_back(D::kBFloat16);
  return v;
}

struct Revision {
  int64_t since;
  std::vector<DataType> types;
};

// One input X, one output Y of the same type T; only names and type lists differ.
struct UnaryOp {
  const char* name;
  const char* input;
  const char* output;
  std::vector<Revision> revisions;
};

}  // namespace

void register_unary_math(OpRegistry& registry) {
  const std::vector<UnaryOp> ops = {
      {"Abs", "X", "Y", {{6, numeric_no_bf16()}, {13, type_sets::numeric()}}},
      {"Neg", "X", "Y", {{6, neg_types(false)}, {13, neg_types(true)}}},
      {"Exp", "input", "output", {{6, floats_no_bf16()}, {13, type_sets::floats()}}},
      {"Log", "input", "output", {{6, floats_no_bf16()}, {13, type_sets::floats()}}},
      {"Sqrt", "X", "Y", {{6, floats_no_bf16()}, {13, type_sets::floats()}}},
      {"Reciprocal", "X", "Y", {{6, floats_no_bf16()}, {13, type_sets::floats()}}},
      {"Floor", "X", "Y", {{6, floats_no_bf16()}, {13, type_sets::floats()}}},
      {"Ceil", "X", "Y", {{6, floats_no_bf16()}, {13, type_sets::floats()}}},
      {"Round", "X", "Y", {{11, floats_no_bf16()}}},
      {"Sign", "input", "output", {{9, numeric_no_bf16()}, {13, type_sets::numeric()}}},
      // Erf-9 also accepted integer inputs; 13 narrowed it to floats.
      {"Erf", "input", "output", {{9, numeric_no_bf16()}, {13, type_sets::floats()}}},
      {"Sin", "input", "output", {{7, floats_no_bf16()}}},
      {"Cos", "input", "output", {{7, floats_no_bf16()}}},
      {"Tan", "input", "output", {{7, floats_no_bf16()}}},
      {"Asin", "input", "output", {{7, floats_no_bf16()}}},
      {"Acos", "input", "output", {{7, floats_no_bf16()}}},
      {"Atan", "input", "output", {{7, floats_no_bf16()}}},
      {"Sinh", "input", "output", {{9, floats_no_bf16()}}},
      {"Cosh", "input", "output", {{9, floats_no_bf16()}}},
      {"Asinh", "input", "output", {{9, floats_no_bf16()}}},
      {"Acosh", "input", "output", {{9, floats_no_bf16()}}},
      {"Atanh", "input", "output", {{9, floats_no_bf16()}}},
      {"Not", "X", "Y", {{1, {D::kBool}}}},
      {"BitwiseNot", "X", "Y", {{18, type_sets::ints()}}},
  };
  for (const UnaryOp& op : ops) {
    for (const Revision& rev : op.revisions) {
      registry.add(OpSchema(op.name, rev.since)
                       .input(op.input, "T")
                       .output(op.output, "T")
                       .types("T", rev.types)
                       .fusion(FusionKind::kElementwise));
    }
  }

  // IsNaN-20 and IsInf-20 only add float8 inputs, which kiln leaves out; the revisions still
  // need entries so that opsets 20-21 do not resolve to the older ones.
  for (int64_t since : {9, 13, 20}) {
    registry.add(OpSchema("IsNaN", since)
                     .input("X", "T1")
                     .output("Y", "T2")
                     .types("T1", since == 9 ? floats_no_bf16() : type_sets::floats())
                     .types("T2", {D::kBool})
                     .fusion(FusionKind::kElementwise));
  }
  for (int64_t since : {10, 20}) {
    registry.add(OpSchema("IsInf", since)
                     .input("X", "T1")
                     .output("Y", "T2")
                     .types("T1", since == 10 ? std::vector<DataType>{D::kFloat32, D::kFloat64}
                                              : type_sets::floats())
                     .types("T2", {D::kBool})
                     .attr_int_enum("detect_negative", 1, {0, 1})
                     .attr_int_enum("detect_positive", 1, {0, 1})
                     .fusion(FusionKind::kElementwise));
  }
}

}  // namespace kiln::ops
