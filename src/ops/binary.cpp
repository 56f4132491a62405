// Binary operators with multidirectional broadcasting: arithmetic, comparison, logic, bitwise.
//
// Revisions before opset 7 broadcast differently: only B to A, only when the node sets
// `broadcast`, aligned by `axis` (see legacy_b_shape); from 7 both inputs broadcast NumPy-style.
//
// Reference kernels: integer arithmetic wraps around (two's complement) instead of overflowing;
// integer Div/Mod by zero fails with KernelFailed naming the element (ONNX leaves it undefined;
// ONNX Runtime refuses it too); INT_MIN / -1 wraps to INT_MIN (ONNX Runtime dies of SIGFPE);
// integer Pow is exact (ONNX Runtime goes through double and loses bits above 2^53); BitShift by
// the bit width or more gives 0; comparisons with NaN are false.
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/errors.h"
#include "ops/elementwise_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using namespace elementwise;

// ---- kernels ----------------------------------------------------------------------------------

// The element types a binary kernel accepts (the dispatch instantiates all, rejects the rest).
enum class Types { kNumeric, kInts, kUnsigned, kBool, kAll };

template <typename T>
constexpr bool accepts(Types types) {
  switch (types) {
    case Types::kNumeric:
      return !std::is_same_v<T, bool>;
    case Types::kInts:
      return is_int_v<T>;
    case Types::kUnsigned:
      return is_int_v<T> && std::is_unsigned_v<T>;
    case Types::kBool:
      return std::is_same_v<T, bool>;
    case Types::kAll:
      return true;
  }
  return false;
}

const char* types_name(Types types) {
  switch (types) {
    case Types::kNumeric:
      return "numeric types only";
    case Types::kInts:
      return "integer types only";
    case Types::kUnsigned:
      return "unsigned integer types only";
    case Types::kBool:
      return "bool only";
    case Types::kAll:
      return "numeric types and bool";
  }
  return "";
}

struct BinaryInputs {
  const Tensor* a = nullptr;
  const Tensor* b = nullptr;
  std::vector<int64_t> shape;  // the broadcast output shape
  // Opsets 1-6: B's data under the shape that NumPy broadcasting aligns like the legacy rule
  // (b points here). On the heap so that b stays valid when BinaryInputs moves.
  std::shared_ptr<Tensor> b_legacy;
};

// The legacy broadcast of opsets 1-6, as B's shape padded with trailing 1s (so that NumPy-style
// broadcasting places it where the old rule does). broadcast = 0 requires A and B of one shape.
// broadcast = 1 stretches B over A only, so the result has A's shape: B holds one element (of
// rank <= A's), or its dims line up with A's dims from `axis` on (default: A's last dims). The
// spec's text says size-1 dims of B do not stretch yet, but ONNX's own backend data
// (test_operator_add_size1_*: B [2,1] and [1,3] over A [2,3] at axis 0) and ONNX's 6-to-7
// converter (which pads B with trailing 1s and broadcasts) stretch them; kiln follows those.
Result<std::vector<int64_t>> legacy_b_shape(const KernelContext& ctx, const Tensor& a,
                                            const Tensor& b, const char* op) {
  const std::string rev = str(op, "-", ctx.since());
  const int64_t broadcast = ctx.attr_int("broadcast", 0);
  if (broadcast != 0 && broadcast != 1)
    return err(Code::kInvalidArgument, rev, " attribute 'broadcast' = ", broadcast,
               " (allowed: 0, 1)");
  if (broadcast == 0) {
    if (a.shape() != b.shape())
      return err(Code::kIncompatibleShapes, rev, " with broadcast = 0 needs A and B of one shape, ",
                 "got ", Dims::of(a.shape()).to_string(), " and ", Dims::of(b.shape()).to_string(),
                 " (broadcast = 1 stretches B over A)");
    return b.shape();
  }
  const int64_t ra = static_cast<int64_t>(a.rank()), rb = static_cast<int64_t>(b.rank());
  if (rb > ra)
    return err(Code::kIncompatibleShapes, rev, " cannot broadcast B ",
               Dims::of(b.shape()).to_string(), " to A ", Dims::of(a.shape()).to_string(),
               ": B has the higher rank (only B is broadcast, to A's shape)");
  if (b.numel() == 1) return std::vector<int64_t>{};
  const int64_t axis = ctx.has_attr("axis") ? ctx.attr_int("axis") : ra - rb;
  if (axis < 0 || axis > ra - rb)
    return err(Code::kInvalidArgument, rev, " attribute 'axis' = ", axis, " is out of range for B ",
               Dims::of(b.shape()).to_string(), " and A ", Dims::of(a.shape()).to_string(),
               " (allowed: 0 to ", ra - rb, ")");
  std::vector<int64_t> shape = b.shape();
  for (int64_t i = 0; i < rb; ++i) {
    const int64_t d = b.shape()[static_cast<size_t>(i)];
    if (d != 1 && d != a.shape()[static_cast<size_t>(axis + i)])
      return err(Code::kIncompatibleShapes, rev, " cannot broadcast B ",
                 Dims::of(b.shape()).to_string(), " to A ", Dims::of(a.shape()).to_string(),
                 " at axis ", axis, ": B's dims must equal (or be 1 against) A's dims ", axis, "..",
                 axis + rb - 1);
  }
  shape.resize(static_cast<size_t>(ra - axis), 1);
  return shape;
}

