// kiln::FusedElementwise: a group of elementwise/broadcasting nodes the optimizer merged into
// one layer. The group lives in the `body` graph attribute (inputs = the group's external
// inputs, in order; one output). The reference kernel runs the body with the ops' own
// reference kernels, so results are identical to the unfused graph; a backend compiles the
// body into one loop over the output.
#include "core/errors.h"
#include "ops/op_schema.h"

namespace kiln::ops {
namespace {

Status fused_elementwise_kernel(KernelContext& ctx) {
  const ir::Graph* body = ctx.attr_graph("body");
  if (body == nullptr) return err(Code::kInvalidArgument, "FusedElementwise has no body graph");
  if (body->inputs().size() != ctx.num_inputs() || body->outputs().size() != 1)
    return err(Code::kInvalidArgument, "FusedElementwise body takes ", body->inputs().size(),
               " inputs and returns ", body->outputs().size(), " values; the node passes ",
               ctx.num_inputs(), " inputs and wants 1 output");
  std::vector<Tensor> in;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.input(i) == nullptr) return err(Code::kInvalidArgument, "FusedElementwise input ", i, " is omitted");
    in.push_back(ctx.input(i)->view());
  }
  KILN_ASSIGN_OR_RETURN(std::vector<Tensor> out, ctx.run_subgraph(*body, std::move(in)));
  ctx.set_output(0, std::move(out.at(0)));
  return Status::Ok();
}

// Every op in the body broadcasts its inputs, so the output has the broadcast shape of all
// inputs; its element type is the body output's.
Status infer_fused_elementwise(InferContext& ctx) {
  const ir::Graph* body = ctx.attr_graph("body");
  if (body == nullptr || body->outputs().size() != 1) return Status::Ok();
  std::vector<Dims> shapes;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) shapes.push_back(ctx.input_shape(i));
  KILN_ASSIGN_OR_RETURN(Dims out, broadcast_dims(shapes, "FusedElementwise"));
  ctx.set_output(0, body->outputs()[0]->type.dtype, std::move(out));
  return Status::Ok();
}

}  // namespace

void register_fused_elementwise(OpRegistry& registry) {
  registry.add(OpSchema("FusedElementwise", 1, std::string(kKilnDomain))
                   .input("inputs", "T", Arity::kVariadic, 1, /*homogeneous=*/false)
                   .output("output", "T")
                   .types("T", type_sets::all_tensor_at(21, 16))
                   .required_attr("body", ir::AttrType::kGraph)
                   // Opaque to the optimizer: groups are not regrouped.
                   .fusion(FusionKind::kOpaque)
                   .infer(infer_fused_elementwise)
                   .kernel(fused_elementwise_kernel));
}

}  // namespace kiln::ops
