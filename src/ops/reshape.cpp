// Shape-only rearrangements that keep the element order: Reshape, Flatten, Squeeze, Unsqueeze.
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// ONNX's "every tensor type" list as it grew: bfloat16 joined at opset 13, the float8 types at 19
// and int4/uint4 at 21. These ops never look at element values, so they take all of them.
std::vector<DataType> tensor_types(int64_t level) {
  std::vector<DataType> types = type_sets::all_tensor();
  if (level < 13) std::erase(types, D::kBFloat16);
  if (level >= 19)
    types.insert(types.end(),
                 {D::kFloat8E4M3FN, D::kFloat8E4M3FNUZ, D::kFloat8E5M2, D::kFloat8E5M2FNUZ});
  if (level >= 21) types.insert(types.end(), {D::kUInt4, D::kInt4});
  return types;
}

}  // namespace

void register_reshape(OpRegistry& registry) {
  // Reshape-14 adds allowzero (a 0 in `shape` means an empty dimension instead of "copy").
  for (int64_t since : {5, 13, 14, 19, 21}) {
    OpSchema s("Reshape", since);
    s.input("data", "T")
        .input("shape", "I")
        .output("reshaped", "T")
        .types("T", tensor_types(since))
        .types("I", {D::kInt64})
        .fusion(FusionKind::kInjective);
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
                                     : tensor_types(since))
                     .attr("axis", AttrType::kInt, int64_t{1})
                     .fusion(FusionKind::kInjective));
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
    squeeze.output("squeezed", "T").types("T", tensor_types(since)).fusion(FusionKind::kInjective);
    registry.add(std::move(squeeze));

    OpSchema unsqueeze("Unsqueeze", since);
    unsqueeze.input("data", "T");
    if (since >= 13) {
      unsqueeze.input("axes", "I").types("I", {D::kInt64});
    } else {
      unsqueeze.required_attr("axes", AttrType::kInts);
    }
    unsqueeze.output("expanded", "T")
        .types("T", tensor_types(since))
        .fusion(FusionKind::kInjective);
    registry.add(std::move(unsqueeze));
  }
}

}  // namespace kiln::ops
