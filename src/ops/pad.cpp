// Pad: constant, reflect, edge and (from 19) wrap padding.
#include <string>
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

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
    if (since >= 13) types = type_sets::all_tensor_at(since == 19 ? 13 : since);

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