// Both inputs, checked to share a type (unless `same_type` is off: Pow's exponent has its own).
Result<BinaryInputs> binary_inputs(const KernelContext& ctx, const char* op,
                                   bool same_type = true) {
  BinaryInputs in;
  KILN_ASSIGN_OR_RETURN(in.a, required_input(ctx, 0, op));
  KILN_ASSIGN_OR_RETURN(in.b, required_input(ctx, 1, op));
  if (same_type) KILN_RETURN_IF_ERROR(check_same_type(*in.a, *in.b, op, "A", "B"));
  if (ctx.since() < 7) {
    if (in.b->dtype() == D::kString)
      return err(Code::kTypeUnsupported, op, "-", ctx.since(), " has no kernel for string");
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> b_shape, legacy_b_shape(ctx, *in.a, *in.b, op));
    // A borrowed view: only read, and the input outlives the kernel call.
    in.b_legacy = std::make_shared<Tensor>(
        Tensor::borrow(in.b->dtype(), std::move(b_shape), const_cast<void*>(in.b->data())));
    in.b = in.b_legacy.get();
    in.shape = in.a->shape();
    KILN_RETURN_IF_ERROR(check_output_size(in.shape, op));
    return in;
  }
  KILN_ASSIGN_OR_RETURN(in.shape, binary_output_shape(*in.a, *in.b, op));
  return in;
}

// C = f(A, B) elementwise with broadcasting; C has A's type, or bool when kPredicate.
template <Types kTypes, bool kPredicate, typename F>
Status run_binary(KernelContext& ctx, const BinaryInputs& in, const char* op, F f) {
  return dispatch_numeric(in.a->dtype(), op, [&]<typename T>() -> Status {
    if constexpr (!accepts<T>(kTypes)) {
      return err(Code::kTypeUnsupported, op, " has no reference kernel for ",
                 data_type_name(in.a->dtype()), " (", types_name(kTypes), ")");
    } else {
      using C = std::conditional_t<kPredicate, bool, T>;
      KILN_ASSIGN_OR_RETURN(Tensor * c, ctx.allocate_output(0, data_type_of<C>(), in.shape));
      map_binary<T, T, C>(*in.a, *in.b, *c, f);
      return Status::Ok();
    }
  });
}

template <Types kTypes, bool kPredicate, typename F>
KernelFn binary_kernel(const char* op, F f) {
  return [op, f](KernelContext& ctx) -> Status {
    KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, op));
    return run_binary<kTypes, kPredicate>(ctx, in, op, f);
  };
}

// Integer division and remainder by zero are refused before computing anything.
Status check_divisor(const BinaryInputs& in, const char* op) {
  if (checked_numel(in.shape).value_or(0) == 0) return Status::Ok();  // nothing is divided
  return dispatch_numeric(in.b->dtype(), op, [&]<typename T>() -> Status {
    if constexpr (is_int_v<T>) {
      const T* pb = in.b->data_as<T>();
      for (int64_t i = 0; i < in.b->numel(); ++i)
        if (pb[i] == T{0})
          return err(Code::kKernelFailed, op, ": integer division by zero (B[", i,
                     "] = 0; B has shape ", Dims::of(in.b->shape()).to_string(), ")");
    }
    return Status::Ok();
  });
}

