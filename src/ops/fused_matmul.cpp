// kiln.FusedGemm and kiln.FusedMatMul: matrix products with their bias and activation, as the
// optimizer's matmul_add_fusion / transpose_into_matmul / conv_activation_fusion passes write
// them:
//
//   FusedGemm(A, B, C?)          Y = act(Gemm(A, B, C))           Gemm's attributes
//   FusedMatMul(A, B, Bias?)     Y = act(alpha * MatMul(A', B') + Bias)
//
// plus `activation` / `activation_params` (activation_functions.h). In FusedMatMul, A' is A
// with its last two dims swapped when transA = 1 (B' likewise with transB): the Transpose nodes
// the optimizer folded away. Bias broadcasts to the product without enlarging it. The products
// are the ONNX ops' own reference kernels (Gemm-13 / MatMul-13).
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "ops/fused_kernels.h"
#include "ops/kernel_util.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

constexpr int64_t kBaseOpset = 13;

std::vector<DataType> float_types() {
  return {D::kFloat16, D::kBFloat16, D::kFloat32, D::kFloat64};
}

Status fused_gemm_infer(InferContext& ctx) {
  const OpSchema* s = OpRegistry::builtin().find("", "Gemm", kBaseOpset);
  if (s == nullptr || !s->infer_fn())
    return err(Code::kInternal, "FusedGemm needs the shape inference of Gemm");
  return s->infer_fn()(ctx);
}

Status fused_gemm_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const ActivationSpec act, fused::read_activation(ctx));
  KILN_RETURN_IF_ERROR(
      fused::run_base_kernel(ctx, "Gemm", kBaseOpset, {ctx.input(0), ctx.input(1), ctx.input(2)}));
  return fused::apply_epilogue(ctx, nullptr, "", 1.0, act);
}

// The operand as MatMul sees it: last two dims swapped when `trans`.
Result<Dims> operand_dims(const InferContext& ctx, size_t i, const char* trans) {
  Dims d = ctx.input_shape(i);
  if (ctx.attr_int(trans, 0) == 0 || !d.rank_known()) return d;
  if (d.rank() < 2)
    return err(Code::kIncompatibleShapes, "FusedMatMul ", trans, " = 1 needs an operand of rank ",
               ">= 2, got ", d.to_string());
  std::vector<Dim> dims = d.dims();
  std::swap(dims[dims.size() - 1], dims[dims.size() - 2]);
  return Dims(std::move(dims));
}

// NumPy matmul over the (possibly transposed) operands, then the bias must fit the result.
Status fused_matmul_infer(InferContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Dims a, operand_dims(ctx, 0, "transA"));
  KILN_ASSIGN_OR_RETURN(const Dims b, operand_dims(ctx, 1, "transB"));
  if (!a.rank_known() || !b.rank_known()) {
    ctx.set_output_shape(0, Dims::unknown_rank());
    return Status::Ok();
  }
  if (a.rank() == 0 || b.rank() == 0)
    return err(Code::kIncompatibleShapes, "FusedMatMul operands must have rank >= 1, got A ",
               a.to_string(), " and B ", b.to_string());
  std::vector<Dim> ad = a.dims(), bd = b.dims();
  const bool a_vec = ad.size() == 1, b_vec = bd.size() == 1;
  if (a_vec) ad.insert(ad.begin(), Dim::fixed(1));
  if (b_vec) bd.push_back(Dim::fixed(1));
  if (!unify_dim(ad.back(), bd[bd.size() - 2]))
    return err(Code::kIncompatibleShapes, "FusedMatMul inner dimensions differ: A' ", a.to_string(),
               " and B' ", b.to_string());
  KILN_ASSIGN_OR_RETURN(Dims batch,
                        broadcast_dims({Dims(std::vector<Dim>(ad.begin(), ad.end() - 2)),
                                        Dims(std::vector<Dim>(bd.begin(), bd.end() - 2))},
                                       "FusedMatMul batch dimensions"));
  std::vector<Dim> out = batch.dims();
  if (!a_vec) out.push_back(ad[ad.size() - 2]);
  if (!b_vec) out.push_back(bd.back());
  const Dims y(std::move(out));
  KILN_RETURN_IF_ERROR(fused::check_addend_shape(ctx, 2, y, "Bias"));
  ctx.set_output_shape(0, y);
  return Status::Ok();
}

