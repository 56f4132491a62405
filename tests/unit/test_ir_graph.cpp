// Tests for the IR graph (src/ir/graph.h): values, scopes, node wiring, topological sort.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "ir/graph.h"

namespace kiln::ir {
namespace {

constexpr int kDuplicateValue = static_cast<int>(Code::kDuplicateValue);
constexpr int kGraphCycle = static_cast<int>(Code::kGraphCycle);

ValueType f32(std::vector<int64_t> shape) {
  ValueType t;
  t.dtype = DataType::kFloat32;
  t.shape = Dims::of(shape);
  return t;
}

Value* value(Graph& g, const std::string& name) {
  Result<Value*> v = g.add_value(name);
  EXPECT_TRUE(v.ok()) << v.status().to_string();
  return v.ok() ? *v : nullptr;
}

Value* input(Graph& g, const std::string& name) {
  Result<Value*> v = g.add_input(name, f32({2}));
  EXPECT_TRUE(v.ok()) << v.status().to_string();
  return v.ok() ? *v : nullptr;
}

std::vector<std::string> node_names(const Graph& g) {
  std::vector<std::string> names;
  for (const Node* n : g.nodes()) names.push_back(n->name());
  return names;
}

// An attribute holding a fresh subgraph of `parent`; returns the subgraph through `out`.
Attribute graph_attr(const std::string& name, Graph* parent, Graph** out) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kGraph;
  a.g = std::make_unique<Graph>(name, parent);
  *out = a.g.get();
  return a;
}

TEST(Graph, AddValueAndFind) {
  Graph g("main");
  Value* x = value(g, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->name(), "x");
  EXPECT_EQ(x->graph(), &g);
  EXPECT_EQ(x->producer(), nullptr);
  EXPECT_TRUE(x->consumers().empty());
  EXPECT_FALSE(x->is_graph_input());
  EXPECT_FALSE(x->is_initializer());
  EXPECT_EQ(g.find("x"), x);
  EXPECT_EQ(g.find("y"), nullptr);
  EXPECT_EQ(g.num_values(), 1u);
}

TEST(Graph, DuplicateValueIsRefused) {
  Graph g("main");
  ASSERT_NE(value(g, "x"), nullptr);
  Result<Value*> dup = g.add_value("x");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), kDuplicateValue);
  EXPECT_NE(dup.status().message().find("'x'"), std::string::npos) << dup.status().message();
  EXPECT_NE(dup.status().message().find("'main'"), std::string::npos) << dup.status().message();
  Result<Value*> dup_input = g.add_input("x", f32({1}));
  EXPECT_EQ(dup_input.status().code(), kDuplicateValue);
  Result<Tensor> t = Tensor::allocate(DataType::kFloat32, {1});
  ASSERT_TRUE(t.ok());
  Result<Value*> dup_init = g.add_initializer("x", std::move(t).value());
  EXPECT_EQ(dup_init.status().code(), kDuplicateValue);
  EXPECT_EQ(g.num_values(), 1u);
  EXPECT_TRUE(g.inputs().empty());
  EXPECT_TRUE(g.initializers().empty());
}

