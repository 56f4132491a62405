// Clip: bounds from attributes (revision 6) or from optional scalar inputs (11 and later).
#include <limits>
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

void register_clip(OpRegistry& registry) {
  using D = DataType;
  using ir::AttrType;
  const std::vector<DataType> floats_no_bf16 = {D::kFloat16, D::kFloat32, D::kFloat64};
  auto numeric12 = type_sets::ints();
  numeric12.insert(numeric12.end(), floats_no_bf16.begin(), floats_no_bf16.end());

  // The unset bounds default to the float range, i.e. no clipping.
  constexpr float kLowest = std::numeric_limits<float>::lowest();
  constexpr float kMax = std::numeric_limits<float>::max();
  registry.add(OpSchema("Clip", 6)
                   .input("input", "T")
                   .output("output", "T")
                   .types("T", floats_no_bf16)
                   .attr("max", AttrType::kFloat, kMax)
                   .attr("min", AttrType::kFloat, kLowest)
                   .fusion(FusionKind::kElementwise));

  const std::vector<std::pair<int64_t, std::vector<DataType>>> revisions = {
      {11, floats_no_bf16}, {12, numeric12}, {13, type_sets::numeric()}};
  for (const auto& [since, types] : revisions) {
    // min and max are scalars, so the op stays one-to-one on `input`.
    registry.add(OpSchema("Clip", since)
                     .input("input", "T")
                     .input("min", "T", Arity::kOptional)
                     .input("max", "T", Arity::kOptional)
                     .output("output", "T")
                     .types("T", types)
                     .fusion(FusionKind::kElementwise));
  }
}

}  // namespace kiln::ops
