// Transpose: permutes the axes (reversed when perm is absent).
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

}  // namespace

void register_transpose(OpRegistry& registry) {
  // 21 adds the float8 and 4-bit types in one step.
  for (int64_t since : {1, 13, 21}) {
    registry.add(OpSchema("Transpose", since)
                     .input("data", "T")
                     .output("transposed", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .attr("perm", ir::AttrType::kInts)
                     .fusion(FusionKind::kInjective));
  }
}

}  // namespace kiln::ops
