// DepthToSpace and SpaceToDepth: move channel blocks into spatial blocks and back.
#include <string_view>
#include <utility>
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using ir::AttrType;

// Both ops are a reshape to 6-D, a transpose and a reshape back; the reshapes are free, so the
// kernel is one permute_copy over a 6-D view of the NCHW input.
Status permute_blocks(KernelContext& ctx, const Tensor& x, std::string_view op,
                      const std::vector<int64_t>& view, const std::vector<int64_t>& perm,
                      const std::vector<int64_t>& out_shape) {
  return dispatch_move(x.dtype(), op, [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, x.dtype(), out_shape));
    permute_copy(elems<T>(x), view, perm, elems<T>(*out));
    return Status::Ok();
  });
}

Result<int64_t> blocksize_of(const KernelContext& ctx, const Tensor& x, std::string_view op) {
  if (x.rank() != 4)
    return err(Code::kInvalidArgument, op, " input must be 4-D (N, C, H, W), got shape ",
               shape_str(x.shape()));
  const int64_t b = ctx.attr_int("blocksize");
  if (b < 1 || b > (int64_t{1} << 20))
    return err(Code::kInvalidArgument, op, " blocksize ", b, " must be positive");
  return b;
}

Status depth_to_space_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "DepthToSpace", "input"));
  KILN_ASSIGN_OR_RETURN(const int64_t b, blocksize_of(ctx, *x, "DepthToSpace"));
  const int64_t n = x->shape()[0], c = x->shape()[1], h = x->shape()[2], w = x->shape()[3];
  if (c % (b * b) != 0)
    return err(Code::kIncompatibleShapes, "DepthToSpace input ", shape_str(x->shape()), " has ", c,
               " channels, not a multiple of blocksize^2 = ", b * b);
  const int64_t oc = c / (b * b);
  const std::vector<int64_t> out_shape = {n, oc, h * b, w * b};
  // DCR (depth-column-row, the default): channels split as (b, b, C'); CRD as (C', b, b).
  if (ctx.since() >= 11 && ctx.attr_string("mode", "DCR") == "CRD")
    return permute_blocks(ctx, *x, "DepthToSpace", {n, oc, b, b, h, w}, {0, 1, 4, 2, 5, 3},
                          out_shape);
  return permute_blocks(ctx, *x, "DepthToSpace", {n, b, b, oc, h, w}, {0, 3, 4, 1, 5, 2},
                        out_shape);
}

Status space_to_depth_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "SpaceToDepth", "input"));
  KILN_ASSIGN_OR_RETURN(const int64_t b, blocksize_of(ctx, *x, "SpaceToDepth"));
  const int64_t n = x->shape()[0], c = x->shape()[1], h = x->shape()[2], w = x->shape()[3];
  if (h % b != 0 || w % b != 0)
    return err(Code::kIncompatibleShapes, "SpaceToDepth input ", shape_str(x->shape()),
               " has spatial dims not divisible by blocksize ", b);
  return permute_blocks(ctx, *x, "SpaceToDepth", {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4},
                        {n, c * b * b, h / b, w / b});
}

// DepthToSpace: [N, C, H, W] -> [N, C / b^2, H * b, W * b]; SpaceToDepth the inverse.
Status depth_space_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  const bool to_space = ctx.node().op_type() == "DepthToSpace";
  const int64_t b = ctx.attr_int("blocksize", 0);
  if (b <= 0 || b > (int64_t{1} << 31))
    return err(Code::kInvalidArgument, ctx.node().op_type(), " blocksize ", b,
               " must be in 1..2^31");
  if (!x.rank_known()) {
    ctx.set_output_shape(0, unknown_dims(4));
    return Status::Ok();
  }
  if (x.rank() != 4)
    return err(Code::kIncompatibleShapes, ctx.node().op_type(), " input ", x.to_string(),
               " must have rank 4 ([N, C, H, W])");
  auto divide = [&](const Dim& d, int64_t by, const char* what) -> Result<Dim> {
    if (!d.is_static()) return by == 1 ? d : Dim::unknown();
    if (d.value % by != 0)
      return err(Code::kIncompatibleShapes, ctx.node().op_type(), " ", what, " ", d.value, " of ",
                 x.to_string(), " is not divisible by ", by);
    return Dim::fixed(d.value / by);
  };
  if (to_space) {
    KILN_ASSIGN_OR_RETURN(Dim c, divide(x[1], b * b, "channel count"));
    ctx.set_output_shape(
        0, Dims({x[0], c, dim_mul(x[2], Dim::fixed(b)), dim_mul(x[3], Dim::fixed(b))}));
  } else {
    KILN_ASSIGN_OR_RETURN(Dim h, divide(x[2], b, "height"));
    KILN_ASSIGN_OR_RETURN(Dim w, divide(x[3], b, "width"));
    ctx.set_output_shape(0, Dims({x[0], dim_mul(x[1], Dim::fixed(b * b)), h, w}));
  }
  return Status::Ok();
}

}  // namespace

void register_depth_space(OpRegistry& registry) {
  // DepthToSpace-11 adds the CRD (column-row-depth, PyTorch PixelShuffle) order beside DCR.
  for (int64_t since : {1, 11, 13}) {
    OpSchema s("DepthToSpace", since);
    s.input("input", "T")
        .output("output", "T")
        .types("T", type_sets::all_tensor_at(since))
        .required_attr("blocksize", AttrType::kInt)
        .fusion(FusionKind::kInjective)
        .kernel(depth_to_space_kernel)
        .infer(depth_space_infer);
    if (since >= 11) s.attr_enum("mode", "DCR", {"DCR", "CRD"});
    registry.add(std::move(s));
  }
  for (int64_t since : {1, 13}) {
    registry.add(OpSchema("SpaceToDepth", since)
                     .input("input", "T")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .required_attr("blocksize", AttrType::kInt)
                     .fusion(FusionKind::kInjective)
                     .kernel(space_to_depth_kernel)
                     .infer(depth_space_infer));
  }
}

}  // namespace kiln::ops
