// kiln IR: a Graph owns Values and Nodes; Nodes reference Values by pointer.
//
// Values are SSA: each has at most one definer (a node output, a graph input or an
// initializer). A node in a subgraph (If/Loop/Scan body) may read Values of an enclosing
// graph directly (outer-scope reference); Graph::lookup() resolves names through the chain.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/attribute.h"
#include "kiln/status.h"
#include "kiln/tensor.h"
#include "kiln/types.h"

namespace kiln::ir {

class Graph;
class Node;

// What a value holds. Non-tensor kinds keep the element type/shape of their tensors.
enum class ValueKind : uint8_t { kTensor, kSequence, kOptional, kMap, kSparseTensor, kUnknown };
const char* value_kind_name(ValueKind kind);

struct ValueType {
  ValueKind kind = ValueKind::kTensor;
  DataType dtype = DataType::kUndefined;  // undefined = not known yet
  Dims shape;                             // unknown rank by default
  bool known() const { return dtype != DataType::kUndefined; }
  std::string to_string() const;  // "f32[batch,3]", "seq(f32[?])", "?"
  // Bytes of a tensor whose dtype and every dim are known: nullopt when one is not (or for
  // strings), UINT64_MAX when the size overflows.
  std::optional<uint64_t> static_bytes() const;
};

class Value {
 public:
  const std::string& name() const { return name_; }
  Graph* graph() const { return graph_; }
  Node* producer() const { return producer_; }
  // Consumers in insertion order; a node appears once per input slot that reads this value.
  const std::vector<Node*>& consumers() const { return consumers_; }
  bool is_graph_input() const { return is_input_; }
  bool is_graph_output() const { return is_output_; }
  bool is_initializer() const { return initializer_ != nullptr; }
  const Tensor* initializer() const { return initializer_.get(); }

  ValueType type;

 private:
  friend class Graph;
  friend class Node;
  std::string name_;
  Graph* graph_ = nullptr;
  Node* producer_ = nullptr;
  std::vector<Node*> consumers_;
  std::unique_ptr<Tensor> initializer_;
  bool is_input_ = false;
  bool is_output_ = false;
};

class Node {
 public:
  const std::string& name() const { return name_; }
  const std::string& op_type() const { return op_type_; }
  const std::string& domain() const { return domain_; }  // "" = ai.onnx
  int64_t opset() const { return opset_; }               // version of domain() the model imports
  // Graphs from the text form carry no opsets; tools stamp the model's (0 = unknown).
  void set_opset(int64_t opset) { opset_ = opset; }
  int64_t index() const { return index_; }  // position in the source ONNX graph
  Graph* graph() const { return graph_; }

  // nullptr entries are omitted optional inputs/outputs (empty names in ONNX).
  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  Value* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  Value* output(size_t i) const { return i < outputs_.size() ? outputs_[i] : nullptr; }

  const std::vector<Attribute>& attributes() const { return attrs_; }
  const Attribute* attr(std::string_view name) const;
  void set_attr(Attribute a);  // replaces an attribute of the same name
  // Graph-valued attributes (If branches, Loop/Scan bodies).
  std::vector<Graph*> subgraphs() const;

  // The ONNX nodes this node computes (names, or "Op#index" when unnamed): itself when
  // imported; the union of what a pass replaced when it came from a rewrite (kiln inspect's
  // "fused_from").
  std::vector<std::string> origins() const;
  void set_origins(std::vector<std::string> origins) { origins_ = std::move(origins); }

  NodeRef ref() const;  // for Status::with_node
  // Values this node needs before it can run: its inputs, plus enclosing-scope values its
  // subgraphs read or return (an If must follow the producer of anything its branches capture).
  std::vector<const Value*> dependencies() const;

 private:
  friend class Graph;
  std::string name_, op_type_, domain_;
  int64_t opset_ = 0;
  int64_t index_ = -1;
  Graph* graph_ = nullptr;
  std::vector<Value*> inputs_, outputs_;
  std::vector<Attribute> attrs_;
  std::vector<std::string> origins_;
};

class Graph {
 public:
  explicit Graph(std::string name, Graph* parent = nullptr);
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph();

  const std::string& name() const { return name_; }
  Graph* parent() const { return parent_; }
  // "main/If_0:then_branch" style path for diagnostics.
  std::string path() const;

  // Value defined in this graph (not enclosing ones); nullptr if absent.
  Value* find(std::string_view name) const;
  // Resolution with outer scopes: this graph, then each enclosing graph.
  Value* lookup(std::string_view name) const;

  // New value in this graph; duplicate names → DuplicateValue error.
  Result<Value*> add_value(std::string name, ValueType type = {});
  Result<Value*> add_input(std::string name, ValueType type);
  Result<Value*> add_initializer(std::string name, Tensor tensor);
  // Marks a value (of this graph or an enclosing one) as a graph output.
  void add_output(Value* v);
  // Attaches an initializer to an existing value (graph input with a default).
  void set_initializer(Value* v, Tensor tensor);
  // Deletes an initializer of this graph that nothing reads (no node here or in a subgraph, no
  // graph's output) and that is not a graph input: what constant folding and merging leave
  // behind, which would otherwise be written into engines. Returns false and changes nothing
  // otherwise. The value (and pointers to it) is gone afterwards.
  bool remove_unused_initializer(Value* v);

  // Appends a node; its outputs must be values of this graph without a producer.
  Node* add_node(std::string op_type, std::string domain, std::string name,
                 std::vector<Value*> inputs, std::vector<Value*> outputs,
                 std::vector<Attribute> attrs = {}, int64_t opset = 0, int64_t index = -1);
  void remove_node(Node* node);  // node must have no consumed outputs left
  // Points every reader of `from` (nodes here and in nested subgraphs) at `to`. Graph outputs
  // keep their value (an output's name is part of the model's interface): returns false and
  // changes nothing when `from` is an output of any graph (subgraphs may return outer values).
  bool replace_all_uses(Value* from, Value* to);
  // A fresh value name in this graph: `base`, else `base_1`, `base_2`, …
  std::string unique_name(std::string_view base) const;
  void replace_input(Node* node, size_t slot, Value* v);

  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  const std::vector<Value*>& initializers() const { return initializers_; }
  // Nodes in current order (topological after import / sort_topologically()).
  std::vector<Node*> nodes() const;
  size_t num_nodes() const { return nodes_.size(); }
  size_t num_values() const { return values_.size(); }

  // Reorders nodes topologically (stable: ties keep current order). On a cycle returns
  // GraphCycle naming the nodes involved and leaves the order unchanged.
  Status sort_topologically();

  // Sum over this graph and nested subgraphs.
  size_t total_nodes() const;

 private:
  std::string name_;
  Graph* parent_;
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unordered_map<std::string, Value*> by_name_;
  std::vector<Value*> inputs_, outputs_, initializers_;
};

// A whole imported model.
struct Model {
  int64_t ir_version = 0;
  std::map<std::string, int64_t> opsets;  // domain ("" = ai.onnx) → version
  std::string producer_name, producer_version, domain, doc;
  int64_t model_version = 0;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::unique_ptr<Graph> graph;
  std::string path;  // file it came from ("" for in-memory)
  int64_t file_bytes = 0;
  std::vector<std::string> external_files;  // relative locations, unique, in first-use order
  int64_t external_bytes = 0;

  int64_t default_opset() const;  // ai.onnx version, 0 if absent
};

}  // namespace kiln::ir
