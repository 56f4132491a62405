// Normalization: BatchNormalization, InstanceNormalization, LayerNormalization,
// GroupNormalization, LRN and MeanVarianceNormalization.
#include <utility>
#include <vector>

#include "core/errors.h"
#include "ops/normalization_kernels.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

// Y is X; the statistics outputs (training) are per channel.
Status batch_norm_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  ctx.set_output(0, ctx.input_dtype(0), x);
  const Dims c = x.rank_known() && x.rank() >= 2 ? Dims({x[1]}) : unknown_dims(1);
  for (size_t i = 1; i < ctx.num_outputs(); ++i) ctx.set_output_shape(i, c);
  return Status::Ok();
}

// Y is X; Mean/InvStdDev keep the dims before `axis` and are 1 from there.
Status layer_norm_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  ctx.set_output(0, ctx.input_dtype(0), x);
  const DataType stash =
      ctx.attr_int("stash_type", 1) == 16 ? DataType::kBFloat16 : DataType::kFloat32;
  Dims stats = Dims::unknown_rank();
  if (x.rank_known()) {
    KILN_ASSIGN_OR_RETURN(
        const int64_t axis,
        infer_axis(ctx.attr_int("axis", -1), static_cast<int64_t>(x.rank()), "LayerNormalization"));
    std::vector<Dim> dims = x.dims();
    for (size_t k = static_cast<size_t>(axis); k < dims.size(); ++k) dims[k] = Dim::fixed(1);
    stats = Dims(std::move(dims));
  }
  for (size_t i = 1; i < ctx.num_outputs(); ++i) ctx.set_output(i, stash, stats);
  return Status::Ok();
}

using D = DataType;
using ir::AttrType;

// BatchNormalization-1/-6 with is_test = 0 is training mode: Y is normalized with the batch's
// own statistics, which the reference kernel computes per channel only.
void check_batch_norm_legacy(const ir::Node& node, const OpSchema&, std::vector<Status>& problems) {
  const ir::Attribute* is_test = node.attr("is_test");
  const ir::Attribute* spatial = node.attr("spatial");
  if ((is_test == nullptr || is_test->i == 0) && spatial != nullptr && spatial->i == 0)
    problems.push_back(err(Code::kAttributeValueUnsupported,
                           "attribute 'spatial' = 0 with is_test = 0: training-mode batch "
                           "statistics per activation are not implemented (allowed: spatial = 1, "
                           "or is_test = 1 for inference)"));
}

void register_batch_norm(OpRegistry& registry) {
  // 1 and 6 have is_test: 0 (the default) is training mode, where Y uses the batch's statistics;
  // 1 also has consumed_inputs, a required but meaningless in-place hint.
  // 1, 6, 7 and 9 keep the five training outputs of the original op; up to 7 `spatial` (0 means
  // per-activation statistics with (C x D1 x ... x Dn) parameters), which 9 drops.
  for (int64_t since : {1, 6, 7, 9}) {
    OpSchema s("BatchNormalization", since);
    s.input("X", "T")
        .input("scale", "T")
        .input("B", "T")
        .input("mean", "T")
        .input("var", "T")
        .output("Y", "T")
        .output("mean", "T", Arity::kOptional)
        .output("var", "T", Arity::kOptional)
        .output("saved_mean", "T", Arity::kOptional)
        .output("saved_var", "T", Arity::kOptional)
        .types("T", type_sets::ieee_floats())
        .attr("epsilon", AttrType::kFloat, 1e-5f)
        .attr("momentum", AttrType::kFloat, 0.9f)
        .fusion(FusionKind::kOpaque)
        .kernel(normalization::batch_norm)
        .infer(batch_norm_infer);
    if (since <= 7) s.attr_int_enum("spatial", 1, {0, 1});
    if (since < 7) s.attr_int_enum("is_test", 0, {0, 1}).check(check_batch_norm_legacy);
    if (since == 1) s.required_attr("consumed_inputs", AttrType::kInts);
    registry.add(std::move(s));
  }
  // 14 replaces the training outputs with running_mean/running_var under training_mode and
  // lets the statistics have their own type U; 15 also decouples scale/B (T1) from X (T).
  auto floats = type_sets::floats();
  for (int64_t since : {14, 15}) {
    const char* params = since == 14 ? "T" : "T1";
    const char* stats = since == 14 ? "U" : "T2";
    OpSchema s("BatchNormalization", since);
    s.input("X", "T")
        .input("scale", params)
        .input("B", params)
        .input("input_mean", stats)
        .input("input_var", stats)
        .output("Y", "T")
        .output("running_mean", stats, Arity::kOptional)
        .output("running_var", stats, Arity::kOptional)
        .types("T", floats)
        .attr("epsilon", AttrType::kFloat, 1e-5f)
        .attr("momentum", AttrType::kFloat, 0.9f)
        .attr_int_enum("training_mode", 0, {0, 1})
        .fusion(FusionKind::kOpaque)
        .kernel(normalization::batch_norm)
        .infer(batch_norm_infer);
    if (since == 15) s.types("T1", floats);
    s.types(stats, floats);
    registry.add(std::move(s));
  }
}

}  // namespace

