// Linear quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, and the integer
// convolutions QLinearConv and ConvInteger.
//
// The float8 and 4-bit quantized types ONNX admits from opsets 19 and 21 are left out; the
// revisions that introduced them still get entries for their int8/uint8/int16 behaviour.
#include <string>
#include <utility>
#include <vector>

#include "ops/nn_kernels.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

std::vector<DataType> int8s() {
  return {D::kInt8, D::kUInt8};
}
std::vector<DataType> scale_floats() {
  return {D::kFloat32, D::kFloat16, D::kBFloat16};
}

// The Conv attributes, shared by the integer convolutions.
OpSchema& conv_attrs(OpSchema& s) {
  return s.attr_enum("auto_pad", "NOTSET", {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"})
      .attr("dilations", AttrType::kInts)
      .attr("group", AttrType::kInt, int64_t{1})
      .attr("kernel_shape", AttrType::kInts)
      .attr("pads", AttrType::kInts)
      .attr("strides", AttrType::kInts);
}

// y has x's shape and y_zero_point's type: uint8 without one (or output_dtype, 21).
Status quantize_infer(InferContext& ctx) {
  DataType dtype = ctx.has_input(2) ? ctx.input_dtype(2) : DataType::kUInt8;
  if (ctx.attr_int("output_dtype", 0) != 0)
    if (const DataTypeInfo* info =
            data_type_info(static_cast<int32_t>(ctx.attr_int("output_dtype", 0))))
      dtype = info->type;
  ctx.set_output(0, dtype, ctx.input_shape(0));
  return Status::Ok();
}

Status dynamic_quantize_infer(InferContext& ctx) {
  ctx.set_output(0, DataType::kUInt8, ctx.input_shape(0));
  ctx.set_output(1, DataType::kFloat32, Dims::of({}));
  ctx.set_output(2, DataType::kUInt8, Dims::of({}));
  return Status::Ok();
}

void register_quantize_linear(OpRegistry& registry) {
  // 13 adds per-axis scales (axis); 19 lets the scale follow x's type (float16/bfloat16) and
  // adds saturate, which only matters for float8; 21 adds blocked quantization (block_size),
  // output_dtype and 16-bit outputs.
  for (int64_t since : {10, 13, 19, 21}) {
    const bool typed_scale = since >= 19;
    std::vector<DataType> x_types = {D::kFloat32, D::kInt32};
    if (typed_scale) x_types = {D::kFloat32, D::kFloat16, D::kBFloat16, D::kInt32};
    std::vector<DataType> y_types = int8s();
    if (since >= 21) y_types.insert(y_types.end(), {D::kInt16, D::kUInt16});

    OpSchema s("QuantizeLinear", since);
    s.input("x", "T1")
        .input("y_scale", typed_scale ? "T1" : "F")
        .input("y_zero_point", "T2", Arity::kOptional)
        .output("y", "T2")
        .types("T1", x_types)
        .types("T2", y_types)
        .fusion(FusionKind::kElementwise)
        .kernel(quantize_linear_kernel)
        .infer(quantize_infer);
    if (!typed_scale) s.types("F", {D::kFloat32});
    if (since >= 13) s.attr("axis", AttrType::kInt, int64_t{1});
    if (since >= 19) s.attr_int_enum("saturate", 1, {0, 1});
    if (since >= 21) {
      s.attr("block_size", AttrType::kInt, int64_t{0});
      // 0 = take the type of y_zero_point (uint8 without one); else uint8, int8, uint16, int16.
      s.attr_int_enum("output_dtype", 0, {0, 2, 3, 4, 5});
    }
    registry.add(std::move(s));
  }
}

void register_dequantize_linear(OpRegistry& registry) {
  // 13 adds per-axis scales (axis); 19 makes the output type the scale's (T2: float16,
  // bfloat16); 21 adds blocked quantization (block_size) and 16-bit inputs.
  for (int64_t since : {10, 13, 19, 21}) {
    std::vector<DataType> x_types = {D::kInt8, D::kUInt8, D::kInt32};
    if (since >= 21) x_types.insert(x_types.end(), {D::kInt16, D::kUInt16});

    OpSchema s("DequantizeLinear", since);
    if (since < 19) {
      s.input("x", "T")
          .input("x_scale", "F")
          .input("x_zero_point", "T", Arity::kOptional)
          .output("y", "F")
          .types("T", x_types)
          .types("F", {D::kFloat32});
    } else {
      s.input("x", "T1")
          .input("x_scale", "T2")
          .input("x_zero_point", "T1", Arity::kOptional)
          .output("y", "T2")
          .types("T1", x_types)
          .types("T2", scale_floats());
    }
    s.fusion(FusionKind::kElementwise).kernel(dequantize_linear_kernel);
    if (since >= 13) s.attr("axis", AttrType::kInt, int64_t{1});
    if (since >= 21) s.attr("block_size", AttrType::kInt, int64_t{0});
    registry.add(std::move(s));
  }
}

}  // namespace

void register_quantize(OpRegistry& registry) {
  // Quantize/Dequantize are one-to-one on x: scale and zero point are per tensor, axis or block.
  register_quantize_linear(registry);
  register_dequantize_linear(registry);

  // Scale and zero point come from the min/max of the whole input, so this is not pointwise.
  registry.add(OpSchema("DynamicQuantizeLinear", 11)
                   .input("x", "T1")
                   .output("y", "T2")
                   .output("y_scale", "F")
                   .output("y_zero_point", "T2")
                   .types("T1", {D::kFloat32})
                   .types("T2", {D::kUInt8})
                   .types("F", {D::kFloat32})
                   .fusion(FusionKind::kOpaque)
                   .kernel(dynamic_quantize_linear_kernel)
                   .infer(dynamic_quantize_infer));

  OpSchema qlinear_conv("QLinearConv", 10);
  qlinear_conv.input("x", "T1")
      .input("x_scale", "F")
      .input("x_zero_point", "T1")
      .input("w", "T2")
      .input("w_scale", "F")
      .input("w_zero_point", "T2")
      .input("y_scale", "F")
      .input("y_zero_point", "T3")
      .input("B", "T4", Arity::kOptional)
      .output("y", "T3")
      .types("T1", int8s())
      .types("T2", int8s())
      .types("T3", int8s())
      .types("T4", {D::kInt32})
      .types("F", {D::kFloat32})
      .fusion(FusionKind::kOpaque)
      .kernel(qlinear_conv_kernel);
  registry.add(std::move(conv_attrs(qlinear_conv)));

  OpSchema conv_integer("ConvInteger", 10);
  conv_integer.input("x", "T1")
      .input("w", "T2")
      .input("x_zero_point", "T1", Arity::kOptional)
      .input("w_zero_point", "T2", Arity::kOptional)
      .output("y", "T3")
      .types("T1", int8s())
      .types("T2", int8s())
      .types("T3", {D::kInt32})
      .fusion(FusionKind::kOpaque)
      .kernel(conv_integer_kernel);
  registry.add(std::move(conv_attrs(conv_integer)));
}

}  // namespace kiln::ops
