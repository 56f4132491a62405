// Dropout: the identity at inference; training_mode (12+) asks for random masking.
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

void register_dropout(OpRegistry& registry) {
  using D = DataType;
  using ir::AttrType;
  const std::vector<DataType> floats = {D::kFloat16, D::kFloat32, D::kFloat64};

  // 7 returns the mask in X's type, 10 as bool.
  for (int64_t since : {7, 10}) {
    OpSchema s("Dropout", since);
    s.input("data", "T")
        .output("output", "T")
        .output("mask", since == 7 ? "T" : "T1", Arity::kOptional)
        .types("T", floats)
        .attr("ratio", AttrType::kFloat, 0.5f)
        .fusion(FusionKind::kElementwise);
    if (since == 10) s.types("T1", {D::kBool});
    registry.add(std::move(s));
  }

  // 12 moves ratio to an input and adds training_mode and seed; 13 adds bfloat16 data.
  for (int64_t since : {12, 13}) {
    std::vector<DataType> data_types = floats;
    if (since == 13) data_types.push_back(D::kBFloat16);
    registry.add(OpSchema("Dropout", since)
                     .input("data", "T")
                     .input("ratio", "T1", Arity::kOptional)
                     .input("training_mode", "T2", Arity::kOptional)
                     .output("output", "T")
                     .output("mask", "T2", Arity::kOptional)
                     .types("T", data_types)
                     .types("T1", floats)
                     .types("T2", {D::kBool})
                     .attr("seed", AttrType::kInt)
                     .fusion(FusionKind::kElementwise));
  }
}

}  // namespace kiln::ops
