// Reference kernels of the integer convolutions ConvInteger and QLinearConv: the im2col
// convolution of conv_util.h on zero-point-shifted operands, accumulated in int32 (as uint32, so
// overflow wraps), then requantized for QLinearConv.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ops/conv_util.h"

namespace kiln::ops {

using conv_detail::conv_geometry;
using conv_detail::ConvGeometry;
using conv_detail::shape_str;

namespace {

// A zero point or scale that is one value, or (when `per_channel` > 0) one per output channel.
Status check_param(std::string_view op, std::string_view name, const Tensor* t,
                   int64_t per_channel) {
  if (t == nullptr) return Status::Ok();
  if (t->numel() == 1 && t->rank() <= 1) return Status::Ok();
  if (per_channel > 0 && t->rank() == 1 && t->numel() == per_channel) return Status::Ok();
  if (per_channel > 0)
    return err(Code::kIncompatibleShapes, op, " ", name, " must be a scalar or have shape [",
               per_channel, "] (one per output channel), got ", shape_str(t->shape()));
  return err(Code::kIncompatibleShapes, op, " ", name, " must be a scalar, got shape ",
             shape_str(t->shape()));
}

Status check_zero_point_type(std::string_view op, std::string_view name, const Tensor* zp,
                             const Tensor& of) {
  if (zp != nullptr && zp->dtype() != of.dtype())
    return err(Code::kInvalidArgument, op, " ", name, " is ", data_type_name(zp->dtype()),
               " but its tensor is ", data_type_name(of.dtype()));
  return Status::Ok();
}

// Integer convolution (x - x_zp) * (w - w_zp[m]) accumulated in int32 (as uint32, wrapping).
Result<std::vector<uint32_t>> integer_conv(const ConvGeometry& g, const Tensor& x,
                                           const Tensor* x_zp, const Tensor& w, const Tensor* w_zp,
                                           std::string_view op) {
  const int32_t xz = x_zp ? param_as_int(*x_zp, 0) : 0;
  std::vector<uint32_t> wbuf(static_cast<size_t>(w.numel()));
  const int64_t per_m = g.out_ch > 0 ? w.numel() / g.out_ch : 0;
  std::vector<uint32_t> y(static_cast<size_t>(g.batch * g.out_ch * g.out_size), 0u);
  Status s = dispatch_int8(w.dtype(), op, "w", [&]<typename W>() -> Status {
    const W* wp = w.data_as<W>();
    for (int64_t m = 0; m < g.out_ch; ++m) {
      const int32_t wz = w_zp ? param_as_int(*w_zp, w_zp->numel() == 1 ? 0 : m) : 0;
      for (int64_t i = 0; i < per_m; ++i)
        wbuf[m * per_m + i] = static_cast<uint32_t>(static_cast<int32_t>(wp[m * per_m + i]) - wz);
    }
    return Status::Ok();
  });
  KILN_RETURN_IF_ERROR(s);
  s = dispatch_int8(x.dtype(), op, "x", [&]<typename X>() -> Status {
    conv_forward<uint32_t>(g, x.data_as<X>(), wbuf.data(), y.data(), [xz](X v) {
      return static_cast<uint32_t>(static_cast<int32_t>(v) - xz);
    });
    return Status::Ok();
  });
  KILN_RETURN_IF_ERROR(s);
  return y;
}

}  // namespace

Status conv_integer_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "ConvInteger";
  const Tensor* x = ctx.input(0);
  const Tensor* w = ctx.input(1);
  const Tensor* x_zp = ctx.input(2);
  const Tensor* w_zp = ctx.input(3);
  if (x == nullptr || w == nullptr) return err(Code::kInvalidArgument, op, " needs inputs x and w");
  KILN_ASSIGN_OR_RETURN(const ConvGeometry g, conv_geometry(ctx, op, x->shape(), w->shape()));
  KILN_RETURN_IF_ERROR(check_param(op, "x_zero_point", x_zp, 0));
  KILN_RETURN_IF_ERROR(check_param(op, "w_zero_point", w_zp, g.out_ch));
  KILN_RETURN_IF_ERROR(check_zero_point_type(op, "x_zero_point", x_zp, *x));
  KILN_RETURN_IF_ERROR(check_zero_point_type(op, "w_zero_point", w_zp, *w));
  KILN_ASSIGN_OR_RETURN(const std::vector<uint32_t> acc, integer_conv(g, *x, x_zp, *w, w_zp, op));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, DataType::kInt32, g.out_shape()));
  int32_t* yp = y->data_as<int32_t>();
  for (size_t i = 0; i < acc.size(); ++i) yp[i] = static_cast<int32_t>(acc[i]);
  return Status::Ok();
}

