// Reading small integer tensors that exporters compute from shapes — Shape → Gather/Slice →
// Squeeze/Unsqueeze → Concat chains feeding Reshape targets, Slice bounds, a scale computed as
// sqrt(Shape(q)[-1]) — without running anything. Each element resolves to a constant, to
// "dim `axis` of value `of`", or (Slice bounds of causal masks) to the difference of two such.
// Fusions use this to prove a Reshape only splits/merges the last dim or that a mask slice
// starts at key_length - query_length, whether or not constant folding ran before them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ir/graph.h"

namespace kiln::passes {

struct DimTerm {
  bool is_const = true;
  int64_t value = 0;              // is_const
  const ir::Value* of = nullptr;  // !is_const: dim `axis` of `of` (axis in [0, rank))
  int64_t axis = 0;

  static DimTerm constant(int64_t v) { return DimTerm{true, v, nullptr, 0}; }
  static DimTerm dim_of(const ir::Value* of, int64_t axis) { return DimTerm{false, 0, of, axis}; }
  // What the shape system knows about the term's size (static, symbolic or unknown).
  Dim dim() const;
};

// `term - minus` (minus absent: just `term`).
struct DimExpr {
  DimTerm term;
  std::optional<DimTerm> minus;
};

// Element-wise contents of a rank-0/1 integer tensor (at most 16 elements), or nullopt.
std::optional<std::vector<DimExpr>> resolve_ints(const ir::Value* v);
// The single element of a one-element integer tensor.
std::optional<DimExpr> resolve_int(const ir::Value* v);

// `t` is the size of dim `axis` of `v`: literally (same value and axis), or because the shape
// system knows both sizes (static and equal, or the same symbol).
bool same_size(const DimTerm& t, const ir::Value* v, size_t axis);
// Two terms are known to be the same size.
bool same_size(const DimTerm& a, const Dim& b);

// The value of a one-element tensor computed from constants and static dims
// (Pow(Cast(Shape(x)[-1]), 0.5), Sqrt(8.0), ConstantOfShape([]) + c, …), or nullopt.
std::optional<double> evaluate_scalar(const ir::Value* v);

}  // namespace kiln::passes
