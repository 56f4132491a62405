// Reference kernels of QuantizeLinear, DequantizeLinear (per tensor, per axis and, from 21,
// blocked) and DynamicQuantizeLinear. Rounding is half to even, results saturate to the
// quantized type, as in ONNX's reference implementation.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ops/nn_kernels.h"

namespace kiln::ops {

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  return Dims::of(s).to_string();
}

// Where each element of x finds its scale and zero point. x is viewed as [outer, dim, inner]
// around the quantization axis; the parameter of element (o, a, i) sits at
// o * outer_stride + (a / block) * axis_stride + i * inner_stride.
struct ParamLayout {
  int64_t outer = 1, dim = 1, inner = 1;
  int64_t outer_stride = 0, block = 1, axis_stride = 0, inner_stride = 0;
};

Result<ParamLayout> param_layout(const KernelContext& ctx, std::string_view op, const Tensor& x,
                                 const Tensor& scale, const Tensor* zp) {
  const int64_t since = ctx.since();
  const int64_t block = since >= 21 ? ctx.attr_int("block_size", 0) : 0;
  if (block < 0) return err(Code::kInvalidArgument, op, " block_size must be >= 0, got ", block);
  ParamLayout l;
  if (scale.numel() == 1 && (block == 0 || scale.rank() <= 1)) {
    if (zp != nullptr && zp->numel() != 1)
      return err(Code::kIncompatibleShapes, op, " zero point ", shape_str(zp->shape()),
                 " must hold one value like the scale ", shape_str(scale.shape()));
    l.inner = x.numel();  // per tensor
    return l;
  }
  if (zp != nullptr && zp->shape() != scale.shape())
    return err(Code::kIncompatibleShapes, op, " zero point ", shape_str(zp->shape()),
               " must have the shape of the scale ", shape_str(scale.shape()));
  const int64_t rank = static_cast<int64_t>(x.rank());
  if (rank == 0)
    return err(Code::kIncompatibleShapes, op, " scalar x takes a single scale, not ",
               shape_str(scale.shape()));
  KILN_ASSIGN_OR_RETURN(const int64_t axis,
                        normalize_axis(since >= 13 ? ctx.attr_int("axis", 1) : 1, rank, op));
  const std::vector<int64_t>& xs = x.shape();
  for (int64_t d = 0; d < axis; ++d) l.outer *= xs[d];
  l.dim = xs[axis];
  for (int64_t d = axis + 1; d < rank; ++d) l.inner *= xs[d];
  if (block == 0) {
    if (scale.rank() != 1 || scale.numel() != l.dim)
      return err(Code::kIncompatibleShapes, op, " per-axis scale ", shape_str(scale.shape()),
                 " must have shape [", l.dim, "] (dim ", axis, " of x ", shape_str(xs), ")");
    l.axis_stride = 1;
    return l;
  }
  std::vector<int64_t> expect = xs;
  expect[axis] = (xs[axis] + block - 1) / block;
  if (scale.shape() != expect)
    return err(Code::kIncompatibleShapes, op, " blocked scale ", shape_str(scale.shape()),
               " must have shape ", shape_str(expect), " for x ", shape_str(xs), ", axis ", axis,
               " and block_size ", block);
  l.block = block;
  l.axis_stride = l.inner;
  l.outer_stride = expect[axis] * l.inner;
  l.inner_stride = 1;
  return l;
}

// Calls f(element_index, param_index) for every element of x.
template <typename F>
void for_each_param(const ParamLayout& l, F&& f) {
  int64_t e = 0;
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t a = 0; a < l.dim; ++a) {
      const int64_t base = o * l.outer_stride + (a / l.block) * l.axis_stride;
      for (int64_t i = 0; i < l.inner; ++i, ++e) f(e, base + i * l.inner_stride);
    }
}

// The scales as double; QuantizeLinear-19 types y_scale like x, which includes int32.
std::vector<double> scale_values(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = t.dtype() == DataType::kInt32 ? t.data_as<int32_t>()[i]
                                         : param_as_float(t, static_cast<int64_t>(i));
  return v;
}

