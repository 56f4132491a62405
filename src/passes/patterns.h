// Declarative patterns for rewrites: what to look for is data, checked by one matcher; the
// guards passes share (single consumer, constant, dtype, broadcastable, attribute equals) are
// written once here instead of being copy-pasted into every fusion.
//
//   // Relu(Conv(x, w, b?)) where the conv output feeds only the Relu
//   Pattern p = op("Relu", {op("Conv", {any("x"), constant("w"), optional("b")})
//                               .bind("conv").single_use()}).bind("relu");
//   Match m;
//   std::string why;
//   if (match(p, node->output(0), m, &why)) … m.node("conv"), m.value("w") …
//
// Matching never changes the graph. On failure `why` names the first condition that failed
// ("input 1 of Conv 'c1': not a constant"), which passes report with ctx.explain().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/tensor.h"

namespace kiln::passes {

struct Pattern;

struct Match {
  std::map<std::string, ir::Value*> values;
  std::map<std::string, ir::Node*> nodes;
  ir::Value* value(const std::string& name) const;  // nullptr when not bound (optional absent)
  ir::Node* node(const std::string& name) const;
};

using ValueGuard = std::function<bool(const ir::Value&)>;
using NodeGuard = std::function<bool(const ir::Node&)>;

// Rules are data: the fields are public so a pattern can be read like a table; build them with
// op() / any() / constant() / optional() and the chained modifiers.
struct Pattern {
  enum class Kind { kAny, kConstant, kOptional, kOp };

  Kind kind = Kind::kAny;
  std::vector<std::string> op_types;  // kOp: accepted op types
  std::string op_domain;              // kOp: "" = ai.onnx
  std::vector<Pattern> operands;      // kOp: patterns for the first inputs
  std::string bound;                  // capture name ("" = none)
  bool only_one_use = false;
  bool either_order = false;          // kOp with two operands: try both orders
  std::vector<std::pair<std::string, ValueGuard>> value_guards;
  std::vector<std::pair<std::string, NodeGuard>> node_guards;

  Pattern& domain(std::string d);
  // Also accept this op type (e.g. Div or Mul).
  Pattern& or_op(std::string op_type);
  // Captures the value under `name` (and, for op patterns, its producer node).
  Pattern& bind(std::string name);
  // Read by exactly one node input and not a graph output: fusing its producer away loses
  // nothing.
  Pattern& single_use();
  Pattern& where(std::string what, ValueGuard guard);
  Pattern& where_node(std::string what, NodeGuard guard);  // op patterns: on the producer
  Pattern& attr_equals(std::string attr, int64_t value);    // op patterns
  Pattern& commutative();
};

// The value is produced by a node of `op_type` (ai.onnx unless domain() is set) whose first
// operands.size() inputs match `operands` (further inputs are unconstrained).
inline Pattern op(std::string op_type, std::vector<Pattern> operands = {}) {
  Pattern p;
  p.kind = Pattern::Kind::kOp;
  p.op_types.push_back(std::move(op_type));
  p.operands = std::move(operands);
  return p;
}
// Any present value.
inline Pattern any(std::string bind_as = "") {
  Pattern p;
  p.kind = Pattern::Kind::kAny;
  p.bound = std::move(bind_as);
  return p;
}
// An initializer or Constant output.
inline Pattern constant(std::string bind_as = "") {
  Pattern p;
  p.kind = Pattern::Kind::kConstant;
  p.bound = std::move(bind_as);
  return p;
}
// An omitted optional input, or any value.
inline Pattern optional(std::string bind_as = "") {
  Pattern p;
  p.kind = Pattern::Kind::kOptional;
  p.bound = std::move(bind_as);
  return p;
}

// Matches `p` against value `v` (a node output, typically the root node's output 0). On
// success `m` holds the bindings; on failure `why` (if given) says what did not hold.
bool match(const Pattern& p, ir::Value* v, Match& m, std::string* why = nullptr);

// ---- shared guards and facts ------------------------------------------------------------------

// An initializer, or the output of a Constant node with a tensor `value`: its data; else nullptr.
const Tensor* constant_value(const ir::Value* v);
bool is_constant(const ir::Value* v);
// Read by exactly one node input, and not an output of any graph.
bool single_consumer(const ir::Value* v);
bool same_dtype(const ir::Value* a, const ir::Value* b);
// `v`'s static shape broadcasts to `shape` (unidirectionally).
bool broadcastable_to(const ir::Value* v, const Dims& shape);
// Static shape of a value, if every dim is known.
std::optional<std::vector<int64_t>> static_shape(const ir::Value* v);
// A scalar constant (any numeric dtype, one element) as double.
std::optional<double> scalar_constant(const ir::Value* v);
// The attribute as int/float/ints, or `fallback` when absent.
int64_t attr_int(const ir::Node& n, std::string_view name, int64_t fallback);
float attr_float(const ir::Node& n, std::string_view name, float fallback);
std::vector<int64_t> attr_ints(const ir::Node& n, std::string_view name,
                               std::vector<int64_t> fallback = {});

}  // namespace kiln::passes
