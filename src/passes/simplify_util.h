// Small facts the simplification passes (constant folding, reshape/transpose/pad rewrites)
// read off nodes: the revision a node is judged at, integer constants, axes that moved from
// attributes to inputs between opsets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "ops/op_schema.h"
#include "passes/pass.h"

namespace kiln::passes {

// The node's opset, or the model's for nodes that carry none (graphs built by passes or tests).
int64_t opset_of(const ir::Node& n, const PassContext& ctx);
// The op revision that applies to the node (nullptr when unknown).
const ops::OpSchema* schema_of(const ir::Node& n, const PassContext& ctx);

// The contents of an int64/int32 constant of rank 0 or 1 (initializer or Constant output).
std::optional<std::vector<int64_t>> constant_ints(const ir::Value* v);

// Axes of Squeeze/Unsqueeze: the `axes` attribute before opset 13, the constant input 1 from 13.
struct Axes {
  bool known = false;    // false: an input that is not a constant
  bool present = false;  // false: omitted (Squeeze: every size-1 dim)
  std::vector<int64_t> values;
};
Axes squeeze_axes(const ir::Node& n, const PassContext& ctx);

// One-line exits for rewrites that decline: record the reason, return "no".
inline std::nullopt_t none_because(std::string* why, std::string reason) {
  *why = std::move(reason);
  return std::nullopt;
}
inline bool no_because(std::string* why, std::string reason) {
  *why = std::move(reason);
  return false;
}

// A tensor's dims as a string "[1,3,224,224]" for explanations.
std::string dims_text(const std::vector<int64_t>& dims);

}  // namespace kiln::passes
