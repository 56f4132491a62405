// Shape metadata and constants: Shape, Size, Constant, ConstantOfShape, Identity, Range.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// Constant carries its value in exactly one attribute; kiln has no sparse tensors.
void check_constant(const ir::Node& node, const OpSchema& schema, std::vector<Status>& problems) {
  std::string given, names;
  int count = 0;
  for (const AttrSpec& spec : schema.attrs()) {
    names += (names.empty() ? "" : ", ") + spec.name;
    if (node.attr(spec.name) == nullptr) continue;
    given += (given.empty() ? "'" : ", '") + spec.name + "'";
    ++count;
  }
  if (node.attr("sparse_value") != nullptr && schema.find_attr("sparse_value") != nullptr) {
    problems.push_back(err(Code::kUnsupportedFeature,
                           "attribute 'sparse_value': sparse constants are not supported; store "
                           "the value densely in 'value'"));
  }
  if (count > 1) {
    problems.push_back(err(Code::kAttributeValueUnsupported, "attributes ", given,
                           " set together (allowed: exactly one of ", names, ")"));
  } else if (count == 0 && schema.attrs().size() > 1) {
    // Revisions 1 and 9 have the single required 'value', reported by the generic check.
    problems.push_back(
        err(Code::kMissingAttribute, "no value attribute (allowed: exactly one of ", names, ")"));
  }
}

// ConstantOfShape's fill value is a one-element tensor.
void check_constant_of_shape(const ir::Node& node, const OpSchema&, std::vector<Status>& problems) {
  const ir::Attribute* value = node.attr("value");
  if (value == nullptr || value->type != AttrType::kTensor || value->t.numel() == 1) return;
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'value' has ",
                         value->t.numel(), " elements (allowed: exactly 1)"));
}

Status shape_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Shape", "data"));
  const int64_t rank = static_cast<int64_t>(x->rank());
  // start/end (15+) clamp like Slice: negative counts from the back, then into [0, rank].
  auto clamp_dim = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  int64_t start = 0, end = rank;
  if (ctx.since() >= 15) {
    start = clamp_dim(ctx.attr_int("start"));
    if (ctx.has_attr("end")) end = clamp_dim(ctx.attr_int("end"));
  }
  const int64_t n = std::max<int64_t>(end - start, 0);
  KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, DataType::kInt64, {n}));
  for (int64_t i = 0; i < n; ++i)
    out->data_as<int64_t>()[i] = x->shape()[static_cast<size_t>(start + i)];
  return Status::Ok();
}

Status size_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Size", "data"));
  KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, DataType::kInt64, {}));
  out->data_as<int64_t>()[0] = x->numel();
  return Status::Ok();
}

// Shares `t`'s storage when it owns it; copies borrowed memory so the output cannot outlive it.
Status set_output_shared(KernelContext& ctx, size_t i, const Tensor& t) {
  return set_output_reshaped(ctx, i, t, t.shape());
}

Status identity_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Identity", "input"));
  return set_output_shared(ctx, 0, *x);
}

Status constant_kernel(KernelContext& ctx) {
  if (const Tensor* t = ctx.attr_tensor("value")) return set_output_shared(ctx, 0, *t);
  if (ctx.has_attr("sparse_value"))
    return err(Code::kUnsupportedFeature,
               "Constant sparse_value: sparse constants are not supported");
  if (ctx.has_attr("value_float")) {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, DataType::kFloat32, {}));
    out->data_as<float>()[0] = ctx.attr_float("value_float");
    return Status::Ok();
  }
  if (ctx.has_attr("value_floats")) {
    const std::vector<float> v = ctx.attr_floats("value_floats");
    KILN_ASSIGN_OR_RETURN(
        Tensor * out, ctx.allocate_output(0, DataType::kFloat32, {static_cast<int64_t>(v.size())}));
    std::copy(v.begin(), v.end(), out->data_as<float>());
    return Status::Ok();
  }
  if (ctx.has_attr("value_int")) {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, DataType::kInt64, {}));
    out->data_as<int64_t>()[0] = ctx.attr_int("value_int");
    return Status::Ok();
  }
  if (ctx.has_attr("value_ints")) {
    const std::vector<int64_t> v = ctx.attr_ints("value_ints");
    KILN_ASSIGN_OR_RETURN(
        Tensor * out, ctx.allocate_output(0, DataType::kInt64, {static_cast<int64_t>(v.size())}));
    std::copy(v.begin(), v.end(), out->data_as<int64_t>());
    return Status::Ok();
  }
  if (ctx.has_attr("value_string")) {
    KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::strings({}, {ctx.attr_string("value_string")}));
    ctx.set_output(0, std::move(out));
    return Status::Ok();
  }
  if (ctx.has_attr("value_strings")) {
    std::vector<std::string> v = ctx.attr_strings("value_strings");
    const int64_t n = static_cast<int64_t>(v.size());
    KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::strings({n}, std::move(v)));
    ctx.set_output(0, std::move(out));
    return Status::Ok();
  }
  return err(Code::kInvalidArgument, "Constant has no value attribute (nor a tensor in 'value')");
}

