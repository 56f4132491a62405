#include "passes/patterns.h"

#include <algorithm>

#include "core/errors.h"
#include "ops/kernel_util.h"

namespace kiln::passes {

ir::Value* Match::value(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : it->second;
}

ir::Node* Match::node(const std::string& name) const {
  auto it = nodes.find(name);
  return it == nodes.end() ? nullptr : it->second;
}

Pattern& Pattern::domain(std::string d) {
  op_domain = std::move(d);
  return *this;
}
Pattern& Pattern::or_op(std::string op_type) {
  op_types.push_back(std::move(op_type));
  return *this;
}
Pattern& Pattern::bind(std::string name) {
  bound = std::move(name);
  return *this;
}
Pattern& Pattern::single_use() {
  only_one_use = true;
  return *this;
}
Pattern& Pattern::where(std::string what, ValueGuard guard) {
  value_guards.emplace_back(std::move(what), std::move(guard));
  return *this;
}
Pattern& Pattern::where_node(std::string what, NodeGuard guard) {
  node_guards.emplace_back(std::move(what), std::move(guard));
  return *this;
}
Pattern& Pattern::attr_equals(std::string attr, int64_t value) {
  return where_node(str(attr, " == ", value), [attr, value](const ir::Node& n) {
    const ir::Attribute* a = n.attr(attr);
    return a != nullptr && a->type == ir::AttrType::kInt && a->i == value;
  });
}
Pattern& Pattern::commutative() {
  either_order = true;
  return *this;
}

namespace {

std::string describe(const ir::Value* v) {
  if (v == nullptr) return "(omitted)";
  if (const ir::Node* p = v->producer()) return str(p->op_type(), " '", p->name(), "'");
  return str("'", v->name(), "'");
}

bool fail(std::string* why, std::string message) {
  if (why != nullptr && why->empty()) *why = std::move(message);
  return false;
}

bool bind_value(const std::string& name, ir::Value* v, Match& m, std::string* why) {
  if (name.empty()) return true;
  auto it = m.values.find(name);
  // The same name bound twice must be the same value (e.g. x - mean(x)).
  if (it != m.values.end() && it->second != v)
    return fail(why, str("'", name, "' would bind two different values"));
  m.values[name] = v;
  return true;
}

bool match_operands(const Pattern& p, const ir::Node& n, const std::vector<size_t>& order, Match& m,
                    std::string* why) {
  for (size_t i = 0; i < p.operands.size(); ++i) {
    ir::Value* in = n.input(order[i]);
    Match trial = m;
    std::string inner;
    if (!match(p.operands[i], in, trial, &inner))
      return fail(why, str("input ", order[i], " of ", describe(n.output(0)), ": ", inner));
    m = std::move(trial);
  }
  return true;
}

}  // namespace

bool match(const Pattern& p, ir::Value* v, Match& m, std::string* why) {
  if (p.kind == Pattern::Kind::kOptional) {
    if (v == nullptr) return true;
    return bind_value(p.bound, v, m, why);
  }
  if (v == nullptr) return fail(why, "input is omitted");
  for (const auto& [what, guard] : p.value_guards)
    if (!guard(*v)) return fail(why, str(describe(v), ": not ", what));
  if (p.only_one_use && !single_consumer(v))
    return fail(why, str(describe(v), " has other readers (or is a graph output)"));
  if (p.kind == Pattern::Kind::kConstant && !is_constant(v))
    return fail(why, str(describe(v), " is not a constant"));
  if (p.kind == Pattern::Kind::kOp) {
    const ir::Node* n = v->producer();
    if (n == nullptr) return fail(why, str(describe(v), " is not computed by a node"));
    if (n->domain() != p.op_domain ||
        std::find(p.op_types.begin(), p.op_types.end(), n->op_type()) == p.op_types.end())
      return fail(why, str(describe(v), " is not ", p.op_types.empty() ? "?" : p.op_types[0]));
    // Only output 0 of a multi-output node stands for the node.
    if (n->output(0) != v) return fail(why, str(describe(v), ": not the node's first output"));
    for (const auto& [what, guard] : p.node_guards)
      if (!guard(*n)) return fail(why, str(describe(v), ": not ", what));
    std::vector<size_t> order(p.operands.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    Match trial = m;
    std::string first;
    bool ok = match_operands(p, *n, order, trial, &first);
    if (!ok && p.either_order && order.size() == 2) {
      std::swap(order[0], order[1]);
      trial = m;
      std::string second;
      ok = match_operands(p, *n, order, trial, &second);
    }
    if (!ok) return fail(why, first);
    m = std::move(trial);
    if (!p.bound.empty()) m.nodes[p.bound] = const_cast<ir::Node*>(n);
  }
  return bind_value(p.bound, v, m, why);
}

const Tensor* constant_value(const ir::Value* v) {
  if (v == nullptr) return nullptr;
  if (v->is_initializer() && !v->is_graph_input()) return v->initializer();
  const ir::Node* n = v->producer();
  if (n == nullptr || n->op_type() != "Constant" || !n->domain().empty()) return nullptr;
  const ir::Attribute* a = n->attr("value");
  return a != nullptr && a->type == ir::AttrType::kTensor ? &a->t : nullptr;
}

bool is_constant(const ir::Value* v) { return constant_value(v) != nullptr; }

bool single_consumer(const ir::Value* v) {
  return v != nullptr && v->consumers().size() == 1 && !v->is_graph_output();
}

bool same_dtype(const ir::Value* a, const ir::Value* b) {
  return a != nullptr && b != nullptr && a->type.known() && a->type.dtype == b->type.dtype;
}

std::optional<std::vector<int64_t>> static_shape(const ir::Value* v) {
  if (v == nullptr) return std::nullopt;
  if (const Tensor* t = constant_value(v)) return t->shape();
  const Dims& d = v->type.shape;
  if (!d.rank_known()) return std::nullopt;
  std::vector<int64_t> out;
  for (size_t i = 0; i < d.rank(); ++i) {
    if (!d[i].is_static()) return std::nullopt;
    out.push_back(d[i].value);
  }
  return out;
}

bool broadcastable_to(const ir::Value* v, const Dims& shape) {
  const std::optional<std::vector<int64_t>> s = static_shape(v);
  if (!s || !shape.rank_known() || s->size() > shape.rank()) return false;
  const size_t off = shape.rank() - s->size();
  for (size_t i = 0; i < s->size(); ++i) {
    const int64_t a = (*s)[i];
    if (a == 1) continue;
    if (!shape[off + i].is_static() || shape[off + i].value != a) return false;
  }
  return true;
}

std::optional<double> scalar_constant(const ir::Value* v) {
  const Tensor* t = constant_value(v);
  if (t == nullptr || t->numel() != 1 || t->dtype() == DataType::kString) return std::nullopt;
  double out = 0;
  Status s = ops::dispatch_numeric(t->dtype(), "scalar", [&]<typename T>() -> Status {
    out = static_cast<double>(static_cast<ops::compute_t<T>>(t->data_as<T>()[0]));
    return Status::Ok();
  });
  if (!s.ok()) return std::nullopt;
  return out;
}

int64_t attr_int(const ir::Node& n, std::string_view name, int64_t fallback) {
  const ir::Attribute* a = n.attr(name);
  return a != nullptr && a->type == ir::AttrType::kInt ? a->i : fallback;
}

float attr_float(const ir::Node& n, std::string_view name, float fallback) {
  const ir::Attribute* a = n.attr(name);
  return a != nullptr && a->type == ir::AttrType::kFloat ? a->f : fallback;
}

std::vector<int64_t> attr_ints(const ir::Node& n, std::string_view name,
                               std::vector<int64_t> fallback) {
  const ir::Attribute* a = n.attr(name);
  return a != nullptr && a->type == ir::AttrType::kInts ? a->ints : fallback;
}

}  // namespace kiln::passes
