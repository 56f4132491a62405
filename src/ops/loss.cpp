// Loss functions: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
//
// Both pick, for every sample position, the (log-)probability of its target class out of an
// [N, C, d1..dk] tensor, optionally weight it per class, and reduce. SoftmaxCrossEntropyLoss is
// LogSoftmax over the class axis followed by NegativeLogLikelihoodLoss; it shares the reduction
// step here. Values are computed in double and rounded once to the output type.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"
#include "ops/reduction_util.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// The scores viewed as [N, C, D] with D the product of d1..dk (1 when k = 0).
struct LossLayout {
  int64_t n = 0, c = 0, d = 1;
};

// Validates scores [N, C, d1..dk], target [N, d1..dk] and weight [C] (optional) against each
// other. The checker knows declared types only, so a malformed graph can feed anything here.
Result<LossLayout> check_loss_inputs(const Tensor& x, const Tensor& target, const Tensor* weight,
                                     std::string_view op, std::string_view x_name,
                                     std::string_view target_name) {
  if (x.rank() < 2)
    return err(Code::kInvalidArgument, op, " ", x_name,
               " must have shape [N, C, d1..dk] (rank >= 2), got ", shape_str(x.shape()));
  if (target.dtype() != D::kInt32 && target.dtype() != D::kInt64)
    return err(Code::kTypeUnsupported, op, " ", target_name, " must be int32 or int64, got ",
               data_type_name(target.dtype()));
  bool match = target.rank() + 1 == x.rank() && target.shape()[0] == x.shape()[0];
  for (size_t i = 1; match && i < target.rank(); ++i) match = target.shape()[i] == x.shape()[i + 1];
  if (!match)
    return err(Code::kIncompatibleShapes, op, " ", target_name, " ", shape_str(target.shape()),
               " must have the shape of ", x_name, " ", shape_str(x.shape()),
               " without its class axis 1");
  LossLayout l;
  l.n = x.shape()[0];
  l.c = x.shape()[1];
  l.d = dims_product(x.shape(), 2, x.rank());
  if (weight != nullptr) {
    if (weight->dtype() != x.dtype())
      return err(Code::kTypeUnsupported, op, " weights are ", data_type_name(weight->dtype()),
                 " but ", x_name, " is ", data_type_name(x.dtype()));
    if (weight->rank() != 1 || weight->shape()[0] != l.c)
      return err(Code::kIncompatibleShapes, op, " weights ", shape_str(weight->shape()),
                 " must have shape [", l.c, "] (one per class of ", x_name, " ",
                 shape_str(x.shape()), ")");
  }
  return l;
}

// Writes the loss given log-probabilities `logp` laid out as [N, C, D]. Positions whose target
// equals ignore_index contribute nothing, to the sum and to the mean's denominator alike (the
// mean is sum(loss) / sum(weight of each counted target); without weights, the count). Every
// other target must be a class in [0, C): ignore_index may lie outside that range, a target may
// not, and no target wraps around.
Status write_loss(KernelContext& ctx, std::string_view op, const std::vector<double>& logp,
                  const LossLayout& l, const Tensor& target, const Tensor* weight, D dtype) {
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> labels,
                        read_int_values(target, std::string(op) + " target"));
  std::vector<double> w;
  if (weight != nullptr) {
    KILN_ASSIGN_OR_RETURN(w, read_doubles(*weight, std::string(op) + " weights"));
  }
  // A plain flag rather than std::optional: GCC 12 misreads the optional as maybe-uninitialized.
  const bool has_ignore = ctx.has_attr("ignore_index");
  const int64_t ignore = ctx.attr_int("ignore_index");
  const std::string reduction = ctx.attr_string("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return err(Code::kInvalidArgument, op, " reduction '", reduction,
               "' is not one of none, sum, mean");

  std::vector<double> loss(labels.size(), 0.0);
  double total = 0.0, total_weight = 0.0;
  for (int64_t i = 0; i < l.n; ++i)
    for (int64_t j = 0; j < l.d; ++j) {
      const size_t pos = static_cast<size_t>(i * l.d + j);
      const int64_t cls = labels[pos];
      if (has_ignore && cls == ignore) continue;
      if (cls < 0 || cls >= l.c)
        return err(Code::kIndexOutOfRange, op, " target ", cls, " at position ", pos,
                   " is not a class in [0, ", l.c, ")",
                   has_ignore ? str(" and not ignore_index ", ignore) : std::string());
      const double wc = w.empty() ? 1.0 : w[static_cast<size_t>(cls)];
      loss[pos] = -logp[static_cast<size_t>((i * l.c + cls) * l.d + j)] * wc;
      total += loss[pos];
      total_weight += wc;
    }

  if (reduction == "none") {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, dtype, target.shape()));
    return dispatch_float(dtype, op, [&]<typename T>() -> Status {
      T* p = out->data_as<T>();
      for (size_t k = 0; k < loss.size(); ++k) p[k] = from_double<T>(loss[k]);
      return Status::Ok();
    });
  }
  // Mean over nothing counted (every target ignored, or weights summing to 0) is 0/0 = NaN, as
  // in ONNX Runtime and PyTorch.
  const double value = reduction == "sum" ? total : total / total_weight;
  KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, dtype, {}));
  return dispatch_float(dtype, op, [&]<typename T>() -> Status {
    out->data_as<T>()[0] = from_double<T>(value);
    return Status::Ok();
  });
}

