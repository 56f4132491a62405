// Clip: bounds from attributes (revision 6) or from optional scalar inputs (11 and later).
//
// The reference kernel computes min(max(x, lo), hi): NaN inputs stay NaN, and lo > hi gives hi
// everywhere, as ONNX specifies.
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "ops/elementwise_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using namespace elementwise;

// A bound input of Clip-11+: omitted (nullopt) or a one-element tensor of the input's type.
template <typename T>
Result<std::optional<compute_t<T>>> read_bound(const KernelContext& ctx, size_t i, const char* name,
                                               DataType dtype) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr) return std::optional<compute_t<T>>();
  if (t->dtype() != dtype)
    return err(Code::kTypeUnsupported, "Clip needs '", name, "' of the input's type ",
               data_type_name(dtype), ", got ", data_type_name(t->dtype()));
  if (t->numel() != 1)
    return err(Code::kInvalidArgument, "Clip '", name, "' must be a scalar, got shape ",
               Dims::of(t->shape()).to_string(), " (", t->numel(), " elements)");
  return std::optional<compute_t<T>>(load(t->data_as<T>()[0]));
}

Status clip_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Clip"));
  const DataType dtype = x->dtype();
  return dispatch_numeric(dtype, "Clip", [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      return err(Code::kTypeUnsupported, "Clip has no reference kernel for bool");
    } else {
      using V = compute_t<T>;
      V lo = std::numeric_limits<V>::lowest(), hi = std::numeric_limits<V>::max();
      if (ctx.since() < 11) {
        if constexpr (!is_float_v<T>) {
          return err(Code::kTypeUnsupported, "Clip-6 has no reference kernel for ",
                     data_type_name(dtype), " (floating-point types only)");
        } else {
          // Clip-1 has no attribute defaults: an unset bound is the data type's own
          // lowest()/max(), as its spec says (Clip-6's defaults are float's).
          if (ctx.since() >= 6 || ctx.has_attr("min")) lo = static_cast<V>(ctx.attr_float("min"));
          if (ctx.since() >= 6 || ctx.has_attr("max")) hi = static_cast<V>(ctx.attr_float("max"));
        }
      } else {
        KILN_ASSIGN_OR_RETURN(std::optional<V> min, read_bound<T>(ctx, 1, "min", dtype));
        KILN_ASSIGN_OR_RETURN(std::optional<V> max, read_bound<T>(ctx, 2, "max", dtype));
        if (min) lo = *min;
        if (max) hi = *max;
      }
      KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, dtype, x->shape()));
      map_unary<T, T>(*x, *y, [lo, hi](V v) {
        const V r = v < lo ? lo : v;  // NaN compares false twice and stays NaN
        return hi < r ? hi : r;
      });
      return Status::Ok();
    }
  });
}

}  // namespace

void register_clip(OpRegistry& registry) {
  using D = DataType;
  using ir::AttrType;
  const std::vector<DataType> floats_no_bf16 = {D::kFloat16, D::kFloat32, D::kFloat64};
  auto numeric12 = type_sets::ints();
  numeric12.insert(numeric12.end(), floats_no_bf16.begin(), floats_no_bf16.end());

  // The unset bounds default to the float range, i.e. no clipping.
  constexpr float kLowest = std::numeric_limits<float>::lowest();
  constexpr float kMax = std::numeric_limits<float>::max();
  // Clip-1 also has consumed_inputs, a legacy in-place hint without effect on the result.
  registry.add(OpSchema("Clip", 1)
                   .input("input", "T")
                   .output("output", "T")
                   .types("T", floats_no_bf16)
                   .attr("consumed_inputs", AttrType::kInts)
                   .attr("max", AttrType::kFloat)
                   .attr("min", AttrType::kFloat)
                   .fusion(FusionKind::kElementwise)
                   .kernel(clip_kernel));
  registry.add(OpSchema("Clip", 6)
                   .input("input", "T")
                   .output("output", "T")
                   .types("T", floats_no_bf16)
                   .attr("max", AttrType::kFloat, kMax)
                   .attr("min", AttrType::kFloat, kLowest)
                   .fusion(FusionKind::kElementwise)
                   .kernel(clip_kernel));

  const std::vector<std::pair<int64_t, std::vector<DataType>>> revisions = {
      {11, floats_no_bf16}, {12, numeric12}, {13, type_sets::numeric()}};
  for (const auto& [since, types] : revisions) {
    // min and max are scalars, so the op stays one-to-one on `input`.
    registry.add(OpSchema("Clip", since)
                     .input("input", "T")
                     .input("min", "T", Arity::kOptional)
                     .input("max", "T", Arity::kOptional)
                     .output("output", "T")
                     .types("T", types)
                     .fusion(FusionKind::kElementwise)
                     .kernel(clip_kernel));
  }
}

}  // namespace kiln::ops
