// Indexed reads and writes: Gather, GatherElements, GatherND, ScatterElements, ScatterND, and the
// deprecated Scatter.
#include <string>
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// Scatter reductions: 16 adds add/mul, 18 max/min.
void add_reduction(OpSchema& s) {
  if (s.since() >= 18) {
    s.attr_enum("reduction", "none", {"none", "add", "mul", "max", "min"});
  } else if (s.since() >= 16) {
    s.attr_enum("reduction", "none", {"none", "add", "mul"});
  }
}

}  // namespace

void register_gather_scatter(OpRegistry& registry) {
  // 11 accepts negative axes and indices.
  for (int64_t since : {1, 11, 13}) {
    registry.add(OpSchema("Gather", since)
                     .input("data", "T")
                     .input("indices", "Tind")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("Tind", type_sets::index())
                     .attr("axis", AttrType::kInt, int64_t{0})
                     .fusion(FusionKind::kInjective));
  }
  for (int64_t since : {11, 13}) {
    registry.add(OpSchema("GatherElements", since)
                     .input("data", "T")
                     .input("indices", "Tind")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("Tind", type_sets::index())
                     .attr("axis", AttrType::kInt, int64_t{0})
                     .fusion(FusionKind::kInjective));
  }
  // GatherND-12 adds batch_dims.
  for (int64_t since : {11, 12, 13}) {
    OpSchema s("GatherND", since);
    s.input("data", "T")
        .input("indices", "I")
        .output("output", "T")
        .types("T", type_sets::all_tensor_at(since))
        .types("I", {D::kInt64})
        .fusion(FusionKind::kInjective);
    if (since >= 12) s.attr("batch_dims", AttrType::kInt, int64_t{0});
    registry.add(std::move(s));
  }

  // Scatters write at data-dependent positions, so they do not fuse as injective maps.
  for (int64_t since : {11, 13, 16, 18}) {
    OpSchema elements("ScatterElements", since);
    elements.input("data", "T")
        .input("indices", "Tind")
        .input("updates", "T")
        .output("output", "T")
        .types("T", type_sets::all_tensor_at(since))
        .types("Tind", type_sets::index())
        .attr("axis", AttrType::kInt, int64_t{0})
        .fusion(FusionKind::kOpaque);
    add_reduction(elements);
    registry.add(std::move(elements));

    OpSchema nd("ScatterND", since);
    nd.input("data", "T")
        .input("indices", "I")
        .input("updates", "T")
        .output("output", "T")
        .types("T", type_sets::all_tensor_at(since))
        .types("I", {D::kInt64})
        .fusion(FusionKind::kOpaque);
    add_reduction(nd);
    registry.add(std::move(nd));
  }

  // Scatter-9 is ScatterElements without negative indices; ONNX deprecated the name at 11.
  for (int64_t since : {9, 11}) {
    registry.add(OpSchema("Scatter", since)
                     .input("data", "T")
                     .input("indices", "Tind")
                     .input("updates", "T")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("Tind", type_sets::index())
                     .attr("axis", AttrType::kInt, int64_t{0})
                     .fusion(FusionKind::kOpaque)
                     .unsupported("deprecated since opset 11; use ScatterElements"));
  }
}

}  // namespace kiln::ops
