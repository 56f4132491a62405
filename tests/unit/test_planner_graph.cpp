// Tests for the graph front end of the memory planner (plan_graph_memory): which values are
// planned, lifetimes from consumers and subgraph captures, in-place candidates.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "builder/memory_planner.h"

namespace kiln::builder {
namespace {

using ir::Graph;
using ir::Node;
using ir::Value;

Value* value(Graph& g, const std::string& name) {
  Result<Value*> v = g.add_value(name);
  EXPECT_TRUE(v.ok()) << v.status().to_string();
  return v.ok() ? *v : nullptr;
}

Value* input(Graph& g, const std::string& name) {
  ir::ValueType t;
  t.dtype = DataType::kFloat32;
  t.shape = Dims::of({256});
  Result<Value*> v = g.add_input(name, t);
  EXPECT_TRUE(v.ok()) << v.status().to_string();
  return v.ok() ? *v : nullptr;
}

ir::Attribute graph_attr(const std::string& name, Graph* parent, Graph** out) {
  ir::Attribute a;
  a.name = name;
  a.type = ir::AttrType::kGraph;
  a.g = std::make_unique<Graph>(name, parent);
  *out = a.g.get();
  return a;
}

// Every value is 1 KiB unless listed (nullopt = unknown size).
struct Sizes {
  std::map<std::string, std::optional<uint64_t>> by_name;
  std::optional<uint64_t> operator()(const Value& v) const {
    auto it = by_name.find(v.name());
    return it == by_name.end() ? std::optional<uint64_t>(1024) : it->second;
  }
};

bool always(const Node&, size_t) {
  return true;
}
bool never(const Node&, size_t) {
  return false;
}

// The slot of `name`; a missing one fails the test and yields an empty slot (no crash).
const GraphMemoryPlan::Slot* slot(const GraphMemoryPlan& plan, const std::string& name) {
  for (const auto& s : plan.slots)
    if (s.value->name() == name) return &s;
  ADD_FAILURE() << "no slot for " << name;
  static const GraphMemoryPlan::Slot missing;
  return &missing;
}

std::vector<std::string> slot_names(const GraphMemoryPlan& plan) {
  std::vector<std::string> names;
  for (const auto& s : plan.slots) names.push_back(s.value->name());
  return names;
}

bool overlap(const GraphMemoryPlan::Slot& a, const GraphMemoryPlan::Slot& b) {
  return a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
}

// x -> Relu a -> Relu b -> Relu c -> Relu y (graph output).
struct ReluChain {
  Graph g{"main"};
  Value *x, *a, *b, *c, *y;
  ReluChain() {
    x = input(g, "x");
    a = value(g, "a");
    b = value(g, "b");
    c = value(g, "c");
    y = value(g, "y");
    g.add_node("Relu", "", "n0", {x}, {a});
    g.add_node("Relu", "", "n1", {a}, {b});
    g.add_node("Relu", "", "n2", {b}, {c});
    g.add_node("Relu", "", "n3", {c}, {y});
    g.add_output(y);
  }
};

TEST(PlannerGraph, ChainWithoutInplaceNeedsTwoBuffers) {
  ReluChain net;
  const GraphMemoryPlan plan = plan_graph_memory(net.g, Sizes{}, never);
  // Graph inputs and outputs are not planned.
  EXPECT_EQ(slot_names(plan), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(plan.dynamic.empty());
  EXPECT_EQ(plan.arena_bytes, 2048u);
  EXPECT_EQ(plan.lower_bound_bytes, 2048u);
  EXPECT_EQ(plan.naive_bytes, 3072u);
  for (const auto& s : plan.slots) {
    EXPECT_EQ(s.bytes, 1024u);
    EXPECT_EQ(s.inplace_of, nullptr);
  }
}

TEST(PlannerGraph, ChainWithInplaceNeedsOneBuffer) {
  ReluChain net;
  const GraphMemoryPlan plan = plan_graph_memory(net.g, Sizes{}, always);
  EXPECT_EQ(plan.arena_bytes, 1024u);
  EXPECT_EQ(plan.lower_bound_bytes, 1024u);
  // a reads the graph input x, never in place over it; y is a graph output, not planned.
  EXPECT_EQ(slot(plan, "a")->inplace_of, nullptr);
  EXPECT_EQ(slot(plan, "b")->inplace_of, net.a);
  EXPECT_EQ(slot(plan, "c")->inplace_of, net.b);
}

TEST(PlannerGraph, InplaceNeedsLastUseAtThisNode) {
  // b = Relu(a) while a is also read later by d = Add(b, a): b may not overwrite a. d is the
  // last reader of both; with every input allowed, the first (b) wins.
  Graph g("main");
  Value* x = input(g, "x");
  Value* a = value(g, "a");
  Value* b = value(g, "b");
  Value* d = value(g, "d");
  Value* y = value(g, "y");
  g.add_node("Relu", "", "n0", {x}, {a});
  g.add_node("Relu", "", "n1", {a}, {b});
  g.add_node("Add", "", "n2", {b, a}, {d});
  g.add_node("Relu", "", "n3", {d}, {y});
  g.add_output(y);
  const GraphMemoryPlan plan = plan_graph_memory(g, Sizes{}, always);
  EXPECT_EQ(slot(plan, "b")->inplace_of, nullptr);
  EXPECT_EQ(slot(plan, "d")->inplace_of, b);
  EXPECT_FALSE(overlap(*slot(plan, "a"), *slot(plan, "b")));

  // The kernel's rule decides among the candidates: only input 1 allowed.
  std::vector<std::pair<std::string, size_t>> asked;
  const GraphMemoryPlan only_second = plan_graph_memory(g, Sizes{}, [&](const Node& n, size_t i) {
    asked.emplace_back(n.name(), i);
    return i == 1;
  });
  EXPECT_EQ(slot(only_second, "d")->inplace_of, a);
  // Never asked about n1 (a still live afterwards) or n0 (graph input).
  for (const auto& [name, i] : asked) EXPECT_EQ(name, "n2");
}

TEST(PlannerGraph, InitializerAndGraphOutputAreNotCandidates) {
  Graph g("main");
  Value* x = input(g, "x");
  Result<Tensor> t = Tensor::allocate(DataType::kFloat32, {256});
  ASSERT_TRUE(t.ok());
  Result<Value*> w = g.add_initializer("w", std::move(t).value());
  ASSERT_TRUE(w.ok());
  Value* a = value(g, "a");  // graph output, also read by the next node
  Value* b = value(g, "b");
  Value* y = value(g, "y");
  g.add_node("Add", "", "n0", {x, *w}, {a});
  g.add_node("Add", "", "n1", {a, *w}, {b});
  g.add_node("Relu", "", "n2", {b}, {y});
  g.add_output(a);
  g.add_output(y);
  const GraphMemoryPlan plan = plan_graph_memory(g, Sizes{}, always);
  EXPECT_EQ(slot_names(plan), (std::vector<std::string>{"b"}));
  EXPECT_EQ(slot(plan, "b")->inplace_of, nullptr);
}

TEST(PlannerGraph, UnknownSizesAreReportedDynamic) {
  ReluChain net;
  Sizes sizes;
  sizes.by_name["b"] = std::nullopt;
  sizes.by_name["y"] = std::nullopt;  // a graph output: neither planned nor dynamic
  const GraphMemoryPlan plan = plan_graph_memory(net.g, sizes, always);
  EXPECT_EQ(slot_names(plan), (std::vector<std::string>{"a", "c"}));
  ASSERT_EQ(plan.dynamic.size(), 1u);
  EXPECT_EQ(plan.dynamic[0], net.b);
  // c cannot reuse b (not planned) and a and c never live together.
  EXPECT_EQ(slot(plan, "c")->inplace_of, nullptr);
  EXPECT_EQ(plan.arena_bytes, 1024u);
}

// %v is produced at step 0 and read only inside the If's branch (step 2): it must stay live
// until step 2, so %u (the If's output, step 2) may not reuse it.
TEST(PlannerGraph, OuterValueReadByBranchLivesUntilTheIf) {
  Graph g("main");
  Value* c = input(g, "c");
  Value* x = input(g, "x");
  Value* v = value(g, "v");
  Value* w = value(g, "w");
  Value* u = value(g, "u");
  Value* y = value(g, "y");
  g.add_node("Relu", "", "n0", {x}, {v});
  g.add_node("Relu", "", "n1", {x}, {w});
  Node* if_node = g.add_node("If", "", "if", {c}, {u});
  Graph* then_g = nullptr;
  Graph* else_g = nullptr;
  if_node->set_attr(graph_attr("then_branch", &g, &then_g));
  if_node->set_attr(graph_attr("else_branch", &g, &else_g));
  Value* t = value(*then_g, "t");
  then_g->add_node("Neg", "", "inner", {v}, {t});
  then_g->add_output(t);
  else_g->add_output(x);
  g.add_node("Add", "", "n3", {u, w}, {y});
  g.add_output(y);
  ASSERT_EQ(g.nodes()[2], if_node);

  const GraphMemoryPlan plan = plan_graph_memory(g, Sizes{}, always);
  ASSERT_EQ(slot_names(plan), (std::vector<std::string>{"v", "w", "u"}));
  // v [0,2], w [1,3], u [2,3] all meet: three blocks (two if v's last use were taken as 0).
  EXPECT_EQ(plan.lower_bound_bytes, 3072u);
  EXPECT_EQ(plan.arena_bytes, 3072u);
  EXPECT_FALSE(overlap(*slot(plan, "v"), *slot(plan, "u")));
  EXPECT_EQ(slot(plan, "u")->inplace_of, nullptr);  // v is no input slot of the If
}

// Same, with the outer value returned directly by a branch (a subgraph output, read by no node).
TEST(PlannerGraph, OuterValueReturnedByBranchLivesUntilTheIf) {
  Graph g("main");
  Value* c = input(g, "c");
  Value* x = input(g, "x");
  Value* v = value(g, "v");
  Value* w = value(g, "w");
  Value* u = value(g, "u");
  Value* y = value(g, "y");
  g.add_node("Relu", "", "n0", {x}, {v});
  g.add_node("Relu", "", "n1", {x}, {w});
  Node* if_node = g.add_node("If", "", "if", {c}, {u});
  Graph* else_g = nullptr;
  if_node->set_attr(graph_attr("else_branch", &g, &else_g));
  else_g->add_output(v);
  g.add_node("Add", "", "n3", {u, w}, {y});
  g.add_output(y);
  // else_g->add_output(v) sets v->is_graph_output() although v is no output of the main graph:
  // it must still be planned.
  EXPECT_TRUE(v->is_graph_output());
  const GraphMemoryPlan plan = plan_graph_memory(g, Sizes{}, always);
  EXPECT_EQ(slot_names(plan), (std::vector<std::string>{"v", "w", "u"}));
  EXPECT_EQ(plan.arena_bytes, 3072u);
  EXPECT_FALSE(overlap(*slot(plan, "v"), *slot(plan, "u")));
}

// Captured two subgraph levels down (Loop body -> If branch).
TEST(PlannerGraph, NestedCaptureLivesUntilTheOuterNode) {
  Graph g("main");
  Value* c = input(g, "c");
  Value* x = input(g, "x");
  Value* v = value(g, "v");
  Value* w = value(g, "w");
  Value* u = value(g, "u");
  Value* y = value(g, "y");
  g.add_node("Relu", "", "n0", {x}, {v});
  g.add_node("Relu", "", "n1", {x}, {w});
  Node* loop = g.add_node("Loop", "", "loop", {c}, {u});
  Graph* body = nullptr;
  loop->set_attr(graph_attr("body", &g, &body));
  Node* inner_if = body->add_node("If", "", "inner_if", {}, {});
  Graph* branch = nullptr;
  inner_if->set_attr(graph_attr("then_branch", body, &branch));
  branch->add_node("Neg", "", "deep", {v}, {});
  g.add_node("Add", "", "n3", {u, w}, {y});
  g.add_output(y);
  const GraphMemoryPlan plan = plan_graph_memory(g, Sizes{}, always);
  ASSERT_EQ(slot_names(plan), (std::vector<std::string>{"v", "w", "u"}));
  EXPECT_EQ(plan.arena_bytes, 3072u);
  EXPECT_FALSE(overlap(*slot(plan, "v"), *slot(plan, "u")));
}

// Values produced but never read live only at their def step, so they can share memory.
TEST(PlannerGraph, UnreadValuesLiveOnlyAtTheirStep) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* d0 = value(g, "d0");
  Value* d1 = value(g, "d1");
  Value* y = value(g, "y");
  g.add_node("Relu", "", "n0", {x}, {d0});
  g.add_node("Relu", "", "n1", {x}, {d1});
  g.add_node("Relu", "", "n2", {x}, {y});
  g.add_output(y);
  const GraphMemoryPlan plan = plan_graph_memory(g, Sizes{}, always);
  EXPECT_EQ(plan.arena_bytes, 1024u);
  EXPECT_EQ(plan.naive_bytes, 2048u);
}

// Only output 0 is written in place; other outputs are planned normally and never overlap the
// inputs they are computed from. Slots come in definition order (step, then output slot).
TEST(PlannerGraph, OnlyOutputZeroIsInplace) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* a = value(g, "a");
  Value* s0 = value(g, "s0");
  Value* s1 = value(g, "s1");
  Value* y = value(g, "y");
  g.add_node("Relu", "", "n0", {x}, {a});
  g.add_node("Split", "", "n1", {a}, {s0, nullptr, s1});
  g.add_node("Add", "", "n2", {s0, s1}, {y});
  g.add_output(y);
  Sizes sizes;
  sizes.by_name["a"] = 2048;
  sizes.by_name["s0"] = 1000;
  sizes.by_name["s1"] = 1000;
  const GraphMemoryPlan plan = plan_graph_memory(g, sizes, always, 256);
  EXPECT_EQ(slot_names(plan), (std::vector<std::string>{"a", "s0", "s1"}));
  EXPECT_EQ(slot(plan, "s0")->inplace_of, a);
  EXPECT_EQ(slot(plan, "s1")->inplace_of, nullptr);
  EXPECT_FALSE(overlap(*slot(plan, "a"), *slot(plan, "s1")));
  EXPECT_FALSE(overlap(*slot(plan, "s0"), *slot(plan, "s1")));
  for (const auto& s : plan.slots) EXPECT_EQ(s.offset % 256, 0u);
  EXPECT_EQ(plan.arena_bytes, 2048u + 1024u);
}

TEST(PlannerGraph, EmptyGraph) {
  Graph g("main");
  const GraphMemoryPlan plan = plan_graph_memory(g, Sizes{}, always);
  EXPECT_TRUE(plan.slots.empty());
  EXPECT_EQ(plan.arena_bytes, 0u);
}

}  // namespace
}  // namespace kiln::builder
