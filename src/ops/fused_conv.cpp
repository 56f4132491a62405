// kiln.FusedConv and kiln.FusedConvTranspose: a convolution followed by a residual add and an
// activation, as the optimizer's conv_activation_fusion pass writes them:
//
//   FusedConv(X, W, B?, Z?)          Y = act(Conv(X, W, B) + Z)
//   FusedConvTranspose(X, W, B?)     Y = act(ConvTranspose(X, W, B))
//
// with every attribute of the ONNX op (same names, same defaults) plus `activation` and
// `activation_params` (activation_functions.h). Z, the residual, has Y's shape. The product is
// the ONNX op's own reference kernel (Conv-11 / ConvTranspose-11) and shape inference is theirs.
//
// INT8 chains (builder/requantize.cpp): a FusedConv with `int8_y_scale` writes Y as uint8 (int8
// with `int8_y_signed`), y_q = saturate(round(y / int8_y_scale)), for INT8 layers that read it
// as their quantized X (X of type uint8, int8_x_scale equal to the producer's int8_y_scale) or
// residual Z (Z of type uint8/int8, int8_z_scale likewise; such a layer's Y is quantized too).
// Only the INT8 kernels compute those; the reference kernel refuses them.
#include <string>
#include <vector>

#include "core/errors.h"
#include "ops/fused_kernels.h"
#include "ops/layout_util.h"
#include "ops/nn_kernels.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// The ai.onnx revision whose semantics (auto_pad SAME_* rounding) the fused ops take.
constexpr int64_t kBaseOpset = 11;

