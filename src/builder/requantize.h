// INT8 chains: where an INT8 convolution's output is read only by INT8 convolutions (as their
// input X, at one scale), the producer writes that output already quantized — uint8 at the
// consumers' int8_x_scale — instead of float32 that each consumer then quantizes again. Saves
// a float32 round trip through memory and a quantizing pass per chained tensor; TensorRT calls
// this requantization fused into the epilogue.
#pragma once

#include <functional>

#include "ir/graph.h"

namespace kiln::builder {

// Rewrites the annotated graph (after calibration, before tactic selection): a kiln.FusedConv
// P with int8_x_scale, no residual input, an activation that leaves nothing below zero and an
// output that is no graph output, whose every consumer is a kiln.FusedConv reading it as X
// only, annotated unsigned int8 with no zero point and the same int8_x_scale s, gets
// int8_y_scale = s and its output typed uint8. `runs_int8` says whether an INT8 kernel takes a
// layer (it is asked again after the rewrite, which is undone for a chain it refuses). Returns
// the number of tensors chained.
int chain_int8(ir::Graph& graph, const std::function<bool(const ir::Node&)>& runs_int8);

}  // namespace kiln::builder
