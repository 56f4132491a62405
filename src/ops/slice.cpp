// Slice: strided windows along chosen axes.
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

}  // namespace

void register_slice(OpRegistry& registry) {
  using ir::AttrType;
  // Revision 1 takes starts/ends/axes as attributes and has no steps.
  registry.add(OpSchema("Slice", 1)
                   .input("data", "T")
                   .output("output", "T")
                   .types("T", type_sets::all_tensor_at(1))
                   .required_attr("starts", AttrType::kInts)
                   .required_attr("ends", AttrType::kInts)
                   .attr("axes", AttrType::kInts)
                   .fusion(FusionKind::kInjective));

  // From 10 they are inputs, with steps; 11 documents negative axes.
  for (int64_t since : {10, 11, 13}) {
    registry.add(OpSchema("Slice", since)
                     .input("data", "T")
                     .input("starts", "Tind")
                     .input("ends", "Tind")
                     .input("axes", "Tind", Arity::kOptional)
                     .input("steps", "Tind", Arity::kOptional)
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("Tind", type_sets::index())
                     .fusion(FusionKind::kInjective));
  }
}

}  // namespace kiln::ops