// Truncating integer division; INT_MIN / -1 wraps to INT_MIN instead of trapping.
template <typename V>
V int_div(V x, V y) {
  if constexpr (std::is_signed_v<V>) {
    if (y == V{-1}) return wrap_neg(x);
  }
  return static_cast<V>(x / y);
}

// C-style remainder (sign of the dividend), the integer form of fmod.
template <typename V>
V int_rem(V x, V y) {
  if constexpr (std::is_signed_v<V>) {
    if (y == V{-1}) return V{0};
  }
  return static_cast<V>(x % y);
}

// Python-style remainder (sign of the divisor): Mod with fmod = 0.
template <typename V>
V int_mod(V x, V y) {
  V r = int_rem(x, y);
  if constexpr (std::is_signed_v<V>) {
    if (r != 0 && ((r < 0) != (y < 0))) r = static_cast<V>(r + y);
  }
  return r;
}

Status add_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, "Add"));
  return run_binary<Types::kNumeric, false>(ctx, in, "Add", [](auto x, auto y) {
    if constexpr (std::is_integral_v<decltype(x)>) {
      return wrap_add(x, y);
    } else {
      return x + y;
    }
  });
}

Status sub_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, "Sub"));
  return run_binary<Types::kNumeric, false>(ctx, in, "Sub", [](auto x, auto y) {
    if constexpr (std::is_integral_v<decltype(x)>) {
      return wrap_sub(x, y);
    } else {
      return x - y;
    }
  });
}

Status mul_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, "Mul"));
  return run_binary<Types::kNumeric, false>(ctx, in, "Mul", [](auto x, auto y) {
    if constexpr (std::is_integral_v<decltype(x)>) {
      return wrap_mul(x, y);
    } else {
      return x * y;
    }
  });
}

Status div_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, "Div"));
  KILN_RETURN_IF_ERROR(check_divisor(in, "Div"));
  return run_binary<Types::kNumeric, false>(ctx, in, "Div", [](auto x, auto y) {
    if constexpr (std::is_integral_v<decltype(x)>) {
      return int_div(x, y);
    } else {
      return x / y;
    }
  });
}

// fmod = 1: remainder with the dividend's sign (C fmod); fmod = 0: with the divisor's sign,
// which ONNX defines for integers only.
Status mod_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, "Mod"));
  const int64_t fmod = ctx.attr_int("fmod");
  if (fmod != 0 && fmod != 1)
    return err(Code::kInvalidArgument, "Mod attribute 'fmod' = ", fmod, " (allowed: 0, 1)");
  if (fmod == 0 && data_type_info(in.a->dtype()).is_float)
    return err(Code::kInvalidArgument, "Mod with fmod = 0 is defined for integers only; ",
               data_type_name(in.a->dtype()), " inputs need fmod = 1");
  KILN_RETURN_IF_ERROR(check_divisor(in, "Mod"));
  if (fmod == 0)
    return run_binary<Types::kInts, false>(ctx, in, "Mod",
                                           [](auto x, auto y) { return int_mod(x, y); });
  return run_binary<Types::kNumeric, false>(ctx, in, "Mod", [](auto x, auto y) {
    if constexpr (std::is_integral_v<decltype(x)>) {
      return int_rem(x, y);
    } else {
      return std::fmod(x, y);
    }
  });
}

// Exact integer power by squaring, wrapping like repeated Mul. A negative exponent truncates
// 1 / x^n toward zero: 1 and -1 keep a value, other bases give 0, and base 0 is a division by
// zero (reported through `zero_to_negative`).
template <typename V, typename E>
V int_pow(V x, E e, bool& zero_to_negative) {
  bool negative = false;
  uint64_t n = 0;
  if constexpr (std::is_signed_v<E>) {
    negative = e < 0;
    n = negative ? uint64_t{0} - static_cast<uint64_t>(e) : static_cast<uint64_t>(e);
  } else {
    n = static_cast<uint64_t>(e);
  }
  if (negative) {
    if (x == V{0}) {
      zero_to_negative = true;
      return V{0};
    }
    if (x == V{1}) return V{1};
    if constexpr (std::is_signed_v<V>) {
      if (x == V{-1}) return (n & 1u) ? V{-1} : V{1};
    }
    return V{0};
  }
  V result{1};
  V base = x;
  while (n != 0) {
    if (n & 1u) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
    n >>= 1;
  }
  return result;
}

