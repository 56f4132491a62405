// LayerNorm as exporters decompose it below opset 17 (torch, transformers: MiniLM, GPT-2):
//
//   d = x - ReduceMean(x, axes)            axes: the trailing dims, as attribute or input
//   n = d / Sqrt(ReduceMean(d^2, axes) + eps)     d^2 as Pow(d, 2) or Mul(d, d);
//                                                  / as Div, or Mul by Reciprocal
//   y = n * gamma (+ beta)
//
// → ai.onnx LayerNormalization(x, gamma, beta?) {axis, epsilon} at opset 17 (the node carries
// its own opset; the model may import an older one). Candidates are visited from the end of
// the graph so the largest match (with beta) is found before its Mul.
#include <algorithm>

#include "core/errors.h"
#include "ops/kernel_util.h"
#include "passes/fusion_util.h"
#include "passes/patterns.h"
#include "passes/rewrite.h"

namespace kiln::passes {
namespace {

Pattern normalized(bool square_by_pow, bool reciprocal) {
  Pattern mean = op("ReduceMean", {any("x")}).bind("mean");
  Pattern d = op("Sub", {any("x"), mean}).bind("d");
  Pattern square = square_by_pow ? op("Pow", {any("d"), constant("p")}).bind("square")
                                 : op("Mul", {any("d"), any("d")}).bind("square");
  Pattern var = op("ReduceMean", {square}).bind("var");
  Pattern std_dev =
      op("Sqrt", {op("Add", {var, constant("eps")}).commutative().bind("plus_eps")}).bind("std");
  if (reciprocal)
    return op("Mul", {d, op("Reciprocal", {std_dev}).bind("recip")}).commutative().bind("n");
  return op("Div", {d, std_dev}).bind("n");
}

// The reduced axes as [axis, rank) (normalized when the rank is known, else negative), or
// nullopt when they are not the trailing dims or keepdims is off.
std::optional<int64_t> trailing_axis(const ir::Node& reduce, const Dims& x) {
  if (attr_int(reduce, "keepdims", 1) != 1) return std::nullopt;
  std::vector<int64_t> axes;
  if (reduce.input(1) != nullptr) {
    const Tensor* t = constant_value(reduce.input(1));
    if (t == nullptr) return std::nullopt;
    Result<std::vector<int64_t>> v = ops::read_int_values(*t, "axes");
    if (!v.ok()) return std::nullopt;
    axes = *v;
  } else {
    axes = attr_ints(reduce, "axes");
  }
  if (axes.empty()) return std::nullopt;  // all dims (or none, noop_with_empty_axes)
  const int64_t rank = x.rank_known() ? static_cast<int64_t>(x.rank()) : 0;
  for (int64_t& a : axes) {
    if (a >= 0 && !x.rank_known()) return std::nullopt;
    if (x.rank_known()) a = a < 0 ? a + rank : a;
  }
  std::sort(axes.begin(), axes.end());
  const int64_t last = x.rank_known() ? rank - 1 : -1;
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[axes.size() - 1 - i] != last - static_cast<int64_t>(i)) return std::nullopt;
  if (x.rank_known() && axes.front() < 0) return std::nullopt;
  return axes.front();
}

// gamma/beta broadcast into the normalized dims [axis, rank) without touching the others.
bool fits_normalized(const ir::Value* param, const Dims& x, int64_t axis) {
  if (param == nullptr) return true;
  const std::optional<std::vector<int64_t>> s = static_shape(param);
  if (!s || !x.rank_known()) return false;
  const int64_t rank = static_cast<int64_t>(x.rank());
  const int64_t first = axis < 0 ? axis + rank : axis;
  if (static_cast<int64_t>(s->size()) > rank - first) return false;
  const size_t off = x.rank() - s->size();
  for (size_t i = 0; i < s->size(); ++i)
    if ((*s)[i] != 1 && !(x[off + i].is_static() && x[off + i].value == (*s)[i])) return false;
  return true;
}

bool try_fuse(ir::Node& root, Editor& edit, PassContext& ctx, std::string* why) {
  if (!root.domain().empty() || (root.op_type() != "Add" && root.op_type() != "Mul")) return false;
  Match m;
  bool found = false;
  for (int variant = 0; variant < 4 && !found; ++variant) {
    Pattern n = normalized(variant % 2 == 0, variant >= 2);
    Pattern scaled = op("Mul", {n, any("gamma")}).commutative().bind("scaled");
    Pattern p = root.op_type() == "Add" ? op("Add", {scaled, any("beta")}).commutative() : scaled;
    m = Match{};
    found = match(p, root.output(0), m);
  }
  if (!found) return false;
  ir::Value* x = m.value("x");
  const Dims& shape = x->type.shape;
  if (!fusable_float(x)) {
    *why = str("element type ", data_type_name(x->type.dtype), " (fused: float32/16, bfloat16)");
    return false;
  }
  if (m.node("square")->op_type() == "Pow" && scalar_constant(m.value("p")) != 2.0) {
    *why = "the variance squares with an exponent other than 2";
    return false;
  }
  const std::optional<int64_t> axis = trailing_axis(*m.node("mean"), shape);
  if (!axis || trailing_axis(*m.node("var"), shape) != axis) {
    *why = "the means are not over the same trailing axes with keepdims";
    return false;
  }
  const std::optional<double> eps = scalar_constant(m.value("eps"));
  if (!eps || *eps < 0) {
    *why = "epsilon is not a non-negative scalar constant";
    return false;
  }
  ir::Value* gamma = m.value("gamma");
  ir::Value* beta = m.value("beta");
  if (!fits_normalized(gamma, shape, *axis) || !fits_normalized(beta, shape, *axis)) {
    *why = "gamma/beta do not broadcast within the normalized dims";
    return false;
  }
  // Constants of a higher rank would broadcast the result beyond x's shape.
  if (!shape.rank_known() || root.output(0)->type.shape != shape) {
    *why = "the result's shape is not x's (or is unknown)";
    return false;
  }
  std::vector<ir::Node*> matched = {m.node("mean"), m.node("d"),        m.node("square"),
                                    m.node("var"),  m.node("plus_eps"), m.node("std"),
                                    m.node("n"),    m.node("scaled"),   &root};
  if (ir::Node* r = m.node("recip")) matched.push_back(r);
  std::vector<ir::Attribute> attrs;
  attrs.push_back(ir::Attribute::make_int("axis", *axis));
  attrs.push_back(ir::Attribute::make_float("epsilon", static_cast<float>(*eps)));
  return fuse_block(edit, root, matched, "LayerNormalization", "", {x, gamma, beta},
                    std::move(attrs), 17, why) != nullptr;
}

class LayerNormFusion final : public Pass {
 public:
  std::string_view name() const override { return "layer_norm_fusion"; }
  Status run(ir::Graph& graph, PassContext& ctx, bool* changed) override {
    Editor edit(graph, ctx);
    const std::vector<ir::Node*> nodes = graph.nodes();
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
      if (edit.removed(*it)) continue;
      std::string why;
      if (try_fuse(**it, edit, ctx, &why)) {
        ctx.count("LayerNormalization");
        *changed = true;
      } else if (!why.empty()) {
        ctx.explain(**it, why);
      }
    }
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Pass> make_layer_norm_fusion() {
  return std::make_unique<LayerNormFusion>();
}

}  // namespace kiln::passes
