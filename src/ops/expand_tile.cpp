// Expand (numpy-style broadcast to a shape) and Tile (repeat along each axis).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

// A 1-D int64 input of non-negative sizes (Expand's shape, Tile's repeats).
Result<std::vector<int64_t>> read_sizes(const Tensor& t, std::string_view op,
                                        std::string_view what) {
  if (t.rank() != 1)
    return err(Code::kInvalidArgument, op, " ", what, " must be 1-D, got shape ",
               shape_str(t.shape()));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> v,
                        read_int_values(t, std::string(op) + " " + std::string(what)));
  for (int64_t d : v)
    if (d < 0)
      return err(Code::kInvalidArgument, op, " ", what, " ", shape_str(v),
                 " contains the negative value ", d);
  return v;
}

Status expand_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Expand", "input"));
  KILN_ASSIGN_OR_RETURN(const Tensor* s, required_input(ctx, 1, "Expand", "shape"));
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> shape, read_sizes(*s, "Expand", "shape"));
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> out_shape,
                        broadcast_shapes({x->shape(), shape}, "Expand"));
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, "Expand"));
  const std::vector<int64_t> step = broadcast_steps(x->shape(), out_shape);
  return dispatch_move(x->dtype(), "Expand", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, x->dtype(), out_shape));
    strided_copy(elems<T>(*x), 0, out_shape, step, elems<T>(*out));
    return Status::Ok();
  });
}

// Tile-1 repeats along one axis: `tiles` copies along `axis`, both one-element tensors of the
// data's (float) type. Returns the per-axis repeats that means.
Result<std::vector<int64_t>> tile1_repeats(const KernelContext& ctx, const Tensor& x) {
  KILN_ASSIGN_OR_RETURN(const Tensor* t, required_input(ctx, 1, "Tile", "tiles"));
  KILN_ASSIGN_OR_RETURN(const Tensor* a, required_input(ctx, 2, "Tile", "axis"));
  if (t->numel() != 1 || a->numel() != 1)
    return err(Code::kInvalidArgument, "Tile-1 tiles and axis must hold one value each, got ",
               t->numel(), " and ", a->numel());
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> tiles, read_integral_values(*t, "Tile tiles"));
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> axis, read_integral_values(*a, "Tile axis"));
  const int64_t rank = static_cast<int64_t>(x.rank());
  if (axis[0] < 0 || axis[0] >= rank)
    return err(Code::kInvalidArgument, "Tile-1 axis ", axis[0], " is out of range for input ",
               shape_str(x.shape()), " (allowed: 0 to ", rank - 1, ")");
  if (tiles[0] < 0) return err(Code::kInvalidArgument, "Tile-1 tiles ", tiles[0], " is negative");
  std::vector<int64_t> repeats(x.rank(), 1);
  repeats[static_cast<size_t>(axis[0])] = tiles[0];
  return repeats;
}

Status tile_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Tile", "input"));
  std::vector<int64_t> repeats;
  if (ctx.since() < 6) {
    KILN_ASSIGN_OR_RETURN(repeats, tile1_repeats(ctx, *x));
  } else {
    KILN_ASSIGN_OR_RETURN(const Tensor* r, required_input(ctx, 1, "Tile", "repeats"));
    KILN_ASSIGN_OR_RETURN(repeats, read_sizes(*r, "Tile", "repeats"));
  }
  if (repeats.size() != x->rank())
    return err(Code::kInvalidArgument, "Tile repeats ", shape_str(repeats), " must have one ",
               "value per axis of input ", shape_str(x->shape()));
  // The output, row-major, walks (repeat_0, i_0, repeat_1, i_1, ...): repeats read with step
  // 0, input axes with their strides.
  const std::vector<int64_t> strides = strides_of(x->shape());
  std::vector<int64_t> out_shape, walk_shape, walk_step;
  for (size_t a = 0; a < x->rank(); ++a) {
    const int64_t d = x->shape()[a];
    if (d != 0 && repeats[a] > kMaxOutputElements / d)
      return err(Code::kInvalidArgument, "Tile repeats ", shape_str(repeats), " of input ",
                 shape_str(x->shape()), " exceed the reference kernels' limit of 2^33 elements");
    out_shape.push_back(d * repeats[a]);
    walk_shape.insert(walk_shape.end(), {repeats[a], d});
    walk_step.insert(walk_step.end(), {0, strides[a]});
  }
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, "Tile"));
  return dispatch_move(x->dtype(), "Tile", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, x->dtype(), out_shape));
    strided_copy(elems<T>(*x), 0, walk_shape, walk_step, elems<T>(*out));
    return Status::Ok();
  });
}

Status expand_infer(InferContext& ctx) {
  std::optional<DimValues> target = ctx.input_values(1);
  if (!target) {
    ctx.set_output_shape(0, Dims::unknown_rank());
    return Status::Ok();
  }
  for (const IntValue& d : *target)
    if (d.value && *d.value < 0)
      return err(Code::kInvalidArgument, "Expand target shape ",
                 dims_from_values(*target).to_string(), " has a negative size");
  KILN_ASSIGN_OR_RETURN(Dims out,
                        broadcast_dims({ctx.input_shape(0), dims_from_values(*target)}, "Expand"));
  ctx.set_output_shape(0, out);
  return Status::Ok();
}

Status tile_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  std::optional<std::vector<int64_t>> repeats = ctx.input_ints(1);
  if (!in.rank_known()) {
    ctx.set_output_shape(0, in);
    return Status::Ok();
  }
  if (!repeats) {
    ctx.set_output_shape(0, unknown_dims(static_cast<int64_t>(in.rank())));
    return Status::Ok();
  }
  if (repeats->size() != in.rank())
    return err(Code::kIncompatibleShapes, "Tile repeats has ", repeats->size(),
               " values but the input ", in.to_string(), " has rank ", in.rank());
  std::vector<Dim> out;
  for (size_t k = 0; k < in.rank(); ++k) {
    if ((*repeats)[k] < 0)
      return err(Code::kInvalidArgument, "Tile repeat ", (*repeats)[k], " is negative");
    out.push_back(dim_mul(in[k], Dim::fixed((*repeats)[k])));
  }
  ctx.set_output_shape(0, Dims(std::move(out)));
  return Status::Ok();
}

}  // namespace

void register_expand_tile(OpRegistry& registry) {
  for (int64_t since : {8, 13}) {
    registry.add(OpSchema("Expand", since)
                     .input("input", "T")
                     .input("shape", "I")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("I", {D::kInt64})
                     .fusion(FusionKind::kInjective)
                     .kernel(expand_kernel)
                     .infer(expand_infer));
  }
  // Tile-1 repeats along a single axis, with `tiles` and `axis` as inputs of the data's type
  // (floats only; ONNX also declares an unused T1).
  registry.add(OpSchema("Tile", 1)
                   .input("input", "T")
                   .input("tiles", "T")
                   .input("axis", "T")
                   .output("output", "T")
                   .types("T", {D::kFloat16, D::kFloat32, D::kFloat64})
                   .fusion(FusionKind::kInjective)
                   .kernel(tile_kernel));
  for (int64_t since : {6, 13}) {
    registry.add(OpSchema("Tile", since)
                     .input("input", "T")
                     .input("repeats", "T1")
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("T1", {D::kInt64})
                     .fusion(FusionKind::kInjective)
                     .kernel(tile_kernel)
                     .infer(tile_infer));
  }
}

}  // namespace kiln::ops