// Pow-12 and later let the exponent have its own type; computed in double unless both are
// integers, then converted back to the base type.
Status pow_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, "Pow", /*same_type=*/ctx.since() < 12));
  bool zero_to_negative = false;
  Status s = dispatch_numeric(in.a->dtype(), "Pow", [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      return err(Code::kTypeUnsupported, "Pow has no reference kernel for a bool base");
    } else {
      return dispatch_numeric(in.b->dtype(), "Pow", [&]<typename E>() -> Status {
        if constexpr (std::is_same_v<E, bool>) {
          return err(Code::kTypeUnsupported, "Pow has no reference kernel for a bool exponent");
        } else {
          KILN_ASSIGN_OR_RETURN(Tensor * c, ctx.allocate_output(0, in.a->dtype(), in.shape));
          map_binary<T, E, T>(*in.a, *in.b, *c, [&zero_to_negative](auto x, auto y) {
            using V = decltype(x);
            if constexpr (std::is_integral_v<V> && std::is_integral_v<decltype(y)>) {
              return int_pow(x, y, zero_to_negative);
            } else if constexpr (std::is_integral_v<V>) {
              return float_to_int<V>(std::pow(static_cast<double>(x), static_cast<double>(y)));
            } else {
              return static_cast<V>(std::pow(static_cast<double>(x), static_cast<double>(y)));
            }
          });
          return Status::Ok();
        }
      });
    }
  });
  if (s.ok() && zero_to_negative)
    return err(Code::kKernelFailed,
               "Pow: integer 0 raised to a negative power (a division by zero)");
  return s;
}

Status equal_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, "Equal"));
  if (in.a->dtype() == D::kString) {
    KILN_ASSIGN_OR_RETURN(Tensor * c, ctx.allocate_output(0, D::kBool, in.shape));
    map_binary<std::string, std::string, bool>(
        *in.a, *in.b, *c, [](const std::string& x, const std::string& y) { return x == y; });
    return Status::Ok();
  }
  return run_binary<Types::kAll, true>(ctx, in, "Equal", [](auto x, auto y) { return x == y; });
}

Status bitshift_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, "BitShift"));
  const std::string direction = ctx.attr_string("direction");
  if (direction != "LEFT" && direction != "RIGHT")
    return err(Code::kInvalidArgument, "BitShift attribute 'direction' = \"", direction,
               "\" (allowed: \"LEFT\", \"RIGHT\")");
  // Shifting by the bit width or more is undefined in C++; every bit is shifted out, so 0.
  auto shift = [](auto x, auto y, bool left) {
    using V = decltype(x);
    if (y >= sizeof(V) * 8) return V{0};
    return static_cast<V>(left ? x << y : x >> y);
  };
  if (direction == "LEFT")
    return run_binary<Types::kUnsigned, false>(ctx, in, "BitShift",
                                               [&](auto x, auto y) { return shift(x, y, true); });
  return run_binary<Types::kUnsigned, false>(ctx, in, "BitShift",
                                             [&](auto x, auto y) { return shift(x, y, false); });
}

KernelFn kernel_for(const char* name) {
  const std::string op = name;
  if (op == "Add") return add_kernel;
  if (op == "Sub") return sub_kernel;
  if (op == "Mul") return mul_kernel;
  if (op == "Div") return div_kernel;
  if (op == "Equal") return equal_kernel;
  if (op == "And")
    return binary_kernel<Types::kBool, true>("And", [](bool x, bool y) { return x && y; });
  if (op == "Or")
    return binary_kernel<Types::kBool, true>("Or", [](bool x, bool y) { return x || y; });
  if (op == "Xor")
    return binary_kernel<Types::kBool, true>("Xor", [](bool x, bool y) { return x != y; });
  if (op == "Less")
    return binary_kernel<Types::kAll, true>("Less", [](auto x, auto y) { return x < y; });
  if (op == "Greater")
    return binary_kernel<Types::kAll, true>("Greater", [](auto x, auto y) { return x > y; });
  if (op == "LessOrEqual")
    return binary_kernel<Types::kAll, true>("LessOrEqual", [](auto x, auto y) { return x <= y; });
  if (op == "GreaterOrEqual")
    return binary_kernel<Types::kAll, true>("GreaterOrEqual",
                                            [](auto x, auto y) { return x >= y; });
  if (op == "BitwiseAnd")
    return binary_kernel<Types::kInts, false>(
        "BitwiseAnd", [](auto x, auto y) { return static_cast<decltype(x)>(x & y); });
  if (op == "BitwiseOr")
    return binary_kernel<Types::kInts, false>(
        "BitwiseOr", [](auto x, auto y) { return static_cast<decltype(x)>(x | y); });
  if (op == "BitwiseXor")
    return binary_kernel<Types::kInts, false>(
        "BitwiseXor", [](auto x, auto y) { return static_cast<decltype(x)>(x ^ y); });
  return nullptr;
}

