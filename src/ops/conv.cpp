// Conv: N-d convolution with groups, dilations and explicit or automatic padding.
#include <vector>

#include "ops/nn_kernels.h"
#include "ops/op_schema.h"

namespace kiln::ops {

void register_conv(OpRegistry& registry) {
  using D = DataType;
  using ir::AttrType;
  // Revision 11 only pins down SAME_UPPER/SAME_LOWER as output = ceil(input / stride); the
  // signature is the same. bfloat16 arrives with revision 22, past kMaxOpset.
  for (int64_t since : {1, 11}) {
    registry.add(
        OpSchema("Conv", since)
            .input("X", "T")
            .input("W", "T")
            .input("B", "T", Arity::kOptional)
            .output("Y", "T")
            .types("T", {D::kFloat16, D::kFloat32, D::kFloat64})
            .attr_enum("auto_pad", "NOTSET", {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"})
            .attr("dilations", AttrType::kInts)
            .attr("group", AttrType::kInt, int64_t{1})
            .attr("kernel_shape", AttrType::kInts)
            .attr("pads", AttrType::kInts)
            .attr("strides", AttrType::kInts)
            .fusion(FusionKind::kOpaque)
            .kernel(conv_kernel));
  }
}

}  // namespace kiln::ops
