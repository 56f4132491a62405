// ArgMax, ArgMin: index of the extreme value along one axis.
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

void register_arg_minmax(OpRegistry& registry) {
  using D = DataType;
  auto numeric_no_bf16 = type_sets::ints();
  numeric_no_bf16.insert(numeric_no_bf16.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  // Revision 11 allows negative axis; 12 adds select_last_index; 13 adds bfloat16.
  for (const char* name : {"ArgMax", "ArgMin"}) {
    for (int64_t since : {1, 11, 12, 13}) {
      OpSchema s(name, since);
      s.input("data", "T")
          .output("reduced", "I")
          .types("T", since < 13 ? numeric_no_bf16 : type_sets::numeric())
          .types("I", {D::kInt64})
          .attr("axis", ir::AttrType::kInt, int64_t{0})
          .attr_int_enum("keepdims", 1, {0, 1});
      if (since >= 12) s.attr_int_enum("select_last_index", 0, {0, 1});
      s.fusion(FusionKind::kReduction);
      registry.add(std::move(s));
    }
  }
}

}  // namespace kiln::ops
