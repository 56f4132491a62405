// The linear layer: Add(MatMul(A, W), bias) with W and bias constant and bias varying along the
// last dim only (match_linear in conv_matmul_util.h) →
//   ai.onnx Gemm(A, W, bias)           when A and W are 2-D (what every backend runs best), or
//   kiln.FusedMatMul(A, W, bias)       otherwise (batched A: [B, S, K] x [K, N] + [N]).
// A FusedMatMul without bias (from transpose_into_matmul) takes the bias the same way; its
// transA / transB / alpha carry over to Gemm. Float types only (FusedMatMul's).
#include "passes/conv_matmul_util.h"

namespace kiln::passes {
namespace {

bool rank_is(const ir::Value* v, size_t r) {
  return v != nullptr && v->type.shape.rank_known() && v->type.shape.rank() == r;
}

bool fuse_linear(ir::Node& add, Editor& edit, PassContext& ctx, std::string* why) {
  std::optional<LinearMatch> m = match_linear(add, why);
  if (!m) return false;
  ir::Node* mm = m->matmul;
  ir::Value* a = mm->input(0);
  ir::Value* w = mm->input(1);
  std::vector<ir::Attribute> attrs = copy_attrs(*mm, {"activation", "activation_params"});
  // Gemm's C broadcasts one way from opset 7 (before, it needs broadcast = 1); bfloat16 Gemm
  // arrives with opset 13.
  const bool gemm_types = ctx.opset() >= 13 || a->type.dtype != DataType::kBFloat16;
  if (rank_is(a, 2) && rank_is(w, 2) && ctx.opset() >= 7 && gemm_types) {
    edit.replace({mm, &add}, &add, "Gemm", "", {a, w, m->bias}, std::move(attrs));
    return true;
  }
  edit.replace({mm, &add}, &add, "FusedMatMul", std::string(ops::kKilnDomain), {a, w, m->bias},
               std::move(attrs));
  return true;
}

}  // namespace

std::unique_ptr<Pass> make_matmul_add_fusion() {
  return std::make_unique<RewritePass>(
      "matmul_add_fusion",
      std::vector<Rewrite>{
          {"MatMul+Add", 1, [](ir::Node& n, Editor& e, PassContext& c, std::string* why) {
             return fuse_linear(n, e, c, why);
           }}});
}

}  // namespace kiln::passes