Status constant_of_shape_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* s, required_input(ctx, 0, "ConstantOfShape", "input"));
  if (s->rank() != 1)
    return err(Code::kInvalidArgument, "ConstantOfShape input must be 1-D, got shape ",
               shape_str(s->shape()));
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> shape,
                        read_int_values(*s, "ConstantOfShape input"));
  KILN_RETURN_IF_ERROR(check_output_shape(shape, "ConstantOfShape"));
  const Tensor* value = ctx.attr_tensor("value");
  if (value == nullptr) {  // float32 zeros
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, DataType::kFloat32, shape));
    (void)out;
    return Status::Ok();
  }
  if (value->numel() != 1)
    return err(Code::kInvalidArgument, "ConstantOfShape value must hold one element, not ",
               value->numel());
  return dispatch_move(value->dtype(), "ConstantOfShape", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, value->dtype(), shape));
    std::fill_n(elems<T>(*out), out->numel(), elems<T>(*value)[0]);
    return Status::Ok();
  });
}

// Range: max(ceil((limit - start) / delta), 0) values start + i * delta, computed in double for
// floats (as numpy.arange, the ONNX reference, does) and in int64 for ints.
Status range_kernel(KernelContext& ctx) {
  const Tensor* in[3];
  const char* names[3] = {"start", "limit", "delta"};
  for (size_t i = 0; i < 3; ++i) {
    KILN_ASSIGN_OR_RETURN(in[i], required_input(ctx, i, "Range", names[i]));
    if (in[i]->numel() != 1)
      return err(Code::kInvalidArgument, "Range ", names[i], " must be a scalar, got shape ",
                 shape_str(in[i]->shape()));
    if (in[i]->dtype() != in[0]->dtype())
      return err(Code::kInvalidArgument, "Range inputs mix ", data_type_name(in[0]->dtype()),
                 " and ", data_type_name(in[i]->dtype()));
  }
  const DataType dt = in[0]->dtype();
  return dispatch_numeric(dt, "Range", [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, uint64_t>) {
      return err(Code::kTypeUnsupported, "Range has no reference kernel for ", data_type_name(dt));
    } else if constexpr (is_float_v<T>) {
      const double start = static_cast<compute_t<T>>(in[0]->data_as<T>()[0]);
      const double limit = static_cast<compute_t<T>>(in[1]->data_as<T>()[0]);
      const double delta = static_cast<compute_t<T>>(in[2]->data_as<T>()[0]);
      if (delta == 0 || !std::isfinite(start) || !std::isfinite(limit) || !std::isfinite(delta))
        return err(Code::kInvalidArgument, "Range needs a finite non-zero delta and finite ",
                   "bounds, got start ", start, ", limit ", limit, ", delta ", delta);
      const double count = std::max(std::ceil((limit - start) / delta), 0.0);
      if (count > static_cast<double>(kMaxOutputElements))
        return err(Code::kInvalidArgument, "Range(", start, ", ", limit, ", ", delta, ") has ",
                   count, " elements, above the reference kernels' limit of 2^33");
      const int64_t n = static_cast<int64_t>(count);
      KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, dt, {n}));
      for (int64_t i = 0; i < n; ++i)
        out->data_as<T>()[i] = static_cast<T>(start + static_cast<double>(i) * delta);
      return Status::Ok();
    } else {
      const int64_t start = static_cast<int64_t>(in[0]->data_as<T>()[0]);
      const int64_t limit = static_cast<int64_t>(in[1]->data_as<T>()[0]);
      const int64_t delta = static_cast<int64_t>(in[2]->data_as<T>()[0]);
      if (delta == 0) return err(Code::kInvalidArgument, "Range delta is 0");
      // |limit - start| and |delta| in uint64: the differences can overflow int64.
      uint64_t count = 0;
      if ((limit > start && delta > 0) || (limit < start && delta < 0)) {
        const uint64_t span = limit > start
                                  ? static_cast<uint64_t>(limit) - static_cast<uint64_t>(start)
                                  : static_cast<uint64_t>(start) - static_cast<uint64_t>(limit);
        const uint64_t mag =
            delta > 0 ? static_cast<uint64_t>(delta) : 0 - static_cast<uint64_t>(delta);
        count = span / mag + (span % mag != 0 ? 1 : 0);
      }
      if (count > static_cast<uint64_t>(kMaxOutputElements))
        return err(Code::kInvalidArgument, "Range(", start, ", ", limit, ", ", delta, ") has ",
                   count, " elements, above the reference kernels' limit of 2^33");
      const int64_t n = static_cast<int64_t>(count);
      KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, dt, {n}));
      // Wrapping uint64 arithmetic: i * delta alone may overflow int64 though every value lies
      // between start and limit.
      for (int64_t i = 0; i < n; ++i)
        out->data_as<T>()[i] = static_cast<T>(
            static_cast<int64_t>(static_cast<uint64_t>(start) +
                                 static_cast<uint64_t>(i) * static_cast<uint64_t>(delta)));
      return Status::Ok();
    }
  });
}

