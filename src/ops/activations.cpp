// Activation functions: the pointwise ones (Relu … Shrink) and PRelu, which broadcasts its slope.
//
// Reference kernels compute 16-bit floats in float and double in double; float attributes
// (alpha, beta …) are widened to the compute type, as ONNX Runtime does.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ops/elementwise_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using namespace elementwise;

// y = f(x) for floating-point x. `make` builds f from the context (attributes) once per run:
// make(ctx) returns a generic lambda over float/double.
template <typename Make>
KernelFn float_activation(const char* op, Make make) {
  return [op, make](KernelContext& ctx) -> Status {
    KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op));
    auto f = make(ctx);
    return dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
      KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), x->shape()));
      map_unary<T, T>(*x, *y, f);
      return Status::Ok();
    });
  };
}

// Without attributes.
template <typename F>
KernelFn float_activation_fn(const char* op, F f) {
  return float_activation(op, [f](const KernelContext&) { return f; });
}

// Numerically stable: exp never overflows.
template <typename V>
V sigmoid(V v) {
  if (v >= V{0}) return V{1} / (V{1} + std::exp(-v));
  const V e = std::exp(v);
  return e / (V{1} + e);
}

// log(1 + e^x) without overflow for large x.
template <typename V>
V softplus(V v) {
  return v > V{0} ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
}

// Relu-14 also covers signed integers; unsigned ones (outside the schema) pass through.
Status relu_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Relu"));
  return dispatch_numeric(x->dtype(), "Relu", [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      return err(Code::kTypeUnsupported, "Relu has no reference kernel for bool");
    } else {
      KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), x->shape()));
      map_unary<T, T>(*x, *y, [](auto v) {
        using V = decltype(v);
        if constexpr (std::is_unsigned_v<V>) {
          return v;
        } else {
          return v < V{0} ? V{0} : v;  // NaN stays NaN, as in numpy.maximum
        }
      });
      return Status::Ok();
    }
  });
}

// Most activations gained bfloat16 only at opset 13 (some at 16); older revisions lack it.
std::vector<DataType> floats_no_bf16() {
  return {D::kFloat16, D::kFloat32, D::kFloat64};
}

// X -> Y of the same type T. Revision 1 of most ops carries consumed_inputs, a legacy in-place
// hint for the runtime that does not change the result; kiln accepts and ignores it.
OpSchema unary(const char* name, int64_t since, std::vector<DataType> types,
               const char* input = "X", const char* output = "Y") {
  OpSchema s(name, since);
  s.input(input, "T").output(output, "T").types("T", std::move(types));
  s.fusion(FusionKind::kElementwise);
  return s;
}
OpSchema unary_v1(const char* name, const char* input = "X", const char* output = "Y") {
  OpSchema s = unary(name, 1, floats_no_bf16(), input, output);
  s.attr("consumed_inputs", ir::AttrType::kInts);
  return s;
}

// Shrink also takes integers: computed in double, converted back with float_to_int.
Status shrink_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Shrink"));
  const double bias = ctx.attr_float("bias"), lambd = ctx.attr_float("lambd");
  return dispatch_numeric(x->dtype(), "Shrink", [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      return err(Code::kTypeUnsupported, "Shrink has no reference kernel for bool");
    } else {
      KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), x->shape()));
      map_unary<T, T>(*x, *y, [&](auto v) {
        using V = decltype(v);
        const double d = static_cast<double>(v);
        const double r = d < -lambd ? d + bias : (d > lambd ? d - bias : 0.0);
        if constexpr (std::is_integral_v<V>) {
          return float_to_int<V>(r);
        } else {
          return static_cast<V>(r);
        }
      });
      return Status::Ok();
    }
  });
}

