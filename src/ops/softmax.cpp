// Softmax, LogSoftmax, Hardmax.
//
// Revisions 1 and 11 coerce the input to 2-D at `axis` ([prod(d<axis), prod(d>=axis)]) and
// normalize over the second dim; revision 13 normalizes along the single `axis`. The results
// differ whenever axis is not the last dim, so both semantics are registered.
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

void register_softmax(OpRegistry& registry) {
  using D = DataType;
  const std::vector<DataType> floats_no_bf16 = {D::kFloat16, D::kFloat32, D::kFloat64};
  for (const char* name : {"Softmax", "LogSoftmax", "Hardmax"}) {
    for (int64_t since : {1, 11}) {
      registry.add(OpSchema(name, since)
                       .input("input", "T")
                       .output("output", "T")
                       .types("T", floats_no_bf16)
                       .attr("axis", ir::AttrType::kInt, int64_t{1})
                       .doc("input coerced to 2-D at axis; normalized over the flattened tail")
                       .fusion(FusionKind::kReduction));
    }
    registry.add(OpSchema(name, 13)
                     .input("input", "T")
                     .output("output", "T")
                     .types("T", type_sets::floats())
                     .attr("axis", ir::AttrType::kInt, int64_t{-1})
                     .doc("normalized along axis")
                     .fusion(FusionKind::kReduction));
  }
}

}  // namespace kiln::ops
