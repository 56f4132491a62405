#include "ir/verifier.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/errors.h"

namespace kiln::ir {
namespace {

bool in_scope(const Value* v, const Graph* g) {
  for (const Graph* s = g; s != nullptr; s = s->parent())
    if (v->graph() == s) return true;
  return false;
}

bool is_defined(const Value* v) {
  return v->producer() != nullptr || v->is_graph_input() || v->is_initializer();
}

void verify_graph(const Graph& graph, std::vector<Status>& problems) {
  std::unordered_map<const Node*, size_t> position;
  const std::vector<Node*> nodes = graph.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) position[nodes[i]] = i;

  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node* n = nodes[i];
    for (size_t slot = 0; slot < n->inputs().size(); ++slot) {
      const Value* v = n->inputs()[slot];
      if (v == nullptr) continue;
      if (!in_scope(v, &graph) || !is_defined(v)) {
        problems.push_back(err(Code::kUndefinedValue, "input ", slot, " '", v->name(),
                               "' of node is not defined in scope")
                               .with_node(n->ref()));
        continue;
      }
      const Node* p = v->producer();
      if (p != nullptr && p->graph() == &graph) {
        auto it = position.find(p);
        if (it == position.end()) {
          problems.push_back(err(Code::kUndefinedValue, "input '", v->name(),
                                 "' is produced by a node that is no longer in the graph")
                                 .with_node(n->ref()));
        } else if (it->second >= i) {
          problems.push_back(err(Code::kGraphCycle, "input '", v->name(), "' is produced by node #",
                                 p->index(), " '", p->name(),
                                 "' which does not come earlier (graph not topologically sorted "
                                 "or cyclic)")
                                 .with_node(n->ref()));
        }
      }
    }
    // Values captured by subgraphs must also be produced earlier in this graph.
    for (const Value* v : n->dependencies()) {
      const Node* p = v->producer();
      if (p == nullptr || p->graph() != &graph) continue;
      if (std::find(n->inputs().begin(), n->inputs().end(), v) != n->inputs().end()) continue;
      auto it = position.find(p);
      if (it != position.end() && it->second >= i)
        problems.push_back(err(Code::kGraphCycle, "a subgraph captures '", v->name(),
                               "', produced by node #", p->index(), " '", p->name(),
                               "' which does not come earlier")
                               .with_node(n->ref()));
    }
    std::unordered_set<const Value*> outs;
    for (const Value* out : n->outputs()) {
      if (out == nullptr) continue;
      if (!outs.insert(out).second || out->producer() != n || out->is_graph_input() ||
          out->is_initializer())
        problems.push_back(err(Code::kDuplicateValue, "output '", out->name(),
                               "' has another definer (a graph input, initializer, or another "
                               "output slot)")
                               .with_node(n->ref()));
      if (out->graph() != &graph)
        problems.push_back(err(Code::kDuplicateValue, "output '", out->name(),
                               "' belongs to an enclosing graph; a subgraph may read outer "
                               "values but not define them")
                               .with_node(n->ref()));
    }
    for (const Graph* sub : n->subgraphs()) verify_graph(*sub, problems);
  }

  for (const Value* out : graph.outputs()) {
    if (!in_scope(out, &graph) || !is_defined(out))
      problems.push_back(err(Code::kGraphOutputUndefined, "output '", out->name(), "' of graph '",
                             graph.path(), "' is never produced"));
  }
  for (const Value* v : graph.initializers()) {
    const Tensor* t = v->initializer();
    if (v->type.known() && t->dtype() != v->type.dtype)
      problems.push_back(err(Code::kTypeMismatch, "'", v->name(), "' is declared ",
                             data_type_name(v->type.dtype), " but its initializer is ",
                             data_type_name(t->dtype())));
    const Dims& d = v->type.shape;
    if (d.rank_known() && d.is_static() && d.static_sizes() != t->shape())
      problems.push_back(err(Code::kTypeMismatch, "'", v->name(), "' is declared with shape ",
                             d.to_string(), " but its initializer has shape ",
                             Dims::of(t->shape()).to_string()));
  }
}

}  // namespace

void verify(const Graph& graph, std::vector<Status>& problems) { verify_graph(graph, problems); }

Status verify(const Graph& graph) {
  std::vector<Status> problems;
  verify_graph(graph, problems);
  return problems.empty() ? Status::Ok() : problems.front();
}

}  // namespace kiln::ir
