// Graph edits for passes. The rule that keeps rewrites simple and the model's interface
// intact: a fused node takes over the *output values* of the node it replaces (the root of the
// match), so graph outputs keep their names and consumers need no rewiring.
#pragma once

#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace kiln::passes {

class Editor {
 public:
  Editor(ir::Graph& graph, PassContext& ctx) : g_(graph), ctx_(ctx) {}

  ir::Graph& graph() { return g_; }

  // Replaces `old_nodes` (the match: interior nodes whose outputs nobody else reads, and the
  // root, whose outputs the new node takes over) by one node. The root is the node producing
  // `root_outputs`' values. Origins: the union of the replaced nodes' origins. New standard
  // nodes get `opset` (0 = the model's ai.onnx opset); kiln-domain nodes kKilnOpset.
  ir::Node* replace(const std::vector<ir::Node*>& old_nodes, ir::Node* root, std::string op_type,
                    std::string domain, std::vector<ir::Value*> inputs,
                    std::vector<ir::Attribute> attrs, int64_t opset = 0);

  // A new value in the graph (unique name derived from `base`).
  ir::Value* new_value(std::string_view base, ir::ValueType type);
  // A new initializer holding `t` in this graph.
  ir::Value* new_constant(std::string_view base, Tensor t);
  // A new node producing fresh values (for rewrites that add nodes rather than replace them).
  ir::Node* add_node(std::string op_type, std::string domain, std::vector<ir::Value*> inputs,
                     std::vector<ir::Value*> outputs, std::vector<ir::Attribute> attrs,
                     std::vector<std::string> origins, int64_t opset = 0);

  // Every reader of `from` reads `to` instead (false, nothing changed, when `from` is a graph
  // output: see ir::Graph::replace_all_uses).
  bool redirect(ir::Value* from, ir::Value* to) { return g_.replace_all_uses(from, to); }
  // Removes a node; pointers to it stay valid as keys of removed() for the running sweep.
  void remove(ir::Node* n);
  bool removed(const ir::Node* n) const { return removed_.count(n) != 0; }
  // Removes nodes none of whose outputs is read or is a graph output (repeatedly).
  int64_t remove_unused();
  // Removes this graph's initializers that nothing reads any more (folded or merged away), so
  // engines do not carry them; graph inputs with defaults stay.
  int64_t remove_unused_initializers();

 private:
  int64_t opset_for(const std::string& domain, int64_t opset) const;
  ir::Graph& g_;
  PassContext& ctx_;
  std::unordered_set<const ir::Node*> removed_;
};

// A pass made of pattern rewrites: each node (in order) is offered to the rewrites by
// descending benefit until one applies. A rewrite returns false when it declines after a
// match (its reason goes to ctx.explain).
struct Rewrite {
  std::string name;
  int benefit = 1;
  std::function<bool(ir::Node& root, Editor& edit, PassContext& ctx, std::string* why)> apply;
};

class RewritePass : public Pass {
 public:
  RewritePass(std::string_view name, std::vector<Rewrite> rewrites);
  std::string_view name() const override { return name_; }
  Status run(ir::Graph& graph, PassContext& ctx, bool* changed) override;

 private:
  std::string_view name_;
  std::vector<Rewrite> rewrites_;
};

// Copies `n`'s attributes except those named in `drop`.
std::vector<ir::Attribute> copy_attrs(const ir::Node& n, const std::vector<std::string>& drop = {});
ir::Attribute copy_attr(const ir::Attribute& a);

}  // namespace kiln::passes
