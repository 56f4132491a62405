// INT8 chains: where an INT8 convolution's output is read only by INT8 convolutions (as their
// input X, at one scale), the producer writes that output already quantized — uint8 at the
// consumers' int8_x_scale — instead of float32 that each consumer then quantizes again. Saves
// a float32 round trip through memory and a quantizing pass per chained tensor; TensorRT calls
// this requantization fused into the epilogue.
#pragma once

#include <functional>

#include "ir/graph.h"

namespace kiln::builder {

// Rewrites the annotated graph (after calibration, before tactic selection): the output of a
// kiln.FusedConv P with int8_x_scale that is no graph output, whose every consumer is a
// kiln.FusedConv reading it once, as X (annotated unsigned int8, no zero point) or as the
// residual Z (annotated int8_z_scale), all at one scale s, gets int8_y_scale = s and the type
// uint8 (int8 for a signed residual, int8_y_signed). A quantized residual needs a quantized
// output, and a layer with a residual quantizes its output only when the residual arrives
// quantized: links are dropped until both hold. `runs_int8` says whether an INT8 kernel takes
// a layer (asked before, and after the rewrite, which is undone if one refuses). Returns the
// number of tensors handed over quantized.
int chain_int8(ir::Graph& graph, const std::function<bool(const ir::Node&)>& runs_int8);

}  // namespace kiln::builder
