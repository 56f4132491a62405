// Dropout: the identity at inference; is_test = 0 (1-6) and training_mode (12+) ask for random
// masking.
#include <algorithm>
#include <utility>
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

// Inference semantics: output = data, mask (if asked for) all kept. Training mode would need
// random masking, which a deterministic oracle cannot reproduce; it is refused unless the
// ratio is 0, where training is the identity too.
Status dropout_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Dropout", "data"));
  // Revisions 1 and 6 state the mode on the node: is_test = 0 (the default) is training.
  if (ctx.since() < 7 && ctx.attr_int("is_test", 0) == 0 && ctx.attr_float("ratio", 0.5f) != 0.0f)
    return err(Code::kInvalidArgument, "Dropout-", ctx.since(), " with is_test = 0 and ratio ",
               ctx.attr_float("ratio", 0.5f),
               " drops random elements (training mode); the reference kernels only run "
               "inference (is_test = 1)");
  if (const Tensor* t = ctx.since() >= 12 ? ctx.input(2) : nullptr) {
    if (t->dtype() != DataType::kBool || t->numel() != 1)
      return err(Code::kInvalidArgument, "Dropout training_mode must be one bool, got ",
                 data_type_name(t->dtype()), " of shape ", shape_str(t->shape()));
    double ratio = 0.5;
    if (const Tensor* r = ctx.input(1)) {
      KILN_ASSIGN_OR_RETURN(ratio, read_scalar(*r, "Dropout ratio"));
    }
    if (t->data_as<bool>()[0] && ratio != 0.0)
      return err(Code::kInvalidArgument, "Dropout training_mode = true with ratio ", ratio,
                 " drops random elements; the reference kernels only run inference");
  }
  KILN_RETURN_IF_ERROR(set_output_reshaped(ctx, 0, *x, x->shape()));
  if (!ctx.wants_output(1)) return Status::Ok();
  // Up to Dropout-7 the mask has data's type (ones); from 10 it is bool (true).
  const DataType mask_type = ctx.since() < 10 ? x->dtype() : DataType::kBool;
  return dispatch_numeric(mask_type, "Dropout", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * mask, ctx.allocate_output(1, mask_type, x->shape()));
    std::fill_n(mask->data_as<T>(), mask->numel(), static_cast<T>(1));
    return Status::Ok();
  });
}

// is_test = 0 with a non-zero ratio is training-mode Dropout, which is random.
void check_dropout_legacy(const ir::Node& node, const OpSchema&, std::vector<Status>& problems) {
  const ir::Attribute* is_test = node.attr("is_test");
  const ir::Attribute* ratio = node.attr("ratio");
  if ((is_test == nullptr || is_test->i == 0) && (ratio == nullptr || ratio->f != 0.0f))
    problems.push_back(err(Code::kAttributeValueUnsupported,
                           "attribute 'is_test' = 0 (the default) asks for training-mode "
                           "Dropout, which drops random elements (allowed: is_test = 1, "
                           "inference)"));
}

}  // namespace

void register_dropout(OpRegistry& registry) {
  using D = DataType;
  using ir::AttrType;
  const std::vector<DataType> floats = {D::kFloat16, D::kFloat32, D::kFloat64};

  // Up to 7 the mask is in X's type, from 10 bool. 1 and 6 have is_test, 1 consumed_inputs (an
  // in-place hint without effect).
  for (int64_t since : {1, 6, 7, 10}) {
    OpSchema s("Dropout", since);
    s.input("data", "T")
        .output("output", "T")
        .output("mask", since < 10 ? "T" : "T1", Arity::kOptional)
        .types("T", floats)
        .attr("ratio", AttrType::kFloat, 0.5f)
        .fusion(FusionKind::kElementwise)
        .kernel(dropout_kernel);
    if (since < 7) s.attr_int_enum("is_test", 0, {0, 1}).check(check_dropout_legacy);
    if (since == 1) s.attr("consumed_inputs", AttrType::kInts);
    if (since == 10) s.types("T1", {D::kBool});
    registry.add(std::move(s));
  }

  // 12 moves ratio to an input and adds training_mode and seed; 13 adds bfloat16 data.
  for (int64_t since : {12, 13}) {
    std::vector<DataType> data_types = floats;
    if (since == 13) data_types.push_back(D::kBFloat16);
    registry.add(OpSchema("Dropout", since)
                     .input("data", "T")
                     .input("ratio", "T1", Arity::kOptional)
                     .input("training_mode", "T2", Arity::kOptional)
                     .output("output", "T")
                     .output("mask", "T2", Arity::kOptional)
                     .types("T", data_types)
                     .types("T1", floats)
                     .types("T2", {D::kBool})
                     .attr("seed", AttrType::kInt)
                     .fusion(FusionKind::kElementwise)
                     .kernel(dropout_kernel));
  }
}

}  // namespace kiln::ops
