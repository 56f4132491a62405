// Control flow with graph-valued attributes: If, Loop and Scan.
//
// Their values may be of any type, so they keep ONNX's full tensor type lists. The sequence and
// optional values that 13 and 16 admit are outside kiln's value model; those revisions are
// registered with their tensor types.
#include <utility>
#include <vector>

#include "ops/control_flow_kernels.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

}  // namespace

void register_control_flow(OpRegistry& registry) {
  // If-11 lets the branches return different shapes.
  for (int64_t since : {1, 11, 13, 16, 19, 21}) {
    registry.add(OpSchema("If", since)
                     .input("cond", "B")
                     .output("outputs", "V", Arity::kVariadic, 1, /*homogeneous=*/false)
                     .types("V", type_sets::all_tensor_at(since, 16))
                     .types("B", {D::kBool})
                     .required_attr("then_branch", AttrType::kGraph)
                     .required_attr("else_branch", AttrType::kGraph)
                     .fusion(FusionKind::kOpaque)
                     .kernel(if_reference_kernel));
  }

  // Loop-11 allows zero loop-carried values.
  for (int64_t since : {1, 11, 13, 16, 19, 21}) {
    registry.add(
        OpSchema("Loop", since)
            .input("M", "I", Arity::kOptional)
            .input("cond", "B", Arity::kOptional)
            .input("v_initial", "V", Arity::kVariadic, since >= 11 ? 0 : 1, /*homogeneous=*/false)
            .output("v_final_and_scan_outputs", "V", Arity::kVariadic, 1, /*homogeneous=*/false)
            .types("V", type_sets::all_tensor_at(since, 16))
            .types("I", {D::kInt64})
            .types("B", {D::kBool})
            .required_attr("body", AttrType::kGraph)
            .fusion(FusionKind::kOpaque)
            .kernel(loop_reference_kernel));
  }

  // Scan-8 has a batch axis and per-batch sequence_lens; 9 drops both and adds per-input and
  // per-output scan axes and directions; 11 accepts negative axes.
  registry.add(
      OpSchema("Scan", 8)
          .input("sequence_lens", "I", Arity::kOptional)
          .input("initial_state_and_scan_inputs", "V", Arity::kVariadic, 1, /*homogeneous=*/false)
          .output("final_state_and_scan_outputs", "V", Arity::kVariadic, 1, /*homogeneous=*/false)
          .types("I", {D::kInt64})
          .types("V", type_sets::all_tensor_at(8, 16))
          .required_attr("body", AttrType::kGraph)
          .required_attr("num_scan_inputs", AttrType::kInt)
          .attr("directions", AttrType::kInts)
          .fusion(FusionKind::kOpaque)
          .kernel(scan_reference_kernel));
  for (int64_t since : {9, 11, 16, 19, 21}) {
    registry.add(
        OpSchema("Scan", since)
            .input("initial_state_and_scan_inputs", "V", Arity::kVariadic, 1, /*homogeneous=*/false)
            .output("final_state_and_scan_outputs", "V", Arity::kVariadic, 1, /*homogeneous=*/false)
            .types("V", type_sets::all_tensor_at(since, 16))
            .required_attr("body", AttrType::kGraph)
            .required_attr("num_scan_inputs", AttrType::kInt)
            .attr("scan_input_axes", AttrType::kInts)
            .attr("scan_input_directions", AttrType::kInts)
            .attr("scan_output_axes", AttrType::kInts)
            .attr("scan_output_directions", AttrType::kInts)
            .fusion(FusionKind::kOpaque)
            .kernel(scan_reference_kernel));
  }
}

}  // namespace kiln::ops
