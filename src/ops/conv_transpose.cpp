// ConvTranspose: N-d transposed convolution (the gradient of Conv), with output size control.
#include <vector>

#include "ops/nn_kernels.h"
#include "ops/op_schema.h"

namespace kiln::ops {

void register_conv_transpose(OpRegistry& registry) {
  using D = DataType;
  using ir::AttrType;
  // Revision 11 fixes which side gets the odd padding element when output_shape is given and
  // defines SAME_* as output = input * stride; the signature is the same.
  for (int64_t since : {1, 11}) {
    registry.add(
        OpSchema("ConvTranspose", since)
            .input("X", "T")
            .input("W", "T")
            .input("B", "T", Arity::kOptional)
            .output("Y", "T")
            .types("T", {D::kFloat16, D::kFloat32, D::kFloat64})
            .attr_enum("auto_pad", "NOTSET", {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"})
            .attr("dilations", AttrType::kInts)
            .attr("group", AttrType::kInt, int64_t{1})
            .attr("kernel_shape", AttrType::kInts)
            .attr("output_padding", AttrType::kInts)
            .attr("output_shape", AttrType::kInts)
            .attr("pads", AttrType::kInts)
            .attr("strides", AttrType::kInts)
            .fusion(FusionKind::kOpaque)
            .kernel(conv_transpose_kernel));
  }
}

}  // namespace kiln::ops
