// Shape-only rearrangements that keep the element order: Reshape, Flatten, Squeeze, Unsqueeze.
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

}  // namespace

void register_reshape(OpRegistry& registry) {
  // Reshape-14 adds allowzero (a 0 in `shape` means an empty dimension instead of "copy").
  for (int64_t since : {5, 13, 14, 19, 21}) {
    OpSchema s("Reshape", since);
    s.input("data", "T")
        .input("shape", "I")
        .output("reshaped", "T")
        .types("T", type_sets::all_tensor_at(since))
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
                                     : type_sets::all_tensor_at(since))
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
    squeeze.output("squeezed", "T")
        .types("T", type_sets::all_tensor_at(since))
        .fusion(FusionKind::kInjective);
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
        .fusion(FusionKind::kInjective);
    registry.add(std::move(unsqueeze));
  }
}

}  // namespace kiln::ops