Status gelu_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Gelu"));
  const std::string approximate = ctx.attr_string("approximate");
  if (approximate != "none" && approximate != "tanh")
    return err(Code::kInvalidArgument, "Gelu attribute 'approximate' = \"", approximate,
               "\" (allowed: \"none\", \"tanh\")");
  const bool use_tanh = approximate == "tanh";
  return dispatch_float(x->dtype(), "Gelu", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), x->shape()));
    map_unary<T, T>(*x, *y, [use_tanh](auto v) {
      using V = decltype(v);
      if (use_tanh) {
        const V k = static_cast<V>(std::sqrt(2.0 / std::numbers::pi));
        return V{0.5} * v * (V{1} + std::tanh(k * (v + V{0.044715} * v * v * v)));
      }
      return V{0.5} * v * (V{1} + std::erf(v * static_cast<V>(std::numbers::sqrt2 / 2)));
    });
    return Status::Ok();
  });
}

// Revisions 1 and 6 predate broadcasting: slope holds one value shared by every element, or one
// per channel (X's dim 1), as Caffe2's PRelu did. Returns the shape under which NumPy
// broadcasting applies slope that way: [] or [C, 1, ..., 1].
Result<std::vector<int64_t>> legacy_slope_shape(const Tensor& x, const Tensor& slope,
                                                int64_t since) {
  if (slope.numel() == 1) return std::vector<int64_t>{};
  if (x.rank() >= 2 && slope.numel() == x.shape()[1]) {
    std::vector<int64_t> shape(x.rank() - 1, 1);
    shape[0] = slope.numel();
    return shape;
  }
  return err(Code::kIncompatibleShapes, "PRelu-", since, " slope of shape ",
             Dims::of(slope.shape()).to_string(), " fits X of shape ",
             Dims::of(x.shape()).to_string(),
             " neither as one shared value nor as one value per channel (X's dim 1)");
}

// slope broadcasts to X one way only: the output has exactly X's shape.
Status prelu_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "PRelu"));
  KILN_ASSIGN_OR_RETURN(const Tensor* slope, required_input(ctx, 1, "PRelu"));
  KILN_RETURN_IF_ERROR(check_same_type(*x, *slope, "PRelu", "X", "slope"));
  Tensor legacy_slope;  // slope's data under the per-channel shape (opsets 1-6)
  if (ctx.since() < 7) {
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> s, legacy_slope_shape(*x, *slope, ctx.since()));
    if (slope->dtype() == D::kString)
      return err(Code::kTypeUnsupported, "PRelu has no reference kernel for string");
    // Only read, and the input outlives the kernel call.
    legacy_slope = Tensor::borrow(slope->dtype(), std::move(s), const_cast<void*>(slope->data()));
    slope = &legacy_slope;
  }
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, binary_output_shape(*x, *slope, "PRelu"));
  if (shape != x->shape())
    return err(Code::kIncompatibleShapes, "PRelu slope of shape ",
               Dims::of(slope->shape()).to_string(), " does not broadcast to X of shape ",
               Dims::of(x->shape()).to_string(), " (it would make ", Dims::of(shape).to_string(),
               ")");
  return dispatch_numeric(x->dtype(), "PRelu", [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      return err(Code::kTypeUnsupported, "PRelu has no reference kernel for bool");
    } else {
      KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), shape));
      map_binary<T, T, T>(*x, *slope, *y, [](auto v, auto a) {
        using V = decltype(v);
        if constexpr (std::is_unsigned_v<V>) {
          return v;
        } else if constexpr (std::is_integral_v<V>) {
          return v < 0 ? wrap_mul(v, a) : v;
        } else {
          return v < V{0} ? v * a : v;
        }
      });
      return Status::Ok();
    }
  });
}

}  // namespace

