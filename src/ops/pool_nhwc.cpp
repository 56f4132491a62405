// kiln::PoolNhwc — MaxPool, AveragePool, GlobalAveragePool or GlobalMaxPool (attribute `mode`)
// over a channels-last X [N, spatial..., C], as the layout pass writes them so a CNN's pools
// need no layout change between channels-last convolutions. Every other attribute is the ONNX
// op's (same names, same defaults); Y = [N, window dims..., C] (1s for the global modes). The
// reference kernel is the ONNX op's own, between permutations (ops/layout_util.h).
#include <string>
#include <vector>

#include "ops/fused_kernels.h"
#include "ops/layout_util.h"
#include "ops/nn_kernels.h"
#include "ops/op_schema.h"

namespace kiln::ops {
namespace {

using ir::AttrType;

// The ai.onnx revision each mode's semantics come from (AveragePool-19 has dilations).
int64_t base_opset(const std::string& mode) {
  if (mode == "MaxPool") return 12;
  if (mode == "AveragePool") return 19;
  return 1;
}

bool is_global(const std::string& mode) {
  return mode.rfind("Global", 0) == 0;
}

Status infer_pool_nhwc(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  if (!x.rank_known()) return Status::Ok();
  if (x.rank() < 3)
    return err(Code::kIncompatibleShapes, "PoolNhwc X ", x.to_string(),
               " must have rank >= 3 ([N, spatial..., C])");
  const std::string mode = ctx.attr_string("mode");
  std::vector<Dim> y = {x[0]};
  if (is_global(mode)) {
    for (size_t i = 1; i + 1 < x.rank(); ++i) y.push_back(Dim::fixed(1));
  } else {
    const std::vector<Dim> in(x.dims().begin() + 1, x.dims().end() - 1);
    KILN_ASSIGN_OR_RETURN(std::vector<Dim> spatial,
                          infer_window_dims(ctx, mode, in, ctx.attr_ints("kernel_shape"), true,
                                            ctx.attr_int("ceil_mode", 0) == 1));
    y.insert(y.end(), spatial.begin(), spatial.end());
  }
  y.push_back(x[x.rank() - 1]);
  ctx.set_output(0, ctx.input_dtype(0), Dims(std::move(y)));
  return Status::Ok();
}

Status pool_nhwc_kernel(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (x == nullptr || x->rank() < 3)
    return err(Code::kIncompatibleShapes, "PoolNhwc needs X of rank >= 3");
  const std::string mode = ctx.attr_string("mode");
  const size_t rank = x->rank();
  KILN_ASSIGN_OR_RETURN(Tensor xf, layout::permuted(*x, layout::to_first_perm(rank)));
  KILN_RETURN_IF_ERROR(fused::run_base_kernel(ctx, mode, base_opset(mode), {&xf}));
  KILN_ASSIGN_OR_RETURN(Tensor y, layout::permuted(ctx.outputs()[0], layout::to_last_perm(rank)));
  ctx.set_output(0, std::move(y));
  return Status::Ok();
}

}  // namespace

void register_pool_nhwc(OpRegistry& registry) {
  registry.add(OpSchema("PoolNhwc", 1, std::string(kKilnDomain))
                   .input("X", "T")
                   .output("Y", "T")
                   .types("T", {DataType::kFloat16, DataType::kFloat32, DataType::kFloat64})
                   .attr_enum("mode", "MaxPool",
                              {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"})
                   .attr_enum("auto_pad", "NOTSET", {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"})
                   .attr("ceil_mode", AttrType::kInt, int64_t{0})
                   .attr("count_include_pad", AttrType::kInt, int64_t{0})
                   .attr("dilations", AttrType::kInts)
                   .attr("kernel_shape", AttrType::kInts)
                   .attr("pads", AttrType::kInts)
                   .attr("strides", AttrType::kInts)
                   .fusion(FusionKind::kOpaque)
                   .kernel(pool_nhwc_kernel)
                   .infer(infer_pool_nhwc));
}

}  // namespace kiln::ops
