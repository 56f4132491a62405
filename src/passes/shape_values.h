// What the elements of a small integer tensor computed from shapes are, without running the
// graph: each element is a known integer or "dim k of value V". Exporters compute Reshape
// targets as Shape(x) → Gather/Slice → Unsqueeze → Concat (BERT's [B, S, 12, 64]); knowing that
// an element is dim i of the Reshape's own input lets constant folding write 0 ("copy dim i")
// there and drop the whole chain.
//
// Unlike ops::infer_shapes' DimValues (which name dims by the model's symbols), an element here
// names the exact value and axis it was read from, so equalities drawn from it need no
// assumption that inputs sharing a symbol have the same size.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace kiln::passes {

struct ShapeElement {
  std::optional<int64_t> value;   // a known integer
  const ir::Value* of = nullptr;  // else: dim `axis` of `of`
  int64_t axis = -1;
};

struct ShapeContents {
  bool scalar = false;  // rank 0 (else rank 1)
  std::vector<ShapeElement> elements;
  // Every element is a known integer.
  bool known() const;
  std::vector<int64_t> values() const;  // the known integers (known() only)
};

// Evaluates values through Shape, Size (static), Gather, Slice, Squeeze, Unsqueeze, Concat,
// Cast and Identity on rank-0/1 integer tensors, starting from integer constants and Shape of
// values whose rank is known. Results are memoized per tracker (one pass run: the graph may change
// between runs).
class ShapeTracker {
 public:
  explicit ShapeTracker(const PassContext& ctx) : ctx_(ctx) {}
  const std::optional<ShapeContents>& eval(const ir::Value* v);

 private:
  std::optional<ShapeContents> compute(const ir::Value* v);
  const PassContext& ctx_;
  std::unordered_map<const ir::Value*, std::optional<ShapeContents>> memo_;
  int depth_ = 0;
};

}  // namespace kiln::passes
