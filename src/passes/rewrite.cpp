#include "passes/rewrite.h"

#include <algorithm>

#include "core/errors.h"
#include "ops/op_schema.h"

namespace kiln::passes {

int64_t Editor::opset_for(const std::string& domain, int64_t opset) const {
  if (domain == ops::kKilnDomain) return ops::kKilnOpset;
  if (opset > 0) return opset;
  return ctx_.opset();
}

ir::Node* Editor::replace(const std::vector<ir::Node*>& old_nodes, ir::Node* root,
                          std::string op_type, std::string domain, std::vector<ir::Value*> inputs,
                          std::vector<ir::Attribute> attrs, int64_t opset) {
  std::vector<std::string> origins;
  for (const ir::Node* n : old_nodes)
    for (std::string& o : n->origins())
      if (std::find(origins.begin(), origins.end(), o) == origins.end())
        origins.push_back(std::move(o));
  const std::vector<ir::Value*> outputs = root->outputs();
  const std::string name = root->name();
  const int64_t index = root->index();
  for (ir::Node* n : old_nodes) remove(n);
  if (std::find(old_nodes.begin(), old_nodes.end(), root) == old_nodes.end()) remove(root);
  ir::Node* fused = g_.add_node(std::move(op_type), domain, name, std::move(inputs), outputs,
                                std::move(attrs), opset_for(domain, opset), index);
  fused->set_origins(std::move(origins));
  // A removed node's memory may be reused for this one: it is live, whatever removed_ says.
  removed_.erase(fused);
  if (domain == ops::kKilnDomain) ctx_.model().opsets[std::string(ops::kKilnDomain)] = ops::kKilnOpset;
  return fused;
}

ir::Value* Editor::new_value(std::string_view base, ir::ValueType type) {
  Result<ir::Value*> v = g_.add_value(g_.unique_name(base), std::move(type));
  return v.value();  // unique_name makes a duplicate impossible
}

ir::Value* Editor::new_constant(std::string_view base, Tensor t) {
  return g_.add_initializer(g_.unique_name(base), std::move(t)).value();
}

ir::Node* Editor::add_node(std::string op_type, std::string domain, std::vector<ir::Value*> inputs,
                           std::vector<ir::Value*> outputs, std::vector<ir::Attribute> attrs,
                           std::vector<std::string> origins, int64_t opset) {
  std::string name = origins.empty() ? op_type : origins.front();
  ir::Node* n = g_.add_node(std::move(op_type), domain, std::move(name), std::move(inputs),
                            std::move(outputs), std::move(attrs), opset_for(domain, opset));
  n->set_origins(std::move(origins));
  removed_.erase(n);
  if (domain == ops::kKilnDomain) ctx_.model().opsets[std::string(ops::kKilnDomain)] = ops::kKilnOpset;
  return n;
}

void Editor::remove(ir::Node* n) {
  if (removed_.count(n)) return;
  removed_.insert(n);
  g_.remove_node(n);
}

int64_t Editor::remove_unused() {
  int64_t count = 0;
  for (bool again = true; again;) {
    again = false;
    for (ir::Node* n : g_.nodes()) {
      bool used = false;
      for (const ir::Value* v : n->outputs())
        if (v != nullptr && (!v->consumers().empty() || v->is_graph_output())) used = true;
      if (used) continue;
      remove(n);
      ++count;
      again = true;
    }
  }
  return count;
}

int64_t Editor::remove_unused_initializers() {
  int64_t count = 0;
  const std::vector<ir::Value*> inits = g_.initializers();
  for (ir::Value* v : inits) count += g_.remove_unused_initializer(v) ? 1 : 0;
  return count;
}

RewritePass::RewritePass(std::string_view name, std::vector<Rewrite> rewrites)
    : name_(name), rewrites_(std::move(rewrites)) {
  std::stable_sort(rewrites_.begin(), rewrites_.end(),
                   [](const Rewrite& a, const Rewrite& b) { return a.benefit > b.benefit; });
}

Status RewritePass::run(ir::Graph& graph, PassContext& ctx, bool* changed) {
  Editor edit(graph, ctx);
  for (ir::Node* n : graph.nodes()) {
    if (edit.removed(n)) continue;
    for (const Rewrite& r : rewrites_) {
      std::string why;
      if (r.apply(*n, edit, ctx, &why)) {
        ctx.count(r.name);
        *changed = true;
        break;
      }
      if (!why.empty()) ctx.explain(*n, r.name + ": " + why);
    }
  }
  return Status::Ok();
}

ir::Attribute copy_attr(const ir::Attribute& a) {
  ir::Attribute c;
  c.name = a.name;
  c.type = a.type;
  c.f = a.f;
  c.i = a.i;
  c.s = a.s;
  c.t = a.t;  // tensors share storage (immutable once imported)
  c.floats = a.floats;
  c.ints = a.ints;
  c.strings = a.strings;
  c.tensors = a.tensors;
  // Graph attributes are never copied by passes (a graph has one owner); callers move them.
  return c;
}

std::vector<ir::Attribute> copy_attrs(const ir::Node& n, const std::vector<std::string>& drop) {
  std::vector<ir::Attribute> out;
  for (const ir::Attribute& a : n.attributes())
    if (std::find(drop.begin(), drop.end(), a.name) == drop.end() &&
        a.type != ir::AttrType::kGraph && a.type != ir::AttrType::kGraphs)
      out.push_back(copy_attr(a));
  return out;
}

}  // namespace kiln::passes