std::vector<DataType> floats_no_bf16() {
  return {D::kFloat16, D::kFloat32, D::kFloat64};
}
std::vector<DataType> numeric_no_bf16() {
  auto v = type_sets::ints();
  v.insert(v.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  return v;
}
// The arithmetic ops before opset 14 covered only the 32/64-bit integers.
std::vector<DataType> arith7() {
  return {D::kUInt32, D::kUInt64, D::kInt32, D::kInt64, D::kFloat16, D::kFloat32, D::kFloat64};
}

struct Revision {
  int64_t since;
  std::vector<DataType> types;
};

struct BinaryOp {
  const char* name;
  bool predicate;  // output is bool (T1) rather than the input type T
  std::vector<Revision> revisions;
};

// Opsets 1-6: the legacy broadcast attributes. The arithmetic ops' revision 1 also has
// consumed_inputs, an in-place hint for the runtime with no effect on the result.
// Legacy broadcasting only ever stretches B over A: C has A's shape.
Status legacy_broadcast_infer(InferContext& ctx) {
  ctx.set_output_shape(0, ctx.input_shape(0));
  return Status::Ok();
}

void add_legacy_broadcast_attrs(OpSchema& s, bool consumed_inputs) {
  s.attr_int_enum("broadcast", 0, {0, 1})
      .attr("axis", ir::AttrType::kInt)
      .infer(legacy_broadcast_infer);
  if (consumed_inputs) s.attr("consumed_inputs", ir::AttrType::kInts);
}

OpSchema binary(const BinaryOp& op, const Revision& rev) {
  OpSchema s(op.name, rev.since);
  s.input("A", "T").input("B", "T").types("T", rev.types);
  if (op.predicate) {
    s.output("C", "T1").types("T1", {D::kBool});
  } else {
    s.output("C", "T");
  }
  if (rev.since < 7) add_legacy_broadcast_attrs(s, rev.since == 1 && !op.predicate);
  s.fusion(FusionKind::kBroadcast);
  return s;
}

// ONNX defines integer Mod (fmod = 0, sign of the divisor) only for integers; floating-point
// inputs must ask for C fmod semantics explicitly.
void check_mod(const ir::Node& node, const OpSchema&, std::vector<Status>& problems) {
  const ir::Attribute* fmod = node.attr("fmod");
  if (fmod != nullptr && fmod->i != 0) return;
  const ir::Value* a = node.input(0);
  if (a == nullptr || !a->type.known() || !data_type_info(a->type.dtype).is_float) return;
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'fmod' = 0 with ",
                         data_type_name(a->type.dtype),
                         " inputs: floating-point Mod requires fmod = 1 (allowed: 1)"));
}

void check_bitshift(const ir::Node& node, const OpSchema&, std::vector<Status>& problems) {
  const ir::Attribute* direction = node.attr("direction");
  if (direction == nullptr || direction->s == "LEFT" || direction->s == "RIGHT") return;
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'direction' = \"",
                         direction->s, "\" (allowed: \"LEFT\", \"RIGHT\")"));
}

}  // namespace