Status qlinear_conv_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "QLinearConv";
  const Tensor* x = ctx.input(0);
  const Tensor* x_scale = ctx.input(1);
  const Tensor* x_zp = ctx.input(2);
  const Tensor* w = ctx.input(3);
  const Tensor* w_scale = ctx.input(4);
  const Tensor* w_zp = ctx.input(5);
  const Tensor* y_scale = ctx.input(6);
  const Tensor* y_zp = ctx.input(7);
  const Tensor* b = ctx.input(8);
  if (!x || !x_scale || !x_zp || !w || !w_scale || !w_zp || !y_scale || !y_zp)
    return err(Code::kInvalidArgument, op, " needs its eight inputs x, x_scale, x_zero_point, w, ",
               "w_scale, w_zero_point, y_scale, y_zero_point");
  KILN_ASSIGN_OR_RETURN(const ConvGeometry g, conv_geometry(ctx, op, x->shape(), w->shape()));
  KILN_RETURN_IF_ERROR(check_param(op, "x_scale", x_scale, 0));
  KILN_RETURN_IF_ERROR(check_param(op, "x_zero_point", x_zp, 0));
  KILN_RETURN_IF_ERROR(check_param(op, "w_scale", w_scale, g.out_ch));
  KILN_RETURN_IF_ERROR(check_param(op, "w_zero_point", w_zp, g.out_ch));
  KILN_RETURN_IF_ERROR(check_param(op, "y_scale", y_scale, 0));
  KILN_RETURN_IF_ERROR(check_param(op, "y_zero_point", y_zp, 0));
  KILN_RETURN_IF_ERROR(check_zero_point_type(op, "x_zero_point", x_zp, *x));
  KILN_RETURN_IF_ERROR(check_zero_point_type(op, "w_zero_point", w_zp, *w));
  for (const Tensor* s : {x_scale, w_scale, y_scale})
    if (!is_scale_type(s->dtype()))
      return err(Code::kTypeUnsupported, op, " scales must be float, not ",
                 data_type_name(s->dtype()));
  if (b != nullptr &&
      (b->dtype() != DataType::kInt32 || b->shape() != std::vector<int64_t>{g.out_ch}))
    return err(Code::kIncompatibleShapes, op, " bias B must be int32 of shape [", g.out_ch,
               "], got ", data_type_name(b->dtype()), " ", shape_str(b->shape()));
  KILN_ASSIGN_OR_RETURN(const std::vector<uint32_t> acc, integer_conv(g, *x, x_zp, *w, w_zp, op));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, y_zp->dtype(), g.out_shape()));
  const float xs = param_as_float(*x_scale, 0), ys = param_as_float(*y_scale, 0);
  const double yz = param_as_int(*y_zp, 0);
  return dispatch_int8(y_zp->dtype(), op, "y_zero_point", [&]<typename Y>() -> Status {
    double lo = 0, hi = 0;
    quant_range(y_zp->dtype(), lo, hi);
    Y* yp = y->data_as<Y>();
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t m = 0; m < g.out_ch; ++m) {
        // The multiplier is formed in float like ONNX's reference, then applied in double.
        const float ws = param_as_float(*w_scale, w_scale->numel() == 1 ? 0 : m);
        const double mult = static_cast<double>(xs * ws / ys);
        const int32_t bias = b ? b->data_as<int32_t>()[m] : 0;
        const int64_t base = (n * g.out_ch + m) * g.out_size;
        for (int64_t i = 0; i < g.out_size; ++i) {
          const int32_t a = static_cast<int32_t>(acc[base + i] + static_cast<uint32_t>(bias));
          // Rounded after adding the zero point, as ONNX's reference does.
          const double v = std::nearbyint(static_cast<double>(a) * mult + yz);
          yp[base + i] = static_cast<Y>(std::isnan(v) ? yz : std::clamp(v, lo, hi));
        }
      }
    return Status::Ok();
  });
}

}  // namespace kiln::ops
