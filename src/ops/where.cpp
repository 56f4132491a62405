// Where: elementwise select between two broadcast tensors.
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

void register_where(OpRegistry& registry) {
  // Where only moves elements, so it keeps ONNX's full type list (string and complex included);
  // revision 16 adds bfloat16.
  std::vector<DataType> types9;
  for (DataType t : type_sets::all_tensor())
    if (t != DataType::kBFloat16) types9.push_back(t);
  for (int64_t since : {9, 16}) {
    registry.add(OpSchema("Where", since)
                     .input("condition", "B")
                     .input("X", "T")
                     .input("Y", "T")
                     .output("output", "T")
                     .types("B", {DataType::kBool})
                     .types("T", since == 9 ? types9 : type_sets::all_tensor())
                     .fusion(FusionKind::kBroadcast));
  }
}

}  // namespace kiln::ops
