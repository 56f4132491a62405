// Matrix products: MatMul, Gemm, and the integer/quantized MatMulInteger and QLinearMatMul.
#include <string>
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

// NumPy matmul shapes: 1-D operands are promoted (and the added dim dropped again), batch dims
// broadcast, inner dims must agree.
Status matmul_shapes(InferContext& ctx, size_t a_at, size_t b_at) {
  const Dims& a = ctx.input_shape(a_at);
  const Dims& b = ctx.input_shape(b_at);
  const std::string op = ctx.node().op_type();
  if (!a.rank_known() || !b.rank_known()) {
    ctx.set_output_shape(0, Dims::unknown_rank());
    return Status::Ok();
  }
  if (a.rank() == 0 || b.rank() == 0)
    return err(Code::kIncompatibleShapes, op, " operands must have rank >= 1, got A ",
               a.to_string(), " and B ", b.to_string());
  std::vector<Dim> ad = a.dims(), bd = b.dims();
  const bool a_vec = ad.size() == 1, b_vec = bd.size() == 1;
  if (a_vec) ad.insert(ad.begin(), Dim::fixed(1));
  if (b_vec) bd.push_back(Dim::fixed(1));
  const Dim& k_a = ad.back();
  const Dim& k_b = bd[bd.size() - 2];
  if (!unify_dim(k_a, k_b))
    return err(Code::kIncompatibleShapes, op, " inner dimensions differ: A ", a.to_string(),
               " has ", k_a.to_string(), " columns, B ", b.to_string(), " has ", k_b.to_string(),
               " rows");
  KILN_ASSIGN_OR_RETURN(Dims batch,
                        broadcast_dims({Dims(std::vector<Dim>(ad.begin(), ad.end() - 2)),
                                        Dims(std::vector<Dim>(bd.begin(), bd.end() - 2))},
                                       op + " batch dimensions"));
  std::vector<Dim> out = batch.dims();
  if (!a_vec) out.push_back(ad[ad.size() - 2]);
  if (!b_vec) out.push_back(bd.back());
  ctx.set_output_shape(0, Dims(std::move(out)));
  return Status::Ok();
}

Status matmul_infer(InferContext& ctx) {
  return matmul_shapes(ctx, 0, 1);
}
// QLinearMatMul: a, a_scale, a_zero_point, b, ...
Status qlinear_matmul_infer(InferContext& ctx) {
  return matmul_shapes(ctx, 0, 3);
}

// Y = [M, N] from A [M, K] / [K, M] (transA) and B [K, N] / [N, K] (transB); C broadcasts to Y.
Status gemm_infer(InferContext& ctx) {
  const Dims& a = ctx.input_shape(0);
  const Dims& b = ctx.input_shape(1);
  if (!a.rank_known() || !b.rank_known()) {
    ctx.set_output_shape(0, unknown_dims(2));
    return Status::Ok();
  }
  if (a.rank() != 2 || b.rank() != 2)
    return err(Code::kIncompatibleShapes, "Gemm operands must be 2-D, got A ", a.to_string(),
               " and B ", b.to_string());
  const bool ta = ctx.attr_int("transA", 0) != 0, tb = ctx.attr_int("transB", 0) != 0;
  const Dim m = a[ta ? 1 : 0], ka = a[ta ? 0 : 1], kb = b[tb ? 1 : 0], n = b[tb ? 0 : 1];
  if (!unify_dim(ka, kb))
    return err(Code::kIncompatibleShapes, "Gemm inner dimensions differ: A ", a.to_string(),
               (ta ? " (transposed)" : ""), " gives K = ", ka.to_string(), ", B ", b.to_string(),
               (tb ? " (transposed)" : ""), " gives K = ", kb.to_string());
  Dims y(std::vector<Dim>{m, n});
  if (ctx.has_input(2) && ctx.input_shape(2).rank_known()) {
    KILN_ASSIGN_OR_RETURN(Dims both, broadcast_dims({y, ctx.input_shape(2)}, "Gemm C"));
    if (both.rank() != 2)
      return err(Code::kIncompatibleShapes, "Gemm C ", ctx.input_shape(2).to_string(),
                 " does not broadcast to Y ", y.to_string());
  }
  ctx.set_output_shape(0, y);
  return Status::Ok();
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
                     .kernel(matmul_kernel)
                     .infer(matmul_infer));
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
        .fusion(FusionKind::kOpaque)
        .infer(gemm_infer);
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
                   .kernel(matmul_integer_kernel)
                   .infer(matmul_infer));

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
        .kernel(qlinear_matmul_kernel)
        .infer(qlinear_matmul_infer);
    registry.add(std::move(s));
  }
}

}  // namespace kiln::ops
