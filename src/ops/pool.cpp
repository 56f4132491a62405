// Pooling: sliding-window MaxPool / AveragePool / LpPool, their Global* forms, and MaxUnpool.
#include <string>
#include <utility>
#include <vector>

#include "ops/nn_kernels.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// Y (and MaxPool's Indices) = [N, C, window output dims...].
Status window_pool_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  Dims y = Dims::unknown_rank();
  if (x.rank_known()) {
    if (x.rank() < 3)
      return err(Code::kIncompatibleShapes, ctx.node().op_type(), " input X ", x.to_string(),
                 " must have rank >= 3 ([N, C, spatial...])");
    const std::vector<Dim> in(x.dims().begin() + 2, x.dims().end());
    KILN_ASSIGN_OR_RETURN(
        std::vector<Dim> spatial,
        infer_window_dims(ctx, ctx.node().op_type(), in, ctx.attr_ints("kernel_shape"),
                          ctx.schema().find_attr("dilations") != nullptr,
                          ctx.attr_int("ceil_mode", 0) == 1));
    std::vector<Dim> dims{x[0], x[1]};
    dims.insert(dims.end(), spatial.begin(), spatial.end());
    y = Dims(std::move(dims));
  }
  ctx.set_output_shape(0, y);
  if (ctx.num_outputs() > 1) ctx.set_output(1, DataType::kInt64, y);
  return Status::Ok();
}

// Y = [N, C, 1, 1, ...].
Status global_pool_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  if (!x.rank_known()) {
    ctx.set_output_shape(0, x);
    return Status::Ok();
  }
  if (x.rank() < 2)
    return err(Code::kIncompatibleShapes, ctx.node().op_type(), " input X ", x.to_string(),
               " must have rank >= 2 ([N, C, spatial...])");
  std::vector<Dim> dims(x.rank(), Dim::fixed(1));
  dims[0] = x[0];
  dims[1] = x[1];
  ctx.set_output_shape(0, Dims(std::move(dims)));
  return Status::Ok();
}

// The X -> Y signature and window attributes every sliding-window pool revision shares.
OpSchema window_pool(std::string op, int64_t since, std::vector<DataType> types) {
  OpSchema s(std::move(op), since);
  s.input("X", "T")
      .output("Y", "T")
      .types("T", std::move(types))
      .attr_enum("auto_pad", "NOTSET", {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"})
      .required_attr("kernel_shape", AttrType::kInts)
      .attr("pads", AttrType::kInts)
      .attr("strides", AttrType::kInts)
      .fusion(FusionKind::kOpaque)
      .infer(window_pool_infer);
  return s;
}

// Global pools are reductions over every spatial axis.
OpSchema global_pool(std::string op, int64_t since) {
  OpSchema s(std::move(op), since);
  s.input("X", "T")
      .output("Y", "T")
      .types("T", type_sets::ieee_floats())
      .fusion(FusionKind::kReduction)
      .infer(global_pool_infer);
  return s;
}

}  // namespace

void register_pool(OpRegistry& registry) {
  // The opset-11 revisions keep their signatures; they pin down the default strides (1) and the
  // SAME_* output size (ceil(input / stride)).
  //
  // MaxPool: 8 adds the Indices output, 10 dilations and ceil_mode, 12 admits int8/uint8.
  registry.add(window_pool("MaxPool", 1, type_sets::ieee_floats()).kernel(max_pool_kernel));
  for (int64_t since : {8, 10, 11, 12}) {
    auto types = type_sets::ieee_floats();
    if (since >= 12) types.insert(types.end(), {D::kInt8, D::kUInt8});
    OpSchema s = window_pool("MaxPool", since, types);
    s.output("Indices", "I", Arity::kOptional)
        .types("I", {D::kInt64})
        .attr_int_enum("storage_order", 0, {0, 1});
    if (since >= 10) s.attr_int_enum("ceil_mode", 0, {0, 1}).attr("dilations", AttrType::kInts);
    registry.add(std::move(s.kernel(max_pool_kernel)));
  }

  // AveragePool: 7 adds count_include_pad (1 always excludes the padding), 10 ceil_mode, 19
  // dilations.
  registry.add(window_pool("AveragePool", 1, type_sets::ieee_floats()).kernel(average_pool_kernel));
  for (int64_t since : {7, 10, 11, 19}) {
    OpSchema s = window_pool("AveragePool", since, type_sets::ieee_floats());
    s.attr_int_enum("count_include_pad", 0, {0, 1});
    if (since >= 10) s.attr_int_enum("ceil_mode", 0, {0, 1});
    if (since >= 19) s.attr("dilations", AttrType::kInts);
    registry.add(std::move(s.kernel(average_pool_kernel)));
  }

  // LpPool: 1 takes a float p and leaves kernel_shape optional (the kernel still needs it), 2
  // an int p; 18 adds ceil_mode and dilations.
  {
    OpSchema s("LpPool", 1);
    s.input("X", "T")
        .output("Y", "T")
        .types("T", type_sets::ieee_floats())
        .attr_enum("auto_pad", "NOTSET", {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"})
        .attr("kernel_shape", AttrType::kInts)
        .attr("pads", AttrType::kInts)
        .attr("strides", AttrType::kInts)
        .attr("p", AttrType::kFloat, 2.0f)
        .fusion(FusionKind::kOpaque)
        .kernel(lp_pool_kernel);
    registry.add(std::move(s));
  }
  for (int64_t since : {2, 11, 18}) {
    OpSchema s = window_pool("LpPool", since, type_sets::ieee_floats());
    s.attr("p", AttrType::kInt, int64_t{2});
    if (since >= 18) s.attr_int_enum("ceil_mode", 0, {0, 1}).attr("dilations", AttrType::kInts);
    registry.add(std::move(s.kernel(lp_pool_kernel)));
  }

  registry.add(global_pool("GlobalAveragePool", 1).kernel(global_average_pool_kernel));
  registry.add(global_pool("GlobalMaxPool", 1).kernel(global_max_pool_kernel));
  // GlobalLpPool-1 takes p as a float, 2 as an int.
  registry.add(global_pool("GlobalLpPool", 1)
                   .attr("p", AttrType::kFloat, 2.0f)
                   .kernel(global_lp_pool_kernel));
  registry.add(global_pool("GlobalLpPool", 2)
                   .attr("p", AttrType::kInt, int64_t{2})
                   .kernel(global_lp_pool_kernel));

  // MaxUnpool scatters X into a zero tensor at MaxPool's flat Indices.
  for (int64_t since : {9, 11}) {
    registry.add(OpSchema("MaxUnpool", since)
                     .input("X", "T1")
                     .input("I", "T2")
                     .input("output_shape", "T2", Arity::kOptional)
                     .output("output", "T1")
                     .types("T1", type_sets::ieee_floats())
                     .types("T2", {D::kInt64})
                     .required_attr("kernel_shape", AttrType::kInts)
                     .attr("pads", AttrType::kInts)
                     .attr("strides", AttrType::kInts)
                     .fusion(FusionKind::kOpaque)
                     .kernel(max_unpool_kernel));
  }
}

}  // namespace kiln::ops
