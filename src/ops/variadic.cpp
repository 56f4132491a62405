// Variadic pointwise reductions over inputs: Max, Min, Mean, Sum.
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

std::vector<DataType> floats_no_bf16() {
  return {D::kFloat16, D::kFloat32, D::kFloat64};
}
std::vector<DataType> numeric_no_bf16() {
  auto v = type_sets::ints();
  v.insert(v.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  return v;
}

struct Revision {
  int64_t since;
  std::vector<DataType> types;
};

}  // namespace

void register_variadic(OpRegistry& registry) {
  struct VariadicOp {
    const char* name;
    const char* output;
    std::vector<Revision> revisions;
  };
  const std::vector<VariadicOp> ops = {
      {"Max",
       "max",
       {{6, floats_no_bf16()},
        {8, floats_no_bf16()},
        {12, numeric_no_bf16()},
        {13, type_sets::numeric()}}},
      {"Min",
       "min",
       {{6, floats_no_bf16()},
        {8, floats_no_bf16()},
        {12, numeric_no_bf16()},
        {13, type_sets::numeric()}}},
      {"Mean", "mean", {{6, floats_no_bf16()}, {8, floats_no_bf16()}, {13, type_sets::floats()}}},
      {"Sum", "sum", {{6, floats_no_bf16()}, {8, floats_no_bf16()}, {13, type_sets::floats()}}},
  };
  for (const VariadicOp& op : ops) {
    for (const Revision& rev : op.revisions) {
      // Revision 6 (in effect at opset 7) requires all inputs to have one shape; broadcasting
      // arrived with revision 8.
      registry.add(OpSchema(op.name, rev.since)
                       .input("data_0", "T", Arity::kVariadic, 1)
                       .output(op.output, "T")
                       .types("T", rev.types)
                       .fusion(rev.since < 8 ? FusionKind::kElementwise : FusionKind::kBroadcast));
    }
  }
}

}  // namespace kiln::ops
