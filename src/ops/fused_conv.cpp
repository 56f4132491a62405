// kiln.FusedConv and kiln.FusedConvTranspose: a convolution followed by a residual add and an
// activation, as the optimizer's conv_activation_fusion pass writes them:
//
//   FusedConv(X, W, B?, Z?)          Y = act(Conv(X, W, B) + Z)
//   FusedConvTranspose(X, W, B?)     Y = act(ConvTranspose(X, W, B))
//
// with every attribute of the ONNX op (same names, same defaults) plus `activation` and
// `activation_params` (activation_functions.h). Z, the residual, has Y's shape. The product is
// the ONNX op's own reference kernel (Conv-11 / ConvTranspose-11) and shape inference is theirs.
#include <string>
#include <vector>

#include "core/errors.h"
#include "ops/fused_kernels.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// The ai.onnx revision whose semantics (auto_pad SAME_* rounding) the fused ops take.
constexpr int64_t kBaseOpset = 11;

OpSchema conv_like(const char* name, bool transposed) {
  OpSchema s(name, 1, std::string(kKilnDomain));
  s.input("X", "T").input("W", "T").input("B", "T", Arity::kOptional);
  if (!transposed) s.input("Z", "T", Arity::kOptional);
  s.output("Y", "T")
      .types("T", {D::kFloat16, D::kFloat32, D::kFloat64})
      .attr_enum("auto_pad", "NOTSET", {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"})
      .attr("dilations", AttrType::kInts)
      .attr("group", AttrType::kInt, int64_t{1})
      .attr("kernel_shape", AttrType::kInts)
      .attr("pads", AttrType::kInts)
      .attr("strides", AttrType::kInts);
  if (transposed) s.attr("output_padding", AttrType::kInts).attr("output_shape", AttrType::kInts);
  fused::add_activation_attrs(s);
  s.fusion(FusionKind::kOpaque);
  return s;
}

// The base op's inference, then Z (when present) must have the result's shape.
InferFn infer_like(const char* base) {
  return [base](InferContext& ctx) -> Status {
    const OpSchema* s = OpRegistry::builtin().find("", base, kBaseOpset);
    if (s == nullptr || !s->infer_fn())
      return err(Code::kInternal, ctx.node().op_type(), " needs the shape inference of ", base);
    KILN_RETURN_IF_ERROR(s->infer_fn()(ctx));
    if (ctx.outputs().empty() || !ctx.outputs()[0].set) return Status::Ok();
    return fused::check_addend_shape(ctx, 3, ctx.outputs()[0].type.shape, "residual Z");
  };
}

Status fused_conv_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const ActivationSpec act, fused::read_activation(ctx));
  KILN_RETURN_IF_ERROR(
      fused::run_base_kernel(ctx, "Conv", kBaseOpset, {ctx.input(0), ctx.input(1), ctx.input(2)}));
  const Tensor* z = ctx.input(3);
  if (z != nullptr && z->shape() != ctx.outputs()[0].shape())
    return err(Code::kIncompatibleShapes, "FusedConv residual Z of shape ",
               Dims::of(z->shape()).to_string(), " differs from the result's ",
               Dims::of(ctx.outputs()[0].shape()).to_string());
  return fused::apply_epilogue(ctx, z, "residual Z", 1.0, act);
}

Status fused_conv_transpose_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const ActivationSpec act, fused::read_activation(ctx));
  KILN_RETURN_IF_ERROR(fused::run_base_kernel(ctx, "ConvTranspose", kBaseOpset,
                                              {ctx.input(0), ctx.input(1), ctx.input(2)}));
  return fused::apply_epilogue(ctx, nullptr, "", 1.0, act);
}

}  // namespace

void register_fused_conv(OpRegistry& registry) {
  registry.add(conv_like("FusedConv", false).kernel(fused_conv_kernel).infer(infer_like("Conv")));
  registry.add(conv_like("FusedConvTranspose", true)
                   .kernel(fused_conv_transpose_kernel)
                   .infer(infer_like("ConvTranspose")));
}

}  // namespace kiln::ops
