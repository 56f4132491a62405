// Explicit quantization: models that carry their own INT8 scales as QuantizeLinear /
// DequantizeLinear pairs (ONNX Runtime's QDQ quantizer, PyTorch / TensorRT QAT exports) run
// their conv / linear layers INT8 with those scales, without calibration.
//
// Before the optimizer runs (so the pairs do not stand between the nodes it fuses):
//  - a DequantizeLinear of constant integer weights becomes the float initializer it computes
//    (w - zp) * scale, exactly as its kernel would; int8 weights with zero zero-points keep
//    their scales, so the INT8 kernels quantize them back to the model's own integers;
//  - an activation pair x -> Q(s, 0) -> DQ(s, 0) -> y feeding a Conv / Gemm / MatMul with
//    constant weights as its input 0: that layer reads clip(x) to the pair's range instead and
//    records (s, int8 or uint8) under its ONNX node name (which the optimizer keeps among a
//    fused layer's origins); its INT8 kernel quantizes with the same scale and saturation,
//    i.e. computes the pair itself, and if it runs FP32 after all it still sees the pair's
//    clipping. Other readers of y (an Add, a pool, …) keep reading the pair, which then runs.
// A uint8 pair with a nonzero zero point (ONNX Runtime's default asymmetric activations) is
// absorbed by convolutions (int8_x_zero_point): they clip to its range and, while the INT8
// convolution declines source zero points (dnnl_conv_tactic.cpp), run FP32; linear layers keep
// such pairs. Pairs the INT8 kernels cannot
// reproduce stay in the graph and run as written (FP32 fake quantization): an int8 pair with a
// nonzero zero point, per-axis or blocked activation scales, a Q and DQ with different scales,
// float8 / 4-bit / 16-bit types.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln::builder {

struct ExplicitScales {
  struct Activation {
    float scale = 0;
    bool is_unsigned = false;  // uint8 [0, 255] rather than int8
    int32_t zero_point = 0;    // uint8 only; the convolution alone runs a nonzero one INT8
  };
  struct Weights {
    std::vector<float> scales;  // one (per tensor) or one per slice along `axis`
    int64_t axis = 0;           // non-negative
  };
  std::map<std::string, Activation> layers;  // by the ONNX name of the layer reading the pair
  std::map<std::string, Weights> weights;    // by the initializer the DQ became
  int folded_weights = 0;                    // weight DequantizeLinear nodes computed at build time
  int absorbed = 0;                          // layer inputs whose Q/DQ pair the layer now computes
  int kept = 0;                       // activation DequantizeLinear nodes left to run as written
  std::vector<std::string> why_kept;  // "node 'name': reason", the first few

  bool empty() const { return folded_weights == 0 && absorbed == 0 && kept == 0; }
};

// Whether the main graph holds a QuantizeLinear or DequantizeLinear node.
bool has_qdq(const ir::Graph& graph);

// Rewrites the main graph as described above; returns what it found.
ExplicitScales absorb_qdq(ir::Model& model);

// The explicit scale of an (optimized) layer's input 0: the one recorded for an ONNX node
// among its origins. nullptr when there is none.
const ExplicitScales::Activation* explicit_activation(const ExplicitScales& scales,
                                                      const ir::Node& layer);

// The model's per-channel weight scales for weights `w` when the INT8 kernel quantizes along
// `axis` and `w` still holds integer multiples of them in [-127, 127] (no pass rewrote it):
// one scale per channel. Empty otherwise (the kernel then chooses its own scales).
std::vector<float> explicit_weight_scales(const ExplicitScales& scales, const ir::Value& w,
                                          int64_t axis);

}  // namespace kiln::builder