void register_normalization(OpRegistry& registry) {
  // BatchNormalization is opaque: inference folds it into the preceding Conv/Gemm through a
  // dedicated pass, and training_mode turns it into a reduction. The statistics-based ops are
  // Softmax-like (reduce, then an elementwise epilogue of the input's shape), hence reductions.
  register_batch_norm(registry);

  // Revision 1 differs only by consumed_inputs, a legacy in-place hint without effect.
  for (int64_t since : {1, 6}) {
    OpSchema s("InstanceNormalization", since);
    s.input("input", "T")
        .input("scale", "T")
        .input("B", "T")
        .output("output", "T")
        .types("T", type_sets::ieee_floats())
        .attr("epsilon", AttrType::kFloat, 1e-5f)
        .fusion(FusionKind::kReduction)
        .kernel(normalization::instance_norm)
        .infer(infer_same_as_input);
    if (since == 1) s.attr("consumed_inputs", AttrType::kInts);
    registry.add(std::move(s));
  }

  // stash_type is the type of Mean/InvStdDev (U), so it is limited to U's float and bfloat16.
  registry.add(OpSchema("LayerNormalization", 17)
                   .input("X", "T")
                   .input("Scale", "T")
                   .input("B", "T", Arity::kOptional)
                   .output("Y", "T")
                   .output("Mean", "U", Arity::kOptional)
                   .output("InvStdDev", "U", Arity::kOptional)
                   .types("T", type_sets::floats())
                   .types("U", {D::kFloat32, D::kBFloat16})
                   .attr("axis", AttrType::kInt, int64_t{-1})
                   .attr("epsilon", AttrType::kFloat, 1e-5f)
                   .attr_int_enum("stash_type", 1, {1, 16})
                   .fusion(FusionKind::kReduction)
                   .kernel(normalization::layer_norm)
                   .infer(layer_norm_infer));

  // Revision 18 took scale/bias per group; ONNX deprecated it (its checker rejects it) for 21,
  // which takes them per channel as PyTorch does and adds stash_type, the precision of the
  // statistics stage (any float type).
  for (int64_t since : {18, 21}) {
    OpSchema s("GroupNormalization", since);
    s.input("X", "T")
        .input("scale", "T")
        .input("bias", "T")
        .output("Y", "T")
        .types("T", type_sets::floats())
        .required_attr("num_groups", AttrType::kInt)
        .attr("epsilon", AttrType::kFloat, 1e-5f)
        .fusion(FusionKind::kReduction);
    if (since == 18) {
      s.unsupported(
          "GroupNormalization-18 (scale and bias per group) is deprecated by ONNX; re-export at "
          "opset 21 or later, where they are per channel");
    } else {
      s.attr_int_enum("stash_type", 1, {1, 10, 11, 16})
          .kernel(normalization::group_norm)
          .infer(infer_same_as_input);
    }
    registry.add(std::move(s));
  }

  for (int64_t since : {1, 13}) {
    auto types = type_sets::ieee_floats();
    if (since == 13) types.push_back(D::kBFloat16);
    registry.add(OpSchema("LRN", since)
                     .input("X", "T")
                     .output("Y", "T")
                     .types("T", types)
                     .required_attr("size", AttrType::kInt)
                     .attr("alpha", AttrType::kFloat, 1e-4f)
                     .attr("beta", AttrType::kFloat, 0.75f)
                     .attr("bias", AttrType::kFloat, 1.0f)
                     .fusion(FusionKind::kOpaque)
                     .kernel(normalization::lrn)
                     .infer(infer_same_as_input));
  }

  for (int64_t since : {9, 13}) {
    auto types = type_sets::ieee_floats();
    if (since == 13) types.push_back(D::kBFloat16);
    registry.add(OpSchema("MeanVarianceNormalization", since)
                     .input("X", "T")
                     .output("Y", "T")
                     .types("T", types)
                     .attr("axes", AttrType::kInts, std::vector<int64_t>{0, 2, 3})
                     .fusion(FusionKind::kReduction)
                     .kernel(normalization::mean_variance_norm)
                     .infer(infer_same_as_input));
  }
}

}  // namespace kiln::ops