TEST(Graph, InputsInitializersOutputs) {
  Graph g("main");
  Value* x = input(g, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_TRUE(x->is_graph_input());
  EXPECT_EQ(x->type.to_string(), "float32[2]");

  Result<Tensor> t = Tensor::allocate(DataType::kInt64, {3, 2});
  ASSERT_TRUE(t.ok());
  Result<Value*> w = g.add_initializer("w", std::move(t).value());
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE((*w)->is_initializer());
  EXPECT_EQ((*w)->type.dtype, DataType::kInt64);
  EXPECT_EQ((*w)->type.shape, Dims::of({3, 2}));
  ASSERT_NE((*w)->initializer(), nullptr);
  EXPECT_EQ((*w)->initializer()->shape(), (std::vector<int64_t>{3, 2}));

  // A graph input with a default value is listed once among the initializers.
  Result<Tensor> d1 = Tensor::allocate(DataType::kFloat32, {2});
  Result<Tensor> d2 = Tensor::allocate(DataType::kFloat32, {2});
  g.set_initializer(x, std::move(d1).value());
  g.set_initializer(x, std::move(d2).value());
  EXPECT_EQ(g.initializers(), (std::vector<Value*>{*w, x}));

  g.add_output(x);
  EXPECT_TRUE(x->is_graph_output());
  EXPECT_EQ(g.outputs(), (std::vector<Value*>{x}));
}

TEST(Graph, LookupThroughParentScopes) {
  Graph main("main");
  Value* x = value(main, "x");
  Graph* mid = nullptr;
  Node* n = main.add_node("If", "", "if0", {}, {}, {});
  n->set_attr(graph_attr("then_branch", &main, &mid));
  Graph inner("body", mid);
  Value* y = value(*mid, "y");

  EXPECT_EQ(mid->find("x"), nullptr);  // find() stays in its own graph
  EXPECT_EQ(mid->lookup("x"), x);
  EXPECT_EQ(inner.lookup("x"), x);  // two levels up
  EXPECT_EQ(inner.lookup("y"), y);
  EXPECT_EQ(main.lookup("y"), nullptr);  // never downwards
  EXPECT_EQ(inner.lookup("nope"), nullptr);
  EXPECT_EQ(inner.path(), "main/then_branch/body");
  EXPECT_EQ(main.path(), "main");

  // An inner definition shadows the outer one for lookups from inside.
  Value* inner_x = value(inner, "x");
  EXPECT_EQ(inner.lookup("x"), inner_x);
  EXPECT_EQ(mid->lookup("x"), x);
}

TEST(Graph, AddNodeWiresProducersAndConsumers) {
  Graph g("main");
  Value* a = input(g, "a");
  Value* b = input(g, "b");
  Value* s = value(g, "s");
  Value* p = value(g, "p");
  Node* add = g.add_node("Add", "", "add", {a, b}, {s});
  Node* mul = g.add_node("Mul", "", "mul", {s, s}, {p});  // one entry per input slot
  Node* opt = g.add_node("Clip", "", "clip", {p, nullptr, a}, {nullptr});
  EXPECT_EQ(s->producer(), add);
  EXPECT_EQ(p->producer(), mul);
  EXPECT_EQ(a->consumers(), (std::vector<Node*>{add, opt}));
  EXPECT_EQ(b->consumers(), (std::vector<Node*>{add}));
  EXPECT_EQ(s->consumers(), (std::vector<Node*>{mul, mul}));
  EXPECT_EQ(p->consumers(), (std::vector<Node*>{opt}));
  EXPECT_EQ(opt->input(1), nullptr);
  EXPECT_EQ(opt->input(7), nullptr);  // out of range reads as omitted
  EXPECT_EQ(opt->output(0), nullptr);
  EXPECT_EQ(add->graph(), &g);
  EXPECT_EQ(g.num_nodes(), 3u);
  EXPECT_EQ(node_names(g), (std::vector<std::string>{"add", "mul", "clip"}));
}

TEST(Graph, NodeAttributesAndRef) {
  Graph g("main");
  Node* n = g.add_node("Conv", "", "conv1", {}, {}, {}, 17, 3);
  n->set_attr(Attribute::make_int("group", 1));
  n->set_attr(Attribute::make_ints("pads", {1, 1, 1, 1}));
  n->set_attr(Attribute::make_int("group", 2));  // replaces, keeps position
  ASSERT_EQ(n->attributes().size(), 2u);
  EXPECT_EQ(n->attributes()[0].name, "group");
  ASSERT_NE(n->attr("group"), nullptr);
  EXPECT_EQ(n->attr("group")->i, 2);
  EXPECT_EQ(n->attr("strides"), nullptr);

  NodeRef r = n->ref();
  EXPECT_EQ(r.index, 3);
  EXPECT_EQ(r.name, "conv1");
  EXPECT_EQ(r.op_type, "Conv");
  EXPECT_EQ(r.opset, 17);
  EXPECT_EQ(r.graph, "");  // top-level nodes carry no graph path

  Graph* body = nullptr;
  n->set_attr(graph_attr("body", &g, &body));
  Node* inner = body->add_node("Relu", "", "r", {}, {});
  EXPECT_EQ(inner->ref().graph, "main/body");
  EXPECT_EQ(n->subgraphs(), (std::vector<Graph*>{body}));
}

TEST(Graph, ReplaceInputKeepsConsumerListsRight) {
  Graph g("main");
  Value* a = input(g, "a");
  Value* b = input(g, "b");
  Value* out = value(g, "out");
  Node* n = g.add_node("Add", "", "add", {a, a}, {out});
  ASSERT_EQ(a->consumers().size(), 2u);

  g.replace_input(n, 1, b);
  EXPECT_EQ(n->input(0), a);
  EXPECT_EQ(n->input(1), b);
  EXPECT_EQ(a->consumers(), (std::vector<Node*>{n}));  // only one of the two entries removed
  EXPECT_EQ(b->consumers(), (std::vector<Node*>{n}));

  g.replace_input(n, 0, nullptr);
  EXPECT_EQ(n->input(0), nullptr);
  EXPECT_TRUE(a->consumers().empty());

  g.replace_input(n, 0, b);
  EXPECT_EQ(b->consumers(), (std::vector<Node*>{n, n}));
}

TEST(Graph, RemoveNodeKeepsConsumerListsRight) {
  Graph g("main");
  Value* a = input(g, "a");
  Value* t = value(g, "t");
  Value* u = value(g, "u");
  Value* v = value(g, "v");
  Node* first = g.add_node("Relu", "", "first", {a}, {t});
  Node* dead = g.add_node("Neg", "", "dead", {t, a}, {u});
  Node* last = g.add_node("Abs", "", "last", {t}, {v});
  EXPECT_EQ(t->consumers(), (std::vector<Node*>{dead, last}));

  g.remove_node(dead);
  EXPECT_EQ(g.num_nodes(), 2u);
  EXPECT_EQ(node_names(g), (std::vector<std::string>{"first", "last"}));
  EXPECT_EQ(t->consumers(), (std::vector<Node*>{last}));
  EXPECT_EQ(a->consumers(), (std::vector<Node*>{first}));
  EXPECT_EQ(u->producer(), nullptr);
  EXPECT_EQ(t->producer(), first);
}

TEST(Graph, SortKeepsSortedOrderAndTies) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* a = value(g, "a");
  Value* b = value(g, "b");
  Value* c = value(g, "c");
  g.add_node("Relu", "", "n0", {x}, {a});
  g.add_node("Relu", "", "n1", {x}, {b});  // independent of n0: must stay after it
  g.add_node("Add", "", "n2", {a, b}, {c});
  g.add_node("Relu", "", "n3", {x}, {});
  ASSERT_TRUE(g.sort_topologically().ok());
  EXPECT_EQ(node_names(g), (std::vector<std::string>{"n0", "n1", "n2", "n3"}));
}

