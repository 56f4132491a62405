// Control flow with graph-valued attributes: If, Loop and Scan.
//
// Their values may be of any type, so they keep ONNX's full tensor type lists. The sequence and
// optional values that 13 and 16 admit are outside kiln's value model; those revisions are
// registered with their tensor types.
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// ONNX's "every tensor type" list as it grew. For these ops bfloat16 joined at 16 (13 only added
// sequences), the float8 types at 19 and int4/uint4 at 21.
std::vector<DataType> tensor_types(int64_t since) {
  std::vector<DataType> types = type_sets::all_tensor();
  if (since < 16) std::erase(types, D::kBFloat16);
  if (since >= 19)
    types.insert(types.end(),
                 {D::kFloat8E4M3FN, D::kFloat8E4M3FNUZ, D::kFloat8E5M2, D::kFloat8E5M2FNUZ});
  if (since >= 21) types.insert(types.end(), {D::kUInt4, D::kInt4});
  return types;
}

}  // namespace

void register_control_flow(OpRegistry& registry) {
  // If-11 lets the branches return different shapes.
  for (int64_t since : {1, 11, 13, 16, 19, 21}) {
    registry.add(OpSchema("If", since)
                     .input("cond", "B")
                     .output("outputs", "V", Arity::kVariadic, 1)
                     .types("V", tensor_types(since))
                     .types("B", {D::kBool})
                     .required_attr("then_branch", AttrType::kGraph)
                     .required_attr("else_branch", AttrType::kGraph)
                     .fusion(FusionKind::kOpaque));
  }

  // Loop-11 allows zero loop-carried values.
  for (int64_t since : {1, 11, 13, 16, 19, 21}) {
    registry.add(OpSchema("Loop", since)
                     .input("M", "I", Arity::kOptional)
                     .input("cond", "B", Arity::kOptional)
                     .input("v_initial", "V", Arity::kVariadic, since >= 11 ? 0 : 1)
                     .output("v_final_and_scan_outputs", "V", Arity::kVariadic, 1)
                     .types("V", tensor_types(since))
                     .types("I", {D::kInt64})
                     .types("B", {D::kBool})
                     .required_attr("body", AttrType::kGraph)
                     .fusion(FusionKind::kOpaque));
  }

  // Scan-8 has a batch axis and per-batch sequence_lens; 9 drops both and adds per-input and
  // per-output scan axes and directions; 11 accepts negative axes.
  registry.add(OpSchema("Scan", 8)
                   .input("sequence_lens", "I", Arity::kOptional)
                   .input("initial_state_and_scan_inputs", "V", Arity::kVariadic, 1)
                   .output("final_state_and_scan_outputs", "V", Arity::kVariadic, 1)
                   .types("I", {D::kInt64})
                   .types("V", tensor_types(8))
                   .required_attr("body", AttrType::kGraph)
                   .required_attr("num_scan_inputs", AttrType::kInt)
                   .attr("directions", AttrType::kInts)
                   .fusion(FusionKind::kOpaque));
  for (int64_t since : {9, 11, 16, 19, 21}) {
    registry.add(OpSchema("Scan", since)
                     .input("initial_state_and_scan_inputs", "V", Arity::kVariadic, 1)
                     .output("final_state_and_scan_outputs", "V", Arity::kVariadic, 1)
                     .types("V", tensor_types(since))
                     .required_attr("body", AttrType::kGraph)
                     .required_attr("num_scan_inputs", AttrType::kInt)
                     .attr("scan_input_axes", AttrType::kInts)
                     .attr("scan_input_directions", AttrType::kInts)
                     .attr("scan_output_axes", AttrType::kInts)
                     .attr("scan_output_directions", AttrType::kInts)
                     .fusion(FusionKind::kOpaque));
  }
}

}  // namespace kiln::ops
