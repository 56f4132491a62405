// What kiln's fused ops (domain "kiln": FusedConv, FusedConvTranspose, FusedGemm, FusedMatMul)
// share: the activation attributes, running the ONNX op's own reference kernel for the product
// (so a fused op computes exactly what its unfused nodes would) and the epilogue
// y = act(alpha * y + addend) applied to that product in place.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "ops/activation_functions.h"
#include "ops/op_schema.h"

namespace kiln::ops::fused {

// Adds `activation` (string, default "": none) and `activation_params` (floats) to a schema,
// with a node check naming a wrong activation or parameter count.
void add_activation_attrs(OpSchema& schema);

// Adds the reduced-precision annotations the builder writes on a layer: `bf16` (0/1): the
// layer may compute in bfloat16 (--bf16; a BF16 tactic then competes in autotuning), and the
// INT8 annotations its quantization writes on a layer it calibrated:
// `int8_x_scale` (float, 0 = not quantized): the per-tensor scale of input 0 (A / X), so an
// INT8 kernel computes with x_q = saturate(round(x / scale)); `int8_x_unsigned` (0/1): x_q is
// uint8 (the calibration never saw a negative value, e.g. after a ReLU) rather than int8;
// `int8_w_scales` (floats, empty = the kernel's own max|w| / 127 per channel): the weights'
// per-output-channel scales of an explicitly quantized model (its DequantizeLinear scales);
// `int8_x_zero_point` (int, uint8 inputs, default 0): an explicitly quantized model's
// asymmetric zero point (only the INT8 convolution takes a nonzero one).
// Reference kernels ignore them all: they stay the FP32 oracle.
void add_precision_attrs(OpSchema& schema);

struct Int8Input {
  float scale = 0;
  bool is_unsigned = false;
  std::vector<float> w_scales;  // empty: the kernel chooses
  int32_t zero_point = 0;       // uint8 only: x_q = saturate(round(x / scale) + zero_point)
  // The range of x that quantizes without clipping.
  float lo() const { return (is_unsigned ? 0.f - zero_point : -128.f) * scale; }
  float hi() const { return (is_unsigned ? 255.f - zero_point : 127.f) * scale; }
};
// The node's INT8 annotation; nullopt when it has none (or a scale that is not positive and
// finite).
std::optional<Int8Input> read_int8(const NodeAttrs& attrs);
// Whether the builder allowed the layer BF16 arithmetic.
bool read_bf16(const NodeAttrs& attrs);

// The node's activation and its parameters; InvalidArgument for an unknown name or a wrong
// number of parameters.
Result<ActivationSpec> read_activation(const NodeAttrs& attrs);

// Runs the reference kernel of ai.onnx `op_type` (the revision in effect at `opset`) over the
// fused node: attributes are read by name from the fused node, which carries the base op's
// attributes unchanged; the output is allocated through `ctx`, so it lands where the caller
// (interpreter or engine) wants the fused op's output.
Status run_base_kernel(KernelContext& ctx, std::string_view op_type, int64_t opset,
                       std::vector<const Tensor*> inputs);

// y = act(alpha * y + addend) over ctx's output 0, in the compute type. `addend` (nullable)
// broadcasts to y one way (its shape must not enlarge y's); `what` names it in errors.
Status apply_epilogue(KernelContext& ctx, const Tensor* addend, std::string_view what, double alpha,
                      const ActivationSpec& activation);

// Shape inference: checks that `addend` (input i, if present) broadcasts to output 0's inferred
// shape without changing it.
Status check_addend_shape(const InferContext& ctx, size_t input, const Dims& y,
                          std::string_view what);

}  // namespace kiln::ops::fused
