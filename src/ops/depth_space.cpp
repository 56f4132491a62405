// DepthToSpace and SpaceToDepth: move channel blocks into spatial blocks and back.
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

}  // namespace

void register_depth_space(OpRegistry& registry) {
  // DepthToSpace-11 adds the CRD (column-row-depth, PyTorch PixelShuffle) order beside DCR.
  for (int64_t since : {1, 11, 13}) {
    OpSchema s("DepthToSpace", since);
    s.input("input", "T")
        .output("output", "T")
        .types("T", type_sets::all_tensor_at(since))
        .required_attr("blocksize", AttrType::kInt)
        .fusion(FusionKind::kInjective);
    if (since >= 11) s.attr_enum("mode", "DCR", {"DCR", "CRD"});
    registry.add(std::move(s));
  }
  for (int64_t since : {1, 13}) {
    registry.add(OpSchema("SpaceToDepth", since)
                     .input("input", "T")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .required_attr("blocksize", AttrType::kInt)
                     .fusion(FusionKind::kInjective));
  }
}

}  // namespace kiln::ops
