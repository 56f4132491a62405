// Conv: N-d convolution with groups, dilations and explicit or automatic padding.
#include <vector>

#include "ops/nn_kernels.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

// Y = [N, M, spatial...] from X [N, C, spatial...] and W [M, C/group, kernel...].
Status conv_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  const Dims& w = ctx.input_shape(1);
  if (!x.rank_known()) {
    ctx.set_output_shape(0, Dims::unknown_rank());
    return Status::Ok();
  }
  const size_t rank = x.rank();
  if (rank < 3)
    return err(Code::kIncompatibleShapes, "Conv input X ", x.to_string(),
               " must have rank >= 3 ([N, C, spatial...])");
  if (w.rank_known() && w.rank() != rank)
    return err(Code::kIncompatibleShapes, "Conv weight W ", w.to_string(), " must have rank ", rank,
               " like X ", x.to_string());
  const int64_t group = ctx.attr_int("group", 1);
  if (group < 1) return err(Code::kInvalidArgument, "Conv group ", group, " must be positive");
  if (w.rank_known() && x[1].is_static() && w[1].is_static() && x[1].value != w[1].value * group)
    return err(Code::kIncompatibleShapes, "Conv X ", x.to_string(), " has ", x[1].value,
               " channels but W ", w.to_string(), " expects ", w[1].value, " x group ", group);
  if (ctx.has_input(2) && w.rank_known()) {
    const Dims& b = ctx.input_shape(2);
    if (b.rank_known() && (b.rank() != 1 || !unify_dim(b[0], w[0])))
      return err(Code::kIncompatibleShapes, "Conv bias B ", b.to_string(),
                 " must be 1-D with one value per output channel (W ", w.to_string(), ")");
  }
  std::vector<int64_t> kernel = ctx.attr_ints("kernel_shape");
  if (kernel.empty() && w.rank_known()) {
    for (size_t d = 2; d < rank; ++d) {
      if (!w[d].is_static()) {
        kernel.clear();
        break;
      }
      kernel.push_back(w[d].value);
    }
  }
  std::vector<Dim> out{x[0], w.rank_known() ? w[0] : Dim::unknown()};
  const std::vector<Dim> in(x.dims().begin() + 2, x.dims().end());
  if (kernel.size() == in.size()) {
    KILN_ASSIGN_OR_RETURN(std::vector<Dim> spatial,
                          infer_window_dims(ctx, "Conv", in, kernel, true, false));
    out.insert(out.end(), spatial.begin(), spatial.end());
  } else {
    out.resize(rank, Dim::unknown());
  }
  ctx.set_output_shape(0, Dims(std::move(out)));
  return Status::Ok();
}

}  // namespace

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
            .kernel(conv_kernel)
            .infer(conv_infer));
  }
}

}  // namespace kiln::ops
