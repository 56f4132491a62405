// Transpose: permutes the axes (reversed when perm is absent).
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

Status transpose_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Transpose", "data"));
  const std::vector<int64_t>& in = x->shape();
  const size_t rank = in.size();
  std::vector<int64_t> perm;
  if (ctx.has_attr("perm")) {
    perm = ctx.attr_ints("perm");
  } else {
    for (size_t i = rank; i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  }
  std::vector<bool> seen(rank, false);
  bool valid = perm.size() == rank;
  for (size_t i = 0; valid && i < rank; ++i) {
    const int64_t p = perm[i];
    valid = p >= 0 && p < static_cast<int64_t>(rank) && !seen[static_cast<size_t>(p)];
    if (valid) seen[static_cast<size_t>(p)] = true;
  }
  if (!valid)
    return err(Code::kInvalidArgument, "Transpose perm ", shape_str(perm),
               " is not a permutation of 0..", static_cast<int64_t>(rank) - 1, " for input ",
               shape_str(in));
  std::vector<int64_t> out_shape(rank);
  for (size_t i = 0; i < rank; ++i) out_shape[i] = in[static_cast<size_t>(perm[i])];
  return dispatch_move(x->dtype(), "Transpose", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, x->dtype(), out_shape));
    permute_copy(elems<T>(*x), in, perm, elems<T>(*out));
    return Status::Ok();
  });
}

Status transpose_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  if (!in.rank_known()) {
    ctx.set_output_shape(0, in);
    return Status::Ok();
  }
  const size_t rank = in.rank();
  std::vector<int64_t> perm = ctx.attr_ints("perm");
  if (perm.empty())
    for (size_t k = 0; k < rank; ++k) perm.push_back(static_cast<int64_t>(rank - 1 - k));
  if (perm.size() != rank)
    return err(Code::kInvalidArgument, "Transpose perm has ", perm.size(), " entries but the data ",
               in.to_string(), " has rank ", rank);
  std::vector<bool> seen(rank, false);
  std::vector<Dim> out;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p])
      return err(Code::kInvalidArgument, "Transpose perm is not a permutation of 0..", rank - 1);
    seen[p] = true;
    out.push_back(in[p]);
  }
  ctx.set_output_shape(0, Dims(std::move(out)));
  return Status::Ok();
}

}  // namespace

void register_transpose(OpRegistry& registry) {
  // 21 adds the float8 and 4-bit types in one step.
  for (int64_t since : {1, 13, 21}) {
    registry.add(OpSchema("Transpose", since)
                     .input("data", "T")
                     .output("transposed", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .attr("perm", ir::AttrType::kInts)
                     .fusion(FusionKind::kInjective)
                     .kernel(transpose_kernel)
                     .infer(transpose_infer));
  }
}

}  // namespace kiln::ops
