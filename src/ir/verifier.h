// Structural invariants of an ir::Graph, checked after import and after every pass.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::ir {

// Checks (recursively through subgraphs) and appends one Status per violation:
//  - every node input is defined in scope (this graph or an enclosing one) by a node output,
//    a graph input or an initializer (UndefinedValue);
//  - nodes are in topological order and acyclic (GraphCycle);
//  - each value has one definer: node outputs are distinct, not graph inputs (DuplicateValue);
//  - graph outputs are defined (GraphOutputUndefined);
//  - initializer tensors agree with their value's declared type (TypeMismatch).
void verify(const Graph& graph, std::vector<Status>& problems);

// Convenience: the first problem, or OK.
Status verify(const Graph& graph);

}  // namespace kiln::ir
