// Expand (numpy-style broadcast to a shape) and Tile (repeat along each axis).
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

// ONNX's "every tensor type" list as it grew: bfloat16 joined at opset 13. Both ops only copy
// elements.
std::vector<DataType> tensor_types(int64_t level) {
  std::vector<DataType> types = type_sets::all_tensor();
  if (level < 13) std::erase(types, D::kBFloat16);
  return types;
}

}  // namespace

void register_expand_tile(OpRegistry& registry) {
  for (int64_t since : {8, 13}) {
    registry.add(OpSchema("Expand", since)
                     .input("input", "T")
                     .input("shape", "I")
                     .output("output", "T")
                     .types("T", tensor_types(since))
                     .types("I", {D::kInt64})
                     .fusion(FusionKind::kInjective));
  }
  for (int64_t since : {6, 13}) {
    registry.add(OpSchema("Tile", since)
                     .input("input", "T")
                     .input("repeats", "T1")
                     .output("output", "T")
                     .types("T", tensor_types(since))
                     .types("T1", {D::kInt64})
                     .fusion(FusionKind::kInjective));
  }
}

}  // namespace kiln::ops