// A copy of `t` with its last two dims swapped.
Result<Tensor> swap_last_two(const Tensor& t, const char* trans) {
  if (t.rank() < 2)
    return err(Code::kIncompatibleShapes, "FusedMatMul ", trans, " = 1 needs an operand of rank ",
               ">= 2, got ", Dims::of(t.shape()).to_string());
  std::vector<int64_t> shape = t.shape();
  const int64_t rows = shape[shape.size() - 2], cols = shape.back();
  std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::allocate(t.dtype(), shape));
  const size_t elem = data_type_bytes(t.dtype(), 1).value_or(0);
  const int64_t matrices = rows * cols == 0 ? 0 : t.numel() / (rows * cols);
  const auto* src = static_cast<const uint8_t*>(t.data());
  auto* dst = static_cast<uint8_t*>(out.data());
  for (int64_t m = 0; m < matrices; ++m)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        std::memcpy(dst + ((m * cols + c) * rows + r) * elem,
                    src + ((m * rows + r) * cols + c) * elem, elem);
  return out;
}

Status fused_matmul_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const ActivationSpec act, fused::read_activation(ctx));
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(1);
  if (a == nullptr || b == nullptr)
    return err(Code::kInvalidArgument, "FusedMatMul needs inputs A and B");
  Tensor at, bt;
  if (ctx.attr_int("transA", 0) != 0) {
    KILN_ASSIGN_OR_RETURN(at, swap_last_two(*a, "transA"));
    a = &at;
  }
  if (ctx.attr_int("transB", 0) != 0) {
    KILN_ASSIGN_OR_RETURN(bt, swap_last_two(*b, "transB"));
    b = &bt;
  }
  KILN_RETURN_IF_ERROR(fused::run_base_kernel(ctx, "MatMul", kBaseOpset, {a, b}));
  return fused::apply_epilogue(ctx, ctx.input(2), "Bias", ctx.attr_float("alpha", 1.0f), act);
}

}  // namespace

void register_fused_matmul(OpRegistry& registry) {
  OpSchema gemm("FusedGemm", 1, std::string(kKilnDomain));
  gemm.input("A", "T")
      .input("B", "T")
      .input("C", "T", Arity::kOptional)
      .output("Y", "T")
      .types("T", float_types())
      .attr("alpha", AttrType::kFloat, 1.0f)
      .attr("beta", AttrType::kFloat, 1.0f)
      .attr_int_enum("transA", 0, {0, 1})
      .attr_int_enum("transB", 0, {0, 1});
  fused::add_activation_attrs(gemm);
  fused::add_precision_attrs(gemm);
  registry.add(std::move(
      gemm.fusion(FusionKind::kOpaque).kernel(fused_gemm_kernel).infer(fused_gemm_infer)));

  OpSchema mm("FusedMatMul", 1, std::string(kKilnDomain));
  mm.input("A", "T")
      .input("B", "T")
      .input("Bias", "T", Arity::kOptional)
      .output("Y", "T")
      .types("T", float_types())
      .attr("alpha", AttrType::kFloat, 1.0f)
      .attr_int_enum("transA", 0, {0, 1})
      .attr_int_enum("transB", 0, {0, 1});
  fused::add_activation_attrs(mm);
  fused::add_precision_attrs(mm);
  registry.add(std::move(
      mm.fusion(FusionKind::kOpaque).kernel(fused_matmul_kernel).infer(fused_matmul_infer)));
}

}  // namespace kiln::ops
