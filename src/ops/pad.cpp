// Pad: constant, reflect, edge and (from 19) wrap padding.
#include <string>
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

// ONNX's "every tensor type" list as it grew: bfloat16 joined at opset 13, the float8 types at 19
// and int4/uint4 at 21. Pad only copies elements and the fill value, so it takes all of them;
// Pad-19 lagged and kept the opset-13 list.
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

void register_pad(OpRegistry& registry) {
  using ir::AttrType;
  // Revision 2 takes pads and the fill value as attributes and floats only.
  registry.add(OpSchema("Pad", 2)
                   .input("data", "T")
                   .output("output", "T")
                   .types("T", {D::kFloat16, D::kFloat32, D::kFloat64})
                   .attr_enum("mode", "constant", {"constant", "reflect", "edge"})
                   .required_attr("pads", AttrType::kInts)
                   .attr("value", AttrType::kFloat, 0.0f)
                   .fusion(FusionKind::kInjective));

  // From 11 pads and the fill value are inputs; 11 covers the numeric types, 13 all of them;
  // 18 adds the axes input, 19 the wrap mode.
  for (int64_t since : {11, 13, 18, 19, 21}) {
    std::vector<DataType> types = type_sets::ints();
    types.insert(types.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
    if (since >= 13) types = tensor_types(since == 19 ? 13 : since);

    std::vector<std::string> modes = {"constant", "reflect", "edge"};
    if (since >= 19) modes.push_back("wrap");

    OpSchema s("Pad", since);
    s.input("data", "T").input("pads", "I").input("constant_value", "T", Arity::kOptional);
    if (since >= 18) s.input("axes", "Tind", Arity::kOptional).types("Tind", type_sets::index());
    s.output("output", "T")
        .types("T", types)
        .types("I", {D::kInt64})
        .attr_enum("mode", "constant", modes)
        .fusion(FusionKind::kInjective);
    registry.add(std::move(s));
  }
}

}  // namespace kiln::ops
