// Unary pointwise math and logic: Abs … Atanh, IsNaN, IsInf, Not, BitwiseNot.
//
// Reference kernels compute 16-bit floats in float. Integer Abs/Neg wrap (|INT_MIN| is INT_MIN,
// as in NumPy and ONNX Runtime) instead of overflowing.
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "ops/elementwise_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using namespace elementwise;

// y = f(x) for floating-point x; f is a generic lambda over float/double.
template <typename F>
KernelFn float_kernel(const char* op, F f) {
  return [op, f](KernelContext& ctx) -> Status {
    KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op));
    return dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
      KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), x->shape()));
      map_unary<T, T>(*x, *y, f);
      return Status::Ok();
    });
  };
}

// y = f(x) for any numeric x except bool; f sees integers as themselves.
template <typename F>
KernelFn numeric_kernel(const char* op, F f) {
  return [op, f](KernelContext& ctx) -> Status {
    KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op));
    return dispatch_numeric(x->dtype(), op, [&]<typename T>() -> Status {
      if constexpr (std::is_same_v<T, bool>) {
        return err(Code::kTypeUnsupported, op, " has no reference kernel for bool");
      } else {
        KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), x->shape()));
        map_unary<T, T>(*x, *y, f);
        return Status::Ok();
      }
    });
  };
}

// Integer-only ops (BitwiseNot).
template <typename F>
KernelFn int_kernel(const char* op, F f) {
  return [op, f](KernelContext& ctx) -> Status {
    KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op));
    return dispatch_numeric(x->dtype(), op, [&]<typename T>() -> Status {
      if constexpr (!is_int_v<T>) {
        return err(Code::kTypeUnsupported, op, " has no reference kernel for ",
                   data_type_name(x->dtype()), " (integer types only)");
      } else {
        KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), x->shape()));
        map_unary<T, T>(*x, *y, f);
        return Status::Ok();
      }
    });
  };
}

Status not_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Not"));
  if (x->dtype() != D::kBool)
    return err(Code::kTypeUnsupported, "Not has no reference kernel for ",
               data_type_name(x->dtype()), " (bool only)");
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, D::kBool, x->shape()));
  map_unary<bool, bool>(*x, *y, [](bool v) { return !v; });
  return Status::Ok();
}

// Floating x to a bool mask.
template <typename F>
Status float_predicate(KernelContext& ctx, const char* op, F f) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op));
  return dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, D::kBool, x->shape()));
    map_unary<T, bool>(*x, *y, f);
    return Status::Ok();
  });
}

Status isnan_kernel(KernelContext& ctx) {
  return float_predicate(ctx, "IsNaN", [](auto v) { return std::isnan(v); });
}

Status isinf_kernel(KernelContext& ctx) {
  const bool neg = ctx.attr_int("detect_negative") != 0;
  const bool pos = ctx.attr_int("detect_positive") != 0;
  return float_predicate(ctx, "IsInf",
                         [neg, pos](auto v) { return std::isinf(v) && (v > 0 ? pos : neg); });
}

KernelFn abs_kernel() {
  return numeric_kernel("Abs", [](auto v) {
    using V = decltype(v);
    if constexpr (std::is_unsigned_v<V>) {
      return v;
    } else if constexpr (std::is_integral_v<V>) {
      return v < 0 ? wrap_neg(v) : v;
    } else {
      return std::abs(v);
    }
  });
}

KernelFn neg_kernel() {
  return numeric_kernel("Neg", [](auto v) {
    if constexpr (std::is_integral_v<decltype(v)>) {
      return wrap_neg(v);
    } else {
      return -v;
    }
  });
}

// NaN keeps its NaN, as numpy.sign (the ONNX reference) does.
KernelFn sign_kernel() {
  return numeric_kernel("Sign", [](auto v) {
    using V = decltype(v);
    if constexpr (std::is_unsigned_v<V>) {
      return static_cast<V>(v > 0 ? 1 : 0);
    } else {
      if constexpr (std::is_floating_point_v<V>) {
        if (std::isnan(v)) return v;
      }
      return static_cast<V>(v > V{0} ? 1 : (v < V{0} ? -1 : 0));
    }
  });
}