void register_activations(OpRegistry& registry) {
  using ir::AttrType;

  auto relu14 = type_sets::signed_ints();
  relu14.insert(relu14.end(), {D::kFloat16, D::kBFloat16, D::kFloat32, D::kFloat64});
  registry.add(unary_v1("Relu").kernel(relu_kernel));
  for (auto& [since, types] : std::vector<std::pair<int64_t, std::vector<DataType>>>{
           {6, floats_no_bf16()}, {13, type_sets::floats()}, {14, relu14}})
    registry.add(unary("Relu", since, types).kernel(relu_kernel));

  const KernelFn sigmoid_kernel = float_activation_fn("Sigmoid", [](auto v) { return sigmoid(v); });
  const KernelFn tanh_kernel = float_activation_fn("Tanh", [](auto v) { return std::tanh(v); });
  registry.add(unary_v1("Sigmoid").kernel(sigmoid_kernel));
  registry.add(unary_v1("Tanh", "input", "output").kernel(tanh_kernel));
  for (int64_t since : {6, 13}) {
    auto types = since == 6 ? floats_no_bf16() : type_sets::floats();
    registry.add(unary("Sigmoid", since, types).kernel(sigmoid_kernel));
    registry.add(unary("Tanh", since, types, "input", "output").kernel(tanh_kernel));
  }
  registry.add(
      unary("Softplus", 1, floats_no_bf16()).kernel(float_activation_fn("Softplus", [](auto v) {
        return softplus(v);
      })));
  registry.add(unary("Softsign", 1, floats_no_bf16(), "input", "output")
                   .kernel(float_activation_fn(
                       "Softsign", [](auto v) { return v / (decltype(v){1} + std::abs(v)); })));
  // HardSwish = x * HardSigmoid(x) with alpha 1/6, beta 0.5.
  registry.add(
      unary("HardSwish", 14, floats_no_bf16()).kernel(float_activation_fn("HardSwish", [](auto v) {
        using V = decltype(v);
        return v * std::clamp(v / V{6} + V{0.5}, V{0}, V{1});
      })));
  registry.add(unary("Mish", 18, floats_no_bf16()).kernel(float_activation_fn("Mish", [](auto v) {
    return v * std::tanh(softplus(v));
  })));

  const KernelFn leaky_relu = float_activation("LeakyRelu", [](const KernelContext& ctx) {
    const double alpha = ctx.attr_float("alpha");
    return [alpha](auto v) {
      using V = decltype(v);
      return v < V{0} ? static_cast<V>(alpha) * v : v;
    };
  });
  registry.add(unary_v1("LeakyRelu").attr("alpha", AttrType::kFloat, 0.01f).kernel(leaky_relu));
  registry.add(unary("LeakyRelu", 6, floats_no_bf16())
                   .attr("alpha", AttrType::kFloat, 0.01f)
                   .kernel(leaky_relu));
  registry.add(unary("LeakyRelu", 16, type_sets::floats())
                   .attr("alpha", AttrType::kFloat, 0.01f)
                   .kernel(leaky_relu));
  const KernelFn elu = float_activation("Elu", [](const KernelContext& ctx) {
    const double alpha = ctx.attr_float("alpha");
    return [alpha](auto v) {
      using V = decltype(v);
      return v < V{0} ? static_cast<V>(alpha) * std::expm1(v) : v;
    };
  });
  registry.add(unary_v1("Elu").attr("alpha", AttrType::kFloat, 1.0f).kernel(elu));
  registry.add(unary("Elu", 6, floats_no_bf16()).attr("alpha", AttrType::kFloat, 1.0f).kernel(elu));
  const KernelFn selu = float_activation("Selu", [](const KernelContext& ctx) {
    const double alpha = ctx.attr_float("alpha"), gamma = ctx.attr_float("gamma");
    return [alpha, gamma](auto v) {
      using V = decltype(v);
      const V a = static_cast<V>(alpha), g = static_cast<V>(gamma);
      return v > V{0} ? g * v : g * a * std::expm1(v);
    };
  });
  // Selu-1's defaults are the paper's constants to four decimals; 6 gives them to float
  // precision, as ONNX stores them.
  registry.add(unary_v1("Selu")
                   .attr("alpha", AttrType::kFloat, 1.6732f)
                   .attr("gamma", AttrType::kFloat, 1.0507f)
                   .kernel(selu));
  registry.add(unary("Selu", 6, floats_no_bf16())
                   .attr("alpha", AttrType::kFloat, 1.67326319217681884765625f)
                   .attr("gamma", AttrType::kFloat, 1.05070102214813232421875f)
                   .kernel(selu));
  registry.add(unary("Celu", 12, {D::kFloat32})
                   .attr("alpha", AttrType::kFloat, 1.0f)
                   .kernel(float_activation("Celu", [](const KernelContext& ctx) {
                     const double alpha = ctx.attr_float("alpha");
                     return [alpha](auto v) {
                       using V = decltype(v);
                       const V a = static_cast<V>(alpha);
                       return std::max(V{0}, v) + std::min(V{0}, a * std::expm1(v / a));
                     };
                   })));
  registry.add(unary("Gelu", 20, type_sets::floats())
                   .attr_enum("approximate", "none", {"none", "tanh"})
                   .kernel(gelu_kernel));
  const KernelFn hard_sigmoid = float_activation("HardSigmoid", [](const KernelContext& ctx) {
    const double alpha = ctx.attr_float("alpha"), beta = ctx.attr_float("beta");
    return [alpha, beta](auto v) {
      using V = decltype(v);
      const V r = static_cast<V>(alpha) * v + static_cast<V>(beta);
      return std::clamp(r, V{0}, V{1});
    };
  });
  registry.add(unary_v1("HardSigmoid")
                   .attr("alpha", AttrType::kFloat, 0.2f)
                   .attr("beta", AttrType::kFloat, 0.5f)
                   .kernel(hard_sigmoid));
  registry.add(unary("HardSigmoid", 6, floats_no_bf16())
                   .attr("alpha", AttrType::kFloat, 0.2f)
                   .attr("beta", AttrType::kFloat, 0.5f)
                   .kernel(hard_sigmoid));
  registry.add(unary("ThresholdedRelu", 10, floats_no_bf16())
                   .attr("alpha", AttrType::kFloat, 1.0f)
                   .kernel(float_activation("ThresholdedRelu", [](const KernelContext& ctx) {
                     const double alpha = ctx.attr_float("alpha");
                     return [alpha](auto v) {
                       using V = decltype(v);
                       return v > static_cast<V>(alpha) ? v : V{0};
                     };
                   })));

  auto shrink = type_sets::ints();
  shrink.insert(shrink.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  registry.add(unary("Shrink", 9, shrink, "input", "output")
                   .attr("bias", AttrType::kFloat, 0.0f)
                   .attr("lambd", AttrType::kFloat, 0.5f)
                   .kernel(shrink_kernel));

  // slope broadcasts unidirectionally to X, so PRelu is a broadcast op, not elementwise.
  auto prelu9 = std::vector<DataType>{D::kFloat16, D::kFloat32, D::kFloat64, D::kUInt32,
                                      D::kUInt64,  D::kInt32,   D::kInt64};
  auto prelu16 = prelu9;
  prelu16.push_back(D::kBFloat16);
  // 1 and 6 take a shared or per-channel slope (legacy_slope_shape); 1 has consumed_inputs.
  const std::vector<std::pair<int64_t, std::vector<DataType>>> prelu = {{1, floats_no_bf16()},
                                                                        {6, floats_no_bf16()},
                                                                        {7, floats_no_bf16()},
                                                                        {9, prelu9},
                                                                        {16, prelu16}};
  for (const auto& [since, types] : prelu) {
    OpSchema s("PRelu", since);
    s.input("X", "T").input("slope", "T").output("Y", "T").types("T", types);
    if (since == 1) s.attr("consumed_inputs", AttrType::kInts);
    // Y has X's shape: the slope broadcasts to X, never the other way.
    registry.add(std::move(
        s.fusion(FusionKind::kBroadcast).kernel(prelu_kernel).infer(infer_same_as_input)));
  }
}

}  // namespace kiln::ops
