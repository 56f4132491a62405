#include "ops/fused_kernels.h"

#include <cmath>
#include <string>
#include <utility>

#include "core/errors.h"
#include "ops/kernel_util.h"

namespace kiln::ops::fused {

void add_activation_attrs(OpSchema& schema) {
  std::vector<std::string> names(kActivationNames.begin(), kActivationNames.end());
  schema.attr_enum("activation", "", std::move(names))
      .attr("activation_params", ir::AttrType::kFloats, std::vector<float>{})
      .check([](const ir::Node& node, const OpSchema& s, std::vector<Status>& problems) {
        Result<ActivationSpec> a = read_activation(NodeAttrs(node, s));
        if (!a.ok()) problems.push_back(a.status());
      });
}

void add_precision_attrs(OpSchema& schema) {
  schema.attr("int8_x_scale", ir::AttrType::kFloat, 0.0f)
      .attr_int_enum("int8_x_unsigned", 0, {0, 1})
      .attr("int8_w_scales", ir::AttrType::kFloats, std::vector<float>{})
      .attr("int8_x_zero_point", ir::AttrType::kInt, int64_t{0})
      .attr_int_enum("bf16", 0, {0, 1});
}

bool read_bf16(const NodeAttrs& attrs) {
  return attrs.attr_int("bf16", 0) != 0;
}

std::optional<Int8Input> read_int8(const NodeAttrs& attrs) {
  const float scale = attrs.attr_float("int8_x_scale", 0.0f);
  if (!(scale > 0) || !std::isfinite(scale)) return std::nullopt;
  Int8Input q{scale, attrs.attr_int("int8_x_unsigned", 0) != 0, attrs.attr_floats("int8_w_scales")};
  const int64_t zp = attrs.attr_int("int8_x_zero_point", 0);
  if (zp != 0 && (!q.is_unsigned || zp < 0 || zp > 255)) return std::nullopt;
  q.zero_point = static_cast<int32_t>(zp);
  return q;
}

Result<ActivationSpec> read_activation(const NodeAttrs& attrs) {
  const std::string name = attrs.attr_string("activation");
  const std::optional<Activation> kind = activation_from_name(name);
  if (!kind) {
    std::string known;
    for (std::string_view n : kActivationNames)
      known += str(known.empty() ? "" : ", ", "\"", n, "\"");
    return err(Code::kAttributeValueUnsupported, attrs.node().op_type(), " activation \"", name,
               "\" is not one kiln implements (", known, ")");
  }
  const std::vector<float> params = attrs.attr_floats("activation_params");
  if (params.size() != activation_param_count(*kind))
    return err(Code::kInvalidArgument, attrs.node().op_type(), " activation \"", name, "\" takes ",
               activation_param_count(*kind), " activation_params, got ", params.size());
  ActivationSpec spec;
  spec.kind = *kind;
  if (!params.empty()) spec.p0 = params[0];
  if (params.size() > 1) spec.p1 = params[1];
  return spec;
}

Status run_base_kernel(KernelContext& ctx, std::string_view op_type, int64_t opset,
                       std::vector<const Tensor*> inputs) {
  const OpSchema* base = OpRegistry::builtin().find("", op_type, opset);
  if (base == nullptr || !base->reference_kernel())
    return err(Code::kInternal, ctx.node().op_type(), " needs the reference kernel of ", op_type,
               "-", opset);
  KernelContext inner(ctx.node(), *base, std::move(inputs), nullptr);
  // The inner kernel allocates through the fused op's context: its result is the fused output.
  const OutputAllocator through = [&ctx](size_t i, DataType dtype, std::vector<int64_t> shape,
                                         bool zero) -> Result<Tensor> {
    KILN_ASSIGN_OR_RETURN(Tensor * t, zero
                                          ? ctx.allocate_output(i, dtype, std::move(shape))
                                          : ctx.allocate_output_uninit(i, dtype, std::move(shape)));
    return t->view();
  };
  inner.set_output_allocator(&through);
  return base->reference_kernel()(inner);
}

Status apply_epilogue(KernelContext& ctx, const Tensor* addend, std::string_view what, double alpha,
                      const ActivationSpec& activation) {
  Tensor& y = ctx.outputs()[0];
  if (addend != nullptr) {
    if (addend->dtype() != y.dtype())
      return err(Code::kInvalidArgument, ctx.node().op_type(), " ", what, " is ",
                 data_type_name(addend->dtype()), " but the result is ", data_type_name(y.dtype()));
    Result<std::vector<int64_t>> both = broadcast_shapes({addend->shape(), y.shape()}, what);
    if (!both.ok() || *both != y.shape())
      return err(Code::kIncompatibleShapes, ctx.node().op_type(), " ", what, " of shape ",
                 Dims::of(addend->shape()).to_string(), " does not broadcast to the result ",
                 Dims::of(y.shape()).to_string());
  }
  if (addend == nullptr && alpha == 1.0 && activation.kind == Activation::kNone)
    return Status::Ok();
  return dispatch_float(y.dtype(), ctx.node().op_type(), [&]<typename T>() -> Status {
    using V = compute_t<T>;
    T* yp = y.data_as<T>();
    const int64_t n = y.numel();
    const V a = static_cast<V>(alpha);
    with_activation<V>(activation, [&](auto f) {
      if (addend == nullptr) {
        for (int64_t i = 0; i < n; ++i) yp[i] = T(f(a * static_cast<V>(yp[i])));
        return 0;
      }
      const T* zp = addend->data_as<T>();
      const BroadcastIndexer zi(addend->shape(), y.shape());
      for (int64_t i = 0; i < n; ++i)
        yp[i] = T(f(a * static_cast<V>(yp[i]) + static_cast<V>(zp[zi(i)])));
      return 0;
    });
    return Status::Ok();
  });
}

Status check_addend_shape(const InferContext& ctx, size_t input, const Dims& y,
                          std::string_view what) {
  if (!ctx.has_input(input)) return Status::Ok();
  const Dims& z = ctx.input_shape(input);
  if (!z.rank_known() || !y.rank_known()) return Status::Ok();
  const std::string label = str(ctx.node().op_type(), " ", what);
  KILN_ASSIGN_OR_RETURN(Dims both, broadcast_dims({y, z}, label));
  bool grows = both.rank() != y.rank();
  for (size_t i = 0; !grows && i < y.rank(); ++i)
    grows = y[i].is_static() && both[i].is_static() && y[i].value != both[i].value;
  if (grows)
    return err(Code::kIncompatibleShapes, label, " ", z.to_string(), " would enlarge the result ",
               y.to_string(), " when broadcast");
  return Status::Ok();
}

}  // namespace kiln::ops::fused
