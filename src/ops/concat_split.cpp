// Concat and Split along one axis. The sequence forms (ConcatFromSequence, SplitToSequence) are
// not here: kiln has no sequence ops.
#include <vector>

#include "core/errors.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// Split-18: the part sizes come either from the `split` input or from num_outputs equal parts.
// Leaving both out is accepted (ONNX Runtime splits into as many parts as there are outputs).
void check_split18(const ir::Node& node, const OpSchema&, std::vector<Status>& problems) {
  const ir::Attribute* num_outputs = node.attr("num_outputs");
  if (num_outputs == nullptr) return;
  if (node.input(1) != nullptr) {
    problems.push_back(err(Code::kAttributeValueUnsupported,
                           "attribute 'num_outputs' = ", num_outputs->i,
                           " together with the 'split' input (allowed: one or the other)"));
  }
  if (num_outputs->i < 1) {
    problems.push_back(err(Code::kAttributeValueUnsupported,
                           "attribute 'num_outputs' = ", num_outputs->i, " (allowed: >= 1)"));
  }
}

}  // namespace

void register_concat_split(OpRegistry& registry) {
  // 11 accepts a negative axis.
  for (int64_t since : {4, 11, 13}) {
    registry.add(OpSchema("Concat", since)
                     .input("inputs", "T", Arity::kVariadic, 1)
                     .output("concat_result", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .required_attr("axis", AttrType::kInt)
                     .fusion(FusionKind::kInjective));
  }

  // Split: the part sizes are an attribute up to 11 (which accepts a negative axis) and an
  // optional input from 13; 18 adds num_outputs (equal parts, the last one smaller if uneven).
  for (int64_t since : {2, 11, 13, 18}) {
    OpSchema s("Split", since);
    s.input("input", "T");
    if (since >= 13) {
      s.input("split", "I", Arity::kOptional).types("I", {D::kInt64});
    } else {
      s.attr("split", AttrType::kInts);
    }
    s.output("outputs", "T", Arity::kVariadic, 1)
        .types("T", type_sets::all_tensor_at(since))
        .attr("axis", AttrType::kInt, int64_t{0})
        .fusion(FusionKind::kInjective);
    if (since >= 18) s.attr("num_outputs", AttrType::kInt).check(check_split18);
    registry.add(std::move(s));
  }
}

}  // namespace kiln::ops
