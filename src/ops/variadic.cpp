// Variadic pointwise reductions over inputs: Max, Min, Mean, Sum.
//
// Reference kernels fold the inputs into one accumulator of the compute type (float for 16-bit
// floats, so a Sum of many float16 inputs rounds once); Max and Min propagate NaN like
// numpy.maximum / numpy.minimum.
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "core/errors.h"
#include "ops/elementwise_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using namespace elementwise;

enum class Fold { kMax, kMin, kSum, kMean };

template <typename V>
V fold_step(Fold fold, V acc, V v) {
  if constexpr (std::is_floating_point_v<V>) {
    if (std::isnan(acc)) return acc;
    if (std::isnan(v)) return v;
  }
  switch (fold) {
    case Fold::kMax:
      return v > acc ? v : acc;
    case Fold::kMin:
      return v < acc ? v : acc;
    case Fold::kSum:
    case Fold::kMean:
      if constexpr (std::is_integral_v<V>) {
        return wrap_add(acc, v);
      } else {
        return acc + v;
      }
  }
  return acc;
}

// Inputs must share a type; revisions 1 and 6 (before broadcasting) also need one shape.
Result<std::vector<int64_t>> fold_shape(const KernelContext& ctx, const char* op,
                                        std::vector<const Tensor*>& inputs) {
  if (ctx.num_inputs() == 0)
    return err(Code::kInvalidArgument, op, " needs at least one input, the node has none");
  std::vector<std::vector<int64_t>> shapes;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    KILN_ASSIGN_OR_RETURN(const Tensor* t, required_input(ctx, i, op));
    inputs.push_back(t);
    KILN_RETURN_IF_ERROR(check_same_type(*inputs[0], *t, op, "input 0", str("input ", i)));
    if (ctx.since() < 8 && t->shape() != inputs[0]->shape())
      return err(Code::kIncompatibleShapes, op, "-", ctx.since(),
                 " needs inputs of one shape (broadcasting came with opset 8): input 0 is ",
                 Dims::of(inputs[0]->shape()).to_string(), ", input ", i, " is ",
                 Dims::of(t->shape()).to_string());
    shapes.push_back(t->shape());
  }
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, broadcast_shapes(shapes, op));
  KILN_RETURN_IF_ERROR(check_output_size(shape, op));
  return shape;
}

// out = fold(inputs...) elementwise with broadcasting.
Status fold_kernel(KernelContext& ctx, const char* op, Fold fold) {
  std::vector<const Tensor*> inputs;
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, fold_shape(ctx, op, inputs));
  const DataType dtype = inputs[0]->dtype();
  return dispatch_numeric(dtype, op, [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      return err(Code::kTypeUnsupported, op, " has no reference kernel for bool");
    } else {
      if (fold == Fold::kMean && !is_float_v<T>)
        return err(Code::kTypeUnsupported, op, " has no reference kernel for ",
                   data_type_name(dtype), " (floating-point types only)");
      using V = compute_t<T>;
      KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, dtype, shape));
      // 16-bit floats accumulate in a float buffer; other types in the output itself.
      std::vector<V> buffer;
      V* acc = nullptr;
      if constexpr (std::is_same_v<V, T>) {
        acc = out->data_as<T>();
      } else {
        buffer.resize(static_cast<size_t>(out->numel()));
        acc = buffer.data();
      }
      for (size_t k = 0; k < inputs.size(); ++k) {
        const T* p = inputs[k]->data_as<T>();
        for_each_run<1>({&inputs[k]->shape()}, shape,
                        [&](int64_t o, const std::array<int64_t, 1>& off,
                            const std::array<int64_t, 1>& step, int64_t len) {
                          for (int64_t j = 0; j < len; ++j) {
                            const V v = load(p[off[0] + j * step[0]]);
                            acc[o + j] = k == 0 ? v : fold_step(fold, acc[o + j], v);
                          }
                        });
      }
      const int64_t n = out->numel();
      if (fold == Fold::kMean) {
        if constexpr (!std::is_integral_v<V>) {
          const V count = static_cast<V>(inputs.size());
          for (int64_t i = 0; i < n; ++i) acc[i] /= count;
        }
      }
      if constexpr (!std::is_same_v<V, T>) {
        T* po = out->data_as<T>();
        for (int64_t i = 0; i < n; ++i) po[i] = static_cast<T>(acc[i]);
      }
      return Status::Ok();
    }
  });
}

KernelFn kernel_for(const char* name) {
  const std::string op = name;
  if (op == "Max") return [](KernelContext& ctx) { return fold_kernel(ctx, "Max", Fold::kMax); };
  if (op == "Min") return [](KernelContext& ctx) { return fold_kernel(ctx, "Min", Fold::kMin); };
  if (op == "Sum") return [](KernelContext& ctx) { return fold_kernel(ctx, "Sum", Fold::kSum); };
  return [](KernelContext& ctx) { return fold_kernel(ctx, "Mean", Fold::kMean); };
}

std::vector<DataType> floats_no_bf16() {
  return {D::kFloat16, D::kFloat32, D::kFloat64};
}
std::vector<DataType> numeric_no_bf16() {
  auto v = type_sets::ints();
  v.insert(v.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  return v;
}

struct Revision {
  int64_t since;
  std::vector<DataType> types;
};

}  // namespace

void register_variadic(OpRegistry& registry) {
  struct VariadicOp {
    const char* name;
    const char* output;
    std::vector<Revision> revisions;
  };
  const std::vector<VariadicOp> ops = {
      {"Max",
       "max",
       {{1, floats_no_bf16()},
        {6, floats_no_bf16()},
        {8, floats_no_bf16()},
        {12, numeric_no_bf16()},
        {13, type_sets::numeric()}}},
      {"Min",
       "min",
       {{1, floats_no_bf16()},
        {6, floats_no_bf16()},
        {8, floats_no_bf16()},
        {12, numeric_no_bf16()},
        {13, type_sets::numeric()}}},
      {"Mean",
       "mean",
       {{1, floats_no_bf16()},
        {6, floats_no_bf16()},
        {8, floats_no_bf16()},
        {13, type_sets::floats()}}},
      {"Sum",
       "sum",
       {{1, floats_no_bf16()},
        {6, floats_no_bf16()},
        {8, floats_no_bf16()},
        {13, type_sets::floats()}}},
  };
  for (const VariadicOp& op : ops) {
    for (const Revision& rev : op.revisions) {
      // Revisions 1 and 6 require all inputs to have one shape; broadcasting arrived with
      // revision 8. Revision 1 also has consumed_inputs, a legacy in-place hint for the runtime
      // that does not change the result.
      OpSchema s(op.name, rev.since);
      s.input("data_0", "T", Arity::kVariadic, 1).output(op.output, "T").types("T", rev.types);
      if (rev.since == 1) s.attr("consumed_inputs", ir::AttrType::kInts);
      registry.add(
          std::move(s.fusion(rev.since < 8 ? FusionKind::kElementwise : FusionKind::kBroadcast)
                        .kernel(kernel_for(op.name))));
    }
  }
}

}  // namespace kiln::ops
