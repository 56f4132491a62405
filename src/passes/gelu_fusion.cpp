// Gelu as exporters spell it out, in any order of the products and either operand order:
//
//   erf:  x * 0.5 * (1 + Erf(x / sqrt(2)))                  (or Erf(x * 1/sqrt(2)))
//   tanh: x * 0.5 * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))   (x^3 as Pow(x, 3) or x*x*x)
//
// → ai.onnx Gelu (opset 20; approximate = "none" / "tanh"; the node carries its own opset).
// The outer product is read as a list of factors (x, 0.5, 1 + F) however the Muls nest, so
// "0.5 first" (GPT-2's NewGELU), "0.5 last" (BERT) and "0.5 * (1 + F)" all match. Constants
// match within 1e-4 relative (or their type's rounding).
#include <cmath>
#include <numbers>

#include "core/errors.h"
#include "passes/fusion_util.h"
#include "passes/patterns.h"
#include "passes/rewrite.h"

namespace kiln::passes {
namespace {

bool is_op(const ir::Value* v, std::string_view op_type) {
  return producer_of(v, op_type) != nullptr;
}

// The factors of a product: Mul operands, recursing into Muls whose result only this product
// reads (at most `limit` factors).
void factors(ir::Value* v, bool top, std::vector<ir::Value*>& out, std::vector<ir::Node*>& muls,
             size_t limit) {
  if (out.size() > limit) return;
  if (is_op(v, "Mul") && (top || single_consumer(v))) {
    muls.push_back(v->producer());
    for (ir::Value* in : v->producer()->inputs()) factors(in, false, out, muls, limit);
    return;
  }
  out.push_back(v);
}

// The other operand of binary `n` when one operand is a constant near `want`.
ir::Value* other_than_constant(const ir::Node& n, double want) {
  if (n.inputs().size() != 2) return nullptr;
  if (constant_near(n.input(1), want)) return n.input(0);
  if (constant_near(n.input(0), want)) return n.input(1);
  return nullptr;
}

// x^3: Pow(x, 3), Mul(Mul(x, x), x) or Mul(x, Mul(x, x)).
bool is_cube_of(ir::Value* v, const ir::Value* x, std::vector<ir::Node*>& nodes) {
  if (is_op(v, "Pow")) {
    ir::Node* p = v->producer();
    if (p->input(0) != x || scalar_constant(p->input(1)) != 3.0) return false;
    nodes.push_back(p);
    return true;
  }
  std::vector<ir::Value*> f;
  std::vector<ir::Node*> muls;
  factors(v, true, f, muls, 3);
  if (f.size() != 3 || f[0] != x || f[1] != x || f[2] != x) return false;
  nodes.insert(nodes.end(), muls.begin(), muls.end());
  return true;
}

// Erf(x / sqrt 2) or Erf(x * (1/sqrt 2)).
bool is_erf_term(ir::Value* arg, const ir::Value* x, std::vector<ir::Node*>& nodes) {
  ir::Node* p = arg->producer();
  if (is_op(arg, "Div") && p->input(0) == x && constant_near(p->input(1), std::numbers::sqrt2)) {
    nodes.push_back(p);
    return true;
  }
  if (is_op(arg, "Mul") && other_than_constant(*p, 1 / std::numbers::sqrt2) == x) {
    nodes.push_back(p);
    return true;
  }
  return false;
}

// Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)).
bool is_tanh_term(ir::Value* arg, const ir::Value* x, std::vector<ir::Node*>& nodes) {
  if (!is_op(arg, "Mul")) return false;
  ir::Node* scale = arg->producer();
  ir::Value* inner = other_than_constant(*scale, std::sqrt(2 / std::numbers::pi));
  if (inner == nullptr || !is_op(inner, "Add")) return false;
  ir::Node* sum = inner->producer();
  for (int order = 0; order < 2; ++order) {
    ir::Value* cubic = sum->input(order == 0 ? 1 : 0);
    if (sum->input(order) != x || !is_op(cubic, "Mul")) continue;
    ir::Value* cube = other_than_constant(*cubic->producer(), 0.044715);
    std::vector<ir::Node*> found;
    if (cube == nullptr || !is_cube_of(cube, x, found)) continue;
    nodes.insert(nodes.end(), {scale, sum, cubic->producer()});
    nodes.insert(nodes.end(), found.begin(), found.end());
    return true;
  }
  return false;
}

bool try_fuse(ir::Node& root, Editor& edit, std::string* kind, std::string* why) {
  if (!root.domain().empty() || root.op_type() != "Mul") return false;
  std::vector<ir::Value*> f;
  std::vector<ir::Node*> matched;
  factors(root.output(0), true, f, matched, 3);
  if (f.size() != 3) return false;
  // Which factor is 0.5, which is 1 + F(…), which is x.
  for (int half = 0; half < 3; ++half) {
    if (!constant_near(f[half], 0.5)) continue;
    for (int plus = 0; plus < 3; ++plus) {
      if (plus == half || !is_op(f[plus], "Add")) continue;
      ir::Value* x = f[3 - half - plus];
      ir::Node* add = f[plus]->producer();
      ir::Value* term = other_than_constant(*add, 1.0);
      if (term == nullptr) continue;
      std::vector<ir::Node*> nodes = matched;
      nodes.push_back(add);
      std::string approximate;
      if (is_op(term, "Erf") && is_erf_term(term->producer()->input(0), x, nodes)) {
        approximate = "none";
      } else if (is_op(term, "Tanh") && is_tanh_term(term->producer()->input(0), x, nodes)) {
        approximate = "tanh";
      } else {
        continue;
      }
      nodes.push_back(term->producer());
      if (!fusable_float(x)) {
        *why =
            str("element type ", data_type_name(x->type.dtype), " (fused: float32/16, bfloat16)");
        return false;
      }
      if (!x->type.shape.rank_known() || root.output(0)->type.shape != x->type.shape) {
        *why = "the result's shape is not x's (or is unknown)";
        return false;
      }
      *kind = approximate == "tanh" ? "Gelu(tanh)" : "Gelu";
      std::vector<ir::Attribute> attrs;
      attrs.push_back(ir::Attribute::make_string("approximate", approximate));
      return fuse_block(edit, root, nodes, "Gelu", "", {x}, std::move(attrs), 20, why) != nullptr;
    }
  }
  return false;
}

class GeluFusion final : public Pass {
 public:
  std::string_view name() const override { return "gelu_fusion"; }
  Status run(ir::Graph& graph, PassContext& ctx, bool* changed) override {
    Editor edit(graph, ctx);
    const std::vector<ir::Node*> nodes = graph.nodes();
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
      if (edit.removed(*it)) continue;
      std::string kind, why;
      if (try_fuse(**it, edit, &kind, &why)) {
        ctx.count(kind);
        *changed = true;
      } else if (!why.empty()) {
        ctx.explain(**it, why);
      }
    }
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Pass> make_gelu_fusion() {
  return std::make_unique<GeluFusion>();
}

}  // namespace kiln::passes