TEST(Graph, SortOrdersUnsortedGraphStably) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* a = value(g, "a");
  Value* b = value(g, "b");
  Value* c = value(g, "c");
  g.add_node("Neg", "", "C", {b}, {c});  // needs B
  g.add_node("Relu", "", "A", {x}, {a});
  g.add_node("Abs", "", "B", {a}, {b});  // needs A
  g.add_node("Relu", "", "D", {x}, {});  // independent: after the others that were ready sooner
  ASSERT_TRUE(g.sort_topologically().ok());
  EXPECT_EQ(node_names(g), (std::vector<std::string>{"A", "B", "C", "D"}));
  // Idempotent.
  ASSERT_TRUE(g.sort_topologically().ok());
  EXPECT_EQ(node_names(g), (std::vector<std::string>{"A", "B", "C", "D"}));
}

TEST(Graph, SortReportsCycle) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* a = value(g, "a");
  Value* b = value(g, "b");
  Value* c = value(g, "c");
  g.add_node("Relu", "", "free", {x}, {c}, {}, 0, 0);
  g.add_node("Add", "", "loop_a", {x, b}, {a}, {}, 0, 1);
  g.add_node("Neg", "", "loop_b", {a}, {b}, {}, 0, 2);
  Status s = g.sort_topologically();
  ASSERT_EQ(s.code(), kGraphCycle);
  const std::string& m = s.message();
  EXPECT_NE(m.find("#1 'loop_a' (Add)"), std::string::npos) << m;
  EXPECT_NE(m.find("#2 'loop_b' (Neg)"), std::string::npos) << m;
  EXPECT_NE(m.find("2 node(s)"), std::string::npos) << m;
  EXPECT_EQ(m.find("free"), std::string::npos) << m;
  EXPECT_EQ(node_names(g), (std::vector<std::string>{"free", "loop_a", "loop_b"}));  // unchanged
}

TEST(Graph, SortSelfLoop) {
  Graph g("main");
  Value* a = value(g, "a");
  g.add_node("Identity", "", "self", {a}, {a}, {}, 0, 4);
  Status s = g.sort_topologically();
  EXPECT_EQ(s.code(), kGraphCycle);
  EXPECT_NE(s.message().find("'self'"), std::string::npos) << s.message();
}

TEST(Graph, SortPlacesSubgraphCaptureAfterOuterProducer) {
  Graph g("main");
  Value* c = input(g, "c");
  Value* x = input(g, "x");
  Value* v = value(g, "v");
  Value* y = value(g, "y");
  // The If comes first but its branch reads %v, produced by a later node of the outer graph.
  Node* if_node = g.add_node("If", "", "if", {c}, {y});
  Graph* then_g = nullptr;
  if_node->set_attr(graph_attr("then_branch", &g, &then_g));
  Value* t = value(*then_g, "t");
  then_g->add_node("Neg", "", "inner", {v}, {t});
  then_g->add_output(t);
  g.add_node("Relu", "", "producer", {x}, {v});
  ASSERT_TRUE(g.sort_topologically().ok());
  EXPECT_EQ(node_names(g), (std::vector<std::string>{"producer", "if"}));
}

