// The reference interpreter: runs an imported ir::Model node by node with the ops' reference
// kernels. It is the correctness oracle for engines and backends, not a fast path.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::interp {

using TensorMap = std::map<std::string, Tensor>;

// Every node (recursively through subgraphs) that has no reference kernel: one NoKernel
// (K2011), UnknownOp or OpVersionUnsupported problem per node.
void find_missing_kernels(const ir::Model& model, std::vector<Status>& problems);

// Validates `inputs` against the model's graph inputs (InputMissing, InputUnknown,
// InputTypeMismatch, InputShapeMismatch — all problems, not just the first).
void validate_inputs(const ir::Graph& graph, const TensorMap& inputs,
                     std::vector<Status>& problems);

struct RunOptions {
  // Called with every node output (in subgraphs too) as it is computed: tools that compare
  // intermediate values or check static shapes against real ones.
  std::function<void(const ir::Node&, const ir::Value&, const Tensor&)> on_value;
};

// Runs the model. Inputs are matched by name; graph inputs that have initializers may be
// omitted (their initializer is used). Errors carry the failing node's reference.
Result<TensorMap> run(const ir::Model& model, const TensorMap& inputs,
                      const RunOptions& options = {});

// Resolves values a subgraph reads from enclosing scopes when the caller is not the
// interpreter (an engine's executor keeps its own values); nullptr when unknown.
using OuterLookup = std::function<const Tensor*(const ir::Value*)>;

// Runs one subgraph (If branch, Loop/Scan body) with the given graph inputs; values of
// enclosing graphs come from `outer`. Returns the graph outputs in order.
Result<std::vector<Tensor>> run_subgraph(const ir::Graph& graph, std::vector<Tensor> inputs,
                                         const OuterLookup& outer);

}  // namespace kiln::interp