// Rounds half to even, adds the zero point and saturates; NaN becomes 0 (as ONNX Runtime
// produces on x86).
template <typename Q>
Q quantize_value(double scaled, double zp, double lo, double hi) {
  const double v = std::nearbyint(scaled) + zp;
  return static_cast<Q>(std::isnan(v) ? std::clamp(0.0, lo, hi) : std::clamp(v, lo, hi));
}

template <typename F>
Status dispatch_quantized(DataType dtype, std::string_view op, F&& fn) {
  switch (dtype) {
    case DataType::kInt8:
      return fn.template operator()<int8_t>();
    case DataType::kUInt8:
      return fn.template operator()<uint8_t>();
    case DataType::kInt16:
      return fn.template operator()<int16_t>();
    case DataType::kUInt16:
      return fn.template operator()<uint16_t>();
    case DataType::kInt32:
      return fn.template operator()<int32_t>();
    default:
      return err(Code::kTypeUnsupported, op, " has no reference kernel for quantized type ",
                 data_type_name(dtype), " (int8, uint8, int16, uint16, int32)");
  }
}

}  // namespace

Status quantize_linear_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "QuantizeLinear";
  const Tensor* x = ctx.input(0);
  const Tensor* scale = ctx.input(1);
  const Tensor* zp = ctx.input(2);
  if (x == nullptr || scale == nullptr)
    return err(Code::kInvalidArgument, op, " needs inputs x and y_scale");
  if (!is_scale_type(scale->dtype()) && scale->dtype() != DataType::kInt32)
    return err(Code::kTypeUnsupported, op, " y_scale must be float, not ",
               data_type_name(scale->dtype()));
  DataType out = zp ? zp->dtype() : DataType::kUInt8;
  const int64_t out_attr = ctx.since() >= 21 ? ctx.attr_int("output_dtype", 0) : 0;
  if (out_attr != 0) {
    const DataType requested = static_cast<DataType>(out_attr);
    if (zp != nullptr && requested != zp->dtype())
      return err(Code::kInvalidArgument, op, " output_dtype ", out_attr, " (",
                 data_type_name(requested), ") disagrees with y_zero_point's type ",
                 data_type_name(zp->dtype()));
    out = requested;
  }
  if (out == DataType::kInt32 || !is_zero_point_type(out))
    return err(Code::kTypeUnsupported, op, " cannot quantize to ", data_type_name(out),
               " (int8, uint8, int16, uint16)");
  KILN_ASSIGN_OR_RETURN(const ParamLayout l, param_layout(ctx, op, *x, *scale, zp));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, out, x->shape()));
  double lo = 0, hi = 0;
  quant_range(out, lo, hi);
  return dispatch_numeric(x->dtype(), op, [&]<typename X>() -> Status {
    if constexpr (!std::is_same_v<X, int32_t> && !is_float_v<X>) {
      return err(Code::kTypeUnsupported, op, " input x must be float or int32, not ",
                 data_type_name(x->dtype()));
    } else {
      // x / scale in float for float inputs (ONNX Runtime computes 16-bit floats in float too),
      // in double for int32.
      using C = std::conditional_t<std::is_same_v<X, int32_t> || std::is_same_v<X, double>, double,
                                   float>;
      const X* xp = x->data_as<X>();
      std::vector<C> scales;
      for (double v : scale_values(*scale)) scales.push_back(static_cast<C>(v));
      const std::vector<int32_t> zps = params_as_int(zp);
      const bool one_zp = zps.size() == 1;
      return dispatch_quantized(out, op, [&]<typename Q>() -> Status {
        Q* yp = y->data_as<Q>();
        for_each_param(l, [&](int64_t e, int64_t p) {
          const C q = static_cast<C>(xp[e]) / scales[p];
          yp[e] = quantize_value<Q>(q, zps[one_zp ? 0 : p], lo, hi);
        });
        return Status::Ok();
      });
    }
  });
}

