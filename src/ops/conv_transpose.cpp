// ConvTranspose: N-d transposed convolution (the gradient of Conv), with output size control.
#include <algorithm>
#include <string>
#include <vector>

#include "ops/nn_kernels.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

// Y = [N, W[1] * group, spatial...]; spatial = stride * (in - 1) + output_padding + extent - pads,
// or output_shape, or in * stride for SAME_*.
Status conv_transpose_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  const Dims& w = ctx.input_shape(1);
  if (!x.rank_known()) {
    ctx.set_output_shape(0, Dims::unknown_rank());
    return Status::Ok();
  }
  const size_t rank = x.rank();
  if (rank < 3 || (w.rank_known() && w.rank() != rank))
    return err(Code::kIncompatibleShapes, "ConvTranspose X ", x.to_string(), " and W ",
               w.to_string(), " must both have rank >= 3 and the same rank");
  const int64_t group = ctx.attr_int("group", 1);
  if (group < 1)
    return err(Code::kInvalidArgument, "ConvTranspose group ", group, " must be positive");
  if (w.rank_known() && x[1].is_static() && w[0].is_static() && x[1].value != w[0].value)
    return err(Code::kIncompatibleShapes, "ConvTranspose X ", x.to_string(), " has ", x[1].value,
               " channels but W ", w.to_string(), " has ", w[0].value, " in its first dim");
  const size_t nd = rank - 2;
  std::vector<int64_t> kernel = ctx.attr_ints("kernel_shape");
  if (kernel.empty() && w.rank_known())
    for (size_t d = 2; d < rank; ++d) kernel.push_back(w[d].is_static() ? w[d].value : -1);
  const bool kernel_known = kernel.size() == nd && std::all_of(kernel.begin(), kernel.end(),
                                                               [](int64_t k) { return k > 0; });
  std::vector<int64_t> strides = ctx.attr_ints("strides"), dil = ctx.attr_ints("dilations"),
                       pads = ctx.attr_ints("pads"), out_pad = ctx.attr_ints("output_padding"),
                       out_shape = ctx.attr_ints("output_shape");
  if (strides.empty()) strides.assign(nd, 1);
  if (dil.empty()) dil.assign(nd, 1);
  if (pads.empty()) pads.assign(2 * nd, 0);
  if (out_pad.empty()) out_pad.assign(nd, 0);
  if (out_shape.size() == nd + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  if (strides.size() != nd || dil.size() != nd || pads.size() != 2 * nd || out_pad.size() != nd ||
      (!out_shape.empty() && out_shape.size() != nd))
    return err(Code::kInvalidArgument, "ConvTranspose strides/dilations/pads/output_padding/",
               "output_shape lengths do not match ", nd, " spatial dims");
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  Dim out_ch = Dim::unknown();
  if (w.rank_known()) out_ch = dim_mul(w[1], Dim::fixed(group));
  std::vector<Dim> out{x[0], out_ch};
  for (size_t d = 0; d < nd; ++d) {
    const Dim& in = x[2 + d];
    if (!out_shape.empty()) {
      out.push_back(Dim::fixed(out_shape[d]));
    } else if (same) {
      out.push_back(dim_mul(in, Dim::fixed(strides[d])));
    } else if (in.is_static() && kernel_known) {
      // Checked: the attributes come from the file and may be anything.
      int64_t extent = 0, v = 0, pad_sum = 0;
      const bool overflow = __builtin_mul_overflow(kernel[d] - 1, dil[d], &extent) ||
                            __builtin_add_overflow(extent, int64_t{1}, &extent) ||
                            __builtin_mul_overflow(strides[d], in.value - 1, &v) ||
                            __builtin_add_overflow(v, out_pad[d], &v) ||
                            __builtin_add_overflow(v, extent, &v) ||
                            __builtin_add_overflow(pads[d], pads[d + nd], &pad_sum) ||
                            (auto_pad != "VALID" && __builtin_sub_overflow(v, pad_sum, &v));
      if (overflow)
        return err(Code::kInvalidArgument, "ConvTranspose strides/dilations/pads/kernel of ",
                   "spatial dim ", d, " are out of range");
      if (v < 0)
        return err(Code::kIncompatibleShapes, "ConvTranspose output spatial dim ", d, " would be ",
                   v, " for input ", x.to_string());
      out.push_back(Dim::fixed(v));
    } else {
      out.push_back(Dim::unknown());
    }
  }
  ctx.set_output_shape(0, Dims(std::move(out)));
  return Status::Ok();
}

}  // namespace

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
            .kernel(conv_transpose_kernel)
            .infer(conv_transpose_infer));
  }
}

}  // namespace kiln::ops