Status shape_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  if (!in.rank_known()) {
    ctx.set_output_shape(0, unknown_dims(1));
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(in.rank());
  auto clamp_dim = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  int64_t start = 0, end = rank;
  if (ctx.since() >= 15) {
    start = clamp_dim(ctx.attr_int("start", 0));
    end = ctx.has_attr("end") ? clamp_dim(ctx.attr_int("end", rank)) : rank;
  }
  DimValues v;
  for (int64_t k = start; k < end; ++k) v.push_back(in[k]);
  ctx.set_output_shape(0, Dims::of({static_cast<int64_t>(v.size())}));
  ctx.set_output_values(0, v);
  return Status::Ok();
}

Status size_infer(InferContext& ctx) {
  ctx.set_output_shape(0, Dims::of({}));
  if (std::optional<int64_t> n = ctx.input_shape(0).numel())
    ctx.set_output_values(0, {Dim::fixed(*n)});
  return Status::Ok();
}

Status identity_infer(InferContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  if (std::optional<DimValues> v = ctx.input_values(0)) ctx.set_output_values(0, *v);
  return Status::Ok();
}

Status constant_infer(InferContext& ctx) {
  if (const Tensor* t = ctx.attr_tensor("value")) {
    ctx.set_output(0, t->dtype(), Dims::of(t->shape()));
  } else if (ctx.has_attr("value_float")) {
    ctx.set_output(0, DataType::kFloat32, Dims::of({}));
  } else if (ctx.has_attr("value_int")) {
    ctx.set_output(0, DataType::kInt64, Dims::of({}));
  } else if (ctx.has_attr("value_string")) {
    ctx.set_output(0, DataType::kString, Dims::of({}));
  } else if (ctx.has_attr("value_floats")) {
    ctx.set_output(0, DataType::kFloat32,
                   Dims::of({static_cast<int64_t>(ctx.attr_floats("value_floats").size())}));
  } else if (ctx.has_attr("value_ints")) {
    ctx.set_output(0, DataType::kInt64,
                   Dims::of({static_cast<int64_t>(ctx.attr_ints("value_ints").size())}));
  } else if (ctx.has_attr("value_strings")) {
    ctx.set_output(0, DataType::kString,
                   Dims::of({static_cast<int64_t>(ctx.attr_strings("value_strings").size())}));
  }
  return Status::Ok();
}

Status constant_of_shape_infer(InferContext& ctx) {
  const Tensor* value = ctx.attr_tensor("value");
  const DataType dtype = value ? value->dtype() : DataType::kFloat32;
  if (std::optional<DimValues> shape = ctx.input_values(0)) {
    for (const IntValue& d : *shape)
      if (d.value && *d.value < 0)
        return err(Code::kInvalidArgument, "ConstantOfShape shape ",
                   dims_from_values(*shape).to_string(), " has a negative size");
    ctx.set_output(0, dtype, dims_from_values(*shape));
  } else {
    const Dims& s = ctx.input_shape(0);
    ctx.set_output(0, dtype,
                   s.rank_known() && s.rank() == 1 && s[0].is_static() ? unknown_dims(s[0].value)
                                                                       : Dims::unknown_rank());
  }
  return Status::Ok();
}

// The length when start, limit and delta are constants (then the node also folds).
Status range_infer(InferContext& ctx) {
  std::optional<double> bounds[3];
  for (size_t i = 0; i < 3; ++i) {
    const Tensor* t = ctx.input_constant(i);
    if (t == nullptr || t->numel() != 1 || t->data() == nullptr) continue;
    switch (t->dtype()) {
      case DataType::kFloat32:
        bounds[i] = t->data_as<float>()[0];
        break;
      case DataType::kFloat64:
        bounds[i] = t->data_as<double>()[0];
        break;
      case DataType::kInt16:
        bounds[i] = t->data_as<int16_t>()[0];
        break;
      case DataType::kInt32:
        bounds[i] = t->data_as<int32_t>()[0];
        break;
      case DataType::kInt64:
        bounds[i] = static_cast<double>(t->data_as<int64_t>()[0]);
        break;
      default:
        break;
    }
  }
  Dims out = unknown_dims(1);
  if (bounds[0] && bounds[1] && bounds[2] && *bounds[2] != 0) {
    const double count = std::max(std::ceil((*bounds[1] - *bounds[0]) / *bounds[2]), 0.0);
    if (count < static_cast<double>(int64_t{1} << 40))
      out = Dims::of({static_cast<int64_t>(count)});
  }
  // Range(0, S, 1) with S a symbolic size (position ids in an export) has S elements.
  if (!out[0].is_static() && bounds[0] && *bounds[0] == 0 && bounds[2] && *bounds[2] == 1)
    if (std::optional<DimValues> limit = ctx.input_values(1); limit && limit->size() == 1)
      out = Dims({(*limit)[0].dim()});
  ctx.set_output_shape(0, out);
  return Status::Ok();
}

