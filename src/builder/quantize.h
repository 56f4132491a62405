// INT8 post-training quantization in the builder: which layers of the optimized graph can run
// INT8, which of their inputs need a calibrated scale, and writing the scales onto the layers
// (the int8_x_scale / int8_x_unsigned annotations the INT8 tactics run from).
#pragma once

#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::builder {

// `--layer-precision PATTERN:PRECISION`: PATTERN is a layer name or a glob (`*`, `?`, `[…]`)
// matched against the layer's name and the names of the ONNX nodes fused into it.
struct LayerPrecision {
  std::string pattern;
  std::string precision;  // "fp32" (others are accepted by the parser for the future)
};
Result<LayerPrecision> parse_layer_precision(const std::string& spec);
bool layer_matches(const ir::Node& n, const std::string& pattern);

struct Int8Layer {
  ir::Node* node;
  std::string input;  // the tensor whose scale the layer needs (its input 0)
  bool non_negative;  // uint8 input: no value below 0 can reach it
  // A convolution's residual Z: calibrated too, so that it can arrive quantized (an INT8
  // chain, requantize.h). Empty when the layer has none.
  std::string residual;
  bool residual_non_negative = false;
};

// Layers an INT8 tactic could run: kiln.FusedConv with constant float32 weights, kiln.FusedMatMul
// / kiln.FusedGemm with a constant 2-D B (a linear layer), float32 activations; minus those a
// LayerPrecision pins to another precision. Plain Conv / Gemm / MatMul nodes with constant
// weights are first rewritten into those kiln ops (activation none).
std::vector<Int8Layer> int8_candidates(ir::Model& model, const std::vector<LayerPrecision>& pinned);

// Of those, the ones calibration gives a scale (the model's Q/DQ pairs give the others theirs):
// minus channels-last convolutions reading a signed activation (not the model's input), unless
// a LayerPrecision pins them to int8 (per-tensor INT8 loses too much on the CNNs measured).
std::vector<Int8Layer> calibration_candidates(std::vector<Int8Layer> layers,
                                              const std::vector<LayerPrecision>& pinned);

// The same layers (minus those pinned to another precision than bf16, and those reading a graph
// input — the raw data — unless pinned to bf16) get the `bf16` annotation, which makes the
// BF16 tactics candidates for them; returns how many. Every other layer — Softmax, LayerNorm,
// reductions, exp/log, attention — stays FP32.
int allow_bf16(ir::Model& model, const std::vector<LayerPrecision>& pinned);

// --fp16 on a CPU (no native FP16 arithmetic): the constant weights of the same conv/linear
// layers and the tables of embedding lookups (Gather of a constant float32 table of >= 4096
// elements) — minus layers pinned to another precision than fp16 — are rounded to float16 in
// place and their names added to `names`, which the engine file then stores as float16 (half
// the bytes); kernels compute FP32 on the rounded values. Tensors float16 cannot hold (|w| >
// 65504, non-finite) or also read by another node stay float32. Returns the layers whose
// weights were converted.
std::vector<const ir::Node*> store_fp16_weights(ir::Model& model,
                                                const std::vector<LayerPrecision>& pinned,
                                                std::set<std::string>& names);

// Whether `v` is a float32 initializer of one of these ranks.
bool constant_f32(const ir::Value* v, std::initializer_list<size_t> ranks);

// Whether `v` can never hold a negative value, from the ops that produce it (ReLU and fused
// ReLU-like activations, Sigmoid, Softmax, pooling / reshaping / concatenation of non-negative
// values, …). Static, so a value calibration happened to see non-negative is not trusted.
bool non_negative(const ir::Value& v);

// Signal-to-quantization-noise ratio (dB) of the layer's constant weights quantized
// symmetrically per output channel the way the INT8 kernels do (max|w| / 127, or the model's
// own scales `int8_w_scales`): exact. Infinity when they quantize exactly.
double weight_sqnr_db(const ir::Node& layer);

// The scales INT8 layers read (`amax` per tensor: the calibrated range): sets int8_x_scale =
// amax / 255 (uint8 inputs) or amax / 127 (int8), int8_x_unsigned. Layers whose input has no
// range stay FP32; returns how many layers were annotated. A layer whose residual has a range
// also gets int8_z_scale / int8_z_unsigned (the same convention).
int annotate_int8(const std::vector<Int8Layer>& layers, const std::map<std::string, float>& amax);

}  // namespace kiln::builder