Status nll_loss_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "NegativeLogLikelihoodLoss";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "input"));
  KILN_ASSIGN_OR_RETURN(const Tensor* target, required_input(ctx, 1, op, "target"));
  const Tensor* weight = ctx.input(2);
  KILN_ASSIGN_OR_RETURN(const LossLayout l,
                        check_loss_inputs(*x, *target, weight, op, "input", "target"));
  KILN_ASSIGN_OR_RETURN(const std::vector<double> logp,
                        read_doubles(*x, std::string(op) + " input"));
  return write_loss(ctx, op, logp, l, *target, weight, x->dtype());
}

Status softmax_cross_entropy_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "SoftmaxCrossEntropyLoss";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "scores"));
  KILN_ASSIGN_OR_RETURN(const Tensor* labels, required_input(ctx, 1, op, "labels"));
  const Tensor* weight = ctx.input(2);
  KILN_ASSIGN_OR_RETURN(const LossLayout l,
                        check_loss_inputs(*x, *labels, weight, op, "scores", "labels"));
  KILN_ASSIGN_OR_RETURN(std::vector<double> logp, read_doubles(*x, std::string(op) + " scores"));
  // Log-softmax over the class axis, shifted by the maximum so exp never overflows.
  for (int64_t i = 0; i < l.n; ++i)
    for (int64_t j = 0; j < l.d; ++j) {
      auto at = [&](int64_t c) -> double& {
        return logp[static_cast<size_t>((i * l.c + c) * l.d + j)];
      };
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < l.c; ++c) mx = std::max(mx, at(c));
      double sum = 0.0;
      for (int64_t c = 0; c < l.c; ++c) sum += std::exp(at(c) - mx);
      const double log_sum = mx + std::log(sum);
      for (int64_t c = 0; c < l.c; ++c) at(c) -= log_sum;
    }
  if (ctx.wants_output(1)) {
    KILN_ASSIGN_OR_RETURN(Tensor * lp, ctx.allocate_output(1, x->dtype(), x->shape()));
    KILN_RETURN_IF_ERROR(dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
      T* p = lp->data_as<T>();
      for (size_t k = 0; k < logp.size(); ++k) p[k] = from_double<T>(logp[k]);
      return Status::Ok();
    }));
  }
  return write_loss(ctx, op, logp, l, *labels, weight, x->dtype());
}

// reduction "none": the target's shape [N, d1, ...]; "sum"/"mean": a scalar. SCE's optional
// log_prob has the scores' shape.
Status loss_infer(InferContext& ctx) {
  const Dims& scores = ctx.input_shape(0);
  const Dims& target = ctx.input_shape(1);
  if (scores.rank_known() && target.rank_known()) {
    if (scores.rank() < 2 || target.rank() + 1 != scores.rank())
      return err(Code::kIncompatibleShapes, ctx.node().op_type(), " scores ", scores.to_string(),
                 " must be [N, C, d1, ...] and target ", target.to_string(), " [N, d1, ...]");
    for (size_t k = 0; k < target.rank(); ++k) {
      const Dim& s = scores[k == 0 ? 0 : k + 1];
      if (!unify_dim(s, target[k]))
        return err(Code::kIncompatibleShapes, ctx.node().op_type(), " scores ", scores.to_string(),
                   " and target ", target.to_string(), " disagree outside the class axis");
    }
  }
  const bool none = ctx.attr_string("reduction", "mean") == "none";
  ctx.set_output(0, ctx.input_dtype(0), none ? target : Dims::of({}));
  if (ctx.num_outputs() > 1) ctx.set_output(1, ctx.input_dtype(0), scores);
  return Status::Ok();
}

}  // namespace

void register_loss(OpRegistry& registry) {
  // Gathering each target's class is a data-dependent read, so neither op is a plain reduction
  // the optimizer may fuse; both are opaque.
  for (int64_t since : {12, 13}) {
    registry.add(OpSchema("NegativeLogLikelihoodLoss", since)
                     .input("input", "T")
                     .input("target", "Tind")
                     .input("weight", "T", Arity::kOptional)
                     .output("loss", "T")
                     .types("T", type_sets::ieee_floats())
                     .types("Tind", type_sets::index())
                     .attr("ignore_index", AttrType::kInt)
                     .attr_enum("reduction", "mean", {"none", "sum", "mean"})
                     .fusion(FusionKind::kOpaque)
                     .kernel(nll_loss_kernel)
                     .infer(loss_infer));
  }
  // 13 adds bfloat16.
  for (int64_t since : {12, 13}) {
    registry.add(OpSchema("SoftmaxCrossEntropyLoss", since)
                     .input("scores", "T")
                     .input("labels", "Tind")
                     .input("weights", "T", Arity::kOptional)
                     .output("output", "T")
                     .output("log_prob", "T", Arity::kOptional)
                     .types("T", since >= 13 ? type_sets::floats() : type_sets::ieee_floats())
                     .types("Tind", type_sets::index())
                     .attr("ignore_index", AttrType::kInt)
                     .attr_enum("reduction", "mean", {"none", "sum", "mean"})
                     .fusion(FusionKind::kOpaque)
                     .kernel(softmax_cross_entropy_kernel)
                     .infer(loss_infer));
  }
}

}  // namespace kiln::ops