OpSchema conv_like(const char* name, bool transposed) {
  OpSchema s(name, 1, std::string(kKilnDomain));
  if (transposed) {
    s.input("X", "T").input("W", "T").input("B", "T", Arity::kOptional).output("Y", "T");
  } else {
    s.input("X", "T1")
        .input("W", "T")
        .input("B", "T", Arity::kOptional)
        .input("Z", "T2", Arity::kOptional)
        .output("Y", "T2")
        .types("T1", {D::kFloat16, D::kFloat32, D::kFloat64, D::kUInt8})
        .types("T2", {D::kFloat16, D::kFloat32, D::kFloat64, D::kUInt8, D::kInt8});
  }
  s.types("T", {D::kFloat16, D::kFloat32, D::kFloat64})
      .attr_enum("auto_pad", "NOTSET", {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"})
      .attr("dilations", AttrType::kInts)
      .attr("group", AttrType::kInt, int64_t{1})
      .attr("kernel_shape", AttrType::kInts)
      .attr("pads", AttrType::kInts)
      .attr("strides", AttrType::kInts);
  if (transposed) s.attr("output_padding", AttrType::kInts).attr("output_shape", AttrType::kInts);
  // 1: X, Z and Y are channels-last ([N, spatial..., C]); W stays [M, C/group, k...].
  if (!transposed) s.attr("channels_last", AttrType::kInt, int64_t{0});
  if (!transposed) {
    fused::add_precision_attrs(s);
    s.attr("int8_y_scale", AttrType::kFloat, 0.0f)
        .attr_int_enum("int8_y_signed", 0, {0, 1})
        .attr("int8_z_scale", AttrType::kFloat, 0.0f)
        .attr_int_enum("int8_z_unsigned", 0, {0, 1});
  }
  fused::add_activation_attrs(s);
  s.fusion(FusionKind::kOpaque);
  return s;
}

// Y is W's float type, or uint8 / int8 where the layer requantizes its output.
DataType y_dtype(const InferContext& ctx) {
  if (ctx.attr_float("int8_y_scale", 0.0f) == 0.0f) return ctx.input_dtype(1);
  return ctx.attr_int("int8_y_signed", 0) != 0 ? D::kInt8 : D::kUInt8;
}

// Y = [N, window dims..., M] from X = [N, spatial..., C] and W = [M, C/group, k...].
Status infer_channels_last(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  const Dims& w = ctx.input_shape(1);
  if (!x.rank_known() || !w.rank_known()) return Status::Ok();
  if (x.rank() < 3 || w.rank() != x.rank())
    return err(Code::kIncompatibleShapes, "FusedConv (channels_last) X ", x.to_string(), " and W ",
               w.to_string(), " must have the same rank >= 3");
  std::vector<int64_t> kernel = ctx.attr_ints("kernel_shape");
  if (kernel.empty()) {
    for (size_t i = 2; i < w.rank(); ++i) {
      if (!w[i].is_static()) return Status::Ok();
      kernel.push_back(w[i].value);
    }
  }
  const Dim& c = x[x.rank() - 1];
  const int64_t group = ctx.attr_int("group", 1);
  if (c.is_static() && w[1].is_static() && c.value != w[1].value * group)
    return err(Code::kIncompatibleShapes, "FusedConv (channels_last) X ", x.to_string(), " has ",
               c.value, " channels but W ", w.to_string(), " with group ", group, " expects ",
               w[1].value * group);
  const std::vector<Dim> in(x.dims().begin() + 1, x.dims().end() - 1);
  KILN_ASSIGN_OR_RETURN(std::vector<Dim> spatial,
                        infer_window_dims(ctx, "Conv", in, kernel, true, false));
  std::vector<Dim> y = {x[0]};
  y.insert(y.end(), spatial.begin(), spatial.end());
  y.push_back(w[0]);
  ctx.set_output(0, y_dtype(ctx), Dims(y));
  return fused::check_addend_shape(ctx, 3, Dims(y), "residual Z");
}

// The base op's inference, then Z (when present) must have the result's shape.
InferFn infer_like(const char* base) {
  return [base](InferContext& ctx) -> Status {
    if (ctx.attr_int("channels_last", 0) != 0) return infer_channels_last(ctx);
    const OpSchema* s = OpRegistry::builtin().find("", base, kBaseOpset);
    if (s == nullptr || !s->infer_fn())
      return err(Code::kInternal, ctx.node().op_type(), " needs the shape inference of ", base);
    KILN_RETURN_IF_ERROR(s->infer_fn()(ctx));
    if (ctx.outputs().empty() || !ctx.outputs()[0].set) return Status::Ok();
    if (ctx.node().op_type() == "FusedConv")
      ctx.set_output(0, y_dtype(ctx), ctx.outputs()[0].type.shape);
    return fused::check_addend_shape(ctx, 3, ctx.outputs()[0].type.shape, "residual Z");
  };
}

Status fused_conv_nchw(KernelContext& ctx, const Tensor* x, const Tensor* z);

// Channels-last: the channels-first computation between permutations.
Status fused_conv_channels_last(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (x == nullptr || x->rank() < 3)
    return err(Code::kIncompatibleShapes, "FusedConv (channels_last) needs X of rank >= 3");
  const size_t rank = x->shape().size();
  KILN_ASSIGN_OR_RETURN(Tensor xf, layout::permuted(*x, layout::to_first_perm(rank)));
  std::optional<Tensor> zf;
  if (const Tensor* z = ctx.input(3)) {
    if (z->shape().size() != rank)
      return err(Code::kIncompatibleShapes, "FusedConv residual Z ",
                 Dims::of(z->shape()).to_string(), " must have X's rank");
    KILN_ASSIGN_OR_RETURN(zf, layout::permuted(*z, layout::to_first_perm(rank)));
  }
  KILN_RETURN_IF_ERROR(fused_conv_nchw(ctx, &xf, zf ? &*zf : nullptr));
  KILN_ASSIGN_OR_RETURN(Tensor y, layout::permuted(ctx.outputs()[0], layout::to_last_perm(rank)));
  ctx.set_output(0, std::move(y));
  return Status::Ok();
}

Status fused_conv_kernel(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* z = ctx.input(3);
  if (ctx.attr_float("int8_y_scale", 0.0f) != 0.0f || (x != nullptr && x->dtype() == D::kUInt8) ||
      (z != nullptr && (z->dtype() == D::kUInt8 || z->dtype() == D::kInt8)))
    return err(Code::kKernelFailed,
               "FusedConv with a quantized (8-bit) X, Z or Y runs only on the ",
               "INT8 convolution kernels")
        .with_fix("rebuild the engine: its INT8 chain was built for a kernel this machine lacks");
  if (ctx.attr_int("channels_last", 0) != 0) return fused_conv_channels_last(ctx);
  return fused_conv_nchw(ctx, ctx.input(0), ctx.input(3));
}

Status fused_conv_nchw(KernelContext& ctx, const Tensor* x, const Tensor* z) {
  KILN_ASSIGN_OR_RETURN(const ActivationSpec act, fused::read_activation(ctx));
  KILN_RETURN_IF_ERROR(
      fused::run_base_kernel(ctx, "Conv", kBaseOpset, {x, ctx.input(1), ctx.input(2)}));
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
