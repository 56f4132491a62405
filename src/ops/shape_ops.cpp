// Shape metadata and constants: Shape, Size, Constant, ConstantOfShape, Identity, Range.
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// Constant carries its value in exactly one attribute; kiln has no sparse tensors.
void check_constant(const ir::Node& node, const OpSchema& schema, std::vector<Status>& problems) {
  std::string given, names;
  int count = 0;
  for (const AttrSpec& spec : schema.attrs()) {
    names += (names.empty() ? "" : ", ") + spec.name;
    if (node.attr(spec.name) == nullptr) continue;
    given += (given.empty() ? "'" : ", '") + spec.name + "'";
    ++count;
  }
  if (node.attr("sparse_value") != nullptr && schema.find_attr("sparse_value") != nullptr) {
    problems.push_back(err(Code::kUnsupportedFeature,
                           "attribute 'sparse_value': sparse constants are not supported; store "
                           "the value densely in 'value'"));
  }
  if (count > 1) {
    problems.push_back(err(Code::kAttributeValueUnsupported, "attributes ", given,
                           " set together (allowed: exactly one of ", names, ")"));
  } else if (count == 0 && schema.attrs().size() > 1) {
    // Revisions 1 and 9 have the single required 'value', reported by the generic check.
    problems.push_back(
        err(Code::kMissingAttribute, "no value attribute (allowed: exactly one of ", names, ")"));
  }
}

// ConstantOfShape's fill value is a one-element tensor.
void check_constant_of_shape(const ir::Node& node, const OpSchema&, std::vector<Status>& problems) {
  const ir::Attribute* value = node.attr("value");
  if (value == nullptr || value->type != AttrType::kTensor || value->t.numel() == 1) return;
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'value' has ",
                         value->t.numel(), " elements (allowed: exactly 1)"));
}

void register_constant(OpRegistry& registry) {
  // Constant-1 holds floats only; 9 any tensor; 11 makes value optional beside sparse_value;
  // 12 adds the value_* shorthands.
  for (int64_t since : {1, 9, 11, 12, 13, 19, 21}) {
    OpSchema s("Constant", since);
    s.output("output", "T")
        .types("T", since == 1 ? std::vector<DataType>{D::kFloat16, D::kFloat32, D::kFloat64}
                               : type_sets::all_tensor_at(since))
        .fusion(FusionKind::kOpaque)
        .check(check_constant);
    if (since < 11) {
      s.required_attr("value", AttrType::kTensor);
    } else {
      s.attr("value", AttrType::kTensor).attr("sparse_value", AttrType::kSparseTensor);
    }
    if (since >= 12) {
      s.attr("value_float", AttrType::kFloat)
          .attr("value_floats", AttrType::kFloats)
          .attr("value_int", AttrType::kInt)
          .attr("value_ints", AttrType::kInts)
          .attr("value_string", AttrType::kString)
          .attr("value_strings", AttrType::kStrings);
    }
    registry.add(std::move(s));
  }
}

}  // namespace

void register_shape_ops(OpRegistry& registry) {
  // Shape-15 adds start/end to take a slice of the shape; end has no default (the rank).
  for (int64_t since : {1, 13, 15, 19, 21}) {
    OpSchema s("Shape", since);
    s.input("data", "T")
        .output("shape", "T1")
        .types("T", type_sets::all_tensor_at(since))
        .types("T1", {D::kInt64})
        .fusion(FusionKind::kOpaque);
    if (since >= 15) s.attr("start", AttrType::kInt, int64_t{0}).attr("end", AttrType::kInt);
    registry.add(std::move(s));
  }

  for (int64_t since : {1, 13, 19, 21}) {
    registry.add(OpSchema("Size", since)
                     .input("data", "T")
                     .output("size", "T1")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("T1", {D::kInt64})
                     .fusion(FusionKind::kOpaque));
  }

  register_constant(registry);

  // The fill value defaults to float 0. 20 adds bfloat16 (and float8, left out), 21 adds
  // int4/uint4 (left out): 20 and 21 keep distinct entries with the same kiln types.
  for (int64_t since : {9, 20, 21}) {
    std::vector<DataType> types = type_sets::ints();
    types.insert(types.end(), {D::kFloat16, D::kFloat32, D::kFloat64, D::kBool});
    if (since >= 20) types.push_back(D::kBFloat16);
    registry.add(OpSchema("ConstantOfShape", since)
                     .input("input", "T1")
                     .output("output", "T2")
                     .types("T1", {D::kInt64})
                     .types("T2", types)
                     .attr("value", AttrType::kTensor)
                     .fusion(FusionKind::kOpaque)
                     .check(check_constant_of_shape));
  }

  // Identity-14 and 16 add sequence and optional values, which kiln does not model; their
  // entries keep the tensor types.
  for (int64_t since : {1, 13, 14, 16, 19, 21}) {
    registry.add(OpSchema("Identity", since)
                     .input("input", since >= 14 ? "V" : "T")
                     .output("output", since >= 14 ? "V" : "T")
                     .types(since >= 14 ? "V" : "T", type_sets::all_tensor_at(since))
                     .fusion(FusionKind::kElementwise));
  }

  // Range's length depends on the input values.
  registry.add(OpSchema("Range", 11)
                   .input("start", "T")
                   .input("limit", "T")
                   .input("delta", "T")
                   .output("output", "T")
                   .types("T", {D::kFloat32, D::kFloat64, D::kInt16, D::kInt32, D::kInt64})
                   .fusion(FusionKind::kOpaque));
}

}  // namespace kiln::ops
