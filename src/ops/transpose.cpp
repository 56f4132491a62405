// Transpose: permutes the axes (reversed when perm is absent).
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

// ONNX's "every tensor type" list as it grew: bfloat16 joined at opset 13, the float8 types at 19
// and int4/uint4 at 21. Transpose never looks at element values, so it takes all of them.
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

void register_transpose(OpRegistry& registry) {
  // 21 adds the float8 and 4-bit types in one step.
  for (int64_t since : {1, 13, 21}) {
    registry.add(OpSchema("Transpose", since)
                     .input("data", "T")
                     .output("transposed", "T")
                     .types("T", tensor_types(since))
                     .attr("perm", ir::AttrType::kInts)
                     .fusion(FusionKind::kInjective));
  }
}

}  // namespace kiln::ops