void register_binary(OpRegistry& registry) {
  using ir::AttrType;
  const auto numeric = type_sets::numeric();
  // Revisions 1 and 6 (and 1 of the logic/comparison ops) use the legacy broadcast; 6 widened
  // the arithmetic ops from floats to arith7's types.
  const std::vector<BinaryOp> ops = {
      {"Add",
       false,
       {{1, floats_no_bf16()},
        {6, arith7()},
        {7, arith7()},
        {13, type_sets::with(arith7(), {D::kBFloat16})},
        {14, numeric}}},
      {"Sub",
       false,
       {{1, floats_no_bf16()},
        {6, arith7()},
        {7, arith7()},
        {13, type_sets::with(arith7(), {D::kBFloat16})},
        {14, numeric}}},
      {"Mul",
       false,
       {{1, floats_no_bf16()},
        {6, arith7()},
        {7, arith7()},
        {13, type_sets::with(arith7(), {D::kBFloat16})},
        {14, numeric}}},
      {"Div",
       false,
       {{1, floats_no_bf16()},
        {6, arith7()},
        {7, arith7()},
        {13, type_sets::with(arith7(), {D::kBFloat16})},
        {14, numeric}}},
      {"And", true, {{1, {D::kBool}}, {7, {D::kBool}}}},
      {"Or", true, {{1, {D::kBool}}, {7, {D::kBool}}}},
      {"Xor", true, {{1, {D::kBool}}, {7, {D::kBool}}}},
      // Equal-19 adds string inputs.
      {"Equal",
       true,
       {{1, {D::kBool, D::kInt32, D::kInt64}},
        {7, {D::kBool, D::kInt32, D::kInt64}},
        {11, type_sets::with(numeric_no_bf16(), {D::kBool})},
        {13, type_sets::with(numeric, {D::kBool})},
        {19, type_sets::with(numeric, {D::kBool, D::kString})}}},
      {"Less",
       true,
       {{1, floats_no_bf16()}, {7, floats_no_bf16()}, {9, numeric_no_bf16()}, {13, numeric}}},
      {"Greater",
       true,
       {{1, floats_no_bf16()}, {7, floats_no_bf16()}, {9, numeric_no_bf16()}, {13, numeric}}},
      {"LessOrEqual", true, {{12, numeric_no_bf16()}, {16, numeric}}},
      {"GreaterOrEqual", true, {{12, numeric_no_bf16()}, {16, numeric}}},
      {"BitwiseAnd", false, {{18, type_sets::ints()}}},
      {"BitwiseOr", false, {{18, type_sets::ints()}}},
      {"BitwiseXor", false, {{18, type_sets::ints()}}},
  };
  for (const BinaryOp& op : ops) {
    const KernelFn kernel = kernel_for(op.name);
    for (const Revision& rev : op.revisions) registry.add(binary(op, rev).kernel(kernel));
  }

  // Pow-1 broadcasts the legacy way; Pow-12 lets the exponent have its own type T1.
  for (int64_t since : {1, 7}) {
    OpSchema s("Pow", since);
    s.input("X", "T").input("Y", "T").output("Z", "T").types("T", floats_no_bf16());
    if (since == 1) add_legacy_broadcast_attrs(s, false);
    registry.add(std::move(s.fusion(FusionKind::kBroadcast).kernel(pow_kernel)));
  }
  const std::vector<DataType> pow_base = {D::kInt32, D::kInt64, D::kFloat16, D::kFloat32,
                                          D::kFloat64};
  for (int64_t since : {12, 13, 15}) {
    registry.add(OpSchema("Pow", since)
                     .input("X", "T")
                     .input("Y", "T1")
                     .output("Z", "T")
                     .types("T", since == 12 ? pow_base : type_sets::with(pow_base, {D::kBFloat16}))
                     .types("T1", since == 15 ? numeric : numeric_no_bf16())
                     .fusion(FusionKind::kBroadcast)
                     .kernel(pow_kernel));
  }

  for (int64_t since : {10, 13}) {
    registry.add(OpSchema("Mod", since)
                     .input("A", "T")
                     .input("B", "T")
                     .output("C", "T")
                     .types("T", since == 10 ? numeric_no_bf16() : numeric)
                     .attr_int_enum("fmod", 0, {0, 1})
                     .check(check_mod)
                     .fusion(FusionKind::kBroadcast)
                     .kernel(mod_kernel));
  }

  // direction is required, so it cannot be an attr_enum (those carry a default); the value set
  // is checked per node instead.
  registry.add(OpSchema("BitShift", 11)
                   .input("X", "T")
                   .input("Y", "T")
                   .output("Z", "T")
                   .types("T", type_sets::unsigned_ints())
                   .required_attr("direction", AttrType::kString)
                   .check(check_bitshift)
                   .fusion(FusionKind::kBroadcast)
                   .kernel(bitshift_kernel));
}

}  // namespace kiln::ops
