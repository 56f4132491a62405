// Binary operators with multidirectional broadcasting: arithmetic, comparison, logic, bitwise.
//
// Revisions before opset 7 had `broadcast`/`axis` attributes; kiln starts at the revision in
// effect at opset 7, which already uses numpy-style broadcasting.
#include <initializer_list>
#include <vector>

#include "core/errors.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

std::vector<DataType> floats_no_bf16() {
  return {D::kFloat16, D::kFloat32, D::kFloat64};
}
std::vector<DataType> numeric_no_bf16() {
  auto v = type_sets::ints();
  v.insert(v.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  return v;
}
// The arithmetic ops before opset 14 covered only the 32/64-bit integers.
std::vector<DataType> arith7() {
  return {D::kUInt32, D::kUInt64, D::kInt32, D::kInt64, D::kFloat16, D::kFloat32, D::kFloat64};
}

struct Revision {
  int64_t since;
  std::vector<DataType> types;
};

struct BinaryOp {
  const char* name;
  bool predicate;  // output is bool (T1) rather than the input type T
  std::vector<Revision> revisions;
};

OpSchema binary(const BinaryOp& op, const Revision& rev) {
  OpSchema s(op.name, rev.since);
  s.input("A", "T").input("B", "T").types("T", rev.types);
  if (op.predicate) {
    s.output("C", "T1").types("T1", {D::kBool});
  } else {
    s.output("C", "T");
  }
  s.fusion(FusionKind::kBroadcast);
  return s;
}

// ONNX defines integer Mod (fmod = 0, sign of the divisor) only for integers; floating-point
// inputs must ask for C fmod semantics explicitly.
void check_mod(const ir::Node& node, const OpSchema&, std::vector<Status>& problems) {
  const ir::Attribute* fmod = node.attr("fmod");
  if (fmod != nullptr && fmod->i != 0) return;
  const ir::Value* a = node.input(0);
  if (a == nullptr || !a->type.known() || !data_type_info(a->type.dtype).is_float) return;
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'fmod' = 0 with ",
                         data_type_name(a->type.dtype),
                         " inputs: floating-point Mod requires fmod = 1 (allowed: 1)"));
}

void check_bitshift(const ir::Node& node, const OpSchema&, std::vector<Status>& problems) {
  const ir::Attribute* direction = node.attr("direction");
  if (direction == nullptr || direction->s == "LEFT" || direction->s == "RIGHT") return;
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'direction' = \"",
                         direction->s, "\" (allowed: \"LEFT\", \"RIGHT\")"));
}

}  // namespace

void register_binary(OpRegistry& registry) {
  using ir::AttrType;
  const auto numeric = type_sets::numeric();
  const std::vector<BinaryOp> ops = {
      {"Add",
       false,
       {{7, arith7()}, {13, type_sets::with(arith7(), {D::kBFloat16})}, {14, numeric}}},
      {"Sub",
       false,
       {{7, arith7()}, {13, type_sets::with(arith7(), {D::kBFloat16})}, {14, numeric}}},
      {"Mul",
       false,
       {{7, arith7()}, {13, type_sets::with(arith7(), {D::kBFloat16})}, {14, numeric}}},
      {"Div",
       false,
       {{7, arith7()}, {13, type_sets::with(arith7(), {D::kBFloat16})}, {14, numeric}}},
      {"And", true, {{7, {D::kBool}}}},
      {"Or", true, {{7, {D::kBool}}}},
      {"Xor", true, {{7, {D::kBool}}}},
      // Equal-19 adds string inputs, which kiln leaves out; the entry keeps 19-21 distinct.
      {"Equal",
       true,
       {{7, {D::kBool, D::kInt32, D::kInt64}},
        {11, type_sets::with(numeric_no_bf16(), {D::kBool})},
        {13, type_sets::with(numeric, {D::kBool})},
        {19, type_sets::with(numeric, {D::kBool})}}},
      {"Less", true, {{7, floats_no_bf16()}, {9, numeric_no_bf16()}, {13, numeric}}},
      {"Greater", true, {{7, floats_no_bf16()}, {9, numeric_no_bf16()}, {13, numeric}}},
      {"LessOrEqual", true, {{12, numeric_no_bf16()}, {16, numeric}}},
      {"GreaterOrEqual", true, {{12, numeric_no_bf16()}, {16, numeric}}},
      {"BitwiseAnd", false, {{18, type_sets::ints()}}},
      {"BitwiseOr", false, {{18, type_sets::ints()}}},
      {"BitwiseXor", false, {{18, type_sets::ints()}}},
  };
  for (const BinaryOp& op : ops)
    for (const Revision& rev : op.revisions) registry.add(binary(op, rev));

  // Pow-12 lets the exponent have its own type T1.
  registry.add(OpSchema("Pow", 7)
                   .input("X", "T")
                   .input("Y", "T")
                   .output("Z", "T")
                   .types("T", floats_no_bf16())
                   .fusion(FusionKind::kBroadcast));
  const std::vector<DataType> pow_base = {D::kInt32, D::kInt64, D::kFloat16, D::kFloat32,
                                          D::kFloat64};
  for (int64_t since : {12, 13, 15}) {
    registry.add(OpSchema("Pow", since)
                     .input("X", "T")
                     .input("Y", "T1")
                     .output("Z", "T")
                     .types("T", since == 12 ? pow_base : type_sets::with(pow_base, {D::kBFloat16}))
                     .types("T1", since == 15 ? numeric : numeric_no_bf16())
                     .fusion(FusionKind::kBroadcast));
  }

  for (int64_t since : {10, 13}) {
    registry.add(OpSchema("Mod", since)
                     .input("A", "T")
                     .input("B", "T")
                     .output("C", "T")
                     .types("T", since == 10 ? numeric_no_bf16() : numeric)
                     .attr_int_enum("fmod", 0, {0, 1})
                     .check(check_mod)
                     .fusion(FusionKind::kBroadcast));
  }

  // direction is required, so it cannot be an attr_enum (those carry a default); the value set
  // is checked per node instead.
  registry.add(OpSchema("BitShift", 11)
                   .input("X", "T")
                   .input("Y", "T")
                   .output("Z", "T")
                   .types("T", type_sets::unsigned_ints())
                   .required_attr("direction", AttrType::kString)
                   .check(check_bitshift)
                   .fusion(FusionKind::kBroadcast));
}

}  // namespace kiln::ops
