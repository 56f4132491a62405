// Expand (numpy-style broadcast to a shape) and Tile (repeat along each axis).
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

}  // namespace

void register_expand_tile(OpRegistry& registry) {
  for (int64_t since : {8, 13}) {
    registry.add(OpSchema("Expand", since)
                     .input("input", "T")
                     .input("shape", "I")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("I", {D::kInt64})
                     .fusion(FusionKind::kInjective));
  }
  for (int64_t since : {6, 13}) {
    registry.add(OpSchema("Tile", since)
                     .input("input", "T")
                     .input("repeats", "T1")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("T1", {D::kInt64})
                     .fusion(FusionKind::kInjective));
  }
}

}  // namespace kiln::ops