Status dequantize_linear_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "DequantizeLinear";
  const Tensor* x = ctx.input(0);
  const Tensor* scale = ctx.input(1);
  const Tensor* zp = ctx.input(2);
  if (x == nullptr || scale == nullptr)
    return err(Code::kInvalidArgument, op, " needs inputs x and x_scale");
  if (!is_scale_type(scale->dtype()))
    return err(Code::kTypeUnsupported, op, " x_scale must be float, not ",
               data_type_name(scale->dtype()));
  if (zp != nullptr && zp->dtype() != x->dtype())
    return err(Code::kInvalidArgument, op, " x_zero_point is ", data_type_name(zp->dtype()),
               " but x is ", data_type_name(x->dtype()));
  if (!is_zero_point_type(x->dtype()))
    return err(Code::kTypeUnsupported, op, " has no reference kernel for quantized type ",
               data_type_name(x->dtype()), " (int8, uint8, int16, uint16, int32)");
  const DataType out = ctx.since() >= 19 ? scale->dtype() : DataType::kFloat32;
  KILN_ASSIGN_OR_RETURN(const ParamLayout l, param_layout(ctx, op, *x, *scale, zp));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, out, x->shape()));
  return dispatch_quantized(x->dtype(), op, [&]<typename Q>() -> Status {
    const Q* xp = x->data_as<Q>();
    return dispatch_float(out, op, [&]<typename Y>() -> Status {
      // (x - zp) is exact in float for 8/16-bit x; int32 x computes in double.
      using C = std::conditional_t<sizeof(Q) >= 4, double, float>;
      Y* yp = y->data_as<Y>();
      const std::vector<float> scales = params_as_float(scale);
      const std::vector<int32_t> zps = params_as_int(zp);
      const bool one_zp = zps.size() == 1;
      for_each_param(l, [&](int64_t e, int64_t p) {
        const int64_t shifted = static_cast<int64_t>(xp[e]) - zps[one_zp ? 0 : p];
        yp[e] = static_cast<Y>(
            static_cast<compute_t<Y>>(static_cast<C>(shifted) * static_cast<C>(scales[p])));
      });
      return Status::Ok();
    });
  });
}

Status dynamic_quantize_linear_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "DynamicQuantizeLinear";
  const Tensor* x = ctx.input(0);
  if (x == nullptr) return err(Code::kInvalidArgument, op, " needs input x");
  if (x->dtype() != DataType::kFloat32)
    return err(Code::kTypeUnsupported, op, " input x must be float32, not ",
               data_type_name(x->dtype()));
  const float* xp = x->data_as<float>();
  // The range always includes 0 so that 0 is exactly representable; NaNs are skipped.
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < x->numel(); ++i) {
    if (xp[i] < lo) lo = xp[i];
    if (xp[i] > hi) hi = xp[i];
  }
  // An all-zero input has no range; ONNX Runtime then uses scale 1 (ONNX's reference uses
  // 1/255). y is 0 either way.
  const float scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  const float zp = std::nearbyint(std::clamp(0.0f - lo / scale, 0.0f, 255.0f));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, DataType::kUInt8, x->shape()));
  KILN_ASSIGN_OR_RETURN(Tensor * ys, ctx.allocate_output(1, DataType::kFloat32, {}));
  KILN_ASSIGN_OR_RETURN(Tensor * yz, ctx.allocate_output(2, DataType::kUInt8, {}));
  uint8_t* yp = y->data_as<uint8_t>();
  for (int64_t i = 0; i < x->numel(); ++i)
    yp[i] = quantize_value<uint8_t>(xp[i] / scale, zp, 0.0, 255.0);
  ys->data_as<float>()[0] = scale;
  yz->data_as<uint8_t>()[0] = static_cast<uint8_t>(zp);
  return Status::Ok();
}

}  // namespace kiln::ops
