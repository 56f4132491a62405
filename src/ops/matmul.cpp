// Matrix products: MatMul, Gemm, and the integer/quantized MatMulInteger and QLinearMatMul.
#include <utility>
#include <vector>

#include "ops/nn_kernels.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

// What MatMul-9 and Gemm-9 widened to: the 32/64-bit integers besides the floats.
std::vector<DataType> floats_and_wide_ints() {
  return {D::kFloat16, D::kFloat32, D::kFloat64, D::kUInt32, D::kUInt64, D::kInt32, D::kInt64};
}
std::vector<DataType> with_bf16(std::vector<DataType> types) {
  types.push_back(D::kBFloat16);
  return types;
}

// Gemm-1 and -6 stretch C over the (M, N) result only when `broadcast` is set, and then as
// Gemm-7 always does (ONNX's 6-to-7 converter only drops the attribute); otherwise C must
// already be (M, N).
Status gemm_legacy_kernel(KernelContext& ctx) {
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(1);
  const Tensor* c = ctx.input(2);
  // Malformed A/B are left to gemm_kernel, which names them.
  if (ctx.attr_int("broadcast", 0) == 0 && a != nullptr && b != nullptr && c != nullptr &&
      a->rank() == 2 && b->rank() == 2) {
    const bool ta = ctx.attr_int("transA", 0) != 0, tb = ctx.attr_int("transB", 0) != 0;
    const std::vector<int64_t> out = {a->shape()[ta ? 1 : 0], b->shape()[tb ? 0 : 1]};
    if (c->shape() != out)
      return err(Code::kIncompatibleShapes, "Gemm-", ctx.since(),
                 " with broadcast = 0 needs C of the result shape ", Dims::of(out).to_string(),
                 ", got ", Dims::of(c->shape()).to_string(), " (broadcast = 1 stretches C)");
  }
  return gemm_kernel(ctx);
}

}  // namespace

void register_matmul(OpRegistry& registry) {
  using ir::AttrType;
  const std::vector<std::pair<int64_t, std::vector<DataType>>> matmul_revisions = {
      {1, type_sets::ieee_floats()},
      {9, floats_and_wide_ints()},
      {13, with_bf16(floats_and_wide_ints())}};
  for (const auto& [since, types] : matmul_revisions) {
    registry.add(OpSchema("MatMul", since)
                     .input("A", "T")
                     .input("B", "T")
                     .output("Y", "T")
                     .types("T", types)
                     .fusion(FusionKind::kOpaque)
                     .kernel(matmul_kernel));
  }

  // Gemm-1 and -6 have the `broadcast` attribute for C; Gemm-11 makes C optional.
  const std::vector<std::pair<int64_t, std::vector<DataType>>> gemm_revisions = {
      {1, type_sets::ieee_floats()}, {6, type_sets::ieee_floats()},
      {7, type_sets::ieee_floats()}, {9, floats_and_wide_ints()},
      {11, floats_and_wide_ints()},  {13, with_bf16(floats_and_wide_ints())}};
  for (const auto& [since, types] : gemm_revisions) {
    OpSchema s("Gemm", since);
    s.input("A", "T")
        .input("B", "T")
        .input("C", "T", since >= 11 ? Arity::kOptional : Arity::kSingle)
        .output("Y", "T")
        .types("T", types)
        .attr("alpha", AttrType::kFloat, 1.0f)
        .attr("beta", AttrType::kFloat, 1.0f)
        .attr_int_enum("transA", 0, {0, 1})
        .attr_int_enum("transB", 0, {0, 1})
        .fusion(FusionKind::kOpaque);
    if (since < 7) {
      s.attr_int_enum("broadcast", 0, {0, 1}).kernel(gemm_legacy_kernel);
    } else {
      s.kernel(gemm_kernel);
    }
    registry.add(std::move(s));
  }

  registry.add(OpSchema("MatMulInteger", 10)
                   .input("A", "T1")
                   .input("B", "T2")
                   .input("a_zero_point", "T1", Arity::kOptional)
                   .input("b_zero_point", "T2", Arity::kOptional)
                   .output("Y", "T3")
                   .types("T1", {D::kInt8, D::kUInt8})
                   .types("T2", {D::kInt8, D::kUInt8})
                   .types("T3", {D::kInt32})
                   .fusion(FusionKind::kOpaque)
                   .kernel(matmul_integer_kernel));

  // Revision 21 lets the scales be float16/bfloat16 (TS) and adds float8 operands, which kiln
  // leaves out.
  for (int64_t since : {10, 21}) {
    const char* scale = since == 10 ? "F" : "TS";
    OpSchema s("QLinearMatMul", since);
    s.input("a", "T1")
        .input("a_scale", scale)
        .input("a_zero_point", "T1")
        .input("b", "T2")
        .input("b_scale", scale)
        .input("b_zero_point", "T2")
        .input("y_scale", scale)
        .input("y_zero_point", "T3")
        .output("y", "T3")
        .types(scale, since == 10 ? std::vector<DataType>{D::kFloat32}
                                  : std::vector<DataType>{D::kFloat32, D::kFloat16, D::kBFloat16})
        .types("T1", {D::kInt8, D::kUInt8})
        .types("T2", {D::kInt8, D::kUInt8})
        .types("T3", {D::kInt8, D::kUInt8})
        .fusion(FusionKind::kOpaque)
        .kernel(qlinear_matmul_kernel);
    registry.add(std::move(s));
  }
}

}  // namespace kiln::ops
