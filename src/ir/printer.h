// Text form of the IR, for --dump-ir, golden tests and debugging.
//
//   graph main (%x: float32[batch,3]) -> (%y: float32[batch,3]) {
//     init %w: float32[3,3]
//     %y = Relu(%x) #0 "relu_0"
//     %z = If(%c) {then_branch=graph then_branch (...) { ... }} #1
//   }
#pragma once

#include <string>

#include "ir/graph.h"

namespace kiln::ir {

std::string print(const Graph& graph);
std::string print(const Model& model);

}  // namespace kiln::ir