// Erf-9 also took integers: computed in double, truncated back (erf of an integer is -1, 0 or 1
// after truncation toward zero). Erf-13 narrowed the op to floats.
KernelFn erf_kernel() {
  const KernelFn any = numeric_kernel("Erf", [](auto v) {
    using V = decltype(v);
    if constexpr (std::is_integral_v<V>) {
      return float_to_int<V>(std::erf(static_cast<double>(v)));
    } else {
      return std::erf(v);
    }
  });
  const KernelFn floats = float_kernel("Erf", [](auto v) { return std::erf(v); });
  return [any, floats](KernelContext& ctx) { return ctx.since() < 13 ? any(ctx) : floats(ctx); };
}

KernelFn bitwise_not_kernel() {
  return int_kernel("BitwiseNot", [](auto v) { return static_cast<decltype(v)>(~v); });
}

// Most float ops gained bfloat16 only at opset 13; the older revisions stay without it.
std::vector<DataType> floats_no_bf16() {
  return {D::kFloat16, D::kFloat32, D::kFloat64};
}
std::vector<DataType> numeric_no_bf16() {
  auto v = type_sets::ints();
  v.insert(v.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  return v;
}
std::vector<DataType> neg_types(bool bf16) {
  std::vector<DataType> v = type_sets::signed_ints();
  v.insert(v.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  if (bf16) v.push_back(D::kBFloat16);
  return v;
}

struct Revision {
  int64_t since;
  std::vector<DataType> types;
  // Revision 1 of the float ops has consumed_inputs, a legacy in-place hint for the runtime
  // that does not change the result; kiln accepts and ignores it.
  bool consumed_inputs = false;
};
Revision v1_floats() {
  return {1, floats_no_bf16(), true};
}

// One input X, one output Y of the same type T; only names and type lists differ.
struct UnaryOp {
  const char* name;
  const char* input;
  const char* output;
  std::vector<Revision> revisions;
  KernelFn kernel;
};

}  // namespace

void register_unary_math(OpRegistry& registry) {
  const std::vector<UnaryOp> ops = {
      {"Abs",
       "X",
       "Y",
       {v1_floats(), {6, numeric_no_bf16()}, {13, type_sets::numeric()}},
       abs_kernel()},
      {"Neg", "X", "Y", {v1_floats(), {6, neg_types(false)}, {13, neg_types(true)}}, neg_kernel()},
      {"Exp",
       "input",
       "output",
       {v1_floats(), {6, floats_no_bf16()}, {13, type_sets::floats()}},
       float_kernel("Exp", [](auto v) { return std::exp(v); })},
      {"Log",
       "input",
       "output",
       {v1_floats(), {6, floats_no_bf16()}, {13, type_sets::floats()}},
       float_kernel("Log", [](auto v) { return std::log(v); })},
      {"Sqrt",
       "X",
       "Y",
       {v1_floats(), {6, floats_no_bf16()}, {13, type_sets::floats()}},
       float_kernel("Sqrt", [](auto v) { return std::sqrt(v); })},
      {"Reciprocal",
       "X",
       "Y",
       {v1_floats(), {6, floats_no_bf16()}, {13, type_sets::floats()}},
       float_kernel("Reciprocal", [](auto v) { return decltype(v){1} / v; })},
      {"Floor",
       "X",
       "Y",
       {v1_floats(), {6, floats_no_bf16()}, {13, type_sets::floats()}},
       float_kernel("Floor", [](auto v) { return std::floor(v); })},
      {"Ceil",
       "X",
       "Y",
       {v1_floats(), {6, floats_no_bf16()}, {13, type_sets::floats()}},
       float_kernel("Ceil", [](auto v) { return std::ceil(v); })},
      {"Round",
       "X",
       "Y",
       {{11, floats_no_bf16()}},
       float_kernel("Round", [](auto v) { return std::nearbyint(v); })},
      {"Sign",
       "input",
       "output",
       {{9, numeric_no_bf16()}, {13, type_sets::numeric()}},
       sign_kernel()},
      // Erf-9 also accepted integer inputs; 13 narrowed it to floats.
      {"Erf", "input", "output", {{9, numeric_no_bf16()}, {13, type_sets::floats()}}, erf_kernel()},
      {"Sin",
       "input",
       "output",
       {{7, floats_no_bf16()}},
       float_kernel("Sin", [](auto v) { return std::sin(v); })},
      {"Cos",
       "input",
       "output",
       {{7, floats_no_bf16()}},
       float_kernel("Cos", [](auto v) { return std::cos(v); })},
      {"Tan",
       "input",
       "output",
       {{7, floats_no_bf16()}},
       float_kernel("Tan", [](auto v) { return std::tan(v); })},
      {"Asin",
       "input",
       "output",
       {{7, floats_no_bf16()}},
       float_kernel("Asin", [](auto v) { return std::asin(v); })},
      {"Acos",
       "input",
       "output",
       {{7, floats_no_bf16()}},
       float_kernel("Acos", [](auto v) { return std::acos(v); })},
      {"Atan",
       "input",
       "output",
       {{7, floats_no_bf16()}},
       float_kernel("Atan", [](auto v) { return std::atan(v); })},
      {"Sinh",
       "input",
       "output",
       {{9, floats_no_bf16()}},
       float_kernel("Sinh", [](auto v) { return std::sinh(v); })},
      {"Cosh",
       "input",
       "output",
       {{9, floats_no_bf16()}},
       float_kernel("Cosh", [](auto v) { return std::cosh(v); })},
      {"Asinh",
       "input",
       "output",
       {{9, floats_no_bf16()}},
       float_kernel("Asinh", [](auto v) { return std::asinh(v); })},
      {"Acosh",
       "input",
       "output",
       {{9, floats_no_bf16()}},
       float_kernel("Acosh", [](auto v) { return std::acosh(v); })},
      {"Atanh",
       "input",
       "output",
       {{9, floats_no_bf16()}},
       float_kernel("Atanh", [](auto v) { return std::atanh(v); })},
      {"Not", "X", "Y", {{1, {D::kBool}}}, not_kernel},
      {"BitwiseNot", "X", "Y", {{18, type_sets::ints()}}, bitwise_not_kernel()},
  };
  for (const UnaryOp& op : ops) {
    for (const Revision& rev : op.revisions) {
      OpSchema s(op.name, rev.since);
      s.input(op.input, "T").output(op.output, "T").types("T", rev.types);
      if (rev.consumed_inputs) s.attr("consumed_inputs", ir::AttrType::kInts);
      registry.add(std::move(s.fusion(FusionKind::kElementwise).kernel(op.kernel)));
    }
  }

  // IsNaN-20 and IsInf-20 only add float8 inputs, which kiln leaves out; the revisions still
  // need entries so that opsets 20-21 do not resolve to the older ones.
  for (int64_t since : {9, 13, 20}) {
    registry.add(OpSchema("IsNaN", since)
                     .input("X", "T1")
                     .output("Y", "T2")
                     .types("T1", since == 9 ? floats_no_bf16() : type_sets::floats())
                     .types("T2", {D::kBool})
                     .fusion(FusionKind::kElementwise)
                     .kernel(isnan_kernel));
  }
  for (int64_t since : {10, 20}) {
    registry.add(OpSchema("IsInf", since)
                     .input("X", "T1")
                     .output("Y", "T2")
                     .types("T1", since == 10 ? std::vector<DataType>{D::kFloat32, D::kFloat64}
                                              : type_sets::floats())
                     .types("T2", {D::kBool})
                     .attr_int_enum("detect_negative", 1, {0, 1})
                     .attr_int_enum("detect_positive", 1, {0, 1})
                     .fusion(FusionKind::kElementwise)
                     .kernel(isinf_kernel));
  }
}

}  // namespace kiln::ops