void register_constant(OpRegistry& registry) {
  // Constant-1 holds floats only; 9 any tensor; 11 makes value optional beside sparse_value;
  // 12 adds the value_* shorthands.
  for (int64_t since : {1, 9, 11, 12, 13, 19, 21}) {
    OpSchema s("Constant", since);
    s.output("output", "T")
        .types("T", since == 1 ? std::vector<DataType>{D::kFloat16, D::kFloat32, D::kFloat64}
                               : type_sets::all_tensor_at(since))
        .fusion(FusionKind::kOpaque)
        .check(check_constant)
        .kernel(constant_kernel)
        .infer(constant_infer);
    if (since < 11) {
      s.required_attr("value", AttrType::kTensor);
    } else {
      s.attr("value", AttrType::kTensor).attr("sparse_value", AttrType::kSparseTensor);
    }
    if (since >= 12) {
      s.attr("value_float", AttrType::kFloat)
          .attr("value_floats", AttrType::kFloats)
          .attr("value_int", AttrType::kInt)
          .attr("value_ints", AttrType::kInts)
          .attr("value_string", AttrType::kString)
          .attr("value_strings", AttrType::kStrings);
    }
    registry.add(std::move(s));
  }
}

}  // namespace

void register_shape_ops(OpRegistry& registry) {
  // Shape-15 adds start/end to take a slice of the shape; end has no default (the rank).
  for (int64_t since : {1, 13, 15, 19, 21}) {
    OpSchema s("Shape", since);
    s.input("data", "T")
        .output("shape", "T1")
        .types("T", type_sets::all_tensor_at(since))
        .types("T1", {D::kInt64})
        .fusion(FusionKind::kOpaque)
        .kernel(shape_kernel)
        .infer(shape_infer);
    if (since >= 15) s.attr("start", AttrType::kInt, int64_t{0}).attr("end", AttrType::kInt);
    registry.add(std::move(s));
  }

  for (int64_t since : {1, 13, 19, 21}) {
    registry.add(OpSchema("Size", since)
                     .input("data", "T")
                     .output("size", "T1")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("T1", {D::kInt64})
                     .fusion(FusionKind::kOpaque)
                     .kernel(size_kernel)
                     .infer(size_infer));
  }

  register_constant(registry);

  // The fill value defaults to float 0. 20 adds bfloat16 (and float8, left out), 21 adds
  // int4/uint4 (left out): 20 and 21 keep distinct entries with the same kiln types.
  for (int64_t since : {9, 20, 21}) {
    std::vector<DataType> types = type_sets::ints();
    types.insert(types.end(), {D::kFloat16, D::kFloat32, D::kFloat64, D::kBool});
    if (since >= 20) types.push_back(D::kBFloat16);
    registry.add(OpSchema("ConstantOfShape", since)
                     .input("input", "T1")
                     .output("output", "T2")
                     .types("T1", {D::kInt64})
                     .types("T2", types)
                     .attr("value", AttrType::kTensor)
                     .fusion(FusionKind::kOpaque)
                     .check(check_constant_of_shape)
                     .kernel(constant_of_shape_kernel)
                     .infer(constant_of_shape_infer));
  }

  // Identity-14 and 16 add sequence and optional values, which kiln does not model; their
  // entries keep the tensor types.
  for (int64_t since : {1, 13, 14, 16, 19, 21}) {
    registry.add(OpSchema("Identity", since)
                     .input("input", since >= 14 ? "V" : "T")
                     .output("output", since >= 14 ? "V" : "T")
                     .types(since >= 14 ? "V" : "T", type_sets::all_tensor_at(since))
                     .fusion(FusionKind::kElementwise)
                     .kernel(identity_kernel)
                     .infer(identity_infer));
  }

  // Range's length depends on the input values.
  registry.add(OpSchema("Range", 11)
                   .input("start", "T")
                   .input("limit", "T")
                   .input("delta", "T")
                   .output("output", "T")
                   .types("T", {D::kFloat32, D::kFloat64, D::kInt16, D::kInt32, D::kInt64})
                   .fusion(FusionKind::kOpaque)
                   .kernel(range_kernel)
                   .infer(range_infer));
}

}  // namespace kiln::ops