TEST(Graph, SortPlacesNestedCaptureAfterOuterProducer) {
  // Same, but the capture is two subgraph levels down.
  Graph g("main");
  Value* c = input(g, "c");
  Value* x = input(g, "x");
  Value* v = value(g, "v");
  Node* loop = g.add_node("Loop", "", "loop", {c}, {});
  Graph* body = nullptr;
  loop->set_attr(graph_attr("body", &g, &body));
  Node* inner_if = body->add_node("If", "", "inner_if", {}, {});
  Graph* branch = nullptr;
  inner_if->set_attr(graph_attr("then_branch", body, &branch));
  branch->add_node("Neg", "", "deep", {v}, {});
  g.add_node("Relu", "", "producer", {x}, {v});
  ASSERT_TRUE(g.sort_topologically().ok());
  EXPECT_EQ(node_names(g), (std::vector<std::string>{"producer", "loop"}));
}

// Disabled: product bug (see report). collect_dependencies() in graph.cpp only looks at the
// inputs of subgraph nodes, so a branch that returns an outer value directly (listed as a
// subgraph output, read by no node) does not order the If after that value's producer.
TEST(Graph, SortPlacesSubgraphOutputCaptureAfterOuterProducer) {
  Graph g("main");
  Value* c = input(g, "c");
  Value* x = input(g, "x");
  Value* v = value(g, "v");
  Node* if_node = g.add_node("If", "", "if", {c}, {});
  Graph* else_g = nullptr;
  if_node->set_attr(graph_attr("else_branch", &g, &else_g));
  else_g->add_output(v);
  g.add_node("Relu", "", "producer", {x}, {v});
  ASSERT_TRUE(g.sort_topologically().ok());
  EXPECT_EQ(node_names(g), (std::vector<std::string>{"producer", "if"}));
}

TEST(Graph, TotalNodesCountsSubgraphs) {
  Graph g("main");
  Value* c = input(g, "c");
  g.add_node("Relu", "", "a", {c}, {});
  Node* if_node = g.add_node("If", "", "if", {c}, {});
  Graph* then_g = nullptr;
  Graph* else_g = nullptr;
  if_node->set_attr(graph_attr("then_branch", &g, &then_g));
  if_node->set_attr(graph_attr("else_branch", &g, &else_g));
  then_g->add_node("Neg", "", "t0", {}, {});
  else_g->add_node("Abs", "", "e0", {}, {});
  Node* nested = else_g->add_node("Loop", "", "e1", {}, {});
  Attribute bodies;
  bodies.name = "bodies";
  bodies.type = AttrType::kGraphs;
  bodies.graphs.push_back(std::make_unique<Graph>("b0", else_g));
  bodies.graphs.push_back(std::make_unique<Graph>("b1", else_g));
  bodies.graphs[1]->add_node("Relu", "", "deep", {}, {});
  nested->set_attr(std::move(bodies));
  EXPECT_EQ(g.num_nodes(), 2u);
  // main 2 + then 1 + else 2 + b0 0 + b1 1
  EXPECT_EQ(g.total_nodes(), 6u);
  EXPECT_EQ(nested->subgraphs().size(), 2u);
}

TEST(ValueType, ToString) {
  EXPECT_EQ(f32({2, 3}).to_string(), "float32[2,3]");
  ValueType unknown;
  EXPECT_EQ(unknown.to_string(), "??");
  EXPECT_FALSE(unknown.known());
  ValueType seq = f32({-1});
  seq.kind = ValueKind::kSequence;
  EXPECT_EQ(seq.to_string(), "seq(float32[?])");
  ValueType opaque;
  opaque.kind = ValueKind::kUnknown;
  EXPECT_EQ(opaque.to_string(), "?");
  ValueType sym;
  sym.dtype = DataType::kInt64;
  sym.shape = Dims({Dim::symbolic("batch"), Dim::fixed(4)});
  EXPECT_EQ(sym.to_string(), "int64[batch,4]");
}

TEST(Model, DefaultOpset) {
  Model m;
  EXPECT_EQ(m.default_opset(), 0);
  m.opsets["com.microsoft"] = 1;
  EXPECT_EQ(m.default_opset(), 0);
  m.opsets["ai.onnx"] = 13;
  EXPECT_EQ(m.default_opset(), 13);
  m.opsets[""] = 17;  // the empty domain wins
  EXPECT_EQ(m.default_opset(), 17);
}

}  // namespace
}  // namespace kiln::ir
