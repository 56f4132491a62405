// Static type and shape inference for one node: what each op revision says about its outputs'
// element types and (possibly symbolic) shapes, from its inputs' declared types, its attributes
// and whatever input contents are known before running (initializers, Constant nodes, and small
// integer tensors derived from shapes, e.g. Shape -> Gather -> Concat -> Reshape chains in
// transformer exports, whose contents are tracked as symbolic dims).
//
// An op revision registers an InferFn with OpSchema::infer(). Ops without one get the default
// for their fusion kind (elementwise: input 0's shape; broadcast: NumPy broadcasting of all
// inputs; others: unknown shape) and the element type their type constraints imply.
// The graph-level driver is ops/shape_inference.h.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"
#include "kiln/tensor.h"
#include "ops/node_attrs.h"

namespace kiln::ops {

// One element of a small integer tensor's known contents: a concrete integer (of any sign:
// Reshape targets hold -1), the size of a symbolic dim, or unknown.
struct IntValue {
  std::optional<int64_t> value;
  std::string symbol;

  IntValue() = default;
  IntValue(const Dim& d)  // NOLINT: implicit by design, a shape's dims are its values
      : value(d.is_static() ? std::optional<int64_t>(d.value) : std::nullopt), symbol(d.symbol) {}
  static IntValue of(int64_t v) {
    IntValue x;
    x.value = v;
    return x;
  }
  // As a dimension: a known non-negative value, the symbol, or unknown.
  Dim dim() const {
    if (value) return *value >= 0 ? Dim::fixed(*value) : Dim::unknown();
    return symbol.empty() ? Dim::unknown() : Dim::symbolic(symbol);
  }
};
// Known contents of a small integer tensor (rank 0 or 1), one entry per element.
using DimValues = std::vector<IntValue>;

// Facts the graph driver tracks beyond Value::type.
struct InferState {
  std::unordered_map<const ir::Value*, DimValues> values;         // propagated integer contents
  std::unordered_map<const ir::Value*, const Tensor*> constants;  // Constant node outputs
  int64_t fallback_opset = 0;  // for nodes without an opset (graphs built by hand or parsed)
};

class InferContext : public NodeAttrs {
 public:
  InferContext(const ir::Node& node, const OpSchema& schema, const InferState& state);

  size_t num_inputs() const { return node_.inputs().size(); }
  bool has_input(size_t i) const { return node_.input(i) != nullptr; }
  // Declared or inferred type of input i; an unknown type when omitted.
  const ir::ValueType& input_type(size_t i) const;
  DataType input_dtype(size_t i) const { return input_type(i).dtype; }
  const Dims& input_shape(size_t i) const { return input_type(i).shape; }
  // Rank when known.
  std::optional<int64_t> input_rank(size_t i) const;
  // Data of input i when it is an initializer or a Constant node's output.
  const Tensor* input_constant(size_t i) const;
  // Integer contents of input i (rank 0/1 integer constant, or propagated from shapes).
  std::optional<DimValues> input_values(size_t i) const;
  // input_values when every element is static.
  std::optional<std::vector<int64_t>> input_ints(size_t i) const;

  size_t num_outputs() const { return node_.outputs().size(); }
  bool wants_output(size_t i) const { return node_.output(i) != nullptr; }
  // The element type output i has by the schema's type constraints (same variable as an input,
  // or the only type allowed); undefined when that does not determine it.
  DataType default_output_dtype(size_t i) const;

  void set_output(size_t i, DataType dtype, Dims shape);
  // Shape only; the element type follows default_output_dtype().
  void set_output_shape(size_t i, Dims shape) { set_output(i, default_output_dtype(i), shape); }
  void set_output_values(size_t i, DimValues values);

  struct Output {
    bool set = false;
    ir::ValueType type;
    std::optional<DimValues> values;
  };
  const std::vector<Output>& outputs() const { return outputs_; }

 private:
  const InferState& state_;
  std::vector<Output> outputs_;
};

using InferFn = std::function<Status(InferContext&)>;

// ---- helpers for infer functions ------------------------------------------------------------

// NumPy broadcasting over possibly symbolic shapes. Two static sizes that are neither equal nor
// 1 → IncompatibleShapes (K3007) naming both shapes; a symbol against 1 keeps the symbol, two
// different symbols give an unknown dim. Unknown rank anywhere → unknown rank.
Result<Dims> broadcast_dims(const std::vector<Dims>& shapes, const std::string& what);
// Two descriptions of the same dim: the more precise, or nullopt when they contradict.
std::optional<Dim> unify_dim(const Dim& a, const Dim& b);
// Product/sum/quotient of dims where static; unknown otherwise (symbol * 1 keeps the symbol).
Dim dim_mul(const Dim& a, const Dim& b);
Dim dim_add(const Dim& a, const Dim& b);
// Axis in [-rank, rank) → [0, rank); IndexOutOfRange (K3008) otherwise.
Result<int64_t> infer_axis(int64_t axis, int64_t rank, const std::string& what);
// Dims with every entry unknown (unknown rank past 64: ranks can come from file-declared sizes).
Dims unknown_dims(int64_t rank);
// Dims from the propagated contents of a shape tensor (Reshape/Expand targets, …).
Dims dims_from_values(const DimValues& values);
// ONNX Slice arithmetic for one axis of size `dim`: the number of elements taken.
Dim slice_count(const Dim& dim, int64_t start, int64_t end, int64_t step);

// Output 0 has input 0's type and shape (Softmax, normalizations, Trilu, CumSum, …).
Status infer_same_as_input(InferContext& ctx);

}  // namespace kiln::ops
