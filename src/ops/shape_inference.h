// Graph-level static type and shape inference: runs every node's InferFn (ops/shape_infer.h) in
// topological order, recursing into If/Loop/Scan bodies, and merges the result with what the
// model declares (graph outputs, value_info).
//
// A node whose inputs cannot combine (broadcasting fails, MatMul inner dims differ, a Reshape
// target has another element count, …) yields IncompatibleShapes (K3007) or the infer
// function's own code, naming the node; an inferred type or static dim that contradicts the
// declared one yields ShapeConflict (K1029). Every problem is reported, not just the first.
//
// Small constant subexpressions (shape arithmetic on initializers, Constant nodes) are folded
// with the reference kernels, so Reshape/Expand/Slice targets computed from shapes resolve to
// static or symbolic dims instead of "unknown".
#pragma once

#include <cstdint>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::ops {

struct ShapeInferenceOptions {
  // Opset for nodes that carry none (graphs built in code or read from the text form).
  int64_t fallback_opset = 0;
  // Fold constant subexpressions with the reference kernels (outputs up to this many elements).
  int64_t fold_limit = 1 << 16;
};

struct ShapeInferenceStats {
  int64_t values = 0;       // node outputs visited
  int64_t typed = 0;        // with a known element type
  int64_t rank_known = 0;   // with a known rank
  int64_t fully_known = 0;  // every dim static or symbolic
  int64_t folded = 0;       // node outputs computed as constants
};

// Infers and records types/shapes on the graph's values (only ever making them more precise).
// Problems are appended with the node reference.
void infer_shapes(ir::Graph& graph, const ShapeInferenceOptions& options,
                  std::vector<Status>& problems, ShapeInferenceStats* stats = nullptr);

}  // namespace kiln::ops
