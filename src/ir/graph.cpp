#include "ir/graph.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <queue>
#include <unordered_set>

#include "core/errors.h"

namespace kiln::ir {

const char* value_kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::kTensor:
      return "tensor";
    case ValueKind::kSequence:
      return "seq";
    case ValueKind::kOptional:
      return "optional";
    case ValueKind::kMap:
      return "map";
    case ValueKind::kSparseTensor:
      return "sparse";
    case ValueKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<uint64_t> ValueType::static_bytes() const {
  if (kind != ValueKind::kTensor || !known() || dtype == DataType::kString || !shape.rank_known())
    return std::nullopt;
  int64_t n = 1;
  for (size_t i = 0; i < shape.rank(); ++i) {
    if (!shape[i].is_static() || shape[i].value < 0) return std::nullopt;
    if (__builtin_mul_overflow(n, shape[i].value, &n)) return UINT64_MAX;
  }
  const std::optional<size_t> b = data_type_bytes(dtype, n);
  return b ? static_cast<uint64_t>(*b) : UINT64_MAX;
}

std::string ValueType::to_string() const {
  if (kind == ValueKind::kUnknown) return "?";
  std::string t = known() ? std::string(data_type_name(dtype)) : "?";
  t += shape.to_string();
  if (kind == ValueKind::kTensor) return t;
  return std::string(value_kind_name(kind)) + "(" + t + ")";
}

const Attribute* Node::attr(std::string_view name) const {
  for (const Attribute& a : attrs_)
    if (a.name == name) return &a;
  return nullptr;
}

void Node::set_attr(Attribute a) {
  for (Attribute& existing : attrs_) {
    if (existing.name == a.name) {
      existing = std::move(a);
      return;
    }
  }
  attrs_.push_back(std::move(a));
}

std::vector<Graph*> Node::subgraphs() const {
  std::vector<Graph*> out;
  for (const Attribute& a : attrs_) {
    if (a.type == AttrType::kGraph && a.g) out.push_back(a.g.get());
    if (a.type == AttrType::kGraphs)
      for (const auto& g : a.graphs)
        if (g) out.push_back(g.get());
  }
  return out;
}

namespace {
void collect_dependencies(const Node* n, std::vector<const Value*>& deps) {
  for (const Value* v : n->inputs())
    if (v) deps.push_back(v);
  for (const Graph* g : n->subgraphs()) {
    std::vector<const Value*> inner;
    for (const Node* inner_node : g->nodes()) collect_dependencies(inner_node, inner);
    for (const Value* v : g->outputs()) inner.push_back(v);
    for (const Value* v : inner)
      if (v->graph() != g) deps.push_back(v);  // captured from an enclosing scope
  }
}
}  // namespace

std::vector<const Value*> Node::dependencies() const {
  std::vector<const Value*> deps;
  collect_dependencies(this, deps);
  return deps;
}

NodeRef Node::ref() const {
  NodeRef r;
  r.index = index_;
  r.name = name_;
  r.op_type = op_type_;
  r.domain = domain_;
  r.opset = opset_;
  if (graph_ && graph_->parent()) r.graph = graph_->path();
  return r;
}

Graph::Graph(std::string name, Graph* parent) : name_(std::move(name)), parent_(parent) {}
Graph::~Graph() = default;

std::string Graph::path() const {
  return parent_ ? parent_->path() + "/" + name_ : name_;
}

Value* Graph::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

Value* Graph::lookup(std::string_view name) const {
  for (const Graph* g = this; g != nullptr; g = g->parent_)
    if (Value* v = g->find(name)) return v;
  return nullptr;
}

Result<Value*> Graph::add_value(std::string name, ValueType type) {
  if (find(name) != nullptr)
    return err(Code::kDuplicateValue, "value '", name, "' is defined more than once in graph '",
               path(), "'");
  auto v = std::make_unique<Value>();
  v->name_ = std::move(name);
  v->graph_ = this;
  v->type = std::move(type);
  Value* raw = v.get();
  by_name_.emplace(raw->name_, raw);
  values_.push_back(std::move(v));
  return raw;
}

Result<Value*> Graph::add_input(std::string name, ValueType type) {
  KILN_ASSIGN_OR_RETURN(Value * v, add_value(std::move(name), std::move(type)));
  v->is_input_ = true;
  inputs_.push_back(v);
  return v;
}

Result<Value*> Graph::add_initializer(std::string name, Tensor tensor) {
  ValueType type;
  type.dtype = tensor.dtype();
  type.shape = Dims::of(tensor.shape());
  KILN_ASSIGN_OR_RETURN(Value * v, add_value(std::move(name), std::move(type)));
  set_initializer(v, std::move(tensor));
  return v;
}

void Graph::set_initializer(Value* v, Tensor tensor) {
  if (!v->initializer_) initializers_.push_back(v);
  v->initializer_ = std::make_unique<Tensor>(std::move(tensor));
}

bool Graph::remove_unused_initializer(Value* v) {
  if (v == nullptr || v->graph_ != this || !v->initializer_ || v->is_input_ || v->is_output_ ||
      v->producer_ != nullptr || !v->consumers_.empty())
    return false;
  initializers_.erase(std::find(initializers_.begin(), initializers_.end(), v));
  by_name_.erase(v->name_);
  values_.erase(std::find_if(values_.begin(), values_.end(),
                             [&](const std::unique_ptr<Value>& u) { return u.get() == v; }));
  return true;
}

void Graph::add_output(Value* v) {
  v->is_output_ = true;
  outputs_.push_back(v);
}

Node* Graph::add_node(std::string op_type, std::string domain, std::string name,
                      std::vector<Value*> inputs, std::vector<Value*> outputs,
                      std::vector<Attribute> attrs, int64_t opset, int64_t index) {
  auto n = std::make_unique<Node>();
  n->op_type_ = std::move(op_type);
  n->domain_ = std::move(domain);
  n->name_ = std::move(name);
  n->opset_ = opset;
  n->index_ = index;
  n->graph_ = this;
  n->attrs_ = std::move(attrs);
  Node* raw = n.get();
  for (Value* in : inputs)
    if (in) in->consumers_.push_back(raw);
  for (Value* out : outputs)
    if (out) out->producer_ = raw;
  n->inputs_ = std::move(inputs);
  n->outputs_ = std::move(outputs);
  nodes_.push_back(std::move(n));
  return raw;
}

void Graph::replace_input(Node* node, size_t slot, Value* v) {
  if (slot >= node->inputs_.size()) {
    std::fprintf(stderr, "kiln: internal error: replace_input slot %zu of %zu\n", slot,
                 node->inputs_.size());
    std::abort();
  }
  Value* old = node->inputs_[slot];
  if (old) {
    auto& c = old->consumers_;
    auto it = std::find(c.begin(), c.end(), node);
    if (it != c.end()) c.erase(it);
  }
  node->inputs_[slot] = v;
  if (v) v->consumers_.push_back(node);
}

bool Graph::replace_all_uses(Value* from, Value* to) {
  if (from == to) return true;
  // The flag is set for outputs of any graph, subgraphs included (a branch may return an outer
  // value directly): none of them may be redirected.
  if (from->is_output_) return false;
  const std::vector<Node*> readers = from->consumers_;
  for (Node* n : readers)
    for (size_t i = 0; i < n->inputs_.size(); ++i)
      if (n->inputs_[i] == from) n->graph_->replace_input(n, i, to);
  return true;
}

std::string Graph::unique_name(std::string_view base) const {
  std::string name(base);
  for (int i = 1; lookup(name) != nullptr; ++i) name = std::string(base) + "_" + std::to_string(i);
  return name;
}

std::vector<std::string> Node::origins() const {
  if (!origins_.empty()) return origins_;
  if (!name_.empty()) return {name_};
  return {op_type_ + "#" + std::to_string(index_)};
}

void Graph::remove_node(Node* node) {
  for (size_t i = 0; i < node->inputs_.size(); ++i) replace_input(node, i, nullptr);
  for (Value* out : node->outputs_)
    if (out && out->producer_ == node) out->producer_ = nullptr;
  auto it = std::find_if(nodes_.begin(), nodes_.end(),
                         [&](const std::unique_ptr<Node>& n) { return n.get() == node; });
  if (it != nodes_.end()) nodes_.erase(it);
}

std::vector<Node*> Graph::nodes() const {
  std::vector<Node*> out;
  out.reserve(nodes_.size());
  for (const auto& n : nodes_) out.push_back(n.get());
  return out;
}

size_t Graph::total_nodes() const {
  size_t total = nodes_.size();
  for (const auto& n : nodes_)
    for (Graph* g : n->subgraphs()) total += g->total_nodes();
  return total;
}

Status Graph::sort_topologically() {
  const size_t n = nodes_.size();
  std::unordered_map<const Node*, size_t> pos;
  for (size_t i = 0; i < n; ++i) pos[nodes_[i].get()] = i;

  std::vector<std::vector<size_t>> users(n);
  std::vector<size_t> pending(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const std::vector<const Value*> deps = nodes_[i]->dependencies();
    std::unordered_set<size_t> seen;
    for (const Value* v : deps) {
      const Node* p = v->producer();
      // Producers in other graphs are ordered by their own graph.
      if (p == nullptr || p->graph() != this) continue;
      size_t j = pos.at(p);
      if (seen.insert(j).second) {
        users[j].push_back(i);
        ++pending[i];
      }
    }
  }
  // Min-heap on original position keeps the sort stable.
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.push(i);
  std::vector<size_t> order;
  order.reserve(n);
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (size_t u : users[i])
      if (--pending[u] == 0) ready.push(u);
  }
  if (order.size() != n) {
    std::string names;
    size_t listed = 0;
    for (size_t i = 0; i < n; ++i) {
      if (pending[i] == 0) continue;
      if (listed++ == 8) {
        names += ", …";
        break;
      }
      const Node* node = nodes_[i].get();
      names += (names.empty() ? "" : ", ") + std::string("#") + std::to_string(node->index()) +
               " '" + node->name() + "' (" + node->op_type() + ")";
    }
    return err(Code::kGraphCycle, "graph '", path(), "' has a cycle through ", n - order.size(),
               " node(s): ", names);
  }
  std::vector<std::unique_ptr<Node>> sorted;
  sorted.reserve(n);
  for (size_t i : order) sorted.push_back(std::move(nodes_[i]));
  nodes_ = std::move(sorted);
  return Status::Ok();
}

int64_t Model::default_opset() const {
  auto it = opsets.find("");
  if (it != opsets.end()) return it->second;
  it = opsets.find("ai.onnx");
  return it != opsets.end() ? it->second : 0;
}

}  // namespace kiln::ir
